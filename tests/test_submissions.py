"""POST /api/reports: reports from automation, Teams reports among them."""

from __future__ import annotations

import json
import shutil

import pytest
from azure.functions.timer import TimerRequest

import function_app
from tests.conftest import SEED_DIR, http_request, response_json
from tests.review_helpers import call, list_ids, mark
from verdicts.model import Eligibility, ReportedAs, SystemVerdict
from verdicts.rules import eligibility_for

TEAMS_REPORT = {
    "source": "teams-connector",
    "external_id": "19:meeting_abc@thread.v2/1701234567890",
    "kind": "teams",
    "reporter_address": "Jordan.Ellis@example.com",
    "reporter_name": "Jordan Ellis",
    "reported_as": "phishing",
    "reported_at": "2026-11-30T08:15:00Z",
    "original_sender": "it-helpdesk@contoso-support.example.net",
    "original_subject": "Your password expires today, confirm here",
    "urls": [
        "https://contoso-support.example.net/reset",
        "https://contoso-support.example.net/reset",
    ],
}


def _submit(body, role: str = "reviewer"):
    return call(
        "submit_report", http_request("POST", "api/reports", body=body, role=role)
    )


def test_teams_report_is_stored(runtime):
    response = _submit(TEAMS_REPORT)
    assert response.status_code == 201
    report = response_json(response)
    assert response.headers["Location"] == f"/api/reports/{report['id']}"
    assert response.headers["ETag"]
    assert report["kind"] == "teams"
    assert report["reporter_address"] == "jordan.ellis@example.com"
    assert report["reported_as"] == "phishing"
    assert report["system_verdict"] == "unknown"
    assert report["eligibility"] == "unknown"
    assert report["urls"] == ["https://contoso-support.example.net/reset"]
    assert report["details"]["source"] == "teams-connector"
    assert report["details"]["reported_at"] == "2026-11-30T08:15:00+00:00"
    assert report["campaign_key"]
    assert list_ids() == [report["id"]]
    raw = runtime.storage.container("raw-reports").download_blob(report["raw_blob"])
    assert json.loads(raw.readall()) == TEAMS_REPORT


def test_same_submission_twice_is_stored_once(runtime):
    first = _submit(TEAMS_REPORT)
    second = _submit({**TEAMS_REPORT, "reporter_name": "Changed"})
    assert second.status_code == 200
    assert response_json(second) == response_json(first)
    assert len(list_ids()) == 1


def test_submitted_teams_report_takes_teams_verdicts_only(runtime):
    report_id = response_json(_submit(TEAMS_REPORT))["id"]
    assert mark(report_id, {"verdict": "spam"}).status_code == 422
    assert mark(report_id, {"verdict": "phishing"}).status_code == 202


def test_email_submission_gets_its_eligibility(runtime):
    body = {
        **TEAMS_REPORT,
        "kind": "email",
        "external_id": "mail-42",
        "system_verdict": "junk",
        "reported_as": "not_junk",
        "original_message_id": "<payroll-7781@hr.example.com>",
    }
    report = response_json(_submit(body))
    assert report["eligibility"] == "false_positive"
    assert mark(report["id"], {"verdict": "no_threats_found"}).status_code == 202


@pytest.mark.parametrize(
    ("reported_as", "system_verdict", "eligibility"),
    [
        (ReportedAs.PHISHING, SystemVerdict.DELIVERED, Eligibility.FALSE_NEGATIVE),
        (ReportedAs.JUNK, SystemVerdict.DELIVERED, Eligibility.FALSE_NEGATIVE),
        (ReportedAs.NOT_JUNK, SystemVerdict.DELIVERED, Eligibility.AGREES),
        (ReportedAs.NOT_JUNK, SystemVerdict.JUNK, Eligibility.FALSE_POSITIVE),
        (ReportedAs.NOT_JUNK, SystemVerdict.PHISHING, Eligibility.FALSE_POSITIVE),
        (ReportedAs.JUNK, SystemVerdict.JUNK, Eligibility.AGREES),
        (ReportedAs.PHISHING, SystemVerdict.JUNK, Eligibility.AGREES),
        (ReportedAs.PHISHING, SystemVerdict.UNKNOWN, Eligibility.UNKNOWN),
        (ReportedAs.NOT_JUNK, SystemVerdict.UNKNOWN, Eligibility.UNKNOWN),
    ],
)
def test_eligibility_table(reported_as, system_verdict, eligibility):
    assert eligibility_for(reported_as, system_verdict) is eligibility


@pytest.mark.parametrize(
    ("change", "field", "detail"),
    [
        (
            {"source": "bad source"},
            "source",
            "source 'bad source' is invalid; use 1 to "
            "64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        ),
        ({"external_id": ""}, "external_id", "external_id must be a non-empty string"),
        (
            {"kind": "slack"},
            "kind",
            "kind 'slack' is invalid; expected one of: email, teams",
        ),
        (
            {"reporter_address": "jordan"},
            "reporter_address",
            "reporter_address 'jordan' is not an email address",
        ),
        (
            {"reporter_address": "a@b.example\r\nBcc: x@y.example"},
            "reporter_address",
            "reporter_address 'a@b.example\\r\\nBcc: x@y.example' is not an email "
            "address",
        ),
        (
            {"reporter_name": "Jordan\x00"},
            "reporter_name",
            "reporter_name must not contain control characters",
        ),
        (
            {"reported_as": "spam"},
            "reported_as",
            "reported_as 'spam' is invalid; expected one of: phishing, junk, not_junk",
        ),
        (
            {"system_verdict": "clean"},
            "system_verdict",
            "system_verdict 'clean' is "
            "invalid; expected one of: delivered, junk, phishing, unknown",
        ),
        (
            {"reported_at": "yesterday"},
            "reported_at",
            "reported_at 'yesterday' is not an RFC 3339 date-time with a zone",
        ),
        (
            {"urls": ["not a url"]},
            "urls",
            "every URL must be an absolute URL of at most "
            "2048 characters without spaces",
        ),
        (
            {"urls": "https://x.example"},
            "urls",
            "urls must be an array of at most 500 URLs",
        ),
        (
            {"attachments": [{"name": "a.zip", "sha256": "xyz"}]},
            "attachments",
            "attachment sha256 must be 64 lowercase hex digits",
        ),
        (
            {"attachments": [{"name": "a.zip", "path": "/tmp"}]},
            "attachments",
            "attachment field 'path' is not supported; expected: name, content_type, "
            "size, sha256",
        ),
        (
            {"language": "english please"},
            "language",
            "language 'english please' is not a BCP 47 tag",
        ),
        (
            {"original_subject": "x" * 1001},
            "original_subject",
            "original_subject is 1001 characters; the limit is 1000",
        ),
        (
            {"verdict": "phishing"},
            "verdict",
            "field 'verdict' is not supported; "
            "expected: source, external_id, kind, reporter_address, reporter_name, "
            "reported_as, reported_at, language, original_sender, "
            "original_sender_name, "
            "original_subject, original_date, original_message_id, system_verdict, "
            "urls, "
            "attachments",
        ),
    ],
)
def test_invalid_submission_names_the_field(runtime, change, field, detail):
    response = _submit({**TEAMS_REPORT, **change})
    assert response.status_code == 400
    problem = response_json(response)
    assert problem["field"] == field
    assert problem["detail"] == detail
    assert list_ids() == []


def test_submission_without_a_required_field_is_rejected(runtime):
    body = dict(TEAMS_REPORT)
    del body["reporter_address"]
    response = _submit(body)
    assert response.status_code == 400
    assert response_json(response)["field"] == "reporter_address"


def test_submission_that_is_not_an_object_is_rejected(runtime):
    response = _submit(["not", "an", "object"])
    assert response.status_code == 400
    assert response_json(response)["detail"] == "request body must be a JSON object"


def test_email_submission_joins_the_mailbox_campaign(runtime):
    inbox = runtime.config.mailbox_dir / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy(SEED_DIR / "01-phishing-invoice.eml", inbox)
    function_app.poll_reporting_mailbox(TimerRequest(past_due=False))
    (mailbox_id,) = list_ids()
    mailbox_report = response_json(
        call(
            "get_report",
            http_request(
                "GET", f"api/reports/{mailbox_id}", route_params={"id": mailbox_id}
            ),
        )
    )
    body = {
        **TEAMS_REPORT,
        "kind": "email",
        "external_id": "gateway-991",
        "original_message_id": mailbox_report["original_message_id"],
    }
    submitted = response_json(_submit(body))
    assert mailbox_report["campaign_key"]
    assert submitted["campaign_key"] == mailbox_report["campaign_key"]
    campaign = response_json(
        call(
            "get_campaign",
            http_request(
                "GET",
                f"api/campaigns/{submitted['campaign_key']}",
                route_params={"key": submitted["campaign_key"]},
            ),
        )
    )
    assert campaign["report_count"] == 2


def _mime(report_id: str):
    return call(
        "get_report_mime",
        http_request(
            "GET", f"api/reports/{report_id}/mime", route_params={"id": report_id}
        ),
    )


def test_mailbox_report_downloads_as_its_raw_mime(runtime):
    inbox = runtime.config.mailbox_dir / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy(SEED_DIR / "02-junk-newsletter.eml", inbox)
    function_app.poll_reporting_mailbox(TimerRequest(past_due=False))
    (report_id,) = list_ids()
    response = _mime(report_id)
    assert response.status_code == 200
    assert response.mimetype == "message/rfc822"
    assert response.get_body() == (SEED_DIR / "02-junk-newsletter.eml").read_bytes()
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{report_id}.eml"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_submitted_report_downloads_as_its_json(runtime):
    report_id = response_json(_submit(TEAMS_REPORT))["id"]
    response = _mime(report_id)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert json.loads(response.get_body()) == TEAMS_REPORT


def test_raw_report_of_unknown_report_is_404(runtime):
    response = _mime("nosuchreport")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"

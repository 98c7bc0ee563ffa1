"""Marking one report: review rules, no-ops, notify, comments and concurrency."""

from __future__ import annotations

import json
import threading

import pytest

from tests.conftest import http_request, response_json
from tests.review_helpers import call, mark, queued_messages, store_report
from verdicts.model import Eligibility, Kind, SystemVerdict


def test_false_negative_is_marked_and_notified(runtime):
    report = store_report(runtime)
    response = mark(report.id, {"verdict": "phishing", "comment": "fake invoice"})
    assert response.status_code == 202
    data = response_json(response)
    assert data["verdict"] == "phishing"
    assert data["verdict_version"] == 1
    assert data["verdict_by"] == "alex@example.com"
    assert data["changed"] is True
    assert data["notification_queued"] is True
    assert response.headers["ETag"]
    assert queued_messages(runtime) == [
        json.dumps({"report_id": report.id, "verdict_version": 1})
    ]


def test_marking_leaves_system_verdict_unchanged(runtime):
    report = store_report(
        runtime,
        system_verdict=SystemVerdict.JUNK,
        eligibility=Eligibility.FALSE_POSITIVE,
    )
    data = response_json(mark(report.id, {"verdict": "no_threats_found"}))
    assert data["verdict"] == "no_threats_found"
    assert data["system_verdict"] == "junk"
    assert data["system_verdict_changed"] is False


def test_report_with_unknown_system_verdict_is_markable(runtime):
    report = store_report(
        runtime,
        system_verdict=SystemVerdict.UNKNOWN,
        eligibility=Eligibility.UNKNOWN,
    )
    assert mark(report.id, {"verdict": "spam"}).status_code == 202


def test_report_that_agrees_is_a_conflict(runtime):
    report = store_report(runtime, eligibility=Eligibility.AGREES)
    response = mark(report.id, {"verdict": "phishing"})
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert response_json(response)["detail"] == (
        f"report {report.id!r} agrees with the mail system's verdict (delivered); "
        "only false positives and false negatives can be marked"
    )
    assert queued_messages(runtime) == []


def test_mark_teams_report_as_spam_is_rejected(runtime):
    report = store_report(runtime, kind=Kind.TEAMS, eligibility=Eligibility.UNKNOWN)
    response = mark(report.id, {"verdict": "spam"})
    assert response.status_code == 422
    problem = response_json(response)
    assert problem["field"] == "verdict"
    assert problem["detail"] == (
        "verdict 'spam' is not allowed for a teams report; expected one of: "
        "no_threats_found, phishing"
    )


@pytest.mark.parametrize("verdict", ["no_threats_found", "phishing"])
def test_teams_report_takes_its_verdicts(runtime, verdict):
    report = store_report(runtime, kind=Kind.TEAMS, eligibility=Eligibility.UNKNOWN)
    assert mark(report.id, {"verdict": verdict}).status_code == 202


def test_same_verdict_again_is_a_no_op(runtime):
    report = store_report(runtime)
    first = mark(report.id, {"verdict": "spam"})
    second = mark(report.id, {"verdict": "spam"})
    assert second.status_code == 202
    data = response_json(second)
    assert data["changed"] is False
    assert data["notification_queued"] is False
    assert data["verdict_version"] == 1
    assert second.headers["ETag"] == first.headers["ETag"]
    assert len(queued_messages(runtime)) == 1


def test_notify_false_records_without_notifying(runtime):
    report = store_report(runtime)
    response = mark(report.id, {"verdict": "spam", "notify": False})
    assert response.status_code == 202
    assert response_json(response)["notification_queued"] is False
    assert queued_messages(runtime) == []
    audit = response_json(
        call(
            "get_report_audit",
            http_request(
                "GET", f"api/reports/{report.id}/audit", route_params={"id": report.id}
            ),
        )
    )
    (entry,) = audit["items"]
    assert entry["data"]["notify"] is False


def test_comment_is_kept_in_the_audit(runtime):
    report = store_report(runtime)
    mark(
        report.id, {"verdict": "phishing", "comment": "credential form on a lookalike"}
    )
    mark(report.id, {"verdict": "spam"})
    response = call(
        "get_report_audit",
        http_request(
            "GET", f"api/reports/{report.id}/audit", route_params={"id": report.id}
        ),
    )
    assert response.status_code == 200
    first, second = response_json(response)["items"]
    assert first["action"] == "verdict"
    assert first["actor"] == "alex@example.com"
    assert first["data"] == {
        "old": None,
        "new": "phishing",
        "version": 1,
        "comment": "credential form on a lookalike",
        "notify": True,
    }
    assert second["data"]["old"] == "phishing"
    assert second["data"]["new"] == "spam"
    assert second["data"]["version"] == 2


def test_stale_if_match_is_a_conflict(runtime):
    report = store_report(runtime)
    read = call(
        "get_report",
        http_request("GET", f"api/reports/{report.id}", route_params={"id": report.id}),
    )
    etag = read.headers["ETag"]
    assert (
        mark(report.id, {"verdict": "spam"}, headers={"if-match": etag}).status_code
        == 202
    )
    stale = mark(report.id, {"verdict": "phishing"}, headers={"if-match": etag})
    assert stale.status_code == 409
    assert response_json(stale)["detail"] == (
        f"report {report.id!r} changed since the ETag in If-Match; reload it"
    )


def test_racing_reviewers_get_one_success(runtime):
    report = store_report(runtime)
    etag = call(
        "get_report",
        http_request("GET", f"api/reports/{report.id}", route_params={"id": report.id}),
    ).headers["ETag"]
    verdicts = ["spam", "phishing", "no_threats_found", "spam", "phishing", "spam"]
    statuses: list[int] = []
    start = threading.Barrier(len(verdicts))

    def review(verdict: str) -> None:
        start.wait()
        response = mark(report.id, {"verdict": verdict}, headers={"if-match": etag})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=review, args=(v,)) for v in verdicts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [202] + [409] * (len(verdicts) - 1)
    stored = response_json(
        call(
            "get_report",
            http_request(
                "GET", f"api/reports/{report.id}", route_params={"id": report.id}
            ),
        )
    )
    assert stored["verdict_version"] == 1
    assert len(queued_messages(runtime)) == 1


@pytest.mark.parametrize(
    ("body", "status", "field", "detail"),
    [
        (
            {"verdict": "malware"},
            400,
            "verdict",
            "verdict 'malware' is invalid; expected one of: no_threats_found, "
            "phishing, spam",
        ),
        (
            {},
            400,
            "verdict",
            "verdict None is invalid; expected one of: no_threats_found, phishing, "
            "spam",
        ),
        (
            {"verdict": "spam", "notify": "yes"},
            400,
            "notify",
            "notify must be true or false",
        ),
        (
            {"verdict": "spam", "comment": "x" * 2001},
            400,
            "comment",
            "comment is 2001 characters; the limit is 2000",
        ),
        ({"verdict": "spam", "comment": 5}, 400, "comment", "comment must be a string"),
        (
            {"verdict": "spam", "notfiy": False},
            400,
            "notfiy",
            "field 'notfiy' is not supported; expected: verdict, notify, comment",
        ),
    ],
)
def test_invalid_mark_body_names_the_field(runtime, body, status, field, detail):
    report = store_report(runtime)
    response = mark(report.id, body)
    assert response.status_code == status
    problem = response_json(response)
    assert problem["field"] == field
    assert problem["detail"] == detail


def test_oversize_body_is_413(runtime):
    report = store_report(runtime)
    body = json.dumps({"verdict": "spam", "comment": "x" * (1024 * 1024)}).encode()
    response = mark(report.id, body)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


def test_unknown_report_is_404(runtime):
    response = mark("nosuchreport", {"verdict": "spam"})
    assert response.status_code == 404
    assert response_json(response)["detail"] == "report 'nosuchreport' not found"


def test_report_id_azure_rejects_is_404(runtime):
    response = call(
        "get_report",
        http_request("GET", "api/reports/a#b", route_params={"id": "a#b"}),
    )
    assert response.status_code == 404


def test_rejection_is_logged_without_the_detail(runtime, caplog):
    caplog.set_level("INFO", logger="verdicts.api")
    response = call(
        "submit_report",
        http_request(
            "POST",
            "api/reports",
            body={"reporter_address": "dana.secret@example.com"},
            role="reviewer",
        ),
    )
    assert response.status_code == 400
    (record,) = [r for r in caplog.records if r.name == "verdicts.api"]
    assert record.getMessage() == (
        "POST submit_report rejected: 400 Invalid source (field source)"
    )
    assert "dana.secret" not in caplog.text


def test_unexpected_error_is_a_500_problem(runtime, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("storage exploded")

    monkeypatch.setattr("verdicts.api.compute_stats", broken)
    response = call("get_stats", http_request("GET", "api/stats"))
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response_json(response)["detail"] == "the request failed; see the app log"
    assert "GET get_stats failed" in caplog.text


def test_racing_marks_without_if_match_lose_no_update(runtime, monkeypatch):
    from verdicts.store import ReportStore

    report = store_report(runtime)
    both_read = threading.Barrier(2)
    original_get = ReportStore.get

    def get_then_wait(self, report_id):
        stored = original_get(self, report_id)
        both_read.wait(timeout=10)
        return stored

    monkeypatch.setattr(ReportStore, "get", get_then_wait)
    statuses: dict[str, int] = {}

    def review(verdict: str) -> None:
        statuses[verdict] = mark(report.id, {"verdict": verdict}).status_code

    threads = [threading.Thread(target=review, args=(v,)) for v in ("spam", "phishing")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses.values()) == [202, 409]
    monkeypatch.setattr(ReportStore, "get", original_get)
    stored = ReportStore(runtime.storage).get(report.id).report
    (winner,) = [v for v, status in statuses.items() if status == 202]
    assert stored.verdict.value == winner
    assert stored.verdict_version == 1
    assert len(queued_messages(runtime)) == 1

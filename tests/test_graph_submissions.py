"""Submissions to Microsoft through the API, against the fake Graph server."""

from __future__ import annotations

import base64
import shutil

import pytest
from azure.functions.timer import TimerRequest

import function_app
from tests.conftest import REPORTING_MAILBOX, SEED_DIR, http_request, response_json
from verdicts.store import ReportStore

DANA = "dana.whitfield@example.com"


def _report_from_seed(fake_graph, name: str, reporter: str) -> str:
    fake_graph.add_message(REPORTING_MAILBOX, (SEED_DIR / name).read_bytes())
    function_app.poll_reporting_mailbox(TimerRequest(past_due=False))
    listing = response_json(
        function_app.list_reports(http_request("GET", "api/reports"))
    )
    (item,) = [r for r in listing["items"] if r["reporter_address"] == reporter]
    return item["id"]


def _mark(report_id: str, verdict: str) -> None:
    response = function_app.mark_verdict(
        http_request(
            "POST",
            f"api/reports/{report_id}/verdict",
            route_params={"id": report_id},
            body={"verdict": verdict, "notify": False},
        )
    )
    assert response.status_code == 202


def _submit(report_id: str, body=None, role: str = "reviewer"):
    return function_app.submit_to_microsoft(
        http_request(
            "POST",
            f"api/reports/{report_id}/submission",
            route_params={"id": report_id},
            body=body,
            role=role,
        )
    )


def _get(report_id: str):
    return function_app.get_submission(
        http_request(
            "GET",
            f"api/reports/{report_id}/submission",
            route_params={"id": report_id},
            role="reader",
        )
    )


@pytest.fixture
def report_id(graph_runtime, fake_graph) -> str:
    return _report_from_seed(fake_graph, "01-phishing-invoice.eml", DANA)


class TestSubmit:
    def test_original_sent_as_content(self, report_id, fake_graph):
        _mark(report_id, "phishing")

        response = _submit(report_id)

        assert response.status_code == 202
        (request,) = fake_graph.requests_for("submit_threat")
        assert request.path == "/beta/security/threatSubmission/emailThreats"
        body = request.json()
        assert body["@odata.type"] == (
            "#microsoft.graph.security.emailContentThreatSubmission"
        )
        assert body["category"] == "phishing"
        assert body["recipientEmailAddress"] == DANA
        original = base64.b64decode(body["fileContent"])
        assert b"Subject: Action required: overdue invoice INV-20931" in original
        assert b'From: "Contoso Billing" <accounts@contoso-billing' in original
        assert b"3|Phishing" not in original
        assert set(body) == {
            "@odata.type",
            "category",
            "recipientEmailAddress",
            "fileContent",
        }

    def test_submission_recorded_on_report(self, report_id, graph_runtime, fake_graph):
        _mark(report_id, "phishing")

        data = response_json(_submit(report_id))

        (graph_id,) = fake_graph.submissions
        assert data["id"] == graph_id
        assert data["report_id"] == report_id
        assert data["status"] == "notStarted"
        assert data["category"] == "phishing"
        assert data["requested_by"] == "alex@example.com"
        assert data["result"] is None
        stored = ReportStore(graph_runtime.storage).get(report_id).report
        assert stored.submission["id"] == graph_id
        assert stored.submission["status"] == "notStarted"
        audit = ReportStore(graph_runtime.storage).audit_for(report_id)
        (entry,) = [e for e in audit if e["action"] == "submission"]
        assert entry["actor"] == "alex@example.com"
        assert entry["submission_id"] == graph_id
        assert entry["category"] == "phishing"

    @pytest.mark.parametrize(
        ("verdict", "body", "expected"),
        [
            ("phishing", None, "phishing"),
            ("spam", None, "spam"),
            ("no_threats_found", None, "notJunk"),
            ("no_threats_found", {"category": "malware"}, "malware"),
            ("phishing", {"category": "not_junk"}, "notJunk"),
            ("spam", {"category": "spam"}, "spam"),
        ],
    )
    def test_category_mapping(self, report_id, fake_graph, verdict, body, expected):
        _mark(report_id, verdict)

        response = _submit(report_id, body)

        assert response.status_code == 202
        (request,) = fake_graph.requests_for("submit_threat")
        assert request.json()["category"] == expected

    def test_no_verdict_and_no_category(self, report_id, fake_graph):
        response = _submit(report_id)

        assert response.status_code == 422
        assert response_json(response)["detail"] == (
            f"report {report_id!r} has no verdict to take the category from; send a "
            "category: phishing, spam, malware or not_junk"
        )
        assert fake_graph.requests_for("submit_threat") == []

    def test_invalid_category(self, report_id):
        response = _submit(report_id, {"category": "junk"})

        assert response.status_code == 400
        problem = response_json(response)
        assert problem["field"] == "category"
        assert problem["detail"] == (
            "category 'junk' is invalid; expected one of: phishing, spam, malware, "
            "not_junk"
        )

    def test_second_submission_is_conflict(self, report_id, fake_graph):
        _mark(report_id, "phishing")
        _submit(report_id)

        response = _submit(report_id)

        assert response.status_code == 409
        assert "was already submitted to Microsoft" in response_json(response)["detail"]
        assert "send force=true to submit it again" in response_json(response)["detail"]
        assert len(fake_graph.requests_for("submit_threat")) == 1

    def test_force_submits_again(self, report_id, fake_graph):
        _mark(report_id, "phishing")
        first = response_json(_submit(report_id))

        response = _submit(report_id, {"force": True, "category": "malware"})

        assert response.status_code == 202
        second = response_json(response)
        assert second["id"] != first["id"]
        assert second["category"] == "malware"
        assert len(fake_graph.submissions) == 2

    def test_reader_cannot_submit(self, report_id, fake_graph):
        response = _submit(report_id, {"category": "spam"}, role="reader")

        assert response.status_code == 403
        assert fake_graph.requests_for("submit_threat") == []

    def test_inline_forward_has_nothing_to_submit(self, graph_runtime, fake_graph):
        stored = [
            r
            for r in _all_reports(graph_runtime, fake_graph, "04-inline-forward.eml")
            if r.original_format not in ("eml", "msg", "graph_item")
        ]
        (report,) = stored

        response = _submit(report.id, {"category": "phishing"})

        assert response.status_code == 422
        assert "has no attached original to submit" in response_json(response)["detail"]
        assert fake_graph.requests_for("submit_threat") == []


def _all_reports(runtime, fake_graph, name: str):
    fake_graph.add_message(REPORTING_MAILBOX, (SEED_DIR / name).read_bytes())
    function_app.poll_reporting_mailbox(TimerRequest(past_due=False))
    return list(ReportStore(runtime.storage).iter_reports())


class TestGraphErrors:
    def test_missing_permission(self, report_id, graph_runtime, fake_graph):
        _mark(report_id, "phishing")
        fake_graph.fail_next(
            "POST", "submit_threat", 403, code="Forbidden", message="Missing role"
        )

        response = _submit(report_id)

        assert response.status_code == 502
        problem = response_json(response)
        assert problem["title"] == "Missing Graph permission"
        assert problem["detail"] == (
            "Microsoft Graph denied the request (403 Forbidden): grant the Function "
            "App's managed identity the application permission "
            "ThreatSubmission.ReadWrite.All"
        )
        assert problem["graph_status"] == 403
        report = ReportStore(graph_runtime.storage).get(report_id).report
        assert report.submission == {}
        assert _submit(report_id).status_code == 202

    def test_throttled(self, report_id, fake_graph):
        _mark(report_id, "phishing")
        fake_graph.fail_next(
            "POST", "submit_threat", 429, headers={"Retry-After": "30"}
        )

        response = _submit(report_id)

        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        problem = response_json(response)
        assert problem["title"] == "Microsoft Graph is throttling"
        assert problem["retry_after"] == 30

    def test_message_too_large(self, report_id, fake_graph):
        _mark(report_id, "phishing")
        fake_graph.fail_next("POST", "submit_threat", 413)

        response = _submit(report_id)

        assert response.status_code == 413
        assert response_json(response)["title"] == "Message too large"

    def test_server_error(self, report_id, fake_graph):
        _mark(report_id, "phishing")
        fake_graph.fail_next("POST", "submit_threat", 500)

        response = _submit(report_id)

        assert response.status_code == 502
        assert response_json(response)["detail"] == (
            "Graph threat submission failed: HTTP 500 InternalServerError: "
            "scripted failure 500"
        )

    def test_without_graph(self, runtime):
        inbox = runtime.config.mailbox_dir / "inbox"
        inbox.mkdir(parents=True)
        shutil.copy(SEED_DIR / "01-phishing-invoice.eml", inbox)
        function_app.poll_reporting_mailbox(TimerRequest(past_due=False))
        (report,) = ReportStore(runtime.storage).iter_reports()

        response = _submit(report.id, {"category": "spam"})

        assert response.status_code == 503
        assert response_json(response)["title"] == "Microsoft Graph not configured"
        stored = ReportStore(runtime.storage).get(report.id).report
        assert stored.submission == {}

    def test_missing_report_is_404_without_graph(self, runtime):
        response = _submit("0" * 32, {"category": "spam"})

        assert response.status_code == 404


class TestStatus:
    def test_refresh_reads_result(self, report_id, fake_graph):
        _mark(report_id, "phishing")
        graph_id = response_json(_submit(report_id))["id"]
        assert response_json(_get(report_id))["status"] == "notStarted"
        fake_graph.complete_submission(graph_id, category="phishing")

        data = response_json(_get(report_id))

        assert data["status"] == "succeeded"
        assert data["result"]["category"] == "phishing"
        assert data["result"]["detail"] == "allowedByTenant"
        assert len(fake_graph.requests_for("get_threat")) == 2

    def test_final_status_not_refetched(self, report_id, fake_graph):
        _mark(report_id, "phishing")
        graph_id = response_json(_submit(report_id))["id"]
        fake_graph.complete_submission(graph_id, category="phishing")
        _get(report_id)

        data = response_json(_get(report_id))

        assert data["status"] == "succeeded"
        (request,) = fake_graph.requests_for("get_threat")
        assert (
            request.path == f"/beta/security/threatSubmission/emailThreats/{graph_id}"
        )

    def test_report_never_submitted(self, report_id):
        response = _get(report_id)

        assert response.status_code == 404
        assert response_json(response)["detail"] == (
            f"report {report_id!r} has not been submitted to Microsoft"
        )


class TestBulk:
    def _bulk(self, body):
        return function_app.submit_many_to_microsoft(
            http_request("POST", "api/threat-submissions", body=body, role="reviewer")
        )

    def test_result_per_id(self, report_id, fake_graph):
        _mark(report_id, "spam")
        missing = "f" * 32

        response = self._bulk({"ids": [report_id, missing, report_id]})

        assert response.status_code == 200
        data = response_json(response)
        first, second = data["results"]
        assert first["id"] == report_id
        assert first["status"] == "submitted"
        assert first["submission"]["category"] == "spam"
        assert second == {
            "id": missing,
            "status": "not_found",
            "detail": f"report {missing!r} not found",
            "submission": None,
        }
        assert data["counts"]["submitted"] == 1
        assert data["counts"]["not_found"] == 1

    def test_already_submitted_in_bulk(self, report_id, fake_graph):
        _mark(report_id, "spam")
        _submit(report_id)

        (result,) = response_json(self._bulk({"ids": [report_id]}))["results"]

        assert result["status"] == "already_submitted"
        assert len(fake_graph.requests_for("submit_threat")) == 1

    def test_throttling_stops_bulk(self, graph_runtime, fake_graph):
        first = _report_from_seed(fake_graph, "01-phishing-invoice.eml", DANA)
        second = _report_from_seed(
            fake_graph, "02-junk-newsletter.eml", "marco.alvarez@example.com"
        )
        fake_graph.fail_next("POST", "submit_threat", 429, headers={"Retry-After": "9"})

        results = response_json(
            self._bulk({"ids": [first, second], "category": "phishing"})
        )["results"]

        assert [r["status"] for r in results] == ["throttled", "throttled"]
        assert results[0]["detail"] == (
            "Microsoft Graph throttled the request (429); retry in 9 s"
        )
        assert results[1]["detail"] == (
            "not submitted: Microsoft Graph throttled the request (429); retry in 9 s"
        )
        assert len(fake_graph.requests_for("submit_threat")) == 1

    def test_graph_failure_in_bulk(self, report_id, fake_graph):
        fake_graph.fail_next("POST", "submit_threat", 403, code="Forbidden")

        (result,) = response_json(self._bulk({"ids": [report_id], "category": "spam"}))[
            "results"
        ]

        assert result["status"] == "failed"
        assert "ThreatSubmission.ReadWrite.All" in result["detail"]

    @pytest.mark.parametrize("ids", [[], "abc", [1], ["x"] * 101, None])
    def test_invalid_ids(self, graph_runtime, ids):
        response = self._bulk({"ids": ids})

        assert response.status_code == 400
        assert response_json(response)["detail"] == (
            "ids must be a list of 1 to 100 report ids"
        )

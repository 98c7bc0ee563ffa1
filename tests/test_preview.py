"""POST /api/settings/notifications/preview and /test."""

from __future__ import annotations

import email
import email.policy

import pytest

import function_app
from mailboxes import PermanentSendError, TransientSendError
from tests.conftest import http_request, response_json
from tests.test_notification_content import add_report, put_settings
from verdicts.store import ReportStore


def _preview(body: dict, *, role: str = "settings_admin"):
    return function_app.preview_notification(
        http_request("POST", "api/settings/notifications/preview", body=body, role=role)
    )


def _test_send(body: dict, *, role: str = "settings_admin"):
    return function_app.send_test_notification(
        http_request("POST", "api/settings/notifications/test", body=body, role=role)
    )


class TestPreview:
    def test_sample_data_by_default(self, runtime):
        response = _preview({"verdict": "spam"}, role="reader")
        assert response.status_code == 200
        preview = response_json(response)
        assert preview["subject"] == (
            "Result of your report: Action required: confirm your mailbox password"
        )
        assert preview["language"] == "en"
        assert preview["sender"] == "security-results@example.com"
        assert "Result: Junk" in preview["text"]
        assert "it-support@mailbox-upgrade.example.net" in preview["text"]
        assert "Result: Junk" in preview["html"]

    def test_logo_is_a_data_uri(self, runtime):
        html = response_json(_preview({}))["html"]
        assert 'src="data:image/png;base64,iVBORw0KGgo' in html
        assert "cid:" not in html

    def test_report_data_and_language(self, runtime):
        add_report(runtime, "r9", original_subject="Quarterly bonus", language="de")
        put_settings({"languages": {"de": {}}})
        preview = response_json(_preview({"verdict": "phishing", "report_id": "r9"}))
        assert preview["subject"] == "Ergebnis Ihrer Meldung: Quarterly bonus"
        assert preview["language"] == "de"

    def test_explicit_language_wins_over_report(self, runtime):
        add_report(runtime, "r9", language="de")
        put_settings({"languages": {"de": {}, "fr": {}}})
        body = {"report_id": "r9", "language": "fr-BE"}
        assert response_json(_preview(body))["language"] == "fr"

    def test_unsaved_settings_are_rendered_not_saved(self, runtime):
        body = {
            "verdict": "no_threats_found",
            "settings": {
                "sender": "desk@example.com",
                "texts": {"no_threats_found": "All clear, {{ reporter_name }}."},
            },
        }
        preview = response_json(_preview(body))
        assert "All clear, Alex Wilber." in preview["text"]
        assert preview["sender"] == "desk@example.com"
        stored = response_json(
            function_app.get_notification_settings(
                http_request("GET", "api/settings/notifications")
            )
        )
        assert stored["texts"]["no_threats_found"] == ""

    def test_corrected_preview(self, runtime):
        preview = response_json(_preview({"verdict": "spam", "corrected": True}))
        assert preview["subject"].startswith("Corrected result of your report: ")
        assert "changed its result to Junk" in preview["text"]

    @pytest.mark.parametrize(
        ("body", "status", "field"),
        [
            ({"verdict": "malware"}, 422, "verdict"),
            ({"language": "?!"}, 422, "language"),
            ({"report_id": "missing"}, 404, "report_id"),
            ({"report_id": 5}, 422, "report_id"),
            ({"corrected": "yes"}, 422, "corrected"),
            ({"settings": []}, 422, "settings"),
            ({"settings": {"texts": {"junk": "{{ x }}"}}}, 422, "settings.texts.junk"),
            ({"settings": {"sender": "a@example.org"}}, 422, "settings.sender"),
        ],
    )
    def test_invalid_body_names_field(self, runtime, body, status, field):
        response = _preview(body)
        assert response.status_code == status
        assert response_json(response)["field"] == field

    def test_anonymous_is_rejected(self, runtime):
        assert _preview({}, role=None).status_code == 401


class TestSendTest:
    def test_preview_is_sent_to_address(self, runtime):
        response = _test_send({"verdict": "phishing", "to": "admin@example.com"})
        assert response.status_code == 202
        result = response_json(response)
        assert result["to"] == "admin@example.com"
        (path,) = (runtime.config.mailbox_dir / "outbox").glob("*.eml")
        sent = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert sent["To"].addresses[0].addr_spec == "admin@example.com"
        assert sent["Message-ID"] == result["message_id"]
        assert sent["Auto-Submitted"] == "auto-generated"
        assert sent["Subject"] == result["subject"]
        html = sent.get_body(("html",)).get_content()
        assert 'src="cid:reportback-logo"' in html

    def test_send_is_audited(self, runtime):
        _test_send({"to": "admin@example.com"})
        (entry,) = ReportStore(runtime.storage).audit_for("settings")
        assert entry["action"] == "test_notification"
        assert entry["to"] == "admin@example.com"

    @pytest.mark.parametrize(
        "to",
        [
            "someone@example.net",
            "admin@example.com\r\nBcc: x@example.net",
            "",
            None,
        ],
    )
    def test_recipient_outside_domain_is_422(self, runtime, to):
        response = _test_send({"to": to})
        assert response.status_code == 422
        assert response_json(response)["field"] == "to"
        assert not list((runtime.config.mailbox_dir / "outbox").glob("*.eml"))

    @pytest.mark.parametrize("role", ["reader", "reviewer"])
    def test_only_settings_admin_may_send(self, runtime, role):
        response = _test_send({"to": "admin@example.com"}, role=role)
        assert response.status_code == 403


class _FailingMailbox:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def send(self, message) -> None:
        raise self.error


class TestSendTestFailures:
    def test_throttled_send_is_503(self, runtime):
        error = TransientSendError("Graph sendMail failed: 429", retry_after=30.0)
        runtime.__dict__["mailbox"] = _FailingMailbox(error)
        response = _test_send({"to": "admin@example.com"})
        assert response.status_code == 503
        assert response_json(response)["retry_after"] == 30.0
        assert ReportStore(runtime.storage).audit_for("settings") == []

    def test_denied_send_is_502(self, runtime):
        error = PermanentSendError("send-as denied for desk@example.com")
        runtime.__dict__["mailbox"] = _FailingMailbox(error)
        response = _test_send({"to": "admin@example.com"})
        assert response.status_code == 502
        assert response_json(response)["detail"] == (
            "send-as denied for desk@example.com"
        )

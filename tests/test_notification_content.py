"""What the reporter receives: sender, language, logo, headers, corrections, escaping.

Reports are stored directly, marked through the API and delivered through the queue
function, as the Functions runtime runs them, against Azurite and the folder mailbox.
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone

import pytest
from azure.functions.queue import QueueMessage
from jinja2.exceptions import SecurityError

import function_app
from notifier.errors import TemplateTextError
from notifier.render import _text_environment, check_text
from runtime import reset_runtime
from tests.conftest import http_request, response_json
from tests.test_logo import image_bytes
from verdicts.model import Report
from verdicts.store import ReportStore

RECEIVED = datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc)


def add_report(runtime, report_id: str = "r1", **fields) -> str:
    values = {
        "reporter_address": "dana.whitfield@example.com",
        "reporter_name": "Dana Whitfield",
        "original_subject": "Your parcel is waiting",
        "original_sender": "parcels@shipping.example.net",
        "wrapper_message_id": "<report-1@example.com>",
    }
    values.update(fields)
    report = Report(id=report_id, received_at=RECEIVED, **values)
    ReportStore(runtime.storage).add(report)
    return report_id


def mark(report_id: str, verdict: str, *, notify: bool = True) -> None:
    response = function_app.mark_verdict(
        http_request(
            "POST",
            f"api/reports/{report_id}/verdict",
            route_params={"id": report_id},
            body={"verdict": verdict, "notify": notify},
            role="reviewer",
        )
    )
    assert response.status_code == 202


def deliver(runtime) -> list[email.message.EmailMessage]:
    """Run the queue function on every queued message; return the new outbox mail."""
    outbox = runtime.config.mailbox_dir / "outbox"
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    queue = runtime.storage.queue("notifications")
    for message in queue.receive_messages():
        function_app.send_notification(
            QueueMessage(id=message.id, body=message.content.encode(), dequeue_count=1)
        )
        queue.delete_message(message)
    new = sorted(set(outbox.glob("*.eml")) - before, key=lambda p: p.stat().st_mtime)
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in new
    ]


def put_settings(body: dict) -> None:
    etag = function_app.get_notification_settings(
        http_request("GET", "api/settings/notifications")
    ).headers["ETag"]
    response = function_app.put_notification_settings(
        http_request(
            "PUT",
            "api/settings/notifications",
            body=body,
            headers={"if-match": etag},
        )
    )
    assert response.status_code == 200, response_json(response)


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(("html",)).get_content()


class TestSender:
    def test_default_sender_without_custom_one(self, runtime):
        mark(add_report(runtime), "phishing")
        (sent,) = deliver(runtime)
        assert sent["From"].addresses[0].addr_spec == "security-results@example.com"

    def test_custom_sender_is_used(self, runtime):
        put_settings({"sender": "phish-desk@example.com"})
        mark(add_report(runtime), "phishing")
        (sent,) = deliver(runtime)
        assert sent["From"].addresses[0].addr_spec == "phish-desk@example.com"
        assert sent["Message-ID"].endswith("@example.com>")

    def test_sender_outside_domains_falls_back(self, runtime, monkeypatch):
        put_settings({"sender": "phish-desk@example.com"})
        monkeypatch.setenv("REPORTBACK_ACCEPTED_DOMAINS", "contoso.com")
        reset_runtime()
        from runtime import get_runtime

        current = get_runtime()
        mark(add_report(current, reporter_address="dana@contoso.com"), "spam")
        (sent,) = deliver(current)
        assert sent["From"].addresses[0].addr_spec == "security-results@example.com"


class TestHeaders:
    def test_threading_and_auto_submitted(self, runtime):
        mark(add_report(runtime), "phishing")
        (sent,) = deliver(runtime)
        assert sent["Auto-Submitted"] == "auto-generated"
        assert sent["In-Reply-To"] == "<report-1@example.com>"
        assert sent["References"] == "<report-1@example.com>"
        assert sent["Message-ID"].endswith("@example.com>")

    def test_unsafe_report_message_id_is_not_referenced(self, runtime):
        report_id = add_report(
            runtime, wrapper_message_id="<a@example.com>\r\nBcc: x@example.net"
        )
        mark(report_id, "phishing")
        (sent,) = deliver(runtime)
        assert sent["In-Reply-To"] is None
        assert sent["References"] is None
        assert sent["Bcc"] is None

    def test_subject_newlines_do_not_reach_headers(self, runtime):
        subject = "Invoice\r\nBcc: everyone@example.net\r\nX-Evil: 1"
        mark(add_report(runtime, original_subject=subject), "phishing")
        (sent,) = deliver(runtime)
        assert sent["Bcc"] is None
        assert sent["X-Evil"] is None
        assert sent["Subject"] == (
            "Result of your report: Invoice Bcc: everyone@example.net X-Evil: 1"
        )

    def test_reporter_name_newlines_do_not_reach_headers(self, runtime):
        name = "Dana\r\nBcc: everyone@example.net"
        mark(add_report(runtime, reporter_name=name), "phishing")
        (sent,) = deliver(runtime)
        assert sent["Bcc"] is None
        assert sent["To"].addresses[0].display_name == "Dana Bcc: everyone@example.net"

    def test_long_subject_is_cut(self, runtime):
        mark(add_report(runtime, original_subject="Ü" * 500), "phishing")
        (sent,) = deliver(runtime)
        assert len(sent["Subject"]) == 120
        assert sent["Subject"].endswith("…")
        header_lines = sent.as_bytes().split(b"\n\n")[0].split(b"\n")
        start = [line[:8] for line in header_lines].index(b"Subject:")
        folded = [header_lines[start]]
        for line in header_lines[start + 1 :]:
            if not line.startswith((b" ", b"\t")):
                break
            folded.append(line)
        assert len(folded) > 1
        assert max(len(line) for line in folded) <= 78


class TestEscaping:
    def test_report_markup_is_escaped_in_html(self, runtime):
        report_id = add_report(
            runtime,
            original_subject='<img src=x onerror="alert(1)">',
            original_sender="<script>alert(2)</script>@example.net",
        )
        mark(report_id, "phishing")
        (sent,) = deliver(runtime)
        html = html_of(sent)
        assert "<img src=x" not in html
        assert "<script>" not in html
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;@example.net" in html
        assert '<img src=x onerror="alert(1)">' in text_of(sent)

    def test_placeholder_values_are_not_rendered_again(self, runtime):
        put_settings({"texts": {"phishing": "About {{ subject }}."}})
        mark(add_report(runtime, original_subject="{{ 7*7 }} {% if 1 %}"), "phishing")
        (sent,) = deliver(runtime)
        assert "About {{ 7*7 }} {% if 1 %}." in text_of(sent)
        assert "49" not in text_of(sent)

    def test_admin_markup_is_escaped_in_html(self, runtime):
        put_settings({"texts": {"footer": "<b>Help</b> at <a href=x>desk</a>"}})
        mark(add_report(runtime), "phishing")
        (sent,) = deliver(runtime)
        assert "&lt;b&gt;Help&lt;/b&gt; at &lt;a href=x&gt;desk&lt;/a&gt;" in html_of(
            sent
        )

    @pytest.mark.parametrize(
        "text",
        [
            "{{ ''.__class__ }}",
            "{{ subject.__class__.__mro__ }}",
            "{{ cycler.__init__.__globals__ }}",
            "{{ lipsum.__globals__['os'] }}",
            "{{subject.format(x)}}",
            "{%raw%}{{ x }}{%endraw%}",
        ],
    )
    def test_expressions_are_rejected_before_rendering(self, text):
        with pytest.raises(TemplateTextError):
            check_text(text)

    def test_sandbox_blocks_attribute_escape(self):
        # Second line of defence if a text ever reached the engine unchecked.
        template = _text_environment().from_string(
            "{{ ''.__class__.__mro__[1].__subclasses__() }}"
        )
        with pytest.raises(SecurityError):
            template.render()


class TestLanguage:
    GERMAN = {"languages": {"de": {"footer": "Fragen? IT-Helpdesk, Raum 4."}}}

    def test_content_language_picks_variant(self, runtime):
        put_settings(self.GERMAN)
        mark(add_report(runtime, language="de-AT, en"), "phishing")
        (sent,) = deliver(runtime)
        assert sent["Subject"] == "Ergebnis Ihrer Meldung: Your parcel is waiting"
        text = text_of(sent)
        assert "Ergebnis: Phishing" in text
        assert "Es handelt sich um Phishing" in text
        assert "Fragen? IT-Helpdesk, Raum 4." in text
        assert '<html lang="de">' in html_of(sent)

    def test_unconfigured_language_uses_default(self, runtime):
        put_settings(self.GERMAN)
        mark(add_report(runtime, language="fr-CA"), "spam")
        (sent,) = deliver(runtime)
        assert sent["Subject"] == "Result of your report: Your parcel is waiting"
        assert "Result: Junk" in text_of(sent)

    def test_default_language_can_be_german(self, runtime):
        put_settings({"default_language": "de", "texts": {"junk": "Nur Werbung."}})
        mark(add_report(runtime), "spam")
        (sent,) = deliver(runtime)
        text = text_of(sent)
        assert "Ergebnis: Junk-E-Mail" in text
        assert "Nur Werbung." in text

    def test_regional_variant_falls_back_to_language(self, runtime):
        put_settings({"languages": {"fr": {"no_threats_found": "Rien à signaler."}}})
        mark(add_report(runtime, language="fr-CA"), "no_threats_found")
        (sent,) = deliver(runtime)
        text = text_of(sent)
        assert "Résultat: Aucune menace trouvée" in text
        assert "Rien à signaler." in text


class TestLogo:
    def test_default_logo_is_inline(self, runtime):
        mark(add_report(runtime), "phishing")
        (sent,) = deliver(runtime)
        assert 'src="cid:reportback-logo"' in html_of(sent)
        (image,) = [p for p in sent.walk() if p.get_content_maintype() == "image"]
        assert image["Content-ID"] == "<reportback-logo>"

    def test_organization_logo_replaces_default(self, runtime):
        data = image_bytes("GIF", (200, 50))
        response = function_app.put_logo(
            http_request("PUT", "api/settings/logo", body=data)
        )
        sha = response_json(response)["sha256"]
        put_settings({"use_organization_logo": True})
        mark(add_report(runtime), "phishing")
        (sent,) = deliver(runtime)
        cid = f"organization-logo-{sha[:16]}"
        assert f'src="cid:{cid}"' in html_of(sent)
        assert 'width="192" height="48"' in html_of(sent)
        (image,) = [p for p in sent.walk() if p.get_content_maintype() == "image"]
        assert image["Content-ID"] == f"<{cid}>"
        assert image.get_content_type() == "image/gif"
        assert image.get_content() == data

    def test_uploaded_logo_unused_until_enabled(self, runtime):
        function_app.put_logo(
            http_request("PUT", "api/settings/logo", body=image_bytes("PNG"))
        )
        mark(add_report(runtime), "phishing")
        (sent,) = deliver(runtime)
        assert 'src="cid:reportback-logo"' in html_of(sent)


class TestCorrectedResult:
    def test_changed_verdict_sends_correction(self, runtime):
        report_id = add_report(runtime)
        mark(report_id, "phishing")
        (first,) = deliver(runtime)
        mark(report_id, "no_threats_found")
        (second,) = deliver(runtime)
        assert first["Subject"] == "Result of your report: Your parcel is waiting"
        assert second["Subject"] == (
            "Corrected result of your report: Your parcel is waiting"
        )
        text = text_of(second)
        assert "We changed the result of your report" in text
        assert "changed its result to No threats found" in text
        assert "found no threats in it" in text
        assert "phishing" not in text.lower()

    def test_change_before_any_send_is_not_a_correction(self, runtime):
        report_id = add_report(runtime)
        mark(report_id, "phishing", notify=False)
        mark(report_id, "spam")
        (sent,) = deliver(runtime)
        assert sent["Subject"] == "Result of your report: Your parcel is waiting"

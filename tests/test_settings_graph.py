"""Settings with the Graph mailbox: verified domains and the reporter's language."""

from __future__ import annotations

import function_app
from tests.conftest import http_request, response_json
from tests.test_notification_content import add_report, deliver, mark, put_settings

PATH = "api/settings/notifications"


def _put_sender(sender: str):
    etag = function_app.get_notification_settings(http_request("GET", PATH)).headers[
        "ETag"
    ]
    return function_app.put_notification_settings(
        http_request("PUT", PATH, body={"sender": sender}, headers={"if-match": etag})
    )


def _sent_subjects(fake_graph) -> list[str]:
    return [body["Message"]["subject"] for _sender, body in fake_graph.sent]


class TestVerifiedDomains:
    def test_verified_domain_sender_is_accepted(self, graph_runtime, fake_graph):
        fake_graph.verified_domains = ["contoso.com", "Fabrikam.com"]
        assert _put_sender("desk@fabrikam.com").status_code == 200
        assert _put_sender("desk@example.com").status_code == 200
        response = _put_sender("desk@northwind.example")
        assert response.status_code == 422
        assert response_json(response)["detail"] == (
            "Specify an email address in your domain"
        )

    def test_lookup_is_cached(self, graph_runtime, fake_graph):
        fake_graph.verified_domains = ["contoso.com"]
        _put_sender("desk@contoso.com")
        _put_sender("desk@contoso.com")
        assert len(fake_graph.requests_for("organization")) == 1

    def test_failed_lookup_keeps_configured_domains(self, graph_runtime, fake_graph):
        fake_graph.verified_domains = ["contoso.com"]
        fake_graph.fail_next(
            "GET", "organization", 403, code="Authorization_RequestDenied"
        )
        assert _put_sender("desk@contoso.com").status_code == 422
        assert _put_sender("desk@example.com").status_code == 200

    def test_verified_domain_sender_sends(self, graph_runtime, fake_graph):
        fake_graph.verified_domains = ["contoso.com"]
        fake_graph.add_mailbox("desk@contoso.com")
        assert _put_sender("desk@contoso.com").status_code == 200
        mark(add_report(graph_runtime), "phishing")
        deliver(graph_runtime)
        ((sender, body),) = fake_graph.sent
        assert sender == "desk@contoso.com"
        assert body["Message"]["from"]["emailAddress"]["address"] == "desk@contoso.com"


class TestMailboxLanguage:
    def test_mailbox_locale_picks_variant(self, graph_runtime, fake_graph):
        fake_graph.add_mailbox("dana.whitfield@example.com")
        fake_graph.mailbox_locales["dana.whitfield@example.com"] = "de-DE"
        put_settings({"languages": {"de": {}}})
        mark(add_report(graph_runtime, language="fr"), "phishing")
        deliver(graph_runtime)
        assert _sent_subjects(fake_graph) == [
            "Ergebnis Ihrer Meldung: Your parcel is waiting"
        ]

    def test_unknown_mailbox_uses_content_language(self, graph_runtime, fake_graph):
        put_settings({"languages": {"fr": {}}})
        mark(add_report(graph_runtime, language="fr-CA"), "spam")
        deliver(graph_runtime)
        assert _sent_subjects(fake_graph) == [
            "Résultat de votre signalement: Your parcel is waiting"
        ]

"""GET and PUT /api/settings/notifications: validation, ETags, roles and the audit."""

from __future__ import annotations

import threading

import pytest

import function_app
from tests.conftest import http_request, response_json
from verdicts.store import ReportStore

PATH = "api/settings/notifications"


def _get(role: str = "settings_admin"):
    return function_app.get_notification_settings(http_request("GET", PATH, role=role))


def _put(body, *, etag: str | None, role: str = "settings_admin"):
    headers = {"if-match": etag} if etag is not None else {}
    return function_app.put_notification_settings(
        http_request("PUT", PATH, body=body, role=role, headers=headers)
    )


def _etag() -> str:
    return _get().headers["ETag"]


class TestGet:
    def test_defaults_have_etag(self, runtime):
        response = _get(role="reader")
        assert response.status_code == 200
        assert response.headers["ETag"]
        assert response_json(response) == {
            "default_language": "en",
            "organization_name": "",
            "sender": "",
            "use_organization_logo": False,
            "texts": {
                "phishing": "",
                "junk": "",
                "no_threats_found": "",
                "footer": "",
            },
            "languages": {},
            "logo": None,
        }

    def test_anonymous_is_rejected(self, runtime):
        assert _get(role=None).status_code == 401


class TestPut:
    def test_saved_settings_are_returned(self, runtime):
        body = {
            "organization_name": "Contoso",
            "sender": "security@example.com",
            "texts": {"phishing": "Thanks, {{ reporter_name }}: {{ subject }} is bad."},
            "languages": {"de-de": {"phishing": "Danke, {{ reporter_name }}."}},
        }
        first_etag = _etag()
        response = _put(body, etag=first_etag)
        assert response.status_code == 200
        assert response.headers["ETag"] != first_etag
        stored = response_json(_get())
        assert stored["sender"] == "security@example.com"
        assert stored["organization_name"] == "Contoso"
        assert stored["texts"]["phishing"] == (
            "Thanks, {{ reporter_name }}: {{ subject }} is bad."
        )
        assert stored["texts"]["junk"] == ""
        assert list(stored["languages"]) == ["de-DE"]
        assert stored["languages"]["de-DE"]["phishing"] == "Danke, {{ reporter_name }}."

    def test_missing_if_match_is_428(self, runtime):
        response = _put({"sender": ""}, etag=None)
        assert response.status_code == 428
        assert response.mimetype == "application/problem+json"

    def test_stale_etag_is_412(self, runtime):
        etag = _etag()
        assert _put({"organization_name": "A"}, etag=etag).status_code == 200
        response = _put({"organization_name": "B"}, etag=etag)
        assert response.status_code == 412
        assert response_json(_get())["organization_name"] == "A"

    def test_star_matches_any_version(self, runtime):
        _etag()
        assert _put({"organization_name": "A"}, etag="*").status_code == 200

    def test_concurrent_puts_one_wins(self, runtime):
        etag = _etag()
        barrier = threading.Barrier(2)
        statuses: dict[str, int] = {}

        def put(name: str) -> None:
            barrier.wait()
            statuses[name] = _put({"organization_name": name}, etag=etag).status_code

        threads = [threading.Thread(target=put, args=(n,)) for n in ("A", "B")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses.values()) == [200, 412]
        (winner,) = [name for name, status in statuses.items() if status == 200]
        assert response_json(_get())["organization_name"] == winner

    @pytest.mark.parametrize("role", ["reader", "reviewer"])
    def test_only_settings_admin_may_change(self, runtime, role):
        response = _put({"organization_name": "A"}, etag=_etag(), role=role)
        assert response.status_code == 403
        assert response_json(_get())["organization_name"] == ""

    def test_change_is_audited(self, runtime):
        _put({"sender": "security@example.com"}, etag=_etag())
        (entry,) = ReportStore(runtime.storage).audit_for("settings")
        assert entry["action"] == "notification_settings"
        assert entry["actor"] == "alex@example.com"
        assert entry["at"]
        assert entry["changes"] == {
            "sender": {"old": "", "new": "security@example.com"}
        }

    def test_logo_is_read_only(self, runtime):
        response = _put({"logo": {"sha256": "x"}}, etag=_etag())
        assert response.status_code == 200
        assert response_json(response)["logo"] is None


class TestSenderDomain:
    @pytest.mark.parametrize(
        "sender",
        ["security@example.com", "Security.Team@EXAMPLE.COM", "a+b@example.com"],
    )
    def test_sender_in_domain_is_accepted(self, runtime, sender):
        response = _put({"sender": sender}, etag=_etag())
        assert response.status_code == 200
        assert response_json(response)["sender"] == sender

    @pytest.mark.parametrize(
        "sender",
        [
            "security@example.net",
            "security@sub.example.com",
            "security@example.com.attacker.test",
            "Security <security@example.com>",
            "security@example.com\r\nBcc: victim@example.net",
            "security@example.com,other@example.net",
            "@example.com",
            "security",
            42,
        ],
    )
    def test_sender_outside_domain_is_422(self, runtime, sender):
        response = _put({"sender": sender}, etag=_etag())
        assert response.status_code == 422
        problem = response_json(response)
        assert problem["field"] == "sender"
        assert problem["detail"] == "Specify an email address in your domain"

    def test_accepted_domains_setting_is_used(self, runtime, monkeypatch):
        monkeypatch.setenv("REPORTBACK_ACCEPTED_DOMAINS", "contoso.com, fabrikam.com")
        from runtime import reset_runtime

        reset_runtime()
        assert _put({"sender": "sec@fabrikam.com"}, etag=_etag()).status_code == 200
        response = _put({"sender": "sec@example.com"}, etag=_etag())
        assert response.status_code == 422


class TestTextValidation:
    @pytest.mark.parametrize(
        ("text", "detail"),
        [
            (
                "Hello {{ name }}",
                "texts.phishing unknown placeholder '{{ name }}' at line 1, column 7",
            ),
            (
                "Hi\nsee {{ ''.__class__ }}",
                "texts.phishing template syntax '{{' at line 2, column 5 is not "
                "allowed",
            ),
            (
                "{% for x in range(9) %}x{% endfor %}",
                "texts.phishing template syntax '{%' at line 1, column 1 is not "
                "allowed",
            ),
            (
                "ok {{ subject }} {# note #}",
                "texts.phishing template syntax '{#' at line 1, column 18 is not "
                "allowed",
            ),
            (
                "{{ subject|upper }}",
                "texts.phishing template syntax '{{' at line 1, column 1 is not "
                "allowed",
            ),
        ],
    )
    def test_template_syntax_is_rejected_with_position(self, runtime, text, detail):
        response = _put({"texts": {"phishing": text}}, etag=_etag())
        assert response.status_code == 422
        problem = response_json(response)
        assert problem["field"] == "texts.phishing"
        assert problem["detail"].startswith(detail)
        assert response_json(_get())["texts"]["phishing"] == ""

    def test_every_problem_is_listed(self, runtime):
        body = {
            "texts": {"junk": "{{ x }}", "footer": 5, "subject": "?"},
            "languages": {"not a tag": {}, "de": {"phishing": "{% if %}"}},
            "default_language": "en",
        }
        response = _put(body, etag=_etag())
        assert response.status_code == 422
        fields = [e["field"] for e in response_json(response)["errors"]]
        assert fields == [
            "texts.subject",
            "texts.junk",
            "texts.footer",
            "languages.not a tag",
            "languages.de.phishing",
        ]

    def test_too_long_text_is_rejected(self, runtime):
        response = _put({"texts": {"footer": "x" * 2001}}, etag=_etag())
        assert response.status_code == 422
        assert response_json(response)["detail"] == (
            "texts.footer is 2001 characters; the limit is 2000"
        )

    def test_control_characters_are_rejected(self, runtime):
        response = _put({"texts": {"footer": "a\x1b[31mb"}}, etag=_etag())
        assert response.status_code == 422
        assert response_json(response)["field"] == "texts.footer"

    def test_default_language_variant_is_rejected(self, runtime):
        body = {"default_language": "de", "languages": {"DE": {"junk": "x"}}}
        response = _put(body, etag=_etag())
        assert response.status_code == 422
        assert response_json(response)["field"] == "languages.DE"

    def test_unknown_key_is_rejected(self, runtime):
        response = _put({"footer": "x"}, etag=_etag())
        assert response.status_code == 422
        assert response_json(response)["field"] == "footer"

    def test_logo_flag_needs_uploaded_logo(self, runtime):
        response = _put({"use_organization_logo": True}, etag=_etag())
        assert response.status_code == 422
        assert response_json(response)["field"] == "use_organization_logo"

    def test_twenty_languages_fit_in_one_entity(self, runtime):
        tags = [f"x{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(20)]
        texts = {name: "é" * 2000 for name in ("phishing", "junk", "footer")}
        body = {"languages": {tag: texts for tag in tags}, "texts": texts}
        response = _put(body, etag=_etag())
        assert response.status_code == 200
        assert len(response_json(_get())["languages"]) == 20


def test_unexpected_error_is_a_problem(runtime, monkeypatch):
    import notifier.settings_api

    def broken_runtime():
        raise RuntimeError("storage client exploded")

    monkeypatch.setattr(notifier.settings_api, "get_runtime", broken_runtime)
    response = function_app.get_notification_settings(
        http_request("GET", "api/settings/notifications", role="reader")
    )
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert response_json(response)["detail"] == "the request failed; see the app log"

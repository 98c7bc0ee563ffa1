"""State-changing API calls are rejected unless they come from the app's own origin."""

from __future__ import annotations

import pytest

import function_app
from tests.conftest import http_request, response_json


def _mark(headers: dict[str, str]):
    request = http_request(
        "POST",
        "api/reports/r1/verdict",
        route_params={"id": "r1"},
        body={"verdict": "phishing"},
        role="reviewer",
        headers=headers,
    )
    return function_app.mark_verdict(request)


@pytest.mark.parametrize(
    ("headers", "field", "detail"),
    [
        (
            {"x-requested-with": ""},
            "X-Requested-With",
            "POST requests must send the header X-Requested-With (any value, for "
            "example XMLHttpRequest)",
        ),
        (
            {"origin": "http://evil.example.com"},
            "Origin",
            "Origin 'http://evil.example.com' does not match this app's origin "
            "'http://127.0.0.1:7071'",
        ),
        (
            {"origin": "null"},
            "Origin",
            "Origin 'null' does not match this app's origin 'http://127.0.0.1:7071'",
        ),
        (
            {"sec-fetch-site": "cross-site"},
            "Sec-Fetch-Site",
            "Sec-Fetch-Site 'cross-site' is not allowed; expected same-origin",
        ),
        (
            {"sec-fetch-site": "same-site"},
            "Sec-Fetch-Site",
            "Sec-Fetch-Site 'same-site' is not allowed; expected same-origin",
        ),
    ],
)
def test_cross_site_mark_is_rejected(runtime, headers, field, detail):
    response = _mark(headers)
    problem = response_json(response)
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert problem["title"] == "Cross-site request rejected"
    assert problem["field"] == field
    assert problem["detail"] == detail


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"origin": "http://127.0.0.1:7071", "sec-fetch-site": "same-origin"},
        {"origin": "HTTP://127.0.0.1:7071"},
        {"sec-fetch-site": "none"},
    ],
)
def test_same_origin_mark_passes_the_check(runtime, headers):
    # No report r1 exists, so passing the check shows as the store's 404.
    response = _mark(headers)
    assert response.status_code == 404
    assert response_json(response)["detail"] == "report 'r1' not found"


def test_cross_site_get_is_allowed(runtime):
    request = http_request(
        "GET",
        "api/reports",
        headers={"x-requested-with": "", "sec-fetch-site": "cross-site"},
    )
    response = function_app.list_reports(request)
    assert response.status_code == 200
    assert response_json(response) == {"items": [], "continuation": None}

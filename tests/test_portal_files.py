"""The portal's files are served with their policy; nothing else is."""

from __future__ import annotations

import pytest

import function_app
from portal.handlers import CONTENT_SECURITY_POLICY
from tests.conftest import http_request, response_json


def _get(path: str, role: str | None = "reader", method: str = "GET"):
    request = http_request(method, path, route_params={"path": path}, role=role)
    return function_app.zz_catch_all(request)


@pytest.mark.parametrize(
    ("path", "mimetype", "marker"),
    [
        ("", "text/html", b"<title>User reported"),
        ("campaigns", "text/html", b"<title>Campaigns"),
        ("settings", "text/html", b"<title>Settings"),
        ("reports.js", "text/javascript", b"import {"),
        ("portal.css", "text/css", b":root {"),
    ],
)
def test_portal_serves_file(path, mimetype, marker):
    response = _get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert marker in response.get_body()
    assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_preview_frame_allows_inline_styles_only():
    response = _get("preview-frame.html")
    policy = response.headers["Content-Security-Policy"]
    assert response.status_code == 200
    assert "style-src 'unsafe-inline'" in policy
    assert "script-src 'self'" in policy
    assert "sandbox allow-scripts" in policy
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize(
    "path", ["../config.py", "static/index.html", "handlers.py", "nothing.html"]
)
def test_portal_unknown_file_is_404(path):
    response = _get(path)
    assert response.status_code == 404
    assert response.get_body() == b"Not found"


def test_unknown_api_path_is_problem(runtime):
    response = _get("api/no-such-route")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response_json(response)["detail"] == "no route matches /api/no-such-route"


def test_post_to_page_is_problem(runtime):
    response = _get("settings", method="POST")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response_json(response)["detail"] == "no route matches /settings"


def test_who_am_i_returns_role(runtime):
    response = function_app.who_am_i(http_request("GET", "api/me", role="reviewer"))
    assert response.status_code == 200
    assert response_json(response) == {"name": "alex@example.com", "role": "reviewer"}


def test_who_am_i_anonymous_is_401(runtime):
    response = function_app.who_am_i(http_request("GET", "api/me", role=None))
    assert response.status_code == 401
    assert response_json(response)["title"] == "Unauthorized"

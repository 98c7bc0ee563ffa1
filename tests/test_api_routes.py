"""Every HTTP route: roles, the OpenAPI document, unknown routes and wrong methods.

To add a route to the role matrix, add a row to ROUTES: the function_app function,
a request that reaches the role check, and the least role that may call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from openapi_spec_validator import validate

import function_app
from devhost.app import http_routes
from tests.conftest import http_request, response_json
from tests.review_helpers import call
from verdicts import openapi

ROLES = ("reader", "reviewer", "settings_admin")


@dataclass(frozen=True)
class RouteCase:
    function: str
    method: str
    path: str
    least_role: str
    route_params: dict[str, str] = field(default_factory=dict)
    body: Any = None


ROUTES = [
    RouteCase("list_reports", "GET", "api/reports", "reader"),
    RouteCase("submit_report", "POST", "api/reports", "reviewer", body={}),
    RouteCase("get_report", "GET", "api/reports/r1", "reader", {"id": "r1"}),
    RouteCase("get_report_mime", "GET", "api/reports/r1/mime", "reader", {"id": "r1"}),
    RouteCase(
        "mark_verdict",
        "POST",
        "api/reports/r1/verdict",
        "reviewer",
        {"id": "r1"},
        {"verdict": "phishing"},
    ),
    RouteCase(
        "get_report_audit", "GET", "api/reports/r1/audit", "reader", {"id": "r1"}
    ),
    RouteCase(
        "mark_many",
        "POST",
        "api/verdicts",
        "reviewer",
        body={"ids": ["r1"], "verdict": "spam"},
    ),
    RouteCase("get_campaign", "GET", "api/campaigns/c1", "reader", {"key": "c1"}),
    RouteCase(
        "mark_campaign",
        "POST",
        "api/campaigns/c1/verdict",
        "reviewer",
        {"key": "c1"},
        {"verdict": "spam"},
    ),
    RouteCase(
        "submit_to_microsoft",
        "POST",
        "api/reports/r1/submission",
        "reviewer",
        {"id": "r1"},
        {},
    ),
    RouteCase(
        "get_submission", "GET", "api/reports/r1/submission", "reader", {"id": "r1"}
    ),
    RouteCase(
        "submit_many_to_microsoft",
        "POST",
        "api/threat-submissions",
        "reviewer",
        body={"ids": ["r1"]},
    ),
    RouteCase("list_audit", "GET", "api/audit", "reader"),
    RouteCase("get_stats", "GET", "api/stats", "reader"),
    RouteCase("get_openapi", "GET", "api/openapi.json", "reader"),
    RouteCase("list_deliveries", "GET", "api/deliveries", "reader"),
    RouteCase(
        "retry_notification",
        "POST",
        "api/reports/r1/notification/retry",
        "reviewer",
        {"id": "r1"},
    ),
    RouteCase(
        "get_notification_settings", "GET", "api/settings/notifications", "reader"
    ),
    RouteCase(
        "put_notification_settings",
        "PUT",
        "api/settings/notifications",
        "settings_admin",
        body={},
    ),
    RouteCase("put_logo", "PUT", "api/settings/logo", "settings_admin", body=b""),
    RouteCase(
        "preview_notification",
        "POST",
        "api/settings/notifications/preview",
        "reader",
        body={},
    ),
    RouteCase(
        "send_test_notification",
        "POST",
        "api/settings/notifications/test",
        "settings_admin",
        body={},
    ),
    RouteCase("get_health", "GET", "api/health", "reader"),
    RouteCase("who_am_i", "GET", "api/me", "reader"),
    # The catch-all: under api/, any signed-in caller gets 404 or 405, anonymous
    # ones 401.
    RouteCase("zz_catch_all", "GET", "api/nothing", "reader", {"path": "api/nothing"}),
]
CATCH_ALL = "zz_catch_all"


def _matrix() -> list[tuple[RouteCase, str | None]]:
    return [(case, role) for case in ROUTES for role in (None, *ROLES)]


@pytest.mark.parametrize(
    ("case", "role"),
    _matrix(),
    ids=[f"{case.function}-{role or 'anonymous'}" for case, role in _matrix()],
)
def test_role_matrix(runtime, case, role):
    request = http_request(
        case.method,
        case.path,
        route_params=case.route_params,
        body=case.body,
        role=role,
    )
    response = call(case.function, request)
    if role is None:
        expected = 401
    elif ROLES.index(role) < ROLES.index(case.least_role):
        expected = 403
    else:
        expected = None
    if expected is None:
        assert response.status_code not in (401, 403), response.get_body()
        return
    assert response.status_code == expected
    assert response.mimetype == "application/problem+json"
    if expected == 403:
        assert response_json(response)["detail"] == (
            f"this action needs the role {case.least_role}; you have {role}"
        )


def test_role_matrix_covers_every_route():
    registered = {route.function_name for route in http_routes(function_app.app)}
    assert registered == {case.function for case in ROUTES}


def test_catch_all_name_sorts_after_every_function():
    # The Functions host matches routes in the alphabetical order of function names.
    names = sorted(route.function_name for route in http_routes(function_app.app))
    assert names[-1] == CATCH_ALL


def _registered() -> set[tuple[str, str]]:
    pairs = set()
    for route in http_routes(function_app.app):
        if route.function_name == CATCH_ALL:
            continue
        for method in route.methods:
            pairs.add((method.lower(), "/" + route.template.strip("/")))
    return pairs


def _documented() -> set[tuple[str, str]]:
    return {
        (method, path)
        for path, entry in openapi.document()["paths"].items()
        for method in entry
    }


def test_openapi_document_is_valid():
    validate(openapi.document())


def test_openapi_documents_exactly_the_registered_routes():
    assert _documented() == _registered()


def test_openapi_roles_match_the_role_matrix():
    documented = {
        operation["operationId"]: operation["x-required-role"]
        for entry in openapi.document()["paths"].values()
        for operation in entry.values()
    }
    expected = {c.function: c.least_role for c in ROUTES if c.function != CATCH_ALL}
    assert documented == expected


def test_openapi_route_serves_the_document(runtime):
    response = call(
        "get_openapi", http_request("GET", "api/openapi.json", role="reader")
    )
    assert response.status_code == 200
    assert response_json(response) == openapi.document()


@pytest.mark.parametrize(
    ("method", "path", "status", "detail", "allow"),
    [
        ("GET", "api/no/such/route", 404, "no route matches /api/no/such/route", None),
        (
            "DELETE",
            "api/reports",
            405,
            "DELETE is not allowed on /api/reports; allowed: GET, POST",
            "GET, POST",
        ),
        (
            "GET",
            "api/reports/r1/verdict",
            405,
            "GET is not allowed on /api/reports/r1/verdict; allowed: POST",
            "POST",
        ),
        (
            "PUT",
            "api/verdicts",
            405,
            "PUT is not allowed on /api/verdicts; allowed: POST",
            "POST",
        ),
    ],
)
def test_unknown_route_and_wrong_method(runtime, method, path, status, detail, allow):
    request = http_request(method, path, route_params={"path": path}, role="reader")
    response = call(CATCH_ALL, request)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response_json(response)["detail"] == detail
    assert response.headers.get("Allow") == allow


def test_wrong_method_needs_no_cross_site_header(runtime):
    request = http_request(
        "POST",
        "api/stats",
        route_params={"path": "api/stats"},
        headers={"x-requested-with": ""},
    )
    response = call(CATCH_ALL, request)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"


def _could_match_same_path(first: str, second: str) -> bool:
    left, right = first.strip("/").split("/"), second.strip("/").split("/")
    if len(left) != len(right):
        return False
    return all(
        a.startswith("{") or b.startswith("{") or a.lower() == b.lower()
        for a, b in zip(left, right, strict=True)
    )


def test_no_two_routes_compete_for_a_request():
    # The dev host prefers literal segments, while the Functions host tries routes
    # in function-name order, so routes that could both take one request would be
    # served differently in the two.
    routes = [r for r in http_routes(function_app.app) if r.function_name != CATCH_ALL]
    competing = [
        (a.function_name, b.function_name)
        for index, a in enumerate(routes)
        for b in routes[index + 1 :]
        if a.methods & b.methods and _could_match_same_path(a.template, b.template)
    ]
    assert competing == []


def test_health_reports_storage_and_mailbox(runtime):
    response = function_app.get_health(http_request("GET", "api/health", role="reader"))
    assert response.status_code == 200
    assert response_json(response) == {
        "status": "ok",
        "storage": "ok",
        "mailbox": "folder",
    }

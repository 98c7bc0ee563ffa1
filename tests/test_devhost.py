"""The dev host serves the app's real HTTP functions over loopback."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pytest

from devhost.routes import Route, find_route


def _route(template: str, *methods: str) -> Route:
    return Route(template, frozenset(methods), template)


ROUTES = [
    _route("api/reports", "GET"),
    _route("api/reports/{id}", "GET"),
    _route("api/reports/{id}/verdict", "POST"),
    _route("api/reports/stats", "GET"),
]


@pytest.mark.parametrize(
    ("method", "path", "template", "params"),
    [
        ("GET", "/api/reports", "api/reports", {}),
        ("GET", "/api/reports/abc", "api/reports/{id}", {"id": "abc"}),
        ("POST", "/api/reports/abc/verdict", "api/reports/{id}/verdict", {"id": "abc"}),
        ("GET", "/api/reports/stats", "api/reports/stats", {}),
        ("GET", "/api/reports/a%2Fb", "api/reports/{id}", {"id": "a/b"}),
    ],
)
def test_find_route_prefers_literal_segments(method, path, template, params):
    route, found, matched = find_route(ROUTES, method, path)
    assert route is not None
    assert route.template == template
    assert found == params
    assert matched is True


def test_find_route_tells_wrong_method_from_unknown_path():
    assert find_route(ROUTES, "DELETE", "/api/reports/abc") == (None, {}, True)
    assert find_route(ROUTES, "GET", "/api/nothing/here") == (None, {}, False)


@pytest.fixture
def devhost(runtime, monkeypatch):
    from devhost.app import DevHost

    monkeypatch.setenv("REPORTBACK_LOCAL_ROLE", "reader")
    from runtime import reset_runtime

    reset_runtime()
    host = DevHost(port=0, seed=False)
    host.start()
    yield f"http://127.0.0.1:{host.port}"
    host.stop()


def _call(url: str, *, method: str = "GET", body: bytes | None = None, headers=None):
    request = urllib.request.Request(
        url, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_devhost_serves_reports_with_local_role(devhost):
    status, headers, body = _call(f"{devhost}/api/reports")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["items"] == []


def test_devhost_ignores_client_sent_principal(devhost):
    forged = base64.b64encode(
        json.dumps(
            {"claims": [{"typ": "roles", "val": "settings_admin"}], "role_typ": "roles"}
        ).encode()
    ).decode()
    status, headers, body = _call(
        f"{devhost}/api/reports/abc/verdict",
        method="POST",
        body=b'{"verdict": "phishing"}',
        headers={
            "Content-Type": "application/json",
            "X-Requested-With": "XMLHttpRequest",
            "X-MS-CLIENT-PRINCIPAL": forged,
        },
    )
    # The local role is reader, so the forged settings_admin principal must not count.
    assert status == 403
    assert headers["Content-Type"].startswith("application/problem+json")
    assert json.loads(body)["detail"] == (
        "this action needs the role reviewer; you have reader"
    )


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/no-such-route", 404), ("DELETE", "/api/reports", 405)],
)
def test_devhost_unknown_route_and_method_are_problems(devhost, method, path, status):
    code, headers, body = _call(f"{devhost}{path}", method=method)
    assert code == status
    assert headers["Content-Type"].startswith("application/problem+json")
    assert json.loads(body)["status"] == status


def _raw_request(base_url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` bytes as they are and return status, headers and body."""
    import socket

    port = int(base_url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    return status, headers, body


@pytest.mark.parametrize(
    ("request_bytes", "status", "title"),
    [
        (
            b"POST /api/verdicts HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
            400,
            "Invalid Content-Length",
        ),
        (
            b"POST /api/verdicts HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked"
            b"\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            411,
            "Length required",
        ),
        (
            b"POST /api/verdicts HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{}",
            400,
            "Incomplete body",
        ),
        (
            b"GET /api/reports HTTP/1.1\r\nHost: x\r\nX-Big: "
            + b"a" * 70000
            + b"\r\n\r\n",
            431,
            "Line too long",
        ),
    ],
)
def test_devhost_broken_http_gets_problem(devhost, request_bytes, status, title):
    code, headers, body = _raw_request(devhost, request_bytes)
    assert code == status
    assert headers["content-type"].startswith("application/problem+json")
    assert json.loads(body)["title"] == title

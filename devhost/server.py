"""The dev host's HTTP server for the app's HTTP routes.

``host.json`` sets an empty route prefix so that the app can serve its portal at
``/``; API routes spell out their ``api/`` prefix.
"""

from __future__ import annotations

import json
import logging
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import azure.functions as func

from devhost.routes import Route, find_route
from verdicts.http import encode_principal

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024


def _problem(status: int, title: str, detail: str) -> func.HttpResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return func.HttpResponse(
        json.dumps(body), status_code=status, mimetype="application/problem+json"
    )


class FunctionsHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, *, routes, functions, local_role: str) -> None:
        super().__init__(address, _Handler)
        self.routes: list[Route] = routes
        self.functions = functions
        self.local_role = local_role

    def dispatch(self, request: func.HttpRequest, path: str) -> func.HttpResponse:
        route, params, path_matched = find_route(self.routes, request.method, path)
        if route is None:
            if path_matched:
                return _problem(
                    405,
                    "Method not allowed",
                    f"{request.method} is not allowed on {path}",
                )
            return _problem(404, "Not found", f"no route matches {path}")
        request = func.HttpRequest(
            method=request.method,
            url=request.url,
            headers=dict(request.headers),
            params=dict(request.params),
            route_params=params,
            body=request.get_body(),
        )
        return self.functions[route.function_name](request)


class _Handler(BaseHTTPRequestHandler):
    server: FunctionsHttpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - base signature
        logger.debug("%s " + format, self.address_string(), *args)

    def _read_body(self) -> bytes | None:
        """Return the request body, or send a problem and return None."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self._send(
                _problem(
                    411,
                    "Length required",
                    "chunked request bodies are not supported; send Content-Length",
                )
            )
            return None
        declared = self.headers.get("Content-Length") or "0"
        if not declared.isdigit():
            self._send(
                _problem(
                    400,
                    "Invalid Content-Length",
                    f"Content-Length {declared[:40]!r} is invalid; expected a "
                    "non-negative integer",
                )
            )
            return None
        length = int(declared)
        if length > MAX_BODY_BYTES:
            self._send(
                _problem(
                    413,
                    "Payload too large",
                    f"request body is {length} bytes; the limit is {MAX_BODY_BYTES}",
                )
            )
            return None
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            logger.warning("request body ended after %s of %s bytes", len(body), length)
            self._send(
                _problem(
                    400,
                    "Incomplete body",
                    f"request body ended after {len(body)} of {length} bytes",
                )
            )
            return None
        return body

    def send_error(self, code: int, message: str | None = None, explain=None) -> None:
        # The base class sends an HTML page for parse errors (such as 431, header
        # too large), but every API error must be problem+json.
        self.close_connection = True
        self._send(_problem(code, message or "Bad request", explain or message or ""))

    def _handle(self) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        if body is None:
            self.close_connection = True
            return
        # The dev host replaces App Service authentication, so a client-sent
        # principal is never trusted and every request gets the local role.
        headers = {
            k.lower(): v
            for k, v in self.headers.items()
            if not k.lower().startswith("x-ms-client-principal")
        }
        headers["x-ms-client-principal"] = encode_principal(
            "local-user", self.server.local_role
        )
        request = func.HttpRequest(
            method=self.command,
            url=f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}",
            headers=headers,
            params=dict(parse_qsl(url.query)),
            body=body,
        )
        path = url.path
        try:
            response = self.server.dispatch(request, path)
        except Exception:  # noqa: BLE001 - the one top-level catch of a request
            logger.exception("unhandled error in %s %s", self.command, url.path)
            response = _problem(
                500,
                "Internal server error",
                "the function raised an error; see the dev host log",
            )
        self._send(response)

    def _send(self, response: func.HttpResponse) -> None:
        body = response.get_body() or b""
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in ("content-length", "content-type"):
                self.send_header(name, value)
        if response.mimetype:
            charset = f"; charset={response.charset}" if response.charset else ""
            self.send_header("Content-Type", response.mimetype + charset)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

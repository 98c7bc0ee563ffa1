"""A stand-in for the parts of Microsoft Graph that Reportback calls, on 127.0.0.1.

It speaks the JSON documented for Graph v1.0 and beta for these calls only:

- ``GET /v1.0/users/{id}/mailFolders/inbox/messages/delta`` with ``$skiptoken`` and
  ``$deltatoken`` links, ``Prefer: odata.maxpagesize`` and 410 for an unknown token
- ``GET /v1.0/users/{id}/messages/{id}/$value`` and ``.../attachments``,
  ``.../attachments/{id}/$value`` for item attachments
- ``POST /v1.0/users/{id}/sendMail``
- ``GET /v1.0/users/{id}/mailboxSettings`` (its ``language``) and
  ``GET /v1.0/organization`` (its ``verifiedDomains``)
- ``POST /beta/security/threatSubmission/emailThreats`` and ``GET .../{id}``

Errors use Graph's ``{"error": {"code", "message"}}`` body. Tests script failures with
``fail_next`` and read every request from ``requests``. Run it by hand for ``make run``::

    python -m tests.fakegraph --port 8089

then start the app with ``REPORTBACK_REPORTING_MAILBOX`` set and
``REPORTBACK_GRAPH_BASE_URL=http://127.0.0.1:8089/v1.0``.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

DEFAULT_PAGE_SIZE = 10
DEFAULT_MAILBOXES = ("phishing-reports@example.com", "reportback@example.com")


def graph_id() -> str:
    """Return an id shaped like Graph's: base64 text, so it may contain ``/ + =``."""
    return "AAMkAG" + base64.b64encode(secrets.token_bytes(33)).decode()


@dataclass
class StoredMessage:
    id: str
    seq: int
    mime: bytes
    received: datetime
    item_attachments: list[tuple[str, str, bytes]] = field(default_factory=list)

    def header(self, name: str) -> str:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(self.mime)
        return str(headers.get(name) or "")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    operation: str
    path_parts: list[str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ScriptedFailure:
    status: int
    code: str
    message: str
    headers: dict[str, str]
    delay_seconds: float
    remaining: int


@dataclass
class Mailbox:
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    removed: list[tuple[int, str]] = field(default_factory=list)


class FakeGraph:
    """Graph's state for a few mailboxes, served on ``base_url``."""

    def __init__(
        self,
        *,
        mailboxes: Iterable[str] = DEFAULT_MAILBOXES,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.mailboxes = {address.lower(): Mailbox() for address in mailboxes}
        self.requests: list[RecordedRequest] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.submissions: dict[str, dict[str, Any]] = {}
        # Requests for mailboxes outside the app's Exchange RBAC scope get 403.
        self.out_of_scope: set[str] = set()
        self.send_as_denied: set[str] = set()
        self.rejected_tokens: set[str] = set()
        # mailboxSettings language per mailbox address; "en-US" when not set.
        self.mailbox_locales: dict[str, str] = {}
        self.verified_domains: list[str] = ["example.com"]
        # Called with (sender, body) after each accepted sendMail; the CLI prints it.
        self.on_send: Callable[[str, dict[str, Any]], None] | None = None
        self._failures: dict[tuple[str, str], list[ScriptedFailure]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}
        self._seq = 0
        # Where the links in delta responses point; tests set another host to check
        # that the client rejects them.
        self.root_url_override: str | None = None
        self._lock = threading.RLock()
        self._server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    # -- life cycle --------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def root_url(self) -> str:
        return self.root_url_override or f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1.0"

    def start(self) -> FakeGraph:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fakegraph",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeGraph:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- state that tests set up -------------------------------------------------

    def add_mailbox(self, address: str) -> None:
        with self._lock:
            self.mailboxes.setdefault(address.lower(), Mailbox())

    def add_message(
        self,
        mailbox: str,
        mime: bytes,
        *,
        item_attachments: Iterable[tuple[str, bytes]] = (),
        message_id: str | None = None,
    ) -> str:
        """Deliver ``mime`` to the inbox of ``mailbox``; return the message id.

        ``item_attachments`` are (name, MIME) pairs that Graph would show as
        ``itemAttachment`` objects beside the message.
        """
        with self._lock:
            self._seq += 1
            message = StoredMessage(
                id=message_id or graph_id(),
                seq=self._seq,
                mime=mime,
                received=datetime.now(timezone.utc),
                item_attachments=[
                    (graph_id(), name, data) for name, data in item_attachments
                ],
            )
            self.mailboxes[mailbox.lower()].messages[message.id] = message
            return message.id

    def remove_message(self, mailbox: str, message_id: str) -> None:
        with self._lock:
            box = self.mailboxes[mailbox.lower()]
            del box.messages[message_id]
            self._seq += 1
            box.removed.append((self._seq, message_id))

    def expire_delta_tokens(self) -> None:
        """Forget every delta and skip token, as Graph does when a sync state expires."""
        with self._lock:
            self._tokens.clear()

    def fail_next(
        self,
        method: str,
        operation: str,
        status: int,
        *,
        code: str = "",
        message: str = "",
        headers: dict[str, str] | None = None,
        delay_seconds: float = 0.0,
        count: int = 1,
    ) -> None:
        """Fail the next ``count`` calls of ``operation`` with an error response.

        ``operation`` is one of: delta, message_value, attachments, attachment_value,
        send_mail, mailbox_settings, organization, submit_threat, get_threat. With
        ``delay_seconds`` the response comes that late, to test client time-outs.
        """
        failure = ScriptedFailure(
            status=status,
            code=code or _DEFAULT_CODES.get(status, "UnknownError"),
            message=message or f"scripted failure {status}",
            headers=dict(headers or {}),
            delay_seconds=delay_seconds,
            remaining=count,
        )
        with self._lock:
            self._failures.setdefault((method.upper(), operation), []).append(failure)

    def requests_for(self, operation: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.operation == operation]

    # -- request handling ----------------------------------------------------------

    def _take_failure(self, method: str, operation: str) -> ScriptedFailure | None:
        with self._lock:
            queue = self._failures.get((method, operation)) or []
            if not queue:
                return None
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
            return failure

    def handle(self, request: RecordedRequest) -> Response:
        with self._lock:
            self.requests.append(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token and token in self.rejected_tokens:
            return _error(
                401, "InvalidAuthenticationToken", "Access token has expired."
            )
        failure = self._take_failure(request.method, request.operation)
        if failure is not None:
            time.sleep(failure.delay_seconds)
            return _error(
                failure.status, failure.code, failure.message, failure.headers
            )
        handler = getattr(self, f"_{request.operation}", None)
        if handler is None:
            return _error(400, "BadRequest", f"unsupported request {request.path}")
        with self._lock:
            return handler(request)

    def _mailbox(self, address: str) -> Mailbox | Response:
        address = address.lower()
        if address in self.out_of_scope:
            return _error(
                403,
                "ErrorAccessDenied",
                "Access is denied. Check credentials and try again.",
            )
        box = self.mailboxes.get(address)
        if box is None:
            return _error(
                404,
                "ErrorInvalidUser",
                f"The requested user '{address}' is invalid.",
            )
        return box

    def _delta(self, request: RecordedRequest) -> Response:
        user = request.path_parts[2]
        box = self._mailbox(user)
        if isinstance(box, Response):
            return box
        skip = request.query.get("$skiptoken", [None])[0]
        delta = request.query.get("$deltatoken", [None])[0]
        if skip is not None or delta is not None:
            state = self._tokens.get(skip or delta)
            if state is None:
                return _error(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation is not found.",
                )
            if delta is not None:
                state = self._changes_since(box, state["after"])
        else:
            state = self._changes_since(box, 0)
        page_size = _page_size(request.headers.get("prefer", ""))
        pending = state["pending"]
        page, rest = pending[:page_size], pending[page_size:]
        link_base = f"{self.root_url}/v1.0/users/{quote(user)}/mailFolders/inbox"
        body: dict[str, Any] = {"value": [self._delta_item(box, i) for i in page]}
        token = secrets.token_urlsafe(24)
        if rest:
            self._tokens[token] = {"pending": rest, "after": state["after"]}
            body["@odata.nextLink"] = f"{link_base}/messages/delta?$skiptoken={token}"
        else:
            self._tokens[token] = {"after": state["after"]}
            body["@odata.deltaLink"] = f"{link_base}/messages/delta?$deltatoken={token}"
        return Response.json(200, body)

    def _changes_since(self, box: Mailbox, after: int) -> dict[str, Any]:
        new = [m for m in box.messages.values() if m.seq > after]
        removed = [("removed", mid) for seq, mid in box.removed if seq > after]
        pending = [("message", m.id) for m in sorted(new, key=lambda m: m.seq)]
        if after:
            pending += removed
        return {"pending": pending, "after": self._seq}

    def _delta_item(self, box: Mailbox, item: tuple[str, str]) -> dict[str, Any]:
        kind, message_id = item
        if kind == "removed" or message_id not in box.messages:
            return {"id": message_id, "@removed": {"reason": "deleted"}}
        message = box.messages[message_id]
        return {
            "@odata.type": "#microsoft.graph.message",
            "@odata.etag": f'W/"{message.seq}"',
            "id": message.id,
            "receivedDateTime": message.received.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "hasAttachments": bool(message.item_attachments)
            or b"message/rfc822" in message.mime,
            "internetMessageId": message.header("Message-ID"),
        }

    def _find_message(self, request: RecordedRequest) -> StoredMessage | Response:
        box = self._mailbox(request.path_parts[2])
        if isinstance(box, Response):
            return box
        message = box.messages.get(request.path_parts[4])
        if message is None:
            return _error(
                404,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            )
        return message

    def _message_value(self, request: RecordedRequest) -> Response:
        message = self._find_message(request)
        if isinstance(message, Response):
            return message
        return Response(200, {"Content-Type": "text/plain"}, message.mime)

    def _attachments(self, request: RecordedRequest) -> Response:
        message = self._find_message(request)
        if isinstance(message, Response):
            return message
        value = [
            {
                "@odata.type": "#microsoft.graph.itemAttachment",
                "id": attachment_id,
                "name": name,
                "contentType": "message/rfc822",
                "size": len(data),
                "isInline": False,
            }
            for attachment_id, name, data in message.item_attachments
        ]
        return Response.json(200, {"value": value})

    def _attachment_value(self, request: RecordedRequest) -> Response:
        message = self._find_message(request)
        if isinstance(message, Response):
            return message
        for attachment_id, _name, data in message.item_attachments:
            if attachment_id == request.path_parts[6]:
                return Response(200, {"Content-Type": "text/plain"}, data)
        return _error(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )

    def _send_mail(self, request: RecordedRequest) -> Response:
        sender = request.path_parts[2].lower()
        box = self._mailbox(sender)
        if isinstance(box, Response):
            return box
        if sender in self.send_as_denied:
            return _error(
                403,
                "ErrorSendAsDenied",
                "The user account which was used to submit this request does not "
                "have the right to send mail on behalf of the specified sending "
                "account.",
            )
        try:
            body = request.json()
        except ValueError:
            return _error(400, "BadRequest", "Unable to read JSON request payload.")
        # Graph matches property names without regard to case; the SDK sends
        # "Message" and "SaveToSentItems".
        lowered = {key.lower(): value for key, value in body.items()}
        if not isinstance(lowered.get("message"), dict):
            return _error(400, "ErrorInvalidParameter", "message is missing")
        self.sent.append((sender, body))
        if self.on_send is not None:
            self.on_send(sender, body)
        return Response(202, {}, b"")

    def _mailbox_settings(self, request: RecordedRequest) -> Response:
        address = request.path_parts[2].lower()
        box = self._mailbox(address)
        if isinstance(box, Response):
            return box
        locale = self.mailbox_locales.get(address, "en-US")
        return Response.json(
            200,
            {
                "timeZone": "UTC",
                "language": {"locale": locale, "displayName": locale},
            },
        )

    def _organization(self, request: RecordedRequest) -> Response:
        domains = [
            {
                "name": name,
                "isDefault": index == 0,
                "isInitial": False,
                "type": "Managed",
                "capabilities": "Email, OfficeCommunicationsOnline",
            }
            for index, name in enumerate(self.verified_domains)
        ]
        organization = {"id": "84b2ae1e-0000-4000-8000-000000000001"}
        organization["verifiedDomains"] = domains
        return Response.json(200, {"value": [organization]})

    def _submit_threat(self, request: RecordedRequest) -> Response:
        try:
            body = request.json()
        except ValueError:
            return _error(400, "BadRequest", "Unable to read JSON request payload.")
        submission_id = str(uuid.uuid4())
        created = {
            **body,
            "id": submission_id,
            "createdDateTime": datetime.now(timezone.utc).isoformat(),
            "status": "notStarted",
            "source": "administrator",
            "contentType": "email",
            "result": None,
        }
        self.submissions[submission_id] = created
        return Response.json(201, created)

    def _get_threat(self, request: RecordedRequest) -> Response:
        submission = self.submissions.get(request.path_parts[4])
        if submission is None:
            return _error(404, "NotFound", "The submission was not found.")
        return Response.json(200, submission)

    def complete_submission(
        self,
        submission_id: str,
        *,
        category: str,
        detail: str = "allowedByTenant",
    ) -> None:
        """Give a submission Microsoft's result, as the analysis does hours later."""
        with self._lock:
            self.submissions[submission_id]["status"] = "succeeded"
            self.submissions[submission_id]["result"] = {
                "detail": detail,
                "category": category,
                "userMailboxSetting": None,
                "detectedUrls": [],
                "detectedFiles": [],
            }


_DEFAULT_CODES = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "ErrorAccessDenied",
    404: "ErrorItemNotFound",
    410: "SyncStateNotFound",
    413: "RequestEntityTooLarge",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}


def _page_size(prefer: str) -> int:
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "odata.maxpagesize" and value.strip().isdigit():
            return max(1, int(value))
    return DEFAULT_PAGE_SIZE


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def json(cls, status: int, data: Any) -> Response:
        return cls(
            status, {"Content-Type": "application/json"}, json.dumps(data).encode()
        )


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    response = Response.json(status, {"error": {"code": code, "message": message}})
    response.headers.update(headers or {})
    return response


def operation_for(method: str, parts: list[str]) -> str:
    """Name the Graph call that ``parts`` (the decoded path segments) addresses."""
    shape = [p if p in _LITERALS else "*" for p in parts]
    return _OPERATIONS.get((method, tuple(shape)), "unknown")


_OPERATIONS = {
    (
        "GET",
        ("v1.0", "users", "*", "mailFolders", "inbox", "messages", "delta()"),
    ): "delta",
    (
        "GET",
        ("v1.0", "users", "*", "mailFolders", "inbox", "messages", "delta"),
    ): "delta",
    ("GET", ("v1.0", "users", "*", "messages", "*", "$value")): "message_value",
    ("GET", ("v1.0", "users", "*", "messages", "*", "attachments")): "attachments",
    (
        "GET",
        ("v1.0", "users", "*", "messages", "*", "attachments", "*", "$value"),
    ): "attachment_value",
    ("POST", ("v1.0", "users", "*", "sendMail")): "send_mail",
    ("GET", ("v1.0", "users", "*", "mailboxSettings")): "mailbox_settings",
    ("GET", ("v1.0", "organization")): "organization",
    ("POST", ("beta", "security", "threatSubmission", "emailThreats")): "submit_threat",
    (
        "GET",
        ("beta", "security", "threatSubmission", "emailThreats", "*"),
    ): "get_threat",
}
_LITERALS = {
    part for _method, shape in _OPERATIONS for part in shape if part != "*"
} - {"*"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], graph: FakeGraph) -> None:
        super().__init__(address, _Handler)
        self.graph = graph


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self) -> None:
        url = urlsplit(self.path)
        # Split before decoding: a Graph id may contain an encoded "/".
        parts = [unquote(p) for p in url.path.split("/") if p]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = RecordedRequest(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            operation=operation_for(self.command, parts),
            path_parts=parts,
        )
        if request.operation == "unknown":
            response = _error(400, "BadRequest", f"unsupported request {url.path}")
        else:
            response = self.server.graph.handle(request)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    do_GET = do_POST = _handle


def _load_messages(graph: FakeGraph, mailbox: str, folder: Path) -> int:
    """Deliver each .eml file to ``mailbox``; its reporter gets a mailbox too.

    Reporters are users of the organization, so lookups such as mailboxSettings
    find them, as they would in Exchange Online.
    """
    paths = sorted(folder.glob("*.eml"))
    for path in paths:
        data = path.read_bytes()
        graph.add_message(mailbox, data)
        headers = BytesHeaderParser(policy=default_policy).parsebytes(data)
        reporter = parseaddr(str(headers.get("From") or ""))[1]
        if reporter:
            graph.add_mailbox(reporter)
    return len(paths)


def _print_sent(sender: str, body: dict[str, Any]) -> None:
    lowered = {key.lower(): value for key, value in body.items()}
    message = {key.lower(): value for key, value in lowered["message"].items()}
    recipients = len(message.get("torecipients") or [])
    print(
        f"sendMail as {sender}: {message.get('subject')!r} to {recipients} recipient(s)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakegraph",
        description="Serve a local stand-in for Microsoft Graph until Ctrl-C.",
    )
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: any free)")
    parser.add_argument(
        "--mailbox",
        action="append",
        help="mailbox address that exists (repeatable); the first one is the "
        f"reporting mailbox. Default: {', '.join(DEFAULT_MAILBOXES)}",
    )
    parser.add_argument(
        "--seed",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "devhost" / "seed",
        help="folder whose .eml files are delivered to the reporting mailbox",
    )
    args = parser.parse_args(argv)
    mailboxes = args.mailbox or list(DEFAULT_MAILBOXES)
    graph = FakeGraph(mailboxes=mailboxes, port=args.port)
    count = _load_messages(graph, mailboxes[0], args.seed) if args.seed else 0
    graph.on_send = _print_sent
    graph.start()
    print(f"Fake Graph: {graph.base_url}", flush=True)
    print(f"{count} messages in the inbox of {mailboxes[0]}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    graph.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

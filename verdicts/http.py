"""HTTP plumbing for the API: JSON bodies, problem+json errors and roles.

Errors follow RFC 9457 (``application/problem+json``).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func

MAX_BODY_BYTES = 1024 * 1024
PROBLEM_TYPE = "about:blank"

# Methods that change state, and the header they must carry (any non-empty value).
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REQUEST_HEADER = "X-Requested-With"
# Sec-Fetch-Site values accepted from a browser. "none" means the user started the
# request, as with a bookmark. Same-site and cross-site requests are rejected.
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


class Role(IntEnum):
    """API roles; each includes the rights of the ones below it."""

    READER = 1
    REVIEWER = 2
    SETTINGS_ADMIN = 3


ROLE_NAMES = {
    "reader": Role.READER,
    "reviewer": Role.REVIEWER,
    "settings_admin": Role.SETTINGS_ADMIN,
}


class HttpProblem(Exception):
    """An error that becomes a problem+json response."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field
        self.headers = dict(headers or {})
        self.extra = extra


def problem_response(problem: HttpProblem) -> func.HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
    }
    if problem.field:
        body["field"] = problem.field
    body.update(problem.extra)
    return func.HttpResponse(
        json.dumps(body),
        status_code=problem.status,
        mimetype="application/problem+json",
        headers=problem.headers,
    )


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps(data, ensure_ascii=False, default=str),
        status_code=status,
        mimetype="application/json",
        headers=dict(headers or {}),
    )


class DuplicateKeyError(ValueError):
    """A JSON object names the same member twice."""


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8259 leaves duplicate names undefined; taking either one would let a
    # client and a proxy read different verdicts from the same body.
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise DuplicateKeyError(f"member {key!r} appears more than once")
        data[key] = value
    return data


def read_json_object(req: func.HttpRequest) -> dict[str, Any]:
    """Return the request body as a JSON object, or raise a 400/413/415 problem."""
    body = req.get_body() or b""
    if len(body) > MAX_BODY_BYTES:
        raise HttpProblem(
            413,
            "Payload too large",
            f"request body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}",
        )
    content_type = (req.headers.get("content-type") or "application/json").lower()
    if "json" not in content_type:
        raise HttpProblem(
            415,
            "Unsupported media type",
            f"content type {content_type!r} is not supported; send application/json",
        )
    try:
        data = json.loads(body or b"null", object_pairs_hook=_reject_duplicate_keys)
    except (ValueError, UnicodeDecodeError) as error:
        raise HttpProblem(
            400, "Malformed JSON", f"request body is not valid JSON: {error}"
        ) from None
    except RecursionError:
        raise HttpProblem(
            400, "Malformed JSON", "request body nests arrays or objects too deeply"
        ) from None
    if not isinstance(data, dict):
        raise HttpProblem(400, "Invalid body", "request body must be a JSON object")
    return data


def check_query_names(req: func.HttpRequest, allowed: Iterable[str]) -> None:
    """Raise a 400 problem naming the first query parameter not in ``allowed``."""
    known = set(allowed)
    for name in req.params:
        if name not in known:
            expected = ", ".join(sorted(known)) or "none"
            raise HttpProblem(
                400,
                "Unknown query parameter",
                f"query parameter {name!r} is not supported; expected: {expected}",
                field=name,
            )


def query_choice(
    req: func.HttpRequest, name: str, choices: Iterable[str]
) -> str | None:
    """Return query parameter ``name`` if it is one of ``choices``, None if absent."""
    value = req.params.get(name)
    if value is None:
        return None
    allowed = list(choices)
    if value not in allowed:
        raise HttpProblem(
            400,
            "Invalid query parameter",
            f"{name} {value!r} is invalid; expected one of: {', '.join(allowed)}",
            field=name,
        )
    return value


def query_int(
    req: func.HttpRequest, name: str, *, default: int, minimum: int, maximum: int
) -> int:
    value = req.params.get(name)
    if value is None:
        return default
    if not (value.isascii() and value.isdigit()) or not (
        minimum <= int(value) <= maximum
    ):
        raise HttpProblem(
            400,
            "Invalid query parameter",
            f"{name} {value!r} is invalid; expected an integer from {minimum} "
            f"to {maximum}",
            field=name,
        )
    return int(value)


def query_datetime(req: func.HttpRequest, name: str) -> datetime | None:
    """Return query parameter ``name`` as an aware UTC datetime (RFC 3339)."""
    value = req.params.get(name)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise HttpProblem(
            400,
            "Invalid query parameter",
            f"{name} {value!r} is invalid; expected an RFC 3339 date-time with a "
            "time zone, such as 2026-01-31T09:00:00Z",
            field=name,
        )
    return parsed.astimezone(timezone.utc)


@dataclass(frozen=True)
class Principal:
    """The caller, as App Service authentication (or the dev host) describes it."""

    name: str
    role: Role | None


def _auth_trusted() -> bool:
    # App Service authentication removes client-sent X-MS-CLIENT-PRINCIPAL headers and
    # sets its own; the platform sets WEBSITE_AUTH_ENABLED when it is on. The dev host
    # does the same for local runs. Without it the header could be forged.
    return os.environ.get("WEBSITE_AUTH_ENABLED", "").lower() == "true"


def principal_from_request(req: func.HttpRequest) -> Principal | None:
    """Decode ``X-MS-CLIENT-PRINCIPAL``; None when absent, untrusted or invalid."""
    if not _auth_trusted():
        return None
    encoded = req.headers.get("x-ms-client-principal")
    if not encoded:
        return None
    try:
        data = json.loads(base64.b64decode(encoded, validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    role_type = data.get("role_typ") or "roles"
    roles = [
        claim.get("val")
        for claim in data.get("claims") or []
        if isinstance(claim, dict) and claim.get("typ") in (role_type, "roles")
    ]
    granted = [ROLE_NAMES[r] for r in roles if r in ROLE_NAMES]
    return Principal(name=_principal_name(data), role=max(granted, default=None))


def _principal_name(data: dict[str, Any]) -> str:
    name_type = data.get("name_typ") or "name"
    for claim in data.get("claims") or []:
        if isinstance(claim, dict) and claim.get("typ") == name_type:
            return str(claim.get("val"))
    return "unknown"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin(req: func.HttpRequest) -> None:
    """Raise 403 unless a state-changing request comes from this app's own origin.

    A browser sends a custom header to another origin only after a CORS preflight,
    and this app approves none, so requiring REQUEST_HEADER keeps forms and scripts
    of other sites out. Origin and Sec-Fetch-Site, when a browser sends them, must
    name this origin as well. Clients that are not browsers send only the header.
    """
    if req.method.upper() not in UNSAFE_METHODS:
        return
    if not (req.headers.get(REQUEST_HEADER.lower()) or "").strip():
        raise HttpProblem(
            403,
            "Cross-site request rejected",
            f"{req.method.upper()} requests must send the header {REQUEST_HEADER} "
            "(any value, for example XMLHttpRequest)",
            field=REQUEST_HEADER,
        )
    origin = req.headers.get("origin")
    if origin is not None and origin.lower() != _origin_of(req.url):
        raise HttpProblem(
            403,
            "Cross-site request rejected",
            f"Origin {origin!r} does not match this app's origin "
            f"{_origin_of(req.url)!r}",
            field="Origin",
        )
    site = req.headers.get("sec-fetch-site")
    if site is not None and site.lower() not in ALLOWED_FETCH_SITES:
        raise HttpProblem(
            403,
            "Cross-site request rejected",
            f"Sec-Fetch-Site {site!r} is not allowed; expected same-origin",
            field="Sec-Fetch-Site",
        )


def require_role(req: func.HttpRequest, role: Role) -> Principal:
    """Return the caller, or raise 401 when anonymous and 403 when the role is too low.

    State-changing requests must also pass ``check_same_origin`` (403 otherwise).
    """
    check_same_origin(req)
    principal = principal_from_request(req)
    if principal is None:
        raise HttpProblem(
            401,
            "Unauthorized",
            "sign in with a role of reader, reviewer or settings_admin",
        )
    if principal.role is None or principal.role < role:
        held = principal.role.name.lower() if principal.role else "no role"
        raise HttpProblem(
            403,
            "Forbidden",
            f"this action needs the role {role.name.lower()}; you have {held}",
        )
    return principal


def encode_principal(name: str, role: str) -> str:
    """Encode a client principal as App Service authentication sends it."""
    data = {
        "auth_typ": "aad",
        "name_typ": "name",
        "role_typ": "roles",
        "claims": [{"typ": "name", "val": name}, {"typ": "roles", "val": role}],
    }
    return base64.b64encode(json.dumps(data).encode()).decode()

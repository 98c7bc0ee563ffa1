"""Strict reading of request bodies and query strings into typed values.

Every check raises an HttpProblem (400) that names the offending field and states what
was expected. Unknown fields are rejected rather than ignored, so that a misspelled
option never passes silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import azure.functions as func

from verdicts.http import (
    HttpProblem,
    check_query_names,
    query_choice,
    query_datetime,
    query_int,
)
from verdicts.listing import DELIVERY_CHOICES, NO_VALUE, ReportFilter
from verdicts.model import Eligibility, Kind, ParseStatus, ReportedAs, Verdict
from verdicts.paging import TOKEN_FIELD, SortKey, decode_token

MAX_COMMENT_CHARS = 2000
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_QUERY_TEXT_CHARS = 320


def invalid(field: str, detail: str) -> HttpProblem:
    return HttpProblem(400, f"Invalid {field}", detail, field=field)


def check_body_names(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for name in body:
        if name not in allowed:
            raise HttpProblem(
                400,
                "Unknown field",
                f"field {name!r} is not supported; expected: {', '.join(allowed)}",
                field=name,
            )


def require_text(
    body: dict[str, Any], name: str, *, max_chars: int, required: bool = False
) -> str:
    """Return the string field ``name`` stripped, or "" when optional and absent."""
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        kind = "a non-empty string" if required else "a string"
        raise invalid(name, f"{name} must be {kind}")
    if len(value) > max_chars:
        raise invalid(
            name, f"{name} is {len(value)} characters; the limit is {max_chars}"
        )
    if any(ord(c) < 32 and c not in "\t\r\n" for c in value):
        raise invalid(name, f"{name} must not contain control characters")
    return value.strip()


def require_verdict(body: dict[str, Any]) -> Verdict:
    value = body.get("verdict")
    try:
        return Verdict(value)
    except ValueError:
        allowed = ", ".join(v.value for v in Verdict)
        raise invalid(
            "verdict", f"verdict {value!r} is invalid; expected one of: {allowed}"
        ) from None


def require_bool(body: dict[str, Any], name: str, *, default: bool) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise invalid(name, f"{name} must be true or false")
    return value


@dataclass(frozen=True)
class MarkRequest:
    verdict: Verdict
    notify: bool
    comment: str


MARK_FIELDS = ("verdict", "notify", "comment")


def parse_mark(body: dict[str, Any], *, extra: tuple[str, ...] = ()) -> MarkRequest:
    """Read ``{"verdict", "notify", "comment"}`` (plus ``extra`` names, unchecked)."""
    check_body_names(body, MARK_FIELDS + extra)
    return MarkRequest(
        verdict=require_verdict(body),
        notify=require_bool(body, "notify", default=True),
        comment=require_text(body, "comment", max_chars=MAX_COMMENT_CHARS),
    )


def parse_report_ids(body: dict[str, Any], *, max_ids: int) -> list[str]:
    ids = body.get("ids")
    if not isinstance(ids, list) or not ids:
        raise invalid("ids", "ids must be a non-empty array of report ids")
    if len(ids) > max_ids:
        raise invalid("ids", f"ids has {len(ids)} entries; the limit is {max_ids}")
    if not all(isinstance(i, str) and 0 < len(i) <= 1024 for i in ids):
        raise invalid("ids", "every id must be a string of 1 to 1024 characters")
    seen: set[str] = set()
    for report_id in ids:
        if report_id in seen:
            raise invalid("ids", f"id {report_id[:80]!r} appears more than once")
        seen.add(report_id)
    return ids


def _text_param(req: func.HttpRequest, name: str) -> str | None:
    value = req.params.get(name)
    if value is not None and not 0 < len(value) <= MAX_QUERY_TEXT_CHARS:
        raise HttpProblem(
            400,
            "Invalid query parameter",
            f"{name} must be 1 to {MAX_QUERY_TEXT_CHARS} characters",
            field=name,
        )
    return value


def page_params(req: func.HttpRequest, *, key_size: int) -> tuple[int, SortKey | None]:
    limit = query_int(
        req, "limit", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE
    )
    token = req.params.get(TOKEN_FIELD)
    return limit, decode_token(token, size=key_size) if token is not None else None


REPORT_QUERY = (
    "kind",
    "reported_as",
    "eligibility",
    "verdict",
    "parse_status",
    "delivery",
    "reporter",
    "campaign",
    "received_from",
    "received_before",
    "limit",
    TOKEN_FIELD,
)


def parse_report_filter(req: func.HttpRequest) -> ReportFilter:
    check_query_names(req, REPORT_QUERY)
    return ReportFilter(
        kind=query_choice(req, "kind", [k.value for k in Kind]),
        reported_as=query_choice(req, "reported_as", [r.value for r in ReportedAs]),
        eligibility=query_choice(req, "eligibility", [e.value for e in Eligibility]),
        verdict=query_choice(req, "verdict", [*[v.value for v in Verdict], NO_VALUE]),
        parse_status=query_choice(req, "parse_status", [p.value for p in ParseStatus]),
        delivery=query_choice(req, "delivery", DELIVERY_CHOICES),
        reporter=_text_param(req, "reporter"),
        campaign=_text_param(req, "campaign"),
        received_from=query_datetime(req, "received_from"),
        received_before=query_datetime(req, "received_before"),
    )


AUDIT_QUERY = ("subject", "actor", "action", "since", "until", "limit", TOKEN_FIELD)


@dataclass(frozen=True)
class AuditQuery:
    subject: str | None
    actor: str | None
    action: str | None
    since: Any
    until: Any


def parse_audit_query(req: func.HttpRequest) -> AuditQuery:
    check_query_names(req, AUDIT_QUERY)
    return AuditQuery(
        subject=_text_param(req, "subject"),
        actor=_text_param(req, "actor"),
        action=_text_param(req, "action"),
        since=query_datetime(req, "since"),
        until=query_datetime(req, "until"),
    )

"""The OpenAPI 3.1 document of the HTTP API, served at ``GET /api/openapi.json``.

The document is the API's route table as well. The catch-all route returns 405 with
an ``Allow`` header for a path it lists and 404 for any other path. A test fails when
the document and the routes ``function_app`` registers differ.

To document a new route, add an entry to ``PATHS`` keyed by its path as the client
sees it (``/api/...``, parameters in braces), one ``operation(...)`` per method:

    PATHS["/api/things/{id}"] = {
        "get": operation(
            "get_thing",                      # the function_app function name
            "Read one thing",
            role="reader",
            parameters=[ID_PARAMETER],
            responses={200: json_content({"$ref": "#/components/schemas/Thing"})},
        ),
    }

``operation`` adds the problem responses every route shares (400, 401, 403, 500,
and 413/415 for a request body). Put reusable schemas into ``SCHEMAS``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from enum import Enum
from typing import Any

from notifier.deliveries import DeliveryStatus
from verdicts.bulk import MAX_BULK_IDS, ItemStatus
from verdicts.inputs import DEFAULT_PAGE_SIZE, MAX_COMMENT_CHARS, MAX_PAGE_SIZE
from verdicts.listing import DELIVERY_CHOICES, NO_VALUE, SUMMARY_FIELDS
from verdicts.model import (
    Eligibility,
    Kind,
    ParseStatus,
    Report,
    ReportedAs,
    SystemVerdict,
    Verdict,
)
from verdicts.threat_submissions import MAX_BULK_IDS as THREAT_SUBMISSION_MAX_IDS
from verdicts.threat_submissions import ItemStatus as ThreatItemStatus

OPENAPI_VERSION = "3.1.0"
JSON = "application/json"
PROBLEM = "application/problem+json"
UNSAFE_METHODS = ("post", "put", "patch", "delete")


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM: {"schema": ref("Problem")}},
    }


def enum_values(enum: type[Enum], *extra: str) -> list[str]:
    return [item.value for item in enum] + list(extra)


# Schema of a Python type hint as ``Report.to_json`` writes it: enums as their
# values, datetimes as ISO 8601 text, dataclasses as objects.
def schema_of(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [schema_of(a) for a in args if a is not type(None)]
        schema = options[0] if len(options) == 1 else {"anyOf": options}
        return {"anyOf": [schema, {"type": "null"}]} if type(None) in args else schema
    if origin in (list, tuple):
        return {"type": "array", "items": schema_of(args[0]) if args else {}}
    if origin is dict:
        value = schema_of(args[1]) if len(args) == 2 else {}
        return {"type": "object", "additionalProperties": value}
    if isinstance(hint, type) and issubclass(hint, Enum):
        return {"type": "string", "enum": enum_values(hint)}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is str:
        return {"type": "string"}
    if hint is datetime:
        return {"type": "string", "format": "date-time"}
    if dataclasses.is_dataclass(hint):
        return dataclass_schema(hint)
    return {}


def dataclass_schema(cls: type, *, names: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return the object schema of dataclass ``cls`` (only ``names`` when given)."""
    hints = typing.get_type_hints(cls)
    selected = names or tuple(f.name for f in dataclasses.fields(cls))
    return {
        "type": "object",
        "required": list(selected),
        "properties": {name: schema_of(hints[name]) for name in selected},
    }


def _counts(enum: type[Enum], *extra: str) -> dict[str, Any]:
    names = enum_values(enum, *extra)
    return {
        "type": "object",
        "required": names,
        "properties": {name: {"type": "integer", "minimum": 0} for name in names},
    }


def _durations() -> dict[str, Any]:
    number = {"type": ["number", "null"]}
    names = ["p50", "p90", "p95", "p99", "max"]
    return {
        "type": "object",
        "required": ["count", *names],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            **{name: number for name in names},
        },
    }


TEXT = {"type": "string"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Problem": {
        "type": "object",
        "description": "An error (RFC 9457). 'field' names the offending input.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": TEXT,
            "title": TEXT,
            "status": {"type": "integer"},
            "detail": TEXT,
            "field": TEXT,
        },
    },
    "Report": {
        **dataclass_schema(Report),
        "description": "One user report. 'verdict' is the reviewer's decision; "
        "'system_verdict' is the mail system's own, which marking never changes.",
    },
    "ReportSummary": dataclass_schema(Report, names=("id", *SUMMARY_FIELDS)),
    "MarkedReport": {
        "allOf": [
            ref("Report"),
            {
                "type": "object",
                "required": [
                    "changed",
                    "notification_queued",
                    "system_verdict_changed",
                ],
                "properties": {
                    "changed": {
                        "type": "boolean",
                        "description": "false when the report had this verdict already",
                    },
                    "notification_queued": {"type": "boolean"},
                    "system_verdict_changed": {
                        "const": False,
                        "description": "Marking records the reviewer's verdict only; "
                        "the mail system's verdict stays as it was.",
                    },
                },
            },
        ]
    },
    "ReportPage": {
        "type": "object",
        "required": ["items", "continuation"],
        "properties": {
            "items": {"type": "array", "items": ref("ReportSummary")},
            "continuation": {
                "type": ["string", "null"],
                "description": "Pass as ?continuation= for the next page; null on "
                "the last page.",
            },
        },
    },
    "Mark": {
        "type": "object",
        "additionalProperties": False,
        "required": ["verdict"],
        "properties": {
            "verdict": {"type": "string", "enum": enum_values(Verdict)},
            "notify": {
                "type": "boolean",
                "default": True,
                "description": "false records the verdict without telling the reporter",
            },
            "comment": {"type": "string", "maxLength": MAX_COMMENT_CHARS},
        },
    },
    "BulkMark": {
        "type": "object",
        "additionalProperties": False,
        "required": ["ids", "verdict"],
        "properties": {
            "ids": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_BULK_IDS,
                "uniqueItems": True,
                "items": {"type": "string", "minLength": 1, "maxLength": 1024},
            },
            "verdict": {"type": "string", "enum": enum_values(Verdict)},
            "notify": {"type": "boolean", "default": True},
            "comment": {"type": "string", "maxLength": MAX_COMMENT_CHARS},
        },
    },
    "ItemResult": {
        "type": "object",
        "required": [
            "id",
            "status",
            "detail",
            "verdict_version",
            "notification_queued",
        ],
        "properties": {
            "id": TEXT,
            "status": {"type": "string", "enum": enum_values(ItemStatus)},
            "detail": TEXT,
            "verdict_version": {"type": ["integer", "null"]},
            "notification_queued": {"type": "boolean"},
        },
    },
    "BulkResult": {
        "type": "object",
        "required": ["verdict", "counts", "results"],
        "properties": {
            "verdict": {"type": "string", "enum": enum_values(Verdict)},
            "counts": _counts(ItemStatus),
            "results": {"type": "array", "items": ref("ItemResult")},
        },
    },
    "Campaign": {
        "type": "object",
        "required": [
            "key",
            "original_subject",
            "original_sender",
            "report_count",
            "reporter_count",
            "markable_count",
            "first_reported_at",
            "last_reported_at",
            "verdicts",
            "reports",
        ],
        "properties": {
            "key": TEXT,
            "original_subject": TEXT,
            "original_sender": TEXT,
            "report_count": {"type": "integer", "minimum": 1},
            "reporter_count": {"type": "integer", "minimum": 1},
            "markable_count": {"type": "integer", "minimum": 0},
            "first_reported_at": {"type": "string", "format": "date-time"},
            "last_reported_at": {"type": "string", "format": "date-time"},
            "verdicts": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
            },
            "reports": {"type": "array", "items": ref("ReportSummary")},
        },
    },
    "CampaignResult": {
        "type": "object",
        "required": ["key", "verdict", "counts", "notifications_queued", "results"],
        "properties": {
            "key": TEXT,
            "verdict": {"type": "string", "enum": enum_values(Verdict)},
            "counts": _counts(ItemStatus),
            "notifications_queued": {"type": "integer", "minimum": 0},
            "results": {"type": "array", "items": ref("ItemResult")},
        },
    },
    "AuditEntry": {
        "type": "object",
        "required": ["subject", "id", "action", "actor", "at", "data"],
        "properties": {
            "subject": {
                "type": "string",
                "description": "A report id, or 'settings'",
            },
            "id": TEXT,
            "action": TEXT,
            "actor": TEXT,
            "at": {"type": "string", "format": "date-time"},
            "data": {"type": "object"},
        },
    },
    "AuditPage": {
        "type": "object",
        "required": ["items", "continuation"],
        "properties": {
            "items": {"type": "array", "items": ref("AuditEntry")},
            "continuation": {"type": ["string", "null"]},
        },
    },
    "Stats": {
        "type": "object",
        "required": [
            "received_from",
            "received_before",
            "reports",
            "by_verdict",
            "by_kind",
            "by_reported_as",
            "by_eligibility",
            "by_system_verdict",
            "by_parse_status",
            "by_delivery",
            "time_to_verdict_seconds",
            "time_to_notify_seconds",
        ],
        "properties": {
            "received_from": NULLABLE_DATE_TIME,
            "received_before": NULLABLE_DATE_TIME,
            "reports": {"type": "integer", "minimum": 0},
            "by_verdict": _counts(Verdict, NO_VALUE),
            "by_kind": _counts(Kind),
            "by_reported_as": _counts(ReportedAs),
            "by_eligibility": _counts(Eligibility),
            "by_system_verdict": _counts(SystemVerdict),
            "by_parse_status": _counts(ParseStatus),
            "by_delivery": {
                "type": "object",
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
            "time_to_verdict_seconds": _durations(),
            "time_to_notify_seconds": _durations(),
        },
    },
}


def _submission_schema() -> dict[str, Any]:
    from verdicts.submissions import MAX_ATTACHMENTS, MAX_URL_CHARS, MAX_URLS

    text = {"type": "string", "maxLength": 1000}
    return {
        "type": "object",
        "additionalProperties": False,
        "description": "A report from automation: a Teams report, or an email "
        "report another tool collected. The same source and external_id store one "
        "report; submitting them again returns it (200).",
        "required": [
            "source",
            "external_id",
            "kind",
            "reporter_address",
            "reported_as",
        ],
        "properties": {
            "source": {
                "type": "string",
                "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
            },
            "external_id": {"type": "string", "minLength": 1, "maxLength": 256},
            "kind": {"type": "string", "enum": enum_values(Kind)},
            "reporter_address": {"type": "string", "format": "email", "maxLength": 320},
            "reporter_name": {"type": "string", "maxLength": 256},
            "reported_as": {"type": "string", "enum": enum_values(ReportedAs)},
            "reported_at": {"type": "string", "format": "date-time"},
            "language": {"type": "string", "maxLength": 35},
            "original_sender": {"type": "string", "format": "email", "maxLength": 320},
            "original_sender_name": {"type": "string", "maxLength": 256},
            "original_subject": text,
            "original_date": {"type": "string", "format": "date-time"},
            "original_message_id": text,
            "system_verdict": {
                "type": "string",
                "enum": enum_values(SystemVerdict),
                "default": "unknown",
                "description": "Where the mail system put the original; decides "
                "eligibility. unknown reports stay markable.",
            },
            "urls": {
                "type": "array",
                "maxItems": MAX_URLS,
                "items": {
                    "type": "string",
                    "format": "uri",
                    "maxLength": MAX_URL_CHARS,
                },
            },
            "attachments": {
                "type": "array",
                "maxItems": MAX_ATTACHMENTS,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": 255},
                        "content_type": {"type": "string", "maxLength": 255},
                        "size": {"type": "integer", "minimum": 0},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    },
                },
            },
        },
    }


SCHEMAS["Submission"] = _submission_schema()
SCHEMAS["Delivery"] = {
    "type": "object",
    "required": ["report_id", "verdict_version", "status", "attempts"],
    "properties": {
        "report_id": TEXT,
        "verdict_version": {"type": "integer"},
        "status": {"type": "string", "enum": enum_values(DeliveryStatus)},
        "attempts": {"type": "integer", "minimum": 0},
        "reason": TEXT,
        "last_error": TEXT,
        "sender": TEXT,
        "message_id": TEXT,
        "next_attempt_at": NULLABLE_DATE_TIME,
        "updated_at": NULLABLE_DATE_TIME,
    },
}
SCHEMAS["DeliveryList"] = {
    "type": "object",
    "required": ["items"],
    "properties": {"items": {"type": "array", "items": ref("Delivery")}},
}
SCHEMAS["NotificationSettings"] = {
    "type": "object",
    "description": "Texts per verdict and language, sender and logo choice.",
    "required": ["default_language", "texts", "languages"],
    "properties": {
        "default_language": TEXT,
        "organization_name": TEXT,
        "sender": {"type": ["string", "null"]},
        "use_organization_logo": {"type": "boolean"},
        "texts": {"type": "object", "additionalProperties": TEXT},
        "languages": {
            "type": "object",
            "description": "Texts per BCP 47 language tag, as in texts",
            "additionalProperties": {"type": "object", "additionalProperties": TEXT},
        },
        "logo": {"type": ["object", "null"]},
    },
}
SCHEMAS["NotificationPreview"] = {
    "type": "object",
    "required": ["subject", "html", "text", "language", "sender"],
    "properties": {
        "subject": TEXT,
        "html": TEXT,
        "text": TEXT,
        "language": TEXT,
        "sender": TEXT,
    },
}


def path_parameter(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": 1024},
    }


def query_parameter(
    name: str, schema: dict[str, Any], description: str
) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema}


ID_PARAMETER = path_parameter("id", "Report id, as listed by GET /api/reports")
CAMPAIGN_PARAMETER = path_parameter("key", "Campaign key of a report")
LIMIT_PARAMETER = query_parameter(
    "limit",
    {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_PAGE_SIZE,
        "default": DEFAULT_PAGE_SIZE,
    },
    "Items per page",
)
CONTINUATION_PARAMETER = query_parameter(
    "continuation",
    {"type": "string", "minLength": 1},
    "The 'continuation' value of the previous page",
)
REQUESTED_WITH_PARAMETER = {
    "name": "X-Requested-With",
    "in": "header",
    "required": True,
    "description": "Any non-empty value, such as XMLHttpRequest; state-changing "
    "requests without it are rejected (403) so that other sites cannot send them.",
    "schema": {"type": "string", "minLength": 1, "pattern": r"\S"},
}
IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "description": "The report's ETag from GET /api/reports/{id}; a report changed "
    "since then is not marked (409).",
    "schema": {"type": "string", "minLength": 1},
}


def _text_query(name: str, description: str) -> dict[str, Any]:
    return query_parameter(
        name, {"type": "string", "minLength": 1, "maxLength": 320}, description
    )


def _time_query(name: str, description: str) -> dict[str, Any]:
    return query_parameter(name, {"type": "string", "format": "date-time"}, description)


def _enum_query(name: str, values: list[str], description: str) -> dict[str, Any]:
    return query_parameter(name, {"type": "string", "enum": values}, description)


REPORT_FILTERS = [
    _enum_query("kind", enum_values(Kind), "Only reports of this kind"),
    _enum_query("reported_as", enum_values(ReportedAs), "What the reporter said"),
    _enum_query("eligibility", enum_values(Eligibility), "Eligibility for marking"),
    _enum_query(
        "verdict", enum_values(Verdict, NO_VALUE), "Current verdict; none: unmarked"
    ),
    _enum_query("parse_status", enum_values(ParseStatus), "Parse status"),
    _enum_query(
        "delivery",
        list(DELIVERY_CHOICES),
        "Delivery status of the current verdict's notification; none: no delivery",
    ),
    _text_query("reporter", "Reporter address (case-insensitive)"),
    _text_query("campaign", "Campaign key"),
    _time_query("received_from", "Received at or after (RFC 3339)"),
    _time_query("received_before", "Received before (RFC 3339)"),
]


def operation(
    operation_id: str,
    summary: str,
    *,
    role: str,
    method: str = "get",
    description: str = "",
    parameters: list[dict[str, Any]] | None = None,
    request_schema: dict[str, Any] | None = None,
    request_content: dict[str, Any] | None = None,
    responses: dict[int, dict[str, Any]],
    tags: tuple[str, ...] = ("reports",),
) -> dict[str, Any]:
    """Build an operation with the problem responses every route shares.

    ``role`` is the least role that may call it (``x-required-role``).
    ``request_schema`` is a JSON body's schema; ``request_content`` maps other media
    types to their schemas.
    """
    all_parameters = list(parameters or [])
    shared = {
        400: problem("Invalid request; 'field' names the offending input"),
        401: problem("Not signed in"),
        403: problem("The caller's role is too low, or a cross-site request"),
        500: problem("Internal error"),
    }
    if method in UNSAFE_METHODS:
        all_parameters.append(REQUESTED_WITH_PARAMETER)
    result: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": list(tags),
        "x-required-role": role,
        "parameters": all_parameters,
        "responses": {
            str(status): body
            for status, body in sorted({**shared, **responses}.items())
        },
    }
    if description:
        result["description"] = description
    if request_schema is not None:
        request_content = {JSON: {"schema": request_schema}}
    if request_content is not None:
        result["requestBody"] = {"required": True, "content": request_content}
        result["responses"]["413"] = problem("Request body too large")
        result["responses"]["415"] = problem("Request body is not JSON")
        result["responses"] = dict(sorted(result["responses"].items()))
    return result


ETAG_HEADER = {
    "ETag": {
        "description": "Version of the report; send it as If-Match when marking",
        "schema": {"type": "string"},
    }
}
ETAG = {"ETag": {"description": "Send it as If-Match", "schema": {"type": "string"}}}

PATHS: dict[str, dict[str, Any]] = {
    "/api/reports": {
        "get": operation(
            "list_reports",
            "List reports, newest first",
            role="reader",
            description="Filters combine with AND. Pages stay stable while new "
            "reports arrive: follow 'continuation' until it is null.",
            parameters=[*REPORT_FILTERS, LIMIT_PARAMETER, CONTINUATION_PARAMETER],
            responses={200: json_content(ref("ReportPage"))},
        ),
        "post": operation(
            "submit_report",
            "Submit a report from automation (Teams, other tools)",
            role="reviewer",
            method="post",
            request_schema=ref("Submission"),
            responses={
                200: {
                    **json_content(ref("Report"), "Submitted before; stored report"),
                    "headers": ETAG_HEADER,
                },
                201: {
                    **json_content(ref("Report"), "Stored"),
                    "headers": {
                        **ETAG_HEADER,
                        "Location": {"schema": {"type": "string"}},
                    },
                },
            },
        ),
    },
    "/api/reports/{id}": {
        "get": operation(
            "get_report",
            "Read one report",
            role="reader",
            parameters=[ID_PARAMETER],
            responses={
                200: {**json_content(ref("Report")), "headers": ETAG_HEADER},
                404: problem("No report has this id"),
            },
        ),
    },
    "/api/reports/{id}/mime": {
        "get": operation(
            "get_report_mime",
            "Download the report as it arrived",
            role="reader",
            description="The raw MIME of a mailbox report (message/rfc822), or the "
            "JSON that automation submitted. It may hold live malicious links and "
            "attachments: open it only in a tool made for that.",
            parameters=[ID_PARAMETER],
            responses={
                200: {
                    "description": "The raw report, as an attachment",
                    "content": {
                        "message/rfc822": {"schema": {"type": "string"}},
                        JSON: {"schema": {"type": "object"}},
                    },
                },
                404: problem("No report, or no raw message, has this id"),
            },
        ),
    },
    "/api/reports/{id}/verdict": {
        "post": operation(
            "mark_verdict",
            "Mark a report's verdict and notify the reporter",
            role="reviewer",
            method="post",
            description="Only false positives, false negatives and reports whose "
            "system verdict is unknown can be marked (409 otherwise). Teams reports "
            "take no_threats_found or phishing (422 for spam). Marking with the "
            "verdict the report has is a no-op (changed: false, no notification).",
            parameters=[ID_PARAMETER, IF_MATCH_PARAMETER],
            request_schema=ref("Mark"),
            responses={
                202: {
                    **json_content(ref("MarkedReport"), "Recorded"),
                    "headers": ETAG_HEADER,
                },
                404: problem("No report has this id"),
                409: problem("Stale If-Match, a concurrent mark, or not markable"),
                422: problem("Verdict not allowed for this kind of report"),
            },
        ),
    },
    "/api/reports/{id}/audit": {
        "get": operation(
            "get_report_audit",
            "Audit entries of one report, oldest first",
            role="reader",
            tags=("audit",),
            parameters=[ID_PARAMETER],
            responses={
                200: json_content(
                    {
                        "type": "object",
                        "required": ["items"],
                        "properties": {
                            "items": {"type": "array", "items": ref("AuditEntry")}
                        },
                    }
                ),
                404: problem("No report has this id"),
            },
        ),
    },
    "/api/verdicts": {
        "post": operation(
            "mark_many",
            f"Mark up to {MAX_BULK_IDS} reports with one verdict",
            role="reviewer",
            method="post",
            description="Each id gets its own result: marked, unchanged, ineligible "
            "(with the reason), not_found or conflict.",
            request_schema=ref("BulkMark"),
            responses={200: json_content(ref("BulkResult"))},
        ),
    },
    "/api/campaigns/{key}": {
        "get": operation(
            "get_campaign",
            "Read a campaign: every report of the same original",
            role="reader",
            tags=("campaigns",),
            parameters=[CAMPAIGN_PARAMETER],
            responses={
                200: json_content(ref("Campaign")),
                404: problem("No report has this campaign key"),
            },
        ),
    },
    "/api/campaigns/{key}/verdict": {
        "post": operation(
            "mark_campaign",
            "Mark every markable report of a campaign",
            role="reviewer",
            method="post",
            tags=("campaigns",),
            description="Each reporter is notified once, about their newest report, "
            "even when they reported the original more than once.",
            parameters=[CAMPAIGN_PARAMETER],
            request_schema=ref("Mark"),
            responses={
                200: json_content(ref("CampaignResult")),
                404: problem("No report has this campaign key"),
            },
        ),
    },
    "/api/audit": {
        "get": operation(
            "list_audit",
            "Every verdict mark and settings change, newest first",
            role="reader",
            tags=("audit",),
            parameters=[
                _text_query("subject", "A report id, or settings"),
                _text_query("actor", "Who acted"),
                _text_query("action", "verdict, or a settings action"),
                _time_query("since", "At or after (RFC 3339)"),
                _time_query("until", "Before (RFC 3339)"),
                LIMIT_PARAMETER,
                CONTINUATION_PARAMETER,
            ],
            responses={200: json_content(ref("AuditPage"))},
        ),
    },
    "/api/stats": {
        "get": operation(
            "get_stats",
            "Reports counted by state, time to verdict and to notification",
            role="reader",
            tags=("stats",),
            parameters=[
                _time_query("received_from", "Received at or after (RFC 3339)"),
                _time_query("received_before", "Received before (RFC 3339)"),
            ],
            responses={200: json_content(ref("Stats"))},
        ),
    },
    # Deliveries and notification settings: handlers in the notifier package.
    "/api/deliveries": {
        "get": operation(
            "list_deliveries",
            "List notification deliveries in one status, newest change first",
            role="reader",
            tags=("deliveries",),
            parameters=[
                _enum_query(
                    "status",
                    enum_values(DeliveryStatus),
                    "Delivery status (default failed)",
                ),
                query_parameter(
                    "limit",
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                    "Items to return",
                ),
            ],
            responses={200: json_content(ref("DeliveryList"))},
        ),
    },
    "/api/reports/{id}/notification/retry": {
        "post": operation(
            "retry_notification",
            "Queue the failed notification of a report's current verdict again",
            role="reviewer",
            method="post",
            tags=("deliveries",),
            parameters=[ID_PARAMETER],
            responses={
                202: json_content(ref("Delivery"), "Queued again"),
                404: problem("No report has this id"),
                409: problem("The current verdict's notification has not failed"),
            },
        ),
    },
    "/api/settings/notifications": {
        "get": operation(
            "get_notification_settings",
            "Read the notification settings",
            role="reader",
            tags=("settings",),
            responses={
                200: {**json_content(ref("NotificationSettings")), "headers": ETAG},
            },
        ),
        "put": operation(
            "put_notification_settings",
            "Replace the notification settings",
            role="settings_admin",
            method="put",
            tags=("settings",),
            parameters=[
                {
                    **IF_MATCH_PARAMETER,
                    "required": True,
                    "description": "The ETag from GET /api/settings/notifications",
                },
            ],
            request_schema={"type": "object"},
            responses={
                200: {**json_content(ref("NotificationSettings")), "headers": ETAG},
                412: problem("The settings changed since the ETag in If-Match"),
                422: problem("Invalid settings; 'errors' lists every field"),
                428: problem("If-Match missing"),
            },
        ),
    },
    "/api/settings/logo": {
        "put": operation(
            "put_logo",
            "Upload the organization logo (PNG, JPEG or GIF bytes)",
            role="settings_admin",
            method="put",
            tags=("settings",),
            request_content={
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in ("image/png", "image/jpeg", "image/gif")
            },
            responses={
                200: json_content({"type": "object"}, "Stored"),
                413: problem("Over 256 KiB"),
                415: problem("Not a PNG, JPEG or GIF image (SVG is rejected)"),
                422: problem("A damaged image, or wider or higher than 1024 pixels"),
            },
        ),
    },
    "/api/settings/notifications/preview": {
        "post": operation(
            "preview_notification",
            "Render a notification with stored or unsaved settings",
            role="reader",
            method="post",
            tags=("settings",),
            request_schema={"type": "object"},
            responses={
                200: json_content(ref("NotificationPreview")),
                404: problem("No report has this report_id"),
                422: problem("Invalid verdict, language, settings or report_id"),
            },
        ),
    },
    "/api/settings/notifications/test": {
        "post": operation(
            "send_test_notification",
            "Send a test notification to an address in the organization",
            role="settings_admin",
            method="post",
            tags=("settings",),
            request_schema={"type": "object"},
            responses={
                202: json_content({"type": "object"}, "Sent"),
                404: problem("No report has this report_id"),
                422: problem("Invalid recipient, verdict, language or settings"),
                502: problem("The mail system rejected the message"),
                503: problem("Sending failed for now; retry later"),
            },
        ),
    },
    "/api/openapi.json": {
        "get": operation(
            "get_openapi",
            "This document",
            role="reader",
            tags=("meta",),
            responses={200: json_content({"type": "object"})},
        ),
    },
    "/api/health": {
        "get": operation(
            "get_health",
            "Whether the app can reach its storage",
            role="reader",
            tags=("meta",),
            responses={
                200: json_content(
                    {"$ref": "#/components/schemas/Health"}, "Storage answers"
                ),
                503: json_content(
                    {"$ref": "#/components/schemas/Health"}, "Storage unreachable"
                ),
            },
        ),
    },
    "/api/me": {
        "get": operation(
            "who_am_i",
            "The caller's name and role",
            role="reader",
            tags=("meta",),
            description="The portal reads it to show only what the caller may do.",
            responses={
                200: json_content(
                    {
                        "type": "object",
                        "required": ["name", "role"],
                        "properties": {
                            "name": {"type": "string"},
                            "role": {
                                "type": "string",
                                "enum": ["reader", "reviewer", "settings_admin"],
                            },
                        },
                    }
                )
            },
        ),
    },
}


SCHEMAS["Health"] = {
    "type": "object",
    "required": ["status", "storage", "mailbox"],
    "properties": {
        "status": {"type": "string", "enum": ["ok", "degraded"]},
        "storage": {"type": "string", "enum": ["ok", "unreachable"]},
        "mailbox": {"type": "string", "enum": ["folder", "graph"]},
    },
}


THREAT_SUBMISSION_CATEGORIES = ["phishing", "spam", "malware", "not_junk"]
SCHEMAS["ThreatSubmission"] = {
    "type": "object",
    "description": "The latest submission of a report's original to Microsoft.",
    "required": ["id", "category", "status", "requested_by", "requested_at"],
    "properties": {
        "report_id": TEXT,
        "id": {"type": "string", "description": "Graph's emailThreatSubmission id"},
        "category": {"type": "string", "enum": THREAT_SUBMISSION_CATEGORIES},
        "status": {
            "type": "string",
            "description": "Graph's status: notStarted, running, succeeded, failed",
        },
        "result": {
            "type": ["object", "null"],
            "description": "Microsoft's result (Graph submissionResult) once known",
        },
        "requested_by": TEXT,
        "requested_at": {"type": "string", "format": "date-time"},
        "refreshed_at": {"type": "string", "format": "date-time"},
    },
}
SCHEMAS["ThreatSubmissionRequest"] = {
    "type": "object",
    "properties": {
        "category": {
            "type": "string",
            "enum": THREAT_SUBMISSION_CATEGORIES,
            "description": "Default from the verdict: phishing, spam, or not_junk "
            "for no_threats_found",
        },
        "force": {
            "type": "boolean",
            "default": False,
            "description": "true submits again a report already submitted",
        },
    },
}
SCHEMAS["BulkThreatSubmission"] = {
    "type": "object",
    "required": ["ids"],
    "properties": {
        "ids": {
            "type": "array",
            "minItems": 1,
            "maxItems": THREAT_SUBMISSION_MAX_IDS,
            "items": {"type": "string", "minLength": 1},
        },
        "category": {"type": "string", "enum": THREAT_SUBMISSION_CATEGORIES},
        "force": {"type": "boolean", "default": False},
    },
}
SCHEMAS["BulkThreatSubmissionResult"] = {
    "type": "object",
    "required": ["counts", "results"],
    "properties": {
        "counts": _counts(ThreatItemStatus),
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "status", "detail", "submission"],
                "properties": {
                    "id": TEXT,
                    "status": {"type": "string", "enum": enum_values(ThreatItemStatus)},
                    "detail": TEXT,
                    "submission": {
                        "anyOf": [ref("ThreatSubmission"), {"type": "null"}]
                    },
                },
            },
        },
    },
}
_GRAPH_PROBLEMS = {
    413: problem("Microsoft Graph rejected the original as too large"),
    502: problem("Microsoft Graph denied the request (missing permission) or failed"),
    503: problem("Microsoft Graph is throttling (Retry-After), or is not configured"),
    504: problem("Microsoft Graph did not respond in time"),
}
PATHS["/api/reports/{id}/submission"] = {
    "get": operation(
        "get_submission",
        "Read a report's submission to Microsoft, with its status refreshed",
        role="reader",
        tags=("submissions",),
        parameters=[ID_PARAMETER],
        responses={
            200: json_content(ref("ThreatSubmission")),
            404: problem("No report has this id, or it was never submitted"),
            **_GRAPH_PROBLEMS,
        },
    ),
    "post": operation(
        "submit_to_microsoft",
        "Submit a report's original to Microsoft for analysis",
        role="reviewer",
        method="post",
        tags=("submissions",),
        description="Sends the attached original as MIME to Graph's email threat "
        "submission API. The body is optional.",
        parameters=[ID_PARAMETER],
        request_schema=ref("ThreatSubmissionRequest"),
        responses={
            202: json_content(ref("ThreatSubmission"), "Submitted"),
            404: problem("No report has this id"),
            409: problem("Already submitted; send force to submit again"),
            422: problem("No attached original, or no verdict to take the category"),
            **_GRAPH_PROBLEMS,
        },
    ),
}
PATHS["/api/threat-submissions"] = {
    "post": operation(
        "submit_many_to_microsoft",
        f"Submit up to {THREAT_SUBMISSION_MAX_IDS} reports to Microsoft",
        role="reviewer",
        method="post",
        tags=("submissions",),
        description="Each id gets its own result. After Graph throttles one "
        "request, the remaining ids are not sent and get throttled.",
        request_schema=ref("BulkThreatSubmission"),
        responses={
            200: json_content(ref("BulkThreatSubmissionResult")),
            503: problem("Microsoft Graph is not configured"),
        },
    ),
}


def document() -> dict[str, Any]:
    """Return the OpenAPI document of every route in PATHS."""
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Reportback API",
            "version": "1.0.0",
            "description": "Review user-reported messages and tell the reporters "
            "the result. Roles: reader reads, reviewer also marks, settings_admin "
            "also changes settings (x-required-role on each operation). In Azure "
            "the caller signs in through App Service authentication; the dev host "
            "gives every request its configured role.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "appServiceAuthentication": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A Microsoft Entra ID token for the app; App "
                    "Service authentication checks it and passes the roles on.",
                }
            },
        },
        "security": [{"appServiceAuthentication": []}],
        "paths": PATHS,
    }


def allowed_methods(path: str) -> list[str] | None:
    """Return the methods PATHS lists for ``path``, or None when no entry matches."""
    parts = [p for p in path.strip("/").split("/") if p]
    methods: set[str] = set()
    matched = False
    for template, entry in PATHS.items():
        segments = [s for s in template.strip("/").split("/") if s]
        if len(segments) != len(parts):
            continue
        if all(
            s.startswith("{") or s.lower() == p.lower()
            for s, p in zip(segments, parts, strict=True)
        ):
            matched = True
            methods.update(method.upper() for method in entry)
    return sorted(methods) if matched else None


__all__ = [
    "PATHS",
    "SCHEMAS",
    "allowed_methods",
    "document",
    "json_content",
    "operation",
    "problem",
    "ref",
]

"""Reports submitted over the API by automation: Teams reports, or email reports that
another tool collected.

The submitter names itself (``source``) and gives its own id for the report
(``external_id``). The report id is derived from both, so submitting the same report
twice stores it once. The submitted JSON is kept in Blob Storage before the report row
is written, as intake keeps the raw MIME of mailbox reports.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from intake.extract import campaign_key
from storage import Storage
from verdicts.inputs import check_body_names, invalid, require_text
from verdicts.model import Kind, Report, ReportedAs, SystemVerdict
from verdicts.rules import eligibility_for
from verdicts.store import ReportStore, StoredReport

logger = logging.getLogger(__name__)

MAX_URLS = 500
MAX_URL_CHARS = 2048
MAX_ATTACHMENTS = 100
MAX_TEXT_CHARS = 1000
SUBMISSION_FIELDS = (
    "source",
    "external_id",
    "kind",
    "reporter_address",
    "reporter_name",
    "reported_as",
    "reported_at",
    "language",
    "original_sender",
    "original_sender_name",
    "original_subject",
    "original_date",
    "original_message_id",
    "system_verdict",
    "urls",
    "attachments",
)
ATTACHMENT_FIELDS = ("name", "content_type", "size", "sha256")
_SOURCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# A practical subset of RFC 5321 addresses: one @, no spaces or angle brackets.
_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"]{1,64}@[A-Za-z0-9.-]{1,253}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")


def submission_id(source: str, external_id: str) -> str:
    """Derive the report id; mailbox report ids hash other prefixes, so none collide."""
    seed = f"api|{source}|{external_id}".encode()
    return hashlib.sha256(seed).hexdigest()[:32]


def _address(body: dict[str, Any], name: str, *, required: bool) -> str:
    value = require_text(body, name, max_chars=320, required=required)
    if value and not _ADDRESS.fullmatch(value):
        raise invalid(name, f"{name} {value[:80]!r} is not an email address")
    return value.lower()


def _choice(body: dict[str, Any], name: str, enum: type, default: Any = None) -> Any:
    value = body.get(name, default)
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(item.value for item in enum)
        raise invalid(
            name, f"{name} {value!r} is invalid; expected one of: {allowed}"
        ) from None


def _date_time(body: dict[str, Any], name: str) -> str:
    value = require_text(body, name, max_chars=64)
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise invalid(
            name, f"{name} {value[:64]!r} is not an RFC 3339 date-time with a zone"
        )
    return parsed.isoformat()


def _urls(body: dict[str, Any]) -> list[str]:
    urls = body.get("urls", [])
    if not isinstance(urls, list) or len(urls) > MAX_URLS:
        raise invalid("urls", f"urls must be an array of at most {MAX_URLS} URLs")
    for url in urls:
        if (
            not isinstance(url, str)
            or not 0 < len(url) <= MAX_URL_CHARS
            or not re.match(r"(?i)^[a-z][a-z0-9+.-]*:", url)
            or any(ord(c) <= 32 for c in url)
        ):
            raise invalid(
                "urls",
                f"every URL must be an absolute URL of at most {MAX_URL_CHARS} "
                "characters without spaces",
            )
    return list(dict.fromkeys(urls))


def _attachment(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise invalid("attachments", "every attachment must be an object")
    for name in item:
        if name not in ATTACHMENT_FIELDS:
            raise invalid(
                "attachments",
                f"attachment field {name!r} is not supported; expected: "
                f"{', '.join(ATTACHMENT_FIELDS)}",
            )
    name = require_text(item, "name", max_chars=255, required=True)
    content_type = require_text(item, "content_type", max_chars=255)
    size = item.get("size")
    if size is not None and (
        not isinstance(size, int) or isinstance(size, bool) or size < 0
    ):
        raise invalid("attachments", "attachment size must be a non-negative integer")
    sha256 = item.get("sha256")
    if sha256 is not None and (
        not isinstance(sha256, str) or not _SHA256.fullmatch(sha256)
    ):
        raise invalid(
            "attachments", "attachment sha256 must be 64 lowercase hex digits"
        )
    return {"name": name, "content_type": content_type, "size": size, "sha256": sha256}


def _attachments(body: dict[str, Any]) -> list[dict[str, Any]]:
    items = body.get("attachments", [])
    if not isinstance(items, list) or len(items) > MAX_ATTACHMENTS:
        raise invalid(
            "attachments",
            f"attachments must be an array of at most {MAX_ATTACHMENTS} objects",
        )
    return [_attachment(item) for item in items]


def _source(body: dict[str, Any]) -> str:
    source = require_text(body, "source", max_chars=64, required=True)
    if not _SOURCE.fullmatch(source):
        raise invalid(
            "source",
            f"source {source!r} is invalid; use 1 to 64 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit",
        )
    return source


def _language(body: dict[str, Any]) -> str:
    language = require_text(body, "language", max_chars=35)
    if language and not _LANGUAGE.fullmatch(language):
        raise invalid("language", f"language {language!r} is not a BCP 47 tag")
    return language


def parse_submission(body: dict[str, Any], *, received_at: datetime) -> Report:
    """Build a Report from a submission body; raise a 400 problem naming the field."""
    check_body_names(body, SUBMISSION_FIELDS)
    source = _source(body)
    external_id = require_text(body, "external_id", max_chars=256, required=True)
    reported_as = _choice(body, "reported_as", ReportedAs)
    system_verdict = _choice(
        body, "system_verdict", SystemVerdict, SystemVerdict.UNKNOWN.value
    )
    report = Report(
        id=submission_id(source, external_id),
        kind=_choice(body, "kind", Kind),
        received_at=received_at,
        reporter_address=_address(body, "reporter_address", required=True),
        reporter_name=require_text(body, "reporter_name", max_chars=256),
        reported_as=reported_as,
        language=_language(body),
        original_sender=_address(body, "original_sender", required=False),
        original_sender_name=require_text(body, "original_sender_name", max_chars=256),
        original_subject=require_text(
            body, "original_subject", max_chars=MAX_TEXT_CHARS
        ),
        original_date=_date_time(body, "original_date"),
        original_message_id=require_text(
            body, "original_message_id", max_chars=MAX_TEXT_CHARS
        ),
        system_verdict=system_verdict,
        eligibility=eligibility_for(reported_as, system_verdict),
        urls=_urls(body),
        attachments=_attachments(body),
        details={
            "source": source,
            "external_id": external_id,
            "reported_at": _date_time(body, "reported_at") or None,
        },
    )
    # The same key as intake gives mailbox reports, so that a tool's email report
    # joins the campaign of the same original.
    report.campaign_key = campaign_key(report)
    return report


@dataclass(frozen=True)
class SubmissionResult:
    stored: StoredReport
    created: bool


def submit_report(storage: Storage, body: dict[str, Any]) -> SubmissionResult:
    """Store a submitted report unless one with its id exists; return the stored one."""
    report = parse_submission(body, received_at=datetime.now(timezone.utc))
    reports = ReportStore(storage)
    if reports.exists(report.id):
        return SubmissionResult(reports.get(report.id), created=False)
    blob_name = f"{report.id}.json"
    storage.container("raw-reports").upload_blob(
        blob_name, json.dumps(body, ensure_ascii=False).encode(), overwrite=True
    )
    report.raw_blob = blob_name
    created = reports.add(report)
    if created:
        logger.info(
            "report %s submitted by %s: kind=%s",
            report.id,
            report.details["source"],
            report.kind.value,
        )
    return SubmissionResult(reports.get(report.id), created=created)

"""The report and verdict model shared by intake, the review API and the notifier."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    EMAIL = "email"
    TEAMS = "teams"


class ReportedAs(StrEnum):
    """The reporter's classification of the message."""

    PHISHING = "phishing"
    JUNK = "junk"
    NOT_JUNK = "not_junk"


class Verdict(StrEnum):
    """An admin's review result. Teams reports allow only the first two."""

    NO_THREATS_FOUND = "no_threats_found"
    PHISHING = "phishing"
    SPAM = "spam"


class SystemVerdict(StrEnum):
    """The mail system's verdict on the original, read from its antispam headers."""

    DELIVERED = "delivered"
    JUNK = "junk"
    PHISHING = "phishing"
    UNKNOWN = "unknown"


class Eligibility(StrEnum):
    """How the report relates to the system's verdict; decides whether it can be marked."""

    FALSE_NEGATIVE = "false_negative"
    FALSE_POSITIVE = "false_positive"
    AGREES = "agrees"
    UNKNOWN = "unknown"


class ParseStatus(StrEnum):
    PARSED = "parsed"
    NEEDS_ATTENTION = "needs_attention"


# Fields kept as JSON text in Table Storage, which has no list or map properties.
JSON_FIELDS = (
    "authentication",
    "urls",
    "url_hosts",
    "attachments",
    "problems",
    "details",
    "original_reply_to",
    "original_to",
    "original_cc",
    "truncated_fields",
    "submission",
)


@dataclass(kw_only=True)
class Report:
    """One user report of a message, as stored in the ``reports`` table."""

    id: str
    kind: Kind = Kind.EMAIL
    received_at: datetime
    mailbox_id: str = ""
    raw_blob: str = ""
    reporter_address: str = ""
    reporter_name: str = ""
    reported_as: ReportedAs = ReportedAs.PHISHING
    language: str = ""
    wrapper_message_id: str = ""
    original_sender: str = ""
    original_sender_name: str = ""
    original_subject: str = ""
    original_date: str = ""
    original_message_id: str = ""
    # How the original reached the reporting mailbox: "eml" (an attached RFC 5322
    # message), "msg" (an attached Outlook file), "graph_item" (a Graph item
    # attachment), "inline_forward" (quoted in the body), "headers" (only its header
    # section, as abuse reports attach it), or "" when none was found.
    original_format: str = ""
    # Address in the Sender header, when the original has one.
    original_sender_header: str = ""
    original_reply_to: list[str] = field(default_factory=list)
    original_return_path: str = ""
    original_to: list[str] = field(default_factory=list)
    original_cc: list[str] = field(default_factory=list)
    # X-MS-Exchange-Organization-Network-Message-Id, Exchange Online's id of the
    # original, the key to find it in message trace and threat explorer.
    original_network_message_id: str = ""
    # Exchange Online's antispam stamp on the original: spam filtering verdict
    # (SFV), spam confidence level (SCL), protection policy category (CAT), bulk
    # complaint level (BCL) and the mailbox folder it was delivered to (dest: "I"
    # inbox, "J" junk, "C" custom).
    antispam_sfv: str = ""
    antispam_scl: int | None = None
    antispam_cat: str = ""
    antispam_bcl: int | None = None
    antispam_dest: str = ""
    system_verdict: SystemVerdict = SystemVerdict.UNKNOWN
    eligibility: Eligibility = Eligibility.UNKNOWN
    campaign_key: str = ""
    # SPF, DKIM, DMARC and composite authentication results, e.g. {"spf": "fail"}.
    authentication: dict[str, str] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    # Lower-case host names of ``urls``, deduplicated, in order of first appearance.
    url_hosts: list[str] = field(default_factory=list)
    # One entry per attachment of the original: name, content_type, size, sha256.
    attachments: list[dict[str, Any]] = field(default_factory=list)
    # The start of the original's text, whitespace collapsed.
    body_preview: str = ""
    parse_status: ParseStatus = ParseStatus.PARSED
    # Why a reviewer must look, when parse_status is needs_attention.
    attention_reason: str = ""
    # Defects found while parsing; a report can be parsed and still have some.
    problems: list[str] = field(default_factory=list)
    # Properties cut to fit Table Storage; the raw MIME blob keeps the full data.
    truncated_fields: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    verdict: Verdict | None = None
    verdict_version: int = 0
    verdict_at: datetime | None = None
    verdict_by: str = ""
    # The verdict version whose notification the reviewer requested (0: none).
    # Written with the verdict, so a notification lost to a crash before it was
    # enqueued can be found and sent later.
    notify_version: int = 0
    # The latest submission of the original to Microsoft (verdicts.threat_submissions):
    # id, category, status, result, requested_by, requested_at, refreshed_at.
    submission: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the report as the API shows it."""
        data = asdict(self)
        data["received_at"] = self.received_at.isoformat()
        data["verdict_at"] = self.verdict_at.isoformat() if self.verdict_at else None
        return data


_ENUMS = {
    "kind": Kind,
    "reported_as": ReportedAs,
    "system_verdict": SystemVerdict,
    "eligibility": Eligibility,
    "parse_status": ParseStatus,
}


def report_to_entity(report: Report) -> dict[str, Any]:
    """Return the Table entity of ``report`` (keys ``PartitionKey``/``RowKey``)."""
    entity: dict[str, Any] = {"PartitionKey": "report", "RowKey": report.id}
    for item in fields(report):
        value = getattr(report, item.name)
        if item.name == "id":
            continue
        if item.name in JSON_FIELDS:
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        elif isinstance(value, StrEnum):
            value = value.value
        if value is None:
            continue
        entity[item.name] = value
    return entity


def report_from_entity(entity: dict[str, Any]) -> Report:
    """Rebuild a Report from its Table entity, ignoring properties it does not know."""
    known = {item.name for item in fields(Report)}
    values: dict[str, Any] = {"id": entity["RowKey"]}
    for name, value in entity.items():
        if name not in known or name == "id":
            continue
        if name in JSON_FIELDS:
            value = json.loads(value) if value else None
            if value is None:
                continue
        elif name in _ENUMS:
            value = _ENUMS[name](value)
        elif name == "verdict":
            value = Verdict(value) if value else None
        elif name in ("received_at", "verdict_at") and isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif name in (
            "verdict_version",
            "notify_version",
            "antispam_scl",
            "antispam_bcl",
        ):
            value = int(value)
        values[name] = value
    return Report(**values)

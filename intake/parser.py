"""Turn a message of the reporting mailbox into a Report.

Bad mail is normal here: like the standard library's ``email`` package, the parser
never raises on malformed input. It records what it can read, lists problems as data
on the report and sets ``needs_attention`` when a reviewer must look.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses

from verdicts.model import Kind, ParseStatus, Report, ReportedAs

# Subject prefixes of the reporting-mailbox format for third-party report add-ins.
# Text after the prefix is ignored; no prefix means phishing.
_PREFIXES = (
    (re.compile(r"^\s*(1\||junk:)", re.IGNORECASE), ReportedAs.JUNK),
    (re.compile(r"^\s*(2\||not junk:)", re.IGNORECASE), ReportedAs.NOT_JUNK),
    (re.compile(r"^\s*(3\||phishing:)", re.IGNORECASE), ReportedAs.PHISHING),
)


def report_id_for(mime: bytes) -> str:
    """Derive a stable report id from the wrapper's Message-ID, else its bytes.

    The id is hex, so it is a valid Table key whatever the Message-ID contains.
    """
    message_id = _header_from_bytes(mime, b"message-id")
    seed = b"message-id:" + message_id if message_id else b"sha256:" + mime
    return hashlib.sha256(seed).hexdigest()[:32]


def _header_from_bytes(mime: bytes, name: bytes) -> bytes | None:
    head = mime.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.splitlines():
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name and value.strip():
            return value.strip()
    return None


def reported_as_from_subject(subject: str) -> ReportedAs:
    for pattern, reported_as in _PREFIXES:
        if pattern.match(subject):
            return reported_as
    return ReportedAs.PHISHING


def _header(message: Message, name: str, problems: list[str]) -> str:
    try:
        value = message.get(name)
        return "" if value is None else str(value).strip()
    except Exception as error:  # noqa: BLE001 - malformed headers raise many types
        problems.append(f"header {name} unreadable: {error}")
        return ""


def _first_address(value: str) -> tuple[str, str]:
    pairs = [(n, a) for n, a in getaddresses([value]) if a]
    return (pairs[0][1], pairs[0][0]) if pairs else ("", "")


def _attached_messages(wrapper: Message) -> list[Message]:
    found: list[Message] = []
    for part in wrapper.walk():
        if part is wrapper:
            continue
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list) and payload:
                found.append(payload[0])
    return found


def parse_report(
    mime: bytes,
    *,
    report_id: str,
    received_at: datetime,
    mailbox_id: str = "",
    attached_originals: Sequence[bytes] = (),
) -> Report:
    """Read a reporting-mailbox message into a Report; never raises on bad mail."""
    problems: list[str] = []
    report = Report(id=report_id, received_at=received_at, mailbox_id=mailbox_id)
    if not mime.strip():
        report.parse_status = ParseStatus.NEEDS_ATTENTION
        report.problems = ["message is empty"]
        return report
    wrapper: EmailMessage = email.message_from_bytes(mime, policy=email.policy.default)
    report.kind = Kind.EMAIL
    report.wrapper_message_id = _header(wrapper, "Message-ID", problems)
    subject = _header(wrapper, "Subject", problems)
    report.reported_as = reported_as_from_subject(subject)
    address, name = _first_address(_header(wrapper, "From", problems))
    report.reporter_address, report.reporter_name = address.lower(), name
    report.language = _header(wrapper, "Content-Language", problems)
    if not address:
        problems.append("reporter address missing from the From header")

    originals = [
        email.message_from_bytes(raw, policy=email.policy.default)
        for raw in attached_originals
    ] or _attached_messages(wrapper)
    if len(originals) != 1:
        problems.append(
            f"expected one attached original message, found {len(originals)}"
        )
    if originals:
        _read_original(report, originals[0], problems)
    report.problems = problems
    if problems:
        report.parse_status = ParseStatus.NEEDS_ATTENTION
    report.campaign_key = _campaign_key(report)
    return report


def _read_original(report: Report, original: Message, problems: list[str]) -> None:
    address, name = _first_address(_header(original, "From", problems))
    report.original_sender = address.lower()
    report.original_sender_name = name
    report.original_subject = _header(original, "Subject", problems)
    report.original_date = _header(original, "Date", problems)
    report.original_message_id = _header(original, "Message-ID", problems)


def _campaign_key(report: Report) -> str:
    seed = report.original_message_id or "|".join(
        (report.original_sender, report.original_subject)
    )
    if not seed.strip("|"):
        return ""
    return hashlib.sha256(seed.encode("utf-8", "replace")).hexdigest()[:24]

"""Turn a message of the reporting mailbox into a Report.

Bad mail is normal here: like the standard library's ``email`` package, the parser
never raises on malformed input. It records what it can read, lists problems as
data on the report, and sets ``needs_attention`` with a reason only when a reviewer
must look: no reporter, no original or more than one, an original read from an
inline forward or that could not be read at all.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from email.message import Message

from intake import extract
from intake.forward import forwarded_message
from intake.mime import address_header, header, load
from intake.originals import (
    Original,
    attached_originals,
    from_bytes,
    originals_from_mailbox,
)
from intake.outlook import is_outlook_file
from verdicts.model import Kind, ParseStatus, Report, ReportedAs
from verdicts.rules import eligibility_for

logger = logging.getLogger(__name__)

# Subject prefixes of the reporting-mailbox format for third-party report add-ins.
# Text after the prefix is ignored; no prefix means phishing.
_PREFIXES = (
    (re.compile(r"^\s*(1\||junk:)", re.IGNORECASE), ReportedAs.JUNK),
    (re.compile(r"^\s*(2\||not junk:)", re.IGNORECASE), ReportedAs.NOT_JUNK),
    (re.compile(r"^\s*(3\||phishing:)", re.IGNORECASE), ReportedAs.PHISHING),
)
MAX_PROBLEMS = 50
# Errors the standard library's email package raises on malformed input that it
# does not turn into defects (for example IndexError from a Message-ID parser).
_MALFORMED_INPUT_ERRORS = (
    ValueError,
    LookupError,
    TypeError,
    AttributeError,
    AssertionError,
    RecursionError,
    UnicodeError,
)


def report_id_for(mime: bytes) -> str:
    """Derive a stable report id from the wrapper's Message-ID, else its bytes.

    The id is hex, so it is a valid Table key whatever the Message-ID contains.
    """
    message_id = _header_from_bytes(mime, b"message-id")
    if not message_id:
        return content_id_for(mime)
    return hashlib.sha256(b"message-id:" + message_id).hexdigest()[:32]


def content_id_for(mime: bytes) -> str:
    """Derive a report id from the message's bytes alone."""
    return hashlib.sha256(b"sha256:" + mime).hexdigest()[:32]


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


def parse_report(
    mime: bytes,
    *,
    report_id: str,
    received_at: datetime,
    mailbox_id: str = "",
    attached_originals: Sequence[bytes] = (),
) -> Report:
    """Read a reporting-mailbox message into a Report; never raises on bad mail.

    ``attached_originals`` are originals the mailbox fetched apart from ``mime``
    (Graph item attachments, as MIME or .msg bytes); when given, they are the
    originals and the wrapper's own attachments are not searched.
    """
    report = Report(id=report_id, received_at=received_at, mailbox_id=mailbox_id)
    problems: list[str] = []
    try:
        _parse_into(report, mime, attached_originals, problems)
    except _MALFORMED_INPUT_ERRORS as error:
        logger.warning(
            "report %s: parser failed on malformed input: %s",
            report_id,
            type(error).__name__,
        )
        _needs_attention(report, f"parser failed: {type(error).__name__}: {error}")
    report.problems = list(dict.fromkeys(problems))[:MAX_PROBLEMS]
    if len(problems) > MAX_PROBLEMS:
        report.problems.append(f"{len(problems) - MAX_PROBLEMS} more problems")
    return report


def _needs_attention(report: Report, reason: str) -> None:
    report.parse_status = ParseStatus.NEEDS_ATTENTION
    if report.attention_reason:
        report.attention_reason += "; " + reason
    else:
        report.attention_reason = reason


def _parse_into(
    report: Report,
    mime: bytes,
    mailbox_originals: Sequence[bytes],
    problems: list[str],
) -> None:
    report.kind = Kind.EMAIL
    if not mime.strip():
        _needs_attention(report, "message is empty")
        return
    if is_outlook_file(mime):
        # An Outlook file dropped straight into the mailbox: no wrapper, no reporter.
        _needs_attention(report, "message is an Outlook file, not a report")
        original = from_bytes(mime, problems, as_format="msg")
        if original is not None:
            _read(report, original, problems)
        return
    wrapper = load(mime, problems, "report")
    if not wrapper.keys():
        _needs_attention(
            report, "message has no header fields; it is not RFC 5322 mail"
        )
    _read_wrapper(report, wrapper, problems)
    _read_originals(report, wrapper, mailbox_originals, problems)


def _read_originals(
    report: Report,
    wrapper: Message,
    mailbox_originals: Sequence[bytes],
    problems: list[str],
) -> None:
    originals = (
        originals_from_mailbox(mailbox_originals, problems)
        if mailbox_originals
        else attached_originals(wrapper, problems)
    )
    report.details["attached_originals"] = len(originals)
    if len(originals) > 1:
        _needs_attention(report, f"{len(originals)} attached messages; read the first")
    if originals:
        _read(report, originals[0], problems)
        return
    forwarded = _inline_forward(wrapper, problems)
    if forwarded is None:
        _needs_attention(report, "no attached original and no inline forward")
        return
    _needs_attention(report, "no attached original; read an inline forward")
    _read(report, Original(forwarded, "inline_forward"), problems)


def _read_wrapper(report: Report, wrapper: Message, problems: list[str]) -> None:
    report.wrapper_message_id = header(wrapper, "Message-ID", problems)
    subject = header(wrapper, "Subject", problems)
    report.details["wrapper_subject"] = subject[:300]
    report.reported_as = reported_as_from_subject(subject)
    reporter = address_header(wrapper, "From", problems)
    if reporter:
        report.reporter_name, report.reporter_address = reporter[0]
    elif wrapper.keys():
        _needs_attention(report, "reporter address missing from the From header")
    report.language = header(wrapper, "Content-Language", problems)[:35]


def _inline_forward(wrapper: Message, problems: list[str]) -> Message | None:
    body = extract.read_body(wrapper, problems)
    texts = body.text or [extract.html_to_text(markup) for markup in body.html]
    for text in texts:
        forwarded = forwarded_message(text)
        if forwarded is not None:
            return forwarded
    return None


def _read(report: Report, original: Original, problems: list[str]) -> None:
    report.original_format = original.format
    if original.filename:
        report.details["original_filename"] = original.filename[:300]
    if original.format == "headers":
        problems.append("only the original's header section was attached")
    extract.read_original(report, original.message, problems)
    _record_defects(original.message, problems)
    report.eligibility = eligibility_for(report.reported_as, report.system_verdict)
    report.campaign_key = extract.campaign_key(report)


def _record_defects(message: Message, problems: list[str]) -> None:
    for defect in getattr(message, "defects", ())[:10]:
        problems.append(f"original: {type(defect).__name__}")

"""Extraction of the fields a reviewer needs from a reported original: addresses,
authentication results, the system's verdict, URLs, attachments and a preview."""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from email.message import Message

from intake import antispam, urls
from intake.mime import (
    MAX_DEPTH,
    address_header,
    filename,
    header,
    part_text,
    payload_bytes,
    serialize,
)
from verdicts.model import Report

PREVIEW_CHARS = 1000
# Per original; a message with more is listed up to here and the rest counted.
MAX_ATTACHMENTS = 200
MAX_URLS = 500
# Authentication-Results method=result pairs (RFC 8601 section 2.2), after comments
# in parentheses are removed. "compauth" is Exchange Online's composite result.
_AUTH_RESULT = re.compile(r"\b(spf|dkim|dmarc|compauth|arc)\s*=\s*([a-z]+)", re.I)
_COMMENT = re.compile(r"\([^()]*\)")
_TAG = re.compile(r"<[^>]*>")
_INVISIBLE = re.compile(r"<(script|style|head)\b.*?</\1\s*>", re.I | re.S)
_BLOCK_END = re.compile(r"<(?:br|/p|/div|/tr|/li|/h[1-6])\b[^>]*>", re.I)
_SPACE = re.compile(r"\s+")


@dataclass
class Body:
    """Text, HTML and attachments of one message, attached messages not entered."""

    text: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[dict[str, object]] = field(default_factory=list)


def read_original(report: Report, original: Message, problems: list[str]) -> None:
    """Fill the report's fields about ``original`` from its headers and body."""
    _read_addresses(report, original, problems)
    report.original_subject = header(original, "Subject", problems)
    report.original_date = header(original, "Date", problems)
    report.original_message_id = header(original, "Message-ID", problems)
    report.original_network_message_id = header(
        original, "X-MS-Exchange-Organization-Network-Message-Id", problems
    )
    report.authentication = authentication_results(
        header(original, "Authentication-Results", problems)
    )
    _read_antispam(report, original, problems)
    body = read_body(original, problems)
    visible = [html_to_text(markup) for markup in body.html]
    found = []
    for text in body.text:
        found.extend(urls.urls_in_text(text))
    for markup, text in zip(body.html, visible, strict=True):
        found.extend(urls.urls_in_html(markup, text))
    report.urls, report.url_hosts = urls.deduplicate(found)
    if len(report.urls) > MAX_URLS:
        problems.append(f"{len(report.urls)} URLs; listed the first {MAX_URLS}")
        report.urls = report.urls[:MAX_URLS]
    report.attachments = body.attachments
    report.body_preview = preview(body.text, visible)


def _read_addresses(report: Report, original: Message, problems: list[str]) -> None:
    sender = address_header(original, "From", problems)
    if sender:
        report.original_sender_name, report.original_sender = sender[0]
    on_behalf = address_header(original, "Sender", problems)
    report.original_sender_header = on_behalf[0][1] if on_behalf else ""
    report.original_reply_to = _address_list(original, "Reply-To", problems)
    return_path = address_header(original, "Return-Path", problems)
    report.original_return_path = return_path[0][1] if return_path else ""
    report.original_to = _address_list(original, "To", problems)
    report.original_cc = _address_list(original, "Cc", problems)


def _address_list(original: Message, name: str, problems: list[str]) -> list[str]:
    return [address for _, address in address_header(original, name, problems)]


def _read_antispam(report: Report, original: Message, problems: list[str]) -> None:
    # The topmost header is the one the receiving organization added last; a
    # sender can forge others below it.
    stamp = antispam.read_stamp(
        header(original, "X-Forefront-Antispam-Report", problems),
        header(original, "X-Microsoft-Antispam", problems),
        header(original, "X-MS-Exchange-Organization-SCL", problems),
        header(original, "X-Microsoft-Antispam-Mailbox-Delivery", problems),
    )
    report.antispam_sfv = stamp.sfv
    report.antispam_scl = stamp.scl
    report.antispam_cat = stamp.cat
    report.antispam_bcl = stamp.bcl
    report.antispam_dest = stamp.dest
    report.system_verdict = antispam.system_verdict(stamp)


def authentication_results(value: str) -> dict[str, str]:
    """Return the first result per method of an Authentication-Results value."""
    results: dict[str, str] = {}
    for method, result in _AUTH_RESULT.findall(_COMMENT.sub(" ", value)):
        results.setdefault(method.lower(), result.lower())
    return results


def read_body(message: Message, problems: list[str]) -> Body:
    """Collect text, HTML and attachments, not entering attached messages."""
    body = Body()
    skipped = 0
    stack: list[tuple[Message, int]] = [(message, 0)]
    index = 0
    while stack:
        part, depth = stack.pop()
        index += 1
        payload = part.get_payload()
        is_attached_message = part is not message and part.get_content_type() in (
            "message/rfc822",
            "message/global",
        )
        if isinstance(payload, list) and not is_attached_message:
            if depth < MAX_DEPTH:
                children = [p for p in payload if isinstance(p, Message)]
                stack.extend((child, depth + 1) for child in reversed(children))
            else:
                problems.append(f"parts below depth {MAX_DEPTH} not read")
            continue
        if _is_attachment(part, is_attached_message):
            if len(body.attachments) < MAX_ATTACHMENTS:
                body.attachments.append(attachment_entry(part, problems, index))
            else:
                skipped += 1
            continue
        where = f"part {index} ({part.get_content_type()})"
        if part.get_content_type() == "text/html":
            body.html.append(part_text(part, problems, where))
        elif part.get_content_maintype() == "text" or not part.keys():
            body.text.append(part_text(part, problems, where))
    if skipped:
        problems.append(f"{skipped} more attachments not listed")
    return body


def _is_attachment(part: Message, is_attached_message: bool) -> bool:
    if is_attached_message or _disposition(part) == "attachment":
        return True
    if part.get_content_maintype() == "text":
        return bool(filename(part))
    return True


def _disposition(part: Message) -> str:
    for key, value in part.raw_items():
        if key.lower() == "content-disposition":
            return str(value).split(";", 1)[0].strip().lower()
    return ""


def attachment_entry(
    part: Message, problems: list[str], index: int
) -> dict[str, object]:
    """Return name, content type, size in bytes and SHA-256 of a decoded part."""
    name = filename(part)
    where = f"attachment {name!r}" if name else f"part {index}"
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        # An attached message is hashed as Python serializes it, which can differ
        # from the bytes sent in line endings and folding.
        data = serialize(payload[0], problems, where)
    else:
        data = payload_bytes(part, problems, where)
    return {
        "name": name,
        "content_type": part.get_content_type(),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def html_to_text(markup: str) -> str:
    """Return the visible text of HTML, roughly: tags dropped, entities decoded."""
    text = _INVISIBLE.sub(" ", markup)
    text = _BLOCK_END.sub("\n", text)
    return html.unescape(_TAG.sub(" ", text))


def preview(texts: list[str], html_texts: list[str]) -> str:
    """Return the first PREVIEW_CHARS characters of the text, whitespace collapsed.

    Plain text parts are preferred; the visible text of HTML parts is the fallback.
    """
    source = "\n".join(texts) if any(t.strip() for t in texts) else ""
    if not source:
        source = "\n".join(html_texts)
    # Collapse only what the preview can show, so a huge body costs little.
    return _SPACE.sub(" ", source[: PREVIEW_CHARS * 4]).strip()[:PREVIEW_CHARS]


def campaign_key(report: Report) -> str:
    """Return a key shared by reports of the same original.

    The same Message-ID means the same message. Without one, the same sender,
    subject and set of URLs stand for it (a campaign sent as separate messages).
    """
    message_id = report.original_message_id.strip().strip("<>").strip().lower()
    if message_id:
        seed = "message-id\n" + message_id
    else:
        subject = _SPACE.sub(" ", report.original_subject).strip().lower()
        if not (report.original_sender or subject or report.urls):
            return ""
        seed = "\n".join(
            [
                "sender-subject-urls",
                report.original_sender,
                subject,
                *sorted(report.urls),
            ]
        )
    return hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:32]

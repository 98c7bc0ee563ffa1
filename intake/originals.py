"""Finding the reported original inside a report.

Report add-ins attach the original unmodified (Microsoft's rules for the reporting
mailbox): as ``message/rfc822``, sometimes base64-encoded, as an
``application/octet-stream`` part named ``*.eml``, or as an Outlook ``.msg`` file.
Graph delivers item attachments apart from the wrapper's MIME; they arrive here as
bytes and take the same path. A report without any is read as an inline forward.
"""

from __future__ import annotations

import quopri
import re
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message

from intake.mime import (
    MAX_DEPTH,
    filename,
    load,
    payload_bytes,
    serialize,
    transfer_encoding,
)
from intake.outlook import is_outlook_file, message_from_outlook

# A leaf part that starts like an RFC 5322 header section: a field name, a colon.
_LOOKS_LIKE_MESSAGE = re.compile(
    rb"^(?:[\x21-\x39\x3b-\x7e]+:[^\n]*\r?\n(?:[ \t][^\n]*\r?\n)*){2}"
)
_MESSAGE_TYPES = ("message/rfc822", "message/global")
_OUTLOOK_TYPES = ("application/vnd.ms-outlook", "application/x-msg")
_HEADERS_TYPES = ("text/rfc822-headers", "message/rfc822-headers")


@dataclass(frozen=True)
class Original:
    """A reported message found in a report, and how it was attached."""

    message: Message
    format: str
    filename: str = ""


def from_bytes(
    data: bytes, problems: list[str], *, as_format: str, name: str = ""
) -> Original | None:
    """Read an original given as bytes: a .msg file or RFC 5322 MIME."""
    where = f"attachment {name!r}" if name else "attached original"
    if is_outlook_file(data):
        message = message_from_outlook(data, problems, where)
        return Original(message, "msg", name) if message is not None else None
    return Original(load(data, problems, where), as_format, name)


def attached_originals(wrapper: Message, problems: list[str]) -> list[Original]:
    """Return every message attached to ``wrapper``, without looking inside them.

    A part holding only an original's header section (``text/rfc822-headers``, as
    abuse reports send it) counts only when no whole message is attached.
    """
    found: list[Original] = []
    headers_only: list[Original] = []
    stack: list[tuple[Message, int]] = [(wrapper, 0)]
    while stack:
        part, depth = stack.pop()
        content_type = part.get_content_type()
        if part is not wrapper and content_type in _MESSAGE_TYPES:
            original = _from_message_part(part, problems)
            if original is not None:
                found.append(original)
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            if depth < MAX_DEPTH:
                children = [p for p in payload if isinstance(p, Message)]
                stack.extend((child, depth + 1) for child in reversed(children))
            continue
        if part is wrapper:
            continue
        if content_type in _HEADERS_TYPES:
            data = payload_bytes(part, problems, "rfc822 headers part")
            headers_only.append(Original(load(data, problems), "headers"))
            continue
        original = _from_leaf(part, content_type, problems)
        if original is not None:
            found.append(original)
    return found or headers_only


def _from_message_part(part: Message, problems: list[str]) -> Original | None:
    name = filename(part)
    where = f"message part {name!r}"
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    encoding = transfer_encoding(part)
    # RFC 2046 5.2.1 allows only 7bit, 8bit or binary here, but add-ins do send
    # base64; Python's parser then reads the encoded text as a message.
    if inner is not None and encoding in ("base64", "quoted-printable"):
        if inner.keys():
            raw = serialize(inner, problems, where)
        else:
            raw = inner.get_payload(decode=True) or b""
        if encoding == "base64":
            encoded = Message()
            encoded["Content-Transfer-Encoding"] = "base64"
            encoded.set_payload(raw.decode("ascii", "surrogateescape"))
            data = payload_bytes(encoded, problems, where)
        else:
            data = quopri.decodestring(raw)
        problems.append(f"{where} is {encoding}-encoded; decoded it")
        return from_bytes(data, problems, as_format="eml", name=name)
    if inner is None or (not inner.keys() and not str(inner.get_payload()).strip()):
        problems.append(f"{where} is empty")
        return None
    return Original(inner, "eml", name)


def _from_leaf(
    part: Message, content_type: str, problems: list[str]
) -> Original | None:
    name = filename(part)
    lowered = name.lower()
    named_eml = lowered.endswith(".eml")
    named_msg = lowered.endswith(".msg") or content_type in _OUTLOOK_TYPES
    octet = content_type == "application/octet-stream"
    if not (named_eml or named_msg or octet):
        return None
    data = payload_bytes(part, problems, f"attachment {name!r}")
    if is_outlook_file(data):
        return from_bytes(data, problems, as_format="msg", name=name)
    if named_msg:
        problems.append(f"attachment {name!r} is named .msg but is not an Outlook file")
    if named_eml or _LOOKS_LIKE_MESSAGE.match(data[:4096]):
        return from_bytes(data, problems, as_format="eml", name=name)
    return None


def originals_from_mailbox(raw: Sequence[bytes], problems: list[str]) -> list[Original]:
    """Read the originals a mailbox fetched apart from the MIME (Graph items)."""
    found = []
    for data in raw:
        original = from_bytes(data, problems, as_format="graph_item")
        if original is not None:
            found.append(original)
    return found

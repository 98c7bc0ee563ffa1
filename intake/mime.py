"""Loading MIME bytes and reading headers and parts without trusting them.

Messages are parsed with ``email.policy.compat32`` and header values are read raw
and decoded by ``intake.decode``. With ``email.policy.default`` intake was 2.5
times slower on the shared phishing samples (``bench/intake.py``), because the
parser builds structured headers for every part. Those headers also raise on some
real values in Python 3.11 (``IndexError`` on a Message-ID such as
``<[abc]@example.com>``) and replace unknown charsets without saying so.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.policy
import re
from email.message import Message
from email.parser import BytesParser
from email.utils import getaddresses

from intake.decode import decode_bytes, decode_header, raw_header_text

# Deeper MIME trees are not walked. Python's parser itself recurses once per
# nested message and fails near 300 levels; loading falls back to headers then.
MAX_DEPTH = 30


class TolerantMessage(Message):
    """A compat32 message that also reads a boundary missing its closing quote.

    ``boundary="abc`` is common in spam; ``email.policy.default`` reads it as
    ``abc`` but compat32 would keep the quote and find no parts.
    """

    def get_boundary(self, failobj=None):
        boundary = super().get_boundary(failobj)
        if isinstance(boundary, str) and boundary.startswith('"') != boundary.endswith(
            '"'
        ):
            return boundary.strip('"')
        return boundary


POLICY = email.policy.compat32.clone(message_factory=TolerantMessage)
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_WHITESPACE = b" \t\r\n\v\f"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def load(mime: bytes, problems: list[str], where: str = "message") -> Message:
    """Parse ``mime``; if it nests too deeply for Python's parser, read headers only."""
    try:
        return email.message_from_bytes(mime, policy=POLICY)
    except RecursionError:
        problems.append(f"{where}: nested too deeply to parse; read its headers only")
        return BytesParser(policy=POLICY).parsebytes(mime, headersonly=True)


def header(message: Message, name: str, problems: list[str]) -> str:
    """Return the first ``name`` header decoded, or "" when there is none."""
    lowered = name.lower()
    for key, value in message.raw_items():
        if key.lower() == lowered:
            return decode_header(str(value), problems, name)
    return ""


def headers(message: Message, name: str, problems: list[str]) -> list[str]:
    """Return every ``name`` header decoded, top (most recently added) first."""
    lowered = name.lower()
    return [
        decode_header(str(value), problems, name)
        for key, value in message.raw_items()
        if key.lower() == lowered
    ]


def address_header(
    message: Message, name: str, problems: list[str]
) -> list[tuple[str, str]]:
    """Return the (display name, address) pairs of the first ``name`` header.

    The list is split into addresses before encoded words are decoded (RFC 2047
    section 5 forbids an encoded word from standing for an address), so a display
    name such as ``=?utf-8?q?eve=40evil.example=2C?=`` cannot add a recipient.
    """
    lowered = name.lower()
    for key, value in message.raw_items():
        if key.lower() == lowered:
            return [
                (
                    _CONTROL.sub(" ", decode_header(display, problems, name)).strip(),
                    address,
                )
                for display, address in addresses(
                    raw_header_text(str(value), problems, name)
                )
            ]
    return []


def addresses(value: str) -> list[tuple[str, str]]:
    """Return (display name, address) pairs of an address list; empty items skipped.

    Addresses are lower-cased, without a trailing root dot. A trailing comma or an
    empty group member yields no pair. When some items contain "@", items without
    one are dropped: spoofed From headers split a display name at commas.
    """
    pairs = []
    for name, address in getaddresses([value]):
        address = address.strip().strip("<>").rstrip(".").lower()
        if address:
            pairs.append((name.strip(), address))
    with_domain = [pair for pair in pairs if "@" in pair[1]]
    return with_domain or pairs


def serialize(message: Message, problems: list[str], where: str) -> bytes:
    """Return ``message`` as bytes, or b"" if its damage stops the generator."""
    try:
        return message.as_bytes()
    except (ValueError, LookupError, UnicodeError, TypeError, IndexError) as error:
        problems.append(f"{where}: cannot be serialized ({type(error).__name__})")
        return b""


def transfer_encoding(part: Message) -> str:
    """Return the Content-Transfer-Encoding, lower-cased and without whitespace."""
    for key, value in part.raw_items():
        if key.lower() == "content-transfer-encoding":
            return str(value).strip().lower()
    return ""


def payload_bytes(part: Message, problems: list[str], where: str) -> bytes:
    """Return a leaf part's content with its transfer encoding undone.

    Base64 that is not base64 is returned as it was sent, with a problem recorded,
    so that nothing is lost. ``Content-Transfer-Encoding: base64 `` (trailing space)
    counts as base64.
    """
    payload = part.get_payload()
    if isinstance(payload, list):
        return b""
    if isinstance(payload, Message):
        return serialize(payload, problems, where)
    encoding = transfer_encoding(part)
    if encoding == "base64":
        return _decode_base64(
            payload.encode("utf-8", "surrogateescape"), problems, where
        )
    # For 7bit, 8bit, binary and unknown encodings this returns the bytes as sent;
    # it also undoes quoted-printable and x-uuencode.
    return part.get_payload(decode=True) or b""


def _decode_base64(raw: bytes, problems: list[str], where: str) -> bytes:
    # bytes.translate deletes in C; a regular expression here took a third of the
    # extraction time on large attachments.
    if raw.translate(None, _BASE64_ALPHABET + _WHITESPACE):
        problems.append(f"{where}: declared base64 but is not; kept as sent")
        return raw
    try:
        # Skips line breaks itself, so most parts decode without a copy.
        return binascii.a2b_base64(raw)
    except binascii.Error:
        pass
    # Senders drop the final padding; add it back.
    compact = raw.translate(None, _WHITESPACE).rstrip(b"=")
    try:
        if len(compact) % 4 == 1:
            raise binascii.Error("one character too many for base64")
        return base64.b64decode(compact + b"=" * (-len(compact) % 4))
    except binascii.Error:
        problems.append(f"{where}: invalid base64; kept as sent")
        return raw


def part_text(part: Message, problems: list[str], where: str) -> str:
    """Return a text part's content decoded with its declared charset."""
    data = payload_bytes(part, problems, where)
    return decode_bytes(data, part.get_param("charset"), problems, where)


def filename(part: Message) -> str:
    """Return the part's file name, "" when it has none or its parameter is empty.

    ``filename*=`` with no value makes Python's ``get_filename`` raise on some
    versions; the name parameter of Content-Type is the fallback.
    """
    for getter in (
        lambda: part.get_filename(),
        lambda: part.get_param("name"),
    ):
        try:
            value = getter()
        except (IndexError, ValueError, TypeError, LookupError):
            continue
        if isinstance(value, tuple):
            value = email.utils.collapse_rfc2231_value(value)
        if value and str(value).strip():
            return str(value).strip()
    return ""

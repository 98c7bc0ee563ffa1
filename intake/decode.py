"""Tolerant decoding of header values and body bytes.

Real phishing mislabels its charsets, breaks its encoded words and puts raw 8-bit
bytes in headers. Each function here returns the best reading it can and appends a
short description of every problem to ``problems``; none raises on bad input.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re

# Labels seen in real mail that Python's codec registry does not know, mapped to
# the codec that decodes them. ``ks_c_5601-1987`` is Microsoft's name for CP949.
_CHARSET_ALIASES = {
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "iso-8859-8-i": "iso-8859-8",
    "x-user-defined": "windows-1252",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "unicode-1-1-utf-7": "utf-7",
    "x-sjis": "shift_jis",
    "windows-874": "cp874",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
}

# RFC 2047 section 2: =?charset?encoding?encoded-text?= (RFC 2231 allows a
# "*language" suffix on the charset).
_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
# RFC 2047 section 6.2: whitespace between adjacent encoded words is not shown.
_BETWEEN_WORDS = re.compile(r"(\?=)[ \t\r\n]+(?==\?)")
_FOLD = re.compile(r"\r?\n[ \t]")


def codec_for(charset: str | None) -> str | None:
    """Return the Python codec name for a MIME charset label, or None if unknown."""
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def decode_bytes(
    data: bytes, charset: str | None, problems: list[str], where: str
) -> str:
    """Decode ``data`` declared as ``charset``; fall back to UTF-8, then cp1252.

    An unknown label (``uft-8``, ``x-unknown``) or bytes invalid in the declared
    charset are recorded in ``problems`` and decoded with replacement characters.
    """
    codec = codec_for(charset) if charset else "ascii"
    if codec is None:
        problems.append(f"{where}: unknown charset {charset[:40]!r}")
    if codec is not None:
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            if charset:
                problems.append(f"{where}: bytes invalid in charset {charset[:40]!r}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _b_decode(text: str) -> bytes:
    # Senders drop base64 padding; add it back so the bytes still decode.
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, validate=False)


def _decode_word(match: re.Match[str], problems: list[str], name: str) -> str:
    charset, encoding, payload = match.group(1), match.group(2), match.group(3)
    try:
        if encoding in "bB":
            data = _b_decode(payload)
        else:
            data = binascii.a2b_qp(payload.replace("_", " ").encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        problems.append(f"header {name}: invalid encoded word {match.group(0)[:60]!r}")
        return match.group(0)
    return decode_bytes(data, charset, problems, f"header {name}")


def raw_header_text(value: str, problems: list[str], name: str) -> str:
    """Turn a raw header value (raw 8-bit bytes kept as surrogates) into text."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        data = value.encode("utf-8", "surrogateescape")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"header {name}: raw 8-bit bytes decoded as cp1252")
            return data.decode("cp1252", errors="replace")
    return value


def decode_header(value: str, problems: list[str], name: str) -> str:
    """Decode a raw header value: unfold it, decode RFC 2047 words, trim it."""
    text = raw_header_text(_FOLD.sub(" ", value), problems, name)
    if "=?" in text:
        text = _BETWEEN_WORDS.sub(r"\1", text)
        text = _ENCODED_WORD.sub(lambda m: _decode_word(m, problems, name), text)
    return text.strip()

"""Reading an original that a reporter forwarded inline, quoted in the body.

Mail clients introduce the quoted message with a separator line ("-----Original
Message-----", "---------- Forwarded message ---------", "Begin forwarded message:",
an underscore rule) followed by a block of ``Name: value`` lines. What they quote is
a rendering: transport headers, Message-ID and attachments are gone, so a report
read this way always needs a reviewer's attention.
"""

from __future__ import annotations

import re
from email.message import Message

_SEPARATOR = re.compile(
    r"^[ \t>]*(?:-{2,}[ \t]*(?:original message|forwarded message)[ \t]*-{2,}"
    r"|begin forwarded message:|_{10,})[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_FIELD = re.compile(r"^[ \t>*]*([A-Za-z][A-Za-z -]{0,20}):[ \t*]*(.*)$")
_NAMES = {
    "from": "From",
    "sent": "Date",
    "date": "Date",
    "to": "To",
    "cc": "Cc",
    "subject": "Subject",
    "reply-to": "Reply-To",
}
# Outlook writes "Name [mailto:address]"; RFC 5322 wants "Name <address>".
_MAILTO = re.compile(r"\[mailto:([^\]\s]+)\]", re.IGNORECASE)
_MAX_FIELD_LINES = 12


def forwarded_message(body: str) -> Message | None:
    """Return the first inline-forwarded message of ``body``, or None if none."""
    match = _SEPARATOR.search(body)
    lines = body[match.end() :].splitlines() if match else body.splitlines()
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    fields, consumed = _read_fields(lines[start : start + _MAX_FIELD_LINES])
    if "From" not in fields or not (match or "Subject" in fields):
        return None
    # A plain Message stores the quoted values as they are, unparsed, so nothing
    # a sender wrote there can make building it fail.
    message = Message()
    for name, value in fields.items():
        message[name] = value
    message["Content-Type"] = "text/plain; charset=utf-8"
    text = "\n".join(lines[start + consumed :]).strip() + "\n"
    # Stored as the parser stores 8-bit bodies (bytes as surrogates), so that
    # decoding the payload returns the UTF-8 bytes declared above.
    message.set_payload(text.encode("utf-8").decode("ascii", "surrogateescape"))
    return message


def _read_fields(lines: list[str]) -> tuple[dict[str, str], int]:
    fields: dict[str, str] = {}
    consumed = 0
    for line in lines:
        found = _FIELD.match(line)
        if not found:
            break
        name = _NAMES.get(found.group(1).strip().lower())
        if name and name not in fields:
            value = _MAILTO.sub(r"<\1>", found.group(2)).strip()
            fields[name] = value.replace("\r", " ").replace("\n", " ")
        consumed += 1
    return fields, consumed

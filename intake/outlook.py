"""Outlook ``.msg`` files (OLE compound files) turned into RFC 5322 messages.

``extract-msg`` rebuilds a MIME message from the file's properties, using the
transport headers it kept when the message was received. An unsent or saved item
has none, so Subject and Date come from the file's properties instead.
"""

from __future__ import annotations

import logging
from email.message import Message
from email.utils import format_datetime

# Every OLE compound file, and so every .msg, starts with these 8 bytes.
OLE_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")

logger = logging.getLogger(__name__)


def is_outlook_file(data: bytes) -> bool:
    return data[:8] == OLE_SIGNATURE


def message_from_outlook(
    data: bytes, problems: list[str], where: str
) -> Message | None:
    """Return the .msg file ``data`` as a message, or None if it cannot be read."""
    import extract_msg  # imported here: it costs about a second at start-up
    from extract_msg.exceptions import ExMsgBaseException
    from olefile import olefile

    try:
        msg = extract_msg.openMsg(data, delayAttachments=False)
    except (ExMsgBaseException, olefile.OleFileError, OSError, ValueError) as error:
        problems.append(f"{where}: unreadable Outlook file ({type(error).__name__})")
        return None
    try:
        message = msg.asEmailMessage()
        _add_missing(message, "Subject", getattr(msg, "subject", None))
        date = getattr(msg, "date", None)
        if date is not None and hasattr(date, "tzinfo"):
            _add_missing(message, "Date", format_datetime(date))
        _add_missing(message, "Message-ID", getattr(msg, "messageId", None))
        return message
    except (ExMsgBaseException, OSError, ValueError, TypeError, KeyError) as error:
        problems.append(
            f"{where}: Outlook file not convertible ({type(error).__name__})"
        )
        return None
    finally:
        msg.close()


def _add_missing(message: Message, name: str, value: object) -> None:
    if value and name not in message:
        message[name] = str(value).replace("\r", " ").replace("\n", " ")

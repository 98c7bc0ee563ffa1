"""Messages that intake reads from a mailbox and the notifier sends through one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class InboundMessage:
    """One message of the reporting mailbox, as raw RFC 5322 bytes.

    ``mailbox_id`` is the mailbox's own id for the message (a file name, a Graph id);
    it may contain characters that are illegal in Table keys.
    """

    mailbox_id: str
    mime: bytes
    # Originals that the mailbox delivers apart from the MIME, such as Graph item
    # attachments fetched as MIME of their own.
    attached_originals: tuple[bytes, ...] = ()


@dataclass
class PollBatch:
    """New messages and the step that moves the mailbox's cursor past them.

    Call ``commit`` only after every message of the batch is stored, so that a crash
    before it makes the next poll return the same messages again.
    """

    messages: Sequence[InboundMessage]
    commit: Callable[[], None]


@dataclass(frozen=True)
class InlineImage:
    """An image the HTML body refers to as ``cid:<content_id>``."""

    content_id: str
    content_type: str
    data: bytes
    filename: str


@dataclass(frozen=True, kw_only=True)
class OutboundMessage:
    """A rendered notification, with headers already checked for CR/LF."""

    sender: str
    recipient: str
    recipient_name: str = ""
    subject: str
    html: str
    text: str
    message_id: str
    in_reply_to: str | None = None
    inline_images: tuple[InlineImage, ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = field(default=())


class Mailbox(Protocol):
    """A reporting mailbox that intake polls and the notifier sends through.

    A mailbox may also offer ``was_sent(message_id) -> bool``, which returns whether
    a message with that Message-ID went out. The notifier uses it after a crash
    between sending and recording, so that it neither loses nor repeats the email.
    """

    def poll(self) -> PollBatch:
        """Return the messages that arrived since the last committed poll."""
        ...

    def send(self, message: OutboundMessage) -> None:
        """Send ``message``.

        Raises TransientSendError when a later attempt may succeed and
        PermanentSendError when it cannot until an admin acts.
        """
        ...

"""The mailbox interface and its implementations: a local folder and Microsoft Graph."""

from mailboxes.base import (
    InboundMessage,
    InlineImage,
    Mailbox,
    OutboundMessage,
    PollBatch,
)
from mailboxes.errors import MailboxError, PermanentSendError, TransientSendError

__all__ = [
    "InboundMessage",
    "InlineImage",
    "Mailbox",
    "MailboxError",
    "OutboundMessage",
    "PermanentSendError",
    "PollBatch",
    "TransientSendError",
]

"""Errors raised by mailboxes."""


class MailboxError(Exception):
    """Base class of mailbox errors."""


class TransientSendError(MailboxError):
    """Sending failed in a way that may pass (throttling, 5xx, time-out)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(MailboxError):
    """Sending failed and will fail again until an admin changes something."""

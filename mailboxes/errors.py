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


class GraphRequestError(MailboxError):
    """A Microsoft Graph request failed or timed out.

    ``status`` is None when no HTTP response arrived (time-out, connection error);
    ``retry_after`` is the response's Retry-After in seconds, when it had one.
    """

    def __init__(
        self,
        operation: str,
        *,
        status: int | None,
        code: str,
        detail: str,
        retry_after: float | None = None,
    ) -> None:
        outcome = f"HTTP {status} {code}" if status is not None else code
        super().__init__(f"Graph {operation} failed: {outcome}: {detail}")
        self.operation = operation
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after = retry_after

"""When to try a failed send again, and how a retry waits in the queue.

The Functions queue trigger cannot delay its own message: a failed run becomes
visible again after ``host.json``'s ``visibilityTimeout`` and counts towards
``maxDequeueCount``. So the notifier does not raise a send error that may pass
later. It enqueues a new message with the wait as its visibility timeout and
finishes the run.
"""

from __future__ import annotations

import math

from storage import Storage

MAX_SEND_ATTEMPTS = 8
BASE_DELAY_SECONDS = 30
MAX_BACKOFF_SECONDS = 3600
# Azure Queue Storage accepts a visibility timeout of at most 7 days.
MAX_VISIBILITY_SECONDS = 7 * 24 * 3600


def retry_delay(attempts: int, retry_after: float | None) -> int:
    """Return the seconds to wait after the ``attempts``-th failed send.

    A server's Retry-After wins (rounded up, at most 7 days); otherwise the wait
    doubles from 30 s per attempt, up to one hour.
    """
    if retry_after is not None and retry_after >= 0:
        return min(math.ceil(retry_after), MAX_VISIBILITY_SECONDS)
    exponent = max(attempts - 1, 0)
    return min(BASE_DELAY_SECONDS * 2**exponent, MAX_BACKOFF_SECONDS)


def enqueue_notification(storage: Storage, text: str, *, delay_seconds: int) -> None:
    """Add a notification message that becomes visible after ``delay_seconds``."""
    storage.queue("notifications").send_message(
        text, visibility_timeout=max(delay_seconds, 0)
    )

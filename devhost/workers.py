"""The dev host's queue listener and timer, run on background threads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import azure.functions as func
from azure.core.exceptions import AzureError
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest
from azure.storage.queue import QueueClient

logger = logging.getLogger(__name__)

# The Functions host's defaults (host.json extensions.queues).
MAX_DEQUEUE_COUNT = 5
VISIBILITY_TIMEOUT_SECONDS = 30


def process_queue_once(
    queue: QueueClient,
    poison: QueueClient,
    function: Callable[[func.QueueMessage], None],
    *,
    max_messages: int = 16,
) -> int:
    """Run ``function`` on each visible message, as the Functions host does.

    A message whose function succeeds is deleted. A failing one becomes visible again
    after the visibility timeout; past MAX_DEQUEUE_COUNT it moves to the poison queue.
    Returns how many messages were handled.
    """
    handled = 0
    received = queue.receive_messages(
        messages_per_page=max_messages, visibility_timeout=VISIBILITY_TIMEOUT_SECONDS
    )
    for message in received:
        handled += 1
        body = message.content
        data = body.encode("utf-8") if isinstance(body, str) else body
        if message.dequeue_count > MAX_DEQUEUE_COUNT:
            poison.send_message(body)
            queue.delete_message(message)
            logger.warning("queue message %s moved to the poison queue", message.id)
            continue
        try:
            function(
                QueueMessage(
                    id=message.id,
                    body=data,
                    dequeue_count=message.dequeue_count,
                    pop_receipt=message.pop_receipt,
                )
            )
        except Exception:  # noqa: BLE001 - the one top-level catch of a trigger
            logger.exception("queue message %s failed; it will be retried", message.id)
            continue
        queue.delete_message(message)
        if handled >= max_messages:
            break
    return handled


def run_every(
    seconds: float, work: Callable[[], object], stop: threading.Event, name: str
) -> threading.Thread:
    """Call ``work`` every ``seconds`` on a daemon thread until ``stop`` is set."""

    def loop() -> None:
        while not stop.is_set():
            try:
                work()
            except AzureError as error:
                logger.warning("%s: storage error, retrying: %s", name, error)
            except Exception:  # noqa: BLE001 - the one top-level catch of a trigger
                logger.exception("%s failed", name)
            stop.wait(seconds)

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread


def fire_timer(function: Callable[[func.TimerRequest], None]) -> None:
    function(TimerRequest(past_due=False))

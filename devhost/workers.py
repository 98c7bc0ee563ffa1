"""The dev host's queue listener and timer, run on background threads."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import azure.functions as func
from azure.core.exceptions import AzureError, HttpResponseError, ResourceNotFoundError
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest
from azure.storage.queue import QueueClient
from azure.storage.queue import QueueMessage as StorageQueueMessage

logger = logging.getLogger(__name__)

HOST_JSON = Path(__file__).resolve().parent.parent / "host.json"
# The Functions host keeps a message it is running invisible for 10 minutes and
# renews that while the function runs. The dev host runs one message at a time,
# so it uses a fixed lease of the same length instead.
RUN_VISIBILITY_SECONDS = 600


@dataclass(frozen=True)
class QueueOptions:
    """The host.json ``extensions.queues`` settings the dev host honours."""

    max_dequeue_count: int = 5
    # Wait before a failed message is visible again; the host's default is 0.
    visibility_timeout_seconds: int = 0


def _seconds(timespan: str) -> int:
    hours, minutes, seconds = timespan.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + int(float(seconds))


def load_queue_options(path: Path = HOST_JSON) -> QueueOptions:
    """Read ``extensions.queues`` from host.json, with the host's defaults."""
    data = json.loads(path.read_text("utf-8"))
    queues = data.get("extensions", {}).get("queues", {})
    defaults = QueueOptions()
    return QueueOptions(
        max_dequeue_count=int(
            queues.get("maxDequeueCount", defaults.max_dequeue_count)
        ),
        visibility_timeout_seconds=_seconds(queues.get("visibilityTimeout", "0:0:0")),
    )


def _move_to_poison(
    queue: QueueClient, poison: QueueClient, message: StorageQueueMessage
) -> None:
    poison.send_message(message.content)
    _delete(queue, message)
    logger.warning(
        "queue message %s reached dequeue count %s; moved to %s",
        message.id,
        message.dequeue_count,
        poison.queue_name,
    )


def _delete(queue: QueueClient, message: StorageQueueMessage) -> None:
    try:
        queue.delete_message(message)
    except (ResourceNotFoundError, HttpResponseError) as error:
        # Like the host: a changed pop receipt means another run took the message
        # over, and a missing message is already gone.
        logger.debug("queue message %s not deleted: %s", message.id, error)


def _release(queue: QueueClient, message: StorageQueueMessage, seconds: int) -> None:
    try:
        queue.update_message(message, visibility_timeout=seconds)
    except (ResourceNotFoundError, HttpResponseError) as error:
        logger.debug("queue message %s not released: %s", message.id, error)


def process_queue_once(
    queue: QueueClient,
    poison: QueueClient,
    function: Callable[[func.QueueMessage], None],
    *,
    max_messages: int = 16,
    options: QueueOptions | None = None,
    run_visibility_seconds: int = RUN_VISIBILITY_SECONDS,
) -> int:
    """Run ``function`` on each visible message, as the Functions host does.

    A message whose function returns is deleted. One whose function raises becomes
    visible again after ``options.visibility_timeout_seconds``, unless its dequeue
    count has reached ``options.max_dequeue_count``: then it is copied to
    ``poison`` and deleted. A message dequeued more often than that (its runs
    crashed) goes to ``poison`` without a run. Returns how many messages were
    received.
    """
    options = options or load_queue_options()
    received = list(
        queue.receive_messages(
            messages_per_page=max_messages,
            max_messages=max_messages,
            visibility_timeout=run_visibility_seconds,
        )
    )
    for message in received:
        if message.dequeue_count > options.max_dequeue_count:
            _move_to_poison(queue, poison, message)
            continue
        if _run(function, message):
            _delete(queue, message)
        elif message.dequeue_count >= options.max_dequeue_count:
            _move_to_poison(queue, poison, message)
        else:
            _release(queue, message, options.visibility_timeout_seconds)
    return len(received)


def _run(
    function: Callable[[func.QueueMessage], None], message: StorageQueueMessage
) -> bool:
    body = message.content
    data = body.encode("utf-8") if isinstance(body, str) else body
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
        logger.exception(
            "queue message %s failed on dequeue %s", message.id, message.dequeue_count
        )
        return False
    return True


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

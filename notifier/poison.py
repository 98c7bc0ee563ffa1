"""Mark a delivery ``failed`` when its queue message lands on the poison queue.

The Functions host moves a message there after ``maxDequeueCount`` failed runs
(``host.json``). Without this handler the delivery would stay ``queued`` or
``sending`` and no admin would see that the reporter never heard back.
"""

from __future__ import annotations

import logging

from notifier.deliveries import FINAL_STATUSES, Delivery, DeliveryStatus, DeliveryStore
from notifier.service import InvalidQueueMessage, parse_queue_message
from storage import Storage

logger = logging.getLogger(__name__)

POISON_REASON = "the queue gave up on the notification after repeated errors"
POISON_WHILE_SENDING_REASON = (
    POISON_REASON + "; the last run stopped while sending, so the email may have "
    "gone out: check the sender's sent messages before retrying"
)


def handle_poison_message(
    body: bytes | str, *, storage: Storage, message_id: str = ""
) -> DeliveryStatus | None:
    """Record the delivery of a poisoned message as failed; return its status.

    Returns None for a message that is not a notification request. Raises
    DeliveryConflict when another run wrote the delivery first, so that the
    poison queue runs the message again.
    """
    try:
        request = parse_queue_message(body)
    except InvalidQueueMessage as error:
        logger.warning("poison message %s is not a notification: %s", message_id, error)
        return None
    deliveries = DeliveryStore(storage)
    delivery = deliveries.get(request.report_id, request.verdict_version)
    if delivery is None:
        delivery = Delivery(
            report_id=request.report_id,
            verdict_version=request.verdict_version,
            status=DeliveryStatus.QUEUED,
        )
    if delivery.status in FINAL_STATUSES:
        logger.info(
            "report %s version %s already %s; poison message %s ignored",
            request.report_id,
            request.verdict_version,
            delivery.status.value,
            message_id,
        )
        return delivery.status
    if (
        delivery.status == DeliveryStatus.QUEUED
        and request.attempt <= delivery.attempts
    ):
        # An older copy of a retried message: the newer copy is still scheduled.
        logger.info(
            "report %s version %s: poison message %s is for attempt %s; ignored",
            request.report_id,
            request.verdict_version,
            message_id,
            request.attempt,
        )
        return delivery.status
    sending = delivery.status == DeliveryStatus.SENDING
    delivery.reason = POISON_WHILE_SENDING_REASON if sending else POISON_REASON
    delivery.status = DeliveryStatus.FAILED
    delivery.next_attempt_at = None
    deliveries.save(delivery)
    logger.warning(
        "report %s version %s notification failed: message %s is on the poison queue",
        request.report_id,
        request.verdict_version,
        message_id,
    )
    return delivery.status

"""Enqueue notifications that a verdict requested but that never reached the queue.

Marking a verdict writes the report row, then enqueues the notification. Storage
offers no transaction across a table and a queue, so a crash or a storage error in
between would lose the notification, and marking the same verdict again changes
nothing. The report row records the requested version (``notify_version``), and
this sweep, run after each mailbox poll, enqueues every requested version that has
no delivery record yet.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from notifier.deliveries import Delivery, DeliveryStatus, DeliveryStore
from notifier.errors import DeliveryConflict
from notifier.retries import enqueue_notification
from notifier.service import NotificationRequest, queue_message_text
from storage import Storage
from verdicts.store import ReportStore

logger = logging.getLogger(__name__)

# Verdicts younger than this may still have their message in the queue.
GRACE_SECONDS = 120
# Verdicts older than this are not looked at again, so the sweep stays small.
LOOKBACK = timedelta(days=2)


def enqueue_missing_notifications(
    storage: Storage,
    *,
    now: datetime | None = None,
    grace_seconds: float | None = None,
) -> int:
    """Enqueue each requested notification without a delivery; return the count.

    A verdict younger than ``grace_seconds`` (default GRACE_SECONDS) is left
    alone. Its message may still be waiting in the queue, and a spare message
    would be harmless but wasted.
    """
    now = now or datetime.now(timezone.utc)
    grace = GRACE_SECONDS if grace_seconds is None else grace_seconds
    cutoff = now - timedelta(seconds=grace)
    deliveries = DeliveryStore(storage)
    since = now - LOOKBACK
    requested = [
        report
        for report in ReportStore(storage).iter_notify_requested(since)
        if report.verdict_at is not None and report.verdict_at <= cutoff
    ]
    # A delivery is written after its verdict, so one query finds every delivery
    # of the verdicts looked at, instead of one read per report. It runs second,
    # so that a delivery written meanwhile is seen.
    delivered = deliveries.keys_updated_since(since)
    enqueued = 0
    for report in requested:
        if (report.id, report.verdict_version) in delivered:
            continue
        if _enqueue(storage, deliveries, report.id, report.verdict_version):
            enqueued += 1
    return enqueued


def _enqueue(
    storage: Storage, deliveries: DeliveryStore, report_id: str, version: int
) -> bool:
    request = NotificationRequest(report_id, version)
    enqueue_notification(storage, queue_message_text(request), delay_seconds=0)
    # The record keeps the next sweep from enqueuing the same version again.
    delivery = Delivery(
        report_id=report_id,
        verdict_version=version,
        status=DeliveryStatus.QUEUED,
        reason="enqueued by the sweep for notifications lost before the queue",
    )
    try:
        deliveries.save(delivery)
    except DeliveryConflict:
        # The original message was handled meanwhile; the spare one is ignored.
        return True
    logger.warning(
        "report %s version %s: notification was never enqueued; enqueued now",
        report_id,
        version,
    )
    return True

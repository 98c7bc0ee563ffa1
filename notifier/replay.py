"""A reviewer's retry of a failed notification."""

from __future__ import annotations

import logging

from notifier.deliveries import Delivery, DeliveryStatus, DeliveryStore
from notifier.errors import NotRetryable
from notifier.retries import enqueue_notification
from notifier.service import NotificationRequest, queue_message_text
from storage import Storage
from verdicts.store import ReportStore

logger = logging.getLogger(__name__)


def retry_delivery(storage: Storage, report_id: str, *, actor: str) -> Delivery:
    """Queue the failed notification of the report's current verdict again.

    Raises ReportNotFound, and NotRetryable unless the current verdict version has
    a ``failed`` delivery. Raises DeliveryConflict when another request changed
    the delivery first.
    """
    reports = ReportStore(storage)
    report = reports.get(report_id).report
    version = report.verdict_version
    if version == 0:
        raise NotRetryable(f"report {report_id!r} has no verdict to notify")
    deliveries = DeliveryStore(storage)
    delivery = deliveries.get(report_id, version)
    if delivery is None:
        raise NotRetryable(
            f"report {report_id!r} has no notification for verdict version {version}"
        )
    if delivery.status != DeliveryStatus.FAILED:
        raise NotRetryable(
            f"notification of report {report_id!r} version {version} is "
            f"{delivery.status.value}; only a failed notification can be retried"
        )
    previous_reason = delivery.reason
    request = NotificationRequest(report_id, version, delivery.attempts + 1)
    # Enqueue first: if the record below fails, the message finds the delivery
    # still failed and does nothing, rather than the delivery waiting forever.
    enqueue_notification(storage, queue_message_text(request), delay_seconds=0)
    delivery.status = DeliveryStatus.QUEUED
    delivery.reason = ""
    delivery.next_attempt_at = None
    deliveries.save(delivery)
    reports.add_audit(
        subject=report_id,
        action="notification_retry",
        actor=actor,
        version=version,
        previous_reason=previous_reason,
    )
    logger.info("report %s version %s notification queued again", report_id, version)
    return delivery

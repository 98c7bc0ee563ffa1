"""Handle one notification request from the queue: render, send, record.

Order of one send, chosen so that a crash at any point costs at most one email:
the delivery is first claimed as ``sending`` with the new message's Message-ID,
then sent, then recorded ``sent``. A crash before the send leaves a claim that a
later run of the message takes over. After a crash that follows the send, the
later run asks the mailbox for that Message-ID and records ``sent`` instead of
sending again. A mailbox that cannot look it up gets the delivery marked
``failed`` with a reason saying the email may have gone out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from mailboxes import (
    Mailbox,
    OutboundMessage,
    PermanentSendError,
    TransientSendError,
)
from notifier.compose import compose_notification, mailbox_domains
from notifier.deliveries import (
    FINAL_STATUSES,
    Delivery,
    DeliveryStatus,
    DeliveryStore,
)
from notifier.errors import DeliveryBusy, DeliveryConflict, NotifierError
from notifier.retries import MAX_SEND_ATTEMPTS, enqueue_notification, retry_delay
from notifier.settings import is_accepted_address
from storage import Storage
from verdicts.errors import ReportNotFound
from verdicts.model import Report
from verdicts.store import ReportStore

logger = logging.getLogger(__name__)

# A claim older than this is taken over by any run. The Functions host keeps a
# running message invisible and renews it, so only a crashed run leaves one behind.
SEND_CLAIM_SECONDS = 600
INTERRUPTED_REASON = (
    "a run stopped between claiming and recording the send, and the mailbox cannot "
    "tell whether the email went out; check the sender's sent messages before "
    "retrying"
)


class InvalidQueueMessage(NotifierError):
    """A queue message is not ``{"report_id": str, "verdict_version": int}``."""


@dataclass(frozen=True)
class NotificationRequest:
    """One queue message: send the result of ``verdict_version``.

    ``attempt`` is the send attempt the message is for (1 unless it is a retry), so
    that an older copy of a retried message is recognised and ignored.
    """

    report_id: str
    verdict_version: int
    attempt: int = 1


@dataclass(frozen=True)
class QueueRun:
    """One run of a queue message: its id and its dequeue count."""

    message_id: str = ""
    dequeue_count: int = 0

    @property
    def claim_name(self) -> str:
        return f"{self.message_id}#{self.dequeue_count}"


def parse_queue_message(body: bytes | str) -> NotificationRequest:
    try:
        data = json.loads(body)
        report_id = data["report_id"]
        version = data["verdict_version"]
        attempt = data.get("attempt", 1)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise InvalidQueueMessage(f"queue message is invalid: {error}") from None
    if not isinstance(report_id, str) or not isinstance(version, int):
        raise InvalidQueueMessage(
            "queue message is invalid: expected a string report_id and an "
            "integer verdict_version"
        )
    if not isinstance(attempt, int) or isinstance(attempt, bool) or attempt < 1:
        raise InvalidQueueMessage(
            f"queue message is invalid: attempt {attempt!r} is not a positive integer"
        )
    return NotificationRequest(report_id, version, attempt)


def queue_message_text(request: NotificationRequest) -> str:
    """Return the queue message text that ``parse_queue_message`` reads back."""
    return json.dumps(
        {
            "report_id": request.report_id,
            "verdict_version": request.verdict_version,
            "attempt": request.attempt,
        }
    )


def build_notification(
    report: Report,
    *,
    storage: Storage,
    default_sender: str,
    accepted_domains: Sequence[str] = (),
    mailbox: Mailbox | None = None,
) -> OutboundMessage:
    """Render the notification of the current verdict, with a new Message-ID."""
    return compose_notification(
        report,
        storage=storage,
        default_sender=default_sender,
        accepted_domains=accepted_domains,
        mailbox=mailbox,
    )


def handle_notification(
    request: NotificationRequest,
    *,
    storage: Storage,
    mailbox: Mailbox,
    default_sender: str,
    accepted_domains: Sequence[str] = (),
    run: QueueRun | None = None,
) -> DeliveryStatus:
    """Send the notification of one verdict version unless it is outdated or done.

    A send that may pass later is scheduled again through the queue (see
    ``notifier.retries``) rather than raised. Raises DeliveryBusy while another run
    has claimed the delivery, and storage errors as they come, so that the queue
    runs the message again.
    """
    try:
        report = ReportStore(storage).get(request.report_id).report
    except ReportNotFound:
        logger.warning("report %s not found; notification dropped", request.report_id)
        return DeliveryStatus.FAILED
    deliveries = DeliveryStore(storage)
    delivery = deliveries.get(request.report_id, request.verdict_version) or Delivery(
        report_id=request.report_id,
        verdict_version=request.verdict_version,
        status=DeliveryStatus.QUEUED,
    )
    try:
        return _advance(
            request,
            report,
            delivery,
            deliveries,
            storage=storage,
            mailbox=mailbox,
            default_sender=default_sender,
            accepted_domains=accepted_domains,
            run=run or QueueRun(),
        )
    except DeliveryConflict as error:
        raise DeliveryBusy(str(error)) from None


def _advance(
    request: NotificationRequest,
    report: Report,
    delivery: Delivery,
    deliveries: DeliveryStore,
    *,
    storage: Storage,
    mailbox: Mailbox,
    default_sender: str,
    accepted_domains: Sequence[str],
    run: QueueRun,
) -> DeliveryStatus:
    if delivery.status in FINAL_STATUSES:
        logger.info(
            "report %s version %s already %s; message ignored",
            report.id,
            delivery.verdict_version,
            delivery.status.value,
        )
        return delivery.status
    if report.verdict_version != request.verdict_version or report.verdict is None:
        delivery.status = DeliveryStatus.SUPERSEDED
        delivery.reason = f"verdict version {report.verdict_version} replaced it"
        deliveries.save(delivery)
        logger.info(
            "report %s version %s superseded", report.id, request.verdict_version
        )
        return delivery.status
    if (
        delivery.status == DeliveryStatus.QUEUED
        and request.attempt <= delivery.attempts
    ):
        logger.info(
            "report %s version %s: attempt %s was made already; message ignored",
            report.id,
            request.verdict_version,
            request.attempt,
        )
        return delivery.status
    if delivery.status == DeliveryStatus.SENDING:
        recovered = _recover_claim(delivery, deliveries, mailbox, run)
        if recovered is not None:
            return recovered
    if not report.reporter_address:
        return _record_failed(
            delivery, deliveries, "the report has no reporter address to notify"
        )
    if accepted_domains and not is_accepted_address(
        report.reporter_address, (*accepted_domains, *mailbox_domains(mailbox))
    ):
        # Anyone can write to the reporting mailbox, so only reporters of the
        # organization get mail. The app always passes its accepted domains.
        return _record_failed(
            delivery,
            deliveries,
            "the reporter's address is outside the organization's domains "
            "(REPORTBACK_ACCEPTED_DOMAINS and the tenant's verified domains); "
            "no notification was sent",
        )
    message = build_notification(
        report,
        storage=storage,
        default_sender=default_sender,
        accepted_domains=accepted_domains,
        mailbox=mailbox,
    )
    _claim(delivery, deliveries, message, run)
    return _send(delivery, deliveries, message, storage=storage, mailbox=mailbox)


def _claim_abandoned(delivery: Delivery, run: QueueRun, now: datetime) -> bool:
    """Return whether the run that set ``sending`` is over without recording it.

    The host runs a message again only after its earlier run failed or died, so a
    claim by an earlier run of the same message is abandoned at once.
    """
    holder, _, holder_count = delivery.claimed_by.rpartition("#")
    same_message = bool(run.message_id) and holder == run.message_id
    if same_message and holder_count.isdigit():
        if run.dequeue_count > int(holder_count):
            return True
    return _claim_expired(delivery, now)


def _claim_expired(delivery: Delivery, now: datetime) -> bool:
    if delivery.claimed_at is None:
        return True
    return now - delivery.claimed_at >= timedelta(seconds=SEND_CLAIM_SECONDS)


def _sent_before(mailbox: Mailbox, message_id: str) -> bool | None:
    """Ask the mailbox whether ``message_id`` went out; None when it cannot tell."""
    # An optional mailbox method. The folder mailbox has it, and a mailbox
    # without it cannot tell.
    was_sent = getattr(mailbox, "was_sent", None)
    if was_sent is None or not message_id:
        return None
    return was_sent(message_id)


def _recover_claim(
    delivery: Delivery, deliveries: DeliveryStore, mailbox: Mailbox, run: QueueRun
) -> DeliveryStatus | None:
    """Settle a ``sending`` delivery left by another run; None means send again."""
    if not _claim_abandoned(delivery, run, datetime.now(timezone.utc)):
        raise DeliveryBusy(
            f"report {delivery.report_id!r} version {delivery.verdict_version} is "
            f"being sent by queue run {delivery.claimed_by!r}"
        )
    sent = _sent_before(mailbox, delivery.message_id)
    logger.warning(
        "report %s version %s: taking over an interrupted send (found sent: %s)",
        delivery.report_id,
        delivery.verdict_version,
        sent,
    )
    if sent is True:
        return _record_sent(delivery, deliveries)
    if sent is None:
        return _record_failed(delivery, deliveries, INTERRUPTED_REASON)
    return None


def _claim(
    delivery: Delivery,
    deliveries: DeliveryStore,
    message: OutboundMessage,
    run: QueueRun,
) -> None:
    delivery.status = DeliveryStatus.SENDING
    delivery.attempts += 1
    delivery.sender = message.sender
    delivery.message_id = message.message_id
    delivery.claimed_by = run.claim_name
    delivery.claimed_at = datetime.now(timezone.utc)
    delivery.next_attempt_at = None
    deliveries.save(delivery)


def _send(
    delivery: Delivery,
    deliveries: DeliveryStore,
    message: OutboundMessage,
    *,
    storage: Storage,
    mailbox: Mailbox,
) -> DeliveryStatus:
    try:
        mailbox.send(message)
    except PermanentSendError as error:
        delivery.last_error = str(error)
        return _record_failed(delivery, deliveries, f"send failed: {error}")
    except TransientSendError as error:
        return _schedule_retry(delivery, deliveries, error, storage=storage)
    return _record_sent(delivery, deliveries)


def _record_sent(delivery: Delivery, deliveries: DeliveryStore) -> DeliveryStatus:
    delivery.status = DeliveryStatus.SENT
    delivery.reason = ""
    delivery.next_attempt_at = None
    deliveries.save(delivery)
    logger.info(
        "report %s version %s notification sent (attempt %s)",
        delivery.report_id,
        delivery.verdict_version,
        delivery.attempts,
    )
    return delivery.status


def _record_failed(
    delivery: Delivery, deliveries: DeliveryStore, reason: str
) -> DeliveryStatus:
    delivery.status = DeliveryStatus.FAILED
    delivery.reason = reason
    delivery.next_attempt_at = None
    deliveries.save(delivery)
    # The reason can quote a server's error about the recipient, so it stays
    # in the delivery record and out of the log.
    logger.warning(
        "report %s version %s notification failed after %s attempts",
        delivery.report_id,
        delivery.verdict_version,
        delivery.attempts,
    )
    return delivery.status


def _schedule_retry(
    delivery: Delivery,
    deliveries: DeliveryStore,
    error: TransientSendError,
    *,
    storage: Storage,
) -> DeliveryStatus:
    delivery.last_error = str(error)
    if delivery.attempts >= MAX_SEND_ATTEMPTS:
        return _record_failed(
            delivery,
            deliveries,
            f"gave up after {delivery.attempts} attempts; last error: {error}",
        )
    # NOTE: a timed-out send may have been accepted. Without ``was_sent`` on the
    # mailbox (the Graph mailbox has none), this retry can send a second email.
    delay = retry_delay(delivery.attempts, error.retry_after)
    retry = NotificationRequest(
        delivery.report_id, delivery.verdict_version, delivery.attempts + 1
    )
    # Enqueue before recording. A crash in between then leaves a spare message,
    # which its attempt number makes harmless, and never a delivery left queued
    # with no message.
    enqueue_notification(storage, queue_message_text(retry), delay_seconds=delay)
    delivery.status = DeliveryStatus.QUEUED
    delivery.next_attempt_at = datetime.now(timezone.utc) + timedelta(seconds=delay)
    deliveries.save(delivery)
    logger.warning(
        "report %s version %s attempt %s failed (%s); retry in %s s",
        delivery.report_id,
        delivery.verdict_version,
        delivery.attempts,
        type(error).__name__,
        delay,
    )
    return delivery.status

"""Handle one notification request from the queue: render, send, record."""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from mailboxes import (
    InlineImage,
    Mailbox,
    OutboundMessage,
    PermanentSendError,
    TransientSendError,
)
from notifier.deliveries import Delivery, DeliveryStatus, DeliveryStore
from notifier.errors import NotifierError
from notifier.render import TEMPLATES_DIR, render_notification, single_line
from storage import Storage
from verdicts.errors import ReportNotFound
from verdicts.store import ReportStore

logger = logging.getLogger(__name__)

LOGO_CID = "reportback-logo"


class InvalidQueueMessage(NotifierError):
    """A queue message is not ``{"report_id": str, "verdict_version": int}``."""


@dataclass(frozen=True)
class NotificationRequest:
    report_id: str
    verdict_version: int


def parse_queue_message(body: bytes | str) -> NotificationRequest:
    try:
        data = json.loads(body)
        report_id = data["report_id"]
        version = data["verdict_version"]
    except (ValueError, TypeError, KeyError) as error:
        raise InvalidQueueMessage(f"queue message is invalid: {error}") from None
    if not isinstance(report_id, str) or not isinstance(version, int):
        raise InvalidQueueMessage(
            "queue message is invalid: expected a string report_id and an "
            "integer verdict_version"
        )
    return NotificationRequest(report_id, version)


def _default_logo() -> InlineImage:
    data = (TEMPLATES_DIR / "logo.png").read_bytes()
    return InlineImage(LOGO_CID, "image/png", data, Path("logo.png").name)


_MESSAGE_ID = re.compile(r"<[!-;=?-~]{1,250}@[!-;=?-~]{1,250}>")


def _reference(message_id: str) -> str | None:
    """Return ``message_id`` if it is a plain RFC 5322 msg-id, safe for a header."""
    return message_id if _MESSAGE_ID.fullmatch(message_id) else None


def _message_domain(sender: str) -> str:
    return sender.rpartition("@")[2] or "reportback.invalid"


def handle_notification(
    request: NotificationRequest,
    *,
    storage: Storage,
    mailbox: Mailbox,
    default_sender: str,
) -> DeliveryStatus:
    """Send the notification for one verdict version unless it is outdated or sent.

    Raises TransientSendError so that the queue retries the message later.
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
    if delivery.status in (DeliveryStatus.SENT, DeliveryStatus.SUPERSEDED):
        logger.info(
            "report %s version %s already %s",
            report.id,
            request.verdict_version,
            delivery.status.value,
        )
        return delivery.status
    if report.verdict_version != request.verdict_version or report.verdict is None:
        delivery.status = DeliveryStatus.SUPERSEDED
        deliveries.save(delivery)
        logger.info(
            "report %s version %s superseded", report.id, request.verdict_version
        )
        return delivery.status
    if not report.reporter_address:
        delivery.status = DeliveryStatus.FAILED
        delivery.reason = "the report has no reporter address to notify"
        deliveries.save(delivery)
        return delivery.status

    logo = _default_logo()
    rendered = render_notification(report, report.verdict, logo_cid=logo.content_id)
    sender = default_sender
    message = OutboundMessage(
        sender=sender,
        recipient=report.reporter_address,
        recipient_name=single_line(report.reporter_name, 100),
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        message_id=f"<{uuid.uuid4().hex}@{_message_domain(sender)}>",
        in_reply_to=_reference(report.wrapper_message_id),
        inline_images=(logo,),
        extra_headers=(("Auto-Submitted", "auto-generated"),),
    )
    delivery.attempts += 1
    delivery.status = DeliveryStatus.SENDING
    delivery.sender = sender
    delivery.message_id = message.message_id
    deliveries.save(delivery)
    try:
        mailbox.send(message)
    except PermanentSendError as error:
        delivery.status = DeliveryStatus.FAILED
        delivery.reason = str(error)
        deliveries.save(delivery)
        logger.warning("report %s notification failed: %s", report.id, error)
        return delivery.status
    except TransientSendError as error:
        delivery.status = DeliveryStatus.QUEUED
        delivery.reason = str(error)
        deliveries.save(delivery)
        raise
    delivery.status = DeliveryStatus.SENT
    delivery.reason = ""
    deliveries.save(delivery)
    logger.info(
        "report %s version %s notification sent", report.id, request.verdict_version
    )
    return delivery.status

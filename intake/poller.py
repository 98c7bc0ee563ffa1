"""One poll of the reporting mailbox: store every new message as a report.

Order per message: raw MIME to Blob Storage, then the report row. The mailbox cursor
moves only after the whole batch is stored, so a crash at any step is completed by
the next poll, and report ids derived from the message make that poll idempotent.
A blob lease (``intake.lease``) keeps two polls from running at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from azure.core.exceptions import ResourceNotFoundError

from intake.lease import PollLease, poll_lease
from intake.parser import content_id_for, parse_report, report_id_for
from mailboxes import InboundMessage, Mailbox
from storage import Storage
from verdicts.model import ParseStatus, Report
from verdicts.store import ReportStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollResult:
    seen: int
    created: int
    # True when another poll held the lease, so this one did nothing.
    skipped: bool = False


def _parse(message: InboundMessage, report_id: str, blob_name: str) -> Report:
    received_at = datetime.now(timezone.utc)
    try:
        report = parse_report(
            message.mime,
            report_id=report_id,
            received_at=received_at,
            mailbox_id=message.mailbox_id,
            attached_originals=message.attached_originals,
        )
    except Exception as error:  # noqa: BLE001 - a parser bug must not lose a report
        logger.exception("report %s could not be parsed", report_id)
        report = Report(
            id=report_id,
            received_at=received_at,
            mailbox_id=message.mailbox_id,
            parse_status=ParseStatus.NEEDS_ATTENTION,
            problems=[f"parser failed: {type(error).__name__}: {error}"],
        )
    report.raw_blob = blob_name
    return report


def _same_raw(storage: Storage, report_id: str, mime: bytes) -> bool:
    """Tell whether the stored raw MIME of ``report_id`` is ``mime``, byte for byte.

    A missing blob counts as the same message, so a re-poll never duplicates.
    """
    try:
        stored = (
            storage.container("raw-reports").download_blob(f"{report_id}.eml").readall()
        )
    except ResourceNotFoundError:
        logger.warning("report %s has no raw MIME blob to compare", report_id)
        return True
    return stored == mime


def store_message(
    message: InboundMessage, storage: Storage, reports: ReportStore
) -> bool:
    """Store one message's raw MIME and its report; return whether the report is new."""
    report_id = report_id_for(message.mime)
    reused_by: str | None = None
    if reports.exists(report_id):
        if _same_raw(storage, report_id, message.mime):
            logger.debug("report %s already stored", report_id)
            return False
        # Another message carries the same Message-ID (forged, or a sender's bug).
        # It is kept under an id from its bytes rather than dropped as a re-poll.
        reused_by, report_id = report_id, content_id_for(message.mime)
        if reports.exists(report_id):
            logger.debug("report %s already stored", report_id)
            return False
    blob_name = f"{report_id}.eml"
    storage.container("raw-reports").upload_blob(
        blob_name, message.mime, overwrite=True
    )
    report = _parse(message, report_id, blob_name)
    if reused_by is not None:
        report.parse_status = ParseStatus.NEEDS_ATTENTION
        report.problems = [
            *report.problems,
            f"its Message-ID is also on report {reused_by}, whose content differs",
        ]
    created = reports.add(report)
    if created:
        logger.info(
            "report %s stored: status=%s kind=%s",
            report_id,
            report.parse_status.value,
            report.kind.value,
        )
    return created


def poll_once(mailbox: Mailbox, storage: Storage) -> PollResult:
    """Store every message of one mailbox poll, then move the mailbox's cursor.

    Skips the poll when another one holds the poll lease.
    """
    with poll_lease(storage) as lease:
        if lease is None:
            logger.info("poll skipped: another poll holds the lease")
            return PollResult(seen=0, created=0, skipped=True)
        return _store_batch(mailbox, storage, lease)


def _store_batch(mailbox: Mailbox, storage: Storage, lease: PollLease) -> PollResult:
    batch = mailbox.poll()
    reports = ReportStore(storage)
    created = 0
    for message in batch.messages:
        lease.keep()
        if store_message(message, storage, reports):
            created += 1
    # A poll that lost its lease stops here, before the cursor moves.
    lease.keep()
    batch.commit()
    return PollResult(seen=len(batch.messages), created=created)

"""Recording a verdict: the report row, its audit entry and the notification."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from storage import Storage
from verdicts.audit import AuditLog
from verdicts.errors import Conflict
from verdicts.model import Report, Verdict
from verdicts.rules import check_can_mark
from verdicts.store import ReportStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MarkResult:
    report: Report
    etag: str
    changed: bool
    notified: bool


def notification_message(report_id: str, verdict_version: int) -> str:
    """Return the queue message text that requests one result notification."""
    return json.dumps({"report_id": report_id, "verdict_version": verdict_version})


def mark_report(
    storage: Storage,
    report_id: str,
    verdict: Verdict,
    *,
    actor: str,
    if_match: str | None = None,
    notify: bool = True,
    comment: str = "",
) -> MarkResult:
    """Record ``verdict`` on a report and enqueue the reporter's notification.

    Raises ReportNotFound, NotAllowed, or Conflict when ``if_match`` is stale, the
    report cannot be marked, or another reviewer wrote first.
    """
    reports = ReportStore(storage)
    stored = reports.get(report_id)
    report = stored.report
    if if_match is not None and if_match not in (stored.etag, "*"):
        raise Conflict(
            f"report {report_id!r} changed since the ETag in If-Match; reload it"
        )
    check_can_mark(report, verdict)
    if report.verdict == verdict:
        return MarkResult(report, stored.etag, changed=False, notified=False)

    previous = report.verdict
    apply_verdict(report, verdict, actor=actor, notify=notify)
    etag = reports.replace(report, etag=stored.etag)
    record_mark(storage, report, previous, actor=actor, comment=comment, notify=notify)
    return MarkResult(report, etag, changed=True, notified=notify)


def apply_verdict(
    report: Report, verdict: Verdict, *, actor: str, notify: bool
) -> None:
    """Set ``verdict`` on the in-memory ``report`` and bump its verdict version.

    With ``notify``, the new version is also recorded as the one whose notification
    was requested, so that a notification lost before the queue is sent later.
    """
    report.verdict = verdict
    report.verdict_version += 1
    report.verdict_at = datetime.now(timezone.utc)
    report.verdict_by = actor
    if notify:
        report.notify_version = report.verdict_version


def record_mark(
    storage: Storage,
    report: Report,
    previous: Verdict | None,
    *,
    actor: str,
    comment: str,
    notify: bool,
) -> None:
    """Write the audit entry of a stored mark and enqueue the reporter's notification.

    The report row is written first, so a crash before this call leaves a marked
    report without its audit entry or notification.
    """
    AuditLog(storage).add(
        subject=report.id,
        action="verdict",
        actor=actor,
        old=previous.value if previous else None,
        new=report.verdict.value if report.verdict else None,
        version=report.verdict_version,
        comment=comment,
        notify=notify,
    )
    if notify:
        storage.queue("notifications").send_message(
            notification_message(report.id, report.verdict_version)
        )
    logger.info(
        "report %s marked %s (version %s)",
        report.id,
        report.verdict.value if report.verdict else None,
        report.verdict_version,
    )


__all__ = [
    "Conflict",
    "MarkResult",
    "apply_verdict",
    "mark_report",
    "notification_message",
    "record_mark",
]

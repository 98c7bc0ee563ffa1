"""Marking many reports with one verdict, with a result per report.

Reports are read in chunks and checked one by one against the review rules. The
changed ones are written in Table transactions that check each report's ETag. A
report that another reviewer changed meanwhile gets ``conflict``, and the rest are
still written.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from storage import Storage
from verdicts.errors import Conflict, NotAllowed, ReportNotFound
from verdicts.model import Report, Verdict
from verdicts.rules import check_can_mark
from verdicts.service import apply_verdict, record_mark
from verdicts.store import ReportStore, StoredReport

MAX_BULK_IDS = 500
# Concurrent audit and queue writes of one bulk mark.
RECORD_WORKERS = 16


class ItemStatus(StrEnum):
    """Outcome of one report in a bulk mark."""

    MARKED = "marked"
    UNCHANGED = "unchanged"
    INELIGIBLE = "ineligible"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"


@dataclass(kw_only=True)
class ItemResult:
    report_id: str
    status: ItemStatus
    detail: str = ""
    verdict_version: int | None = None
    notified: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.report_id,
            "status": self.status.value,
            "detail": self.detail,
            "verdict_version": self.verdict_version,
            "notification_queued": self.notified,
        }


NotifyRule = Callable[[Report], bool]


def _check(stored: StoredReport | None, report_id: str, verdict: Verdict) -> ItemResult:
    """Return the result of a report that is not going to change, or MARKED."""
    if stored is None:
        return ItemResult(
            report_id=report_id,
            status=ItemStatus.NOT_FOUND,
            detail=f"report {report_id[:80]!r} not found",
        )
    report = stored.report
    try:
        check_can_mark(report, verdict)
    except (NotAllowed, Conflict) as error:
        return ItemResult(
            report_id=report_id,
            status=ItemStatus.INELIGIBLE,
            detail=str(error),
            verdict_version=report.verdict_version,
        )
    if report.verdict == verdict:
        return ItemResult(
            report_id=report_id,
            status=ItemStatus.UNCHANGED,
            verdict_version=report.verdict_version,
        )
    return ItemResult(report_id=report_id, status=ItemStatus.MARKED)


def mark_many(
    storage: Storage,
    report_ids: list[str],
    verdict: Verdict,
    *,
    actor: str,
    comment: str = "",
    notify: bool | NotifyRule = True,
    reports: dict[str, StoredReport] | None = None,
) -> list[ItemResult]:
    """Mark each report of ``report_ids`` with ``verdict``; a result per id, in order.

    ``notify`` is a bool for all reports, or a rule that picks the reports whose
    reporters are notified. ``reports`` are the stored reports when the caller has
    read them already.
    """
    store = ReportStore(storage)
    stored = store.get_many(report_ids) if reports is None else reports
    results = {rid: _check(stored.get(rid), rid, verdict) for rid in report_ids}
    changes: list[tuple[Report, str]] = []
    previous: dict[str, Verdict | None] = {}
    notify_reporter: dict[str, bool] = {}
    for report_id, result in results.items():
        if result.status is ItemStatus.MARKED:
            report = stored[report_id].report
            previous[report_id] = report.verdict
            notify_reporter[report_id] = notify(report) if callable(notify) else notify
            apply_verdict(
                report, verdict, actor=actor, notify=notify_reporter[report_id]
            )
            changes.append((report, stored[report_id].etag))
    written, failed = store.merge_verdicts(changes)
    for report_id, error in failed.items():
        results[report_id] = ItemResult(
            report_id=report_id,
            status=(
                ItemStatus.NOT_FOUND
                if isinstance(error, ReportNotFound)
                else ItemStatus.CONFLICT
            ),
            detail=str(error),
        )
    marked = [report for report, _ in changes if report.id in written]

    def record(report: Report) -> None:
        record_mark(
            storage,
            report,
            previous[report.id],
            actor=actor,
            comment=comment,
            notify=notify_reporter[report.id],
        )

    # Each audit entry and queue message is a request of its own, so they run in
    # parallel. The first error is raised once all have run; the report rows are
    # written by then, and the notifier's sweep queues any notification lost here.
    with ThreadPoolExecutor(max_workers=RECORD_WORKERS) as executor:
        for _ in executor.map(record, marked):
            pass
    for report in marked:
        results[report.id].verdict_version = report.verdict_version
        results[report.id].notified = notify_reporter[report.id]
    return [results[rid] for rid in report_ids]


def count_by_status(results: list[ItemResult]) -> dict[str, int]:
    counts = {status.value: 0 for status in ItemStatus}
    for result in results:
        counts[result.status.value] += 1
    return counts

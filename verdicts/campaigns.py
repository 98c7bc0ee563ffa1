"""Campaigns: the reports of one original message, decided together.

Intake gives every report of the same original the same campaign key. One decision
marks every markable report of the campaign, and each reporter gets one notification
for it even when they reported the original more than once.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from storage import Storage
from verdicts.bulk import ItemResult, count_by_status, mark_many
from verdicts.errors import VerdictError
from verdicts.listing import report_sort_key, summary
from verdicts.model import Report, Verdict
from verdicts.rules import MARKABLE
from verdicts.store import ReportStore, StoredReport


class CampaignNotFound(VerdictError):
    """No report has the requested campaign key."""


def _campaign_reports(storage: Storage, key: str) -> list[Report]:
    reports = list(ReportStore(storage).query({"campaign_key": key}))
    if not key or not reports:
        raise CampaignNotFound(f"campaign {key[:80]!r} not found")
    reports.sort(key=report_sort_key, reverse=True)
    return reports


def get_campaign(storage: Storage, key: str) -> dict[str, Any]:
    """Return the campaign ``key``: what was reported, counts and report summaries."""
    reports = _campaign_reports(storage, key)
    newest, oldest = reports[0], reports[-1]
    verdicts = Counter(r.verdict.value if r.verdict else "none" for r in reports)
    return {
        "key": key,
        "original_subject": newest.original_subject,
        "original_sender": newest.original_sender,
        "report_count": len(reports),
        "reporter_count": len({r.reporter_address for r in reports}),
        "markable_count": sum(1 for r in reports if r.eligibility in MARKABLE),
        "first_reported_at": oldest.received_at.isoformat(),
        "last_reported_at": newest.received_at.isoformat(),
        "verdicts": dict(sorted(verdicts.items())),
        "reports": [summary(r) for r in reports],
    }


def _one_report_per_reporter(reports: list[Report], verdict: Verdict) -> set[str]:
    """Return the ids of the reports whose reporters this decision notifies.

    Reports are newest first, so each reporter hears about their latest report. A
    reporter with a report that already had ``verdict`` was notified then (or
    deliberately not), and is not notified again.
    """
    notified = {r.reporter_address for r in reports if r.verdict == verdict}
    chosen: set[str] = set()
    for report in reports:
        if report.reporter_address in notified or report.verdict == verdict:
            continue
        if report.eligibility not in MARKABLE:
            continue
        notified.add(report.reporter_address)
        chosen.add(report.id)
    return chosen


def mark_campaign(
    storage: Storage,
    key: str,
    verdict: Verdict,
    *,
    actor: str,
    notify: bool = True,
    comment: str = "",
) -> dict[str, Any]:
    """Mark every markable report of campaign ``key``; return the results."""
    store = ReportStore(storage)
    ids = [r.id for r in _campaign_reports(storage, key)]
    stored: dict[str, StoredReport] = store.get_many(ids)
    reports = [stored[i].report for i in ids if i in stored]
    notify_ids = _one_report_per_reporter(reports, verdict) if notify else set()
    results: list[ItemResult] = mark_many(
        storage,
        ids,
        verdict,
        actor=actor,
        comment=comment,
        notify=lambda report: report.id in notify_ids,
        reports=stored,
    )
    return {
        "key": key,
        "verdict": verdict.value,
        "counts": count_by_status(results),
        "notifications_queued": sum(1 for r in results if r.notified),
        "results": [r.to_json() for r in results],
    }

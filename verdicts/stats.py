"""Review statistics: reports counted by state, and how fast reporters hear back."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import Any

from notifier.deliveries import DeliveryStatus, DeliveryStore
from storage import Storage
from verdicts.listing import NO_VALUE, ReportFilter, find_reports
from verdicts.model import (
    Eligibility,
    Kind,
    ParseStatus,
    Report,
    ReportedAs,
    SystemVerdict,
    Verdict,
)

PERCENTILES = (50, 90, 95, 99)


def percentile(sorted_values: list[float], p: int) -> float:
    """Return the nearest-rank percentile ``p`` of non-empty ``sorted_values``."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize_durations(seconds: list[float]) -> dict[str, Any]:
    """Return count, p50, p90, p95, p99 and max of ``seconds``; None when empty."""
    values = sorted(seconds)
    result: dict[str, Any] = {"count": len(values)}
    for p in PERCENTILES:
        result[f"p{p}"] = round(percentile(values, p), 3) if values else None
    result["max"] = round(values[-1], 3) if values else None
    return result


def _count(values: list[str], choices: type[StrEnum], *extra: str) -> dict[str, int]:
    counts = dict.fromkeys([c.value for c in choices] + list(extra), 0)
    counts.update(Counter(values))
    return counts


def _sent_times(storage: Storage) -> tuple[dict[tuple[str, int], str], dict]:
    statuses: dict[tuple[str, int], str] = {}
    sent_at: dict[tuple[str, int], datetime] = {}
    for delivery in DeliveryStore(storage).iter_all():
        key = (delivery.report_id, delivery.verdict_version)
        statuses[key] = delivery.status.value
        if delivery.status is DeliveryStatus.SENT and delivery.updated_at:
            sent_at[key] = delivery.updated_at
    return statuses, sent_at


def compute_stats(
    storage: Storage,
    *,
    received_from: datetime | None = None,
    received_before: datetime | None = None,
) -> dict[str, Any]:
    """Count reports received in the range by state, and time the reviews.

    Time to verdict runs from receipt to the current verdict; time to notify from
    the current verdict to the sent notification of that verdict version.
    """
    reports: list[Report] = find_reports(
        storage,
        ReportFilter(received_from=received_from, received_before=received_before),
    )
    statuses, sent_at = _sent_times(storage)
    to_verdict: list[float] = []
    to_notify: list[float] = []
    delivery_states: list[str] = []
    for report in reports:
        key = (report.id, report.verdict_version)
        marked = report.verdict is not None and report.verdict_at is not None
        delivery_states.append(statuses.get(key, NO_VALUE) if marked else NO_VALUE)
        if not marked:
            continue
        to_verdict.append((report.verdict_at - report.received_at).total_seconds())
        if key in sent_at:
            to_notify.append((sent_at[key] - report.verdict_at).total_seconds())
    return {
        "received_from": received_from.isoformat() if received_from else None,
        "received_before": received_before.isoformat() if received_before else None,
        "reports": len(reports),
        "by_verdict": _count(
            [r.verdict.value if r.verdict else NO_VALUE for r in reports],
            Verdict,
            NO_VALUE,
        ),
        "by_kind": _count([r.kind.value for r in reports], Kind),
        "by_reported_as": _count([r.reported_as.value for r in reports], ReportedAs),
        "by_eligibility": _count([r.eligibility.value for r in reports], Eligibility),
        "by_system_verdict": _count(
            [r.system_verdict.value for r in reports], SystemVerdict
        ),
        "by_parse_status": _count([r.parse_status.value for r in reports], ParseStatus),
        "by_delivery": _count(delivery_states, DeliveryStatus, NO_VALUE),
        "time_to_verdict_seconds": summarize_durations(to_verdict),
        "time_to_notify_seconds": summarize_durations(to_notify),
    }

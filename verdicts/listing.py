"""Report listings: filters, newest-first order and continuation paging.

Listings return report summaries; ``GET /api/reports/{id}`` returns the whole report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from notifier.deliveries import DeliveryStatus, DeliveryStore
from storage import Storage
from verdicts.http import HttpProblem
from verdicts.model import Report, report_from_entity
from verdicts.paging import TOKEN_FIELD, SortKey, newest_first_page, sortable_time
from verdicts.store import ReportStore

NO_VALUE = "none"
SUMMARY_FIELDS = (
    "kind",
    "received_at",
    "reporter_address",
    "reporter_name",
    "reported_as",
    "original_sender",
    "original_subject",
    "system_verdict",
    "eligibility",
    "campaign_key",
    "parse_status",
    "verdict",
    "verdict_version",
    "verdict_at",
    "verdict_by",
)


@dataclass(frozen=True, kw_only=True)
class ReportFilter:
    """Conditions a listed report meets; None means any value.

    ``verdict`` and ``delivery`` also take ``"none"``: not marked yet, and no delivery
    record for the current verdict version.
    """

    kind: str | None = None
    reported_as: str | None = None
    eligibility: str | None = None
    verdict: str | None = None
    parse_status: str | None = None
    delivery: str | None = None
    reporter: str | None = None
    campaign: str | None = None
    received_from: datetime | None = None
    received_before: datetime | None = None

    def table_conditions(self) -> dict[str, Any]:
        """Return the conditions that Table Storage can evaluate itself."""
        conditions = {
            "kind": self.kind,
            "reported_as": self.reported_as,
            "eligibility": self.eligibility,
            "parse_status": self.parse_status,
            "reporter_address": self.reporter.lower() if self.reporter else None,
            "campaign_key": self.campaign,
        }
        if self.verdict not in (None, NO_VALUE):
            conditions["verdict"] = self.verdict
        return {name: value for name, value in conditions.items() if value is not None}


def summary(report: Report) -> dict[str, Any]:
    """Return the listing form of ``report``: its id and SUMMARY_FIELDS."""
    data = report.to_json()
    return {"id": report.id, **{name: data[name] for name in SUMMARY_FIELDS}}


def report_sort_key(report: Report) -> SortKey:
    return (sortable_time(report.received_at), report.id)


def current_delivery_statuses(storage: Storage) -> dict[tuple[str, int], str]:
    """Return the delivery status of every (report id, verdict version)."""
    return {
        (d.report_id, d.verdict_version): d.status.value
        for d in DeliveryStore(storage).iter_all()
    }


def _matches_in_memory(
    report: Report,
    report_filter: ReportFilter,
    deliveries: dict[tuple[str, int], str] | None,
) -> bool:
    if report_filter.verdict == NO_VALUE and report.verdict is not None:
        return False
    if deliveries is not None:
        status = deliveries.get((report.id, report.verdict_version), NO_VALUE)
        if report.verdict is None:
            status = NO_VALUE
        if status != report_filter.delivery:
            return False
    return True


def find_reports(
    storage: Storage,
    report_filter: ReportFilter,
    *,
    select: tuple[str, ...] | None = SUMMARY_FIELDS,
) -> list[Report]:
    """Return every report that matches ``report_filter``, in no set order."""
    deliveries = current_delivery_statuses(storage) if report_filter.delivery else None
    reports = ReportStore(storage).query(
        report_filter.table_conditions(),
        received_from=report_filter.received_from,
        received_before=report_filter.received_before,
        select=list(select) if select else None,
    )
    return [r for r in reports if _matches_in_memory(r, report_filter, deliveries)]


def _entity_sort_key(entity: dict[str, Any]) -> SortKey:
    return (sortable_time(entity["received_at"]), entity["RowKey"])


def _entity_matches(
    entity: dict[str, Any],
    report_filter: ReportFilter,
    deliveries: dict[tuple[str, int], str] | None,
) -> bool:
    verdict = entity.get("verdict") or None
    if report_filter.verdict == NO_VALUE and verdict is not None:
        return False
    if deliveries is not None:
        version = int(entity.get("verdict_version") or 0)
        status = deliveries.get((entity["RowKey"], version), NO_VALUE)
        if verdict is None:
            status = NO_VALUE
        if status != report_filter.delivery:
            return False
    return True


def _scan_end(
    received_before: datetime | None, after: SortKey | None
) -> datetime | None:
    """Return the end of the scan: the filter's end, or just past the token's time."""
    if after is None:
        return received_before
    try:
        token_end = datetime.fromisoformat(after[0]) + timedelta(microseconds=1)
    except ValueError:
        raise HttpProblem(
            400,
            "Invalid continuation token",
            f"continuation token time {after[0][:40]!r} is invalid; pass the value "
            "of 'continuation' from the previous page unchanged",
            field=TOKEN_FIELD,
        ) from None
    if received_before is None:
        return token_end
    return min(received_before, token_end)


def list_reports(
    storage: Storage,
    report_filter: ReportFilter,
    *,
    limit: int,
    after: SortKey | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Return one page of report summaries, newest first, and the next page's token."""
    # NOTE: every page reads the summary properties of all matching reports up to
    # the token's time and sorts them here, because Table Storage returns rows in
    # key order, not time order. Cost grows with the number of matching reports
    # (bench/review.py). Only the page's rows become Report objects, because that
    # conversion is the slowest step per row.
    deliveries = current_delivery_statuses(storage) if report_filter.delivery else None
    entities = ReportStore(storage).query_entities(
        report_filter.table_conditions(),
        received_from=report_filter.received_from,
        received_before=_scan_end(report_filter.received_before, after),
        select=list(SUMMARY_FIELDS),
    )
    matching = (e for e in entities if _entity_matches(e, report_filter, deliveries))
    page, token = newest_first_page(
        matching, _entity_sort_key, limit=limit, after=after
    )
    return [summary(report_from_entity(e)) for e in page], token


DELIVERY_CHOICES = (*[status.value for status in DeliveryStatus], NO_VALUE)

"""Time bulk marking and report listing on Azurite, each beside a reference.

Bulk: ``mark_many`` on N reports in one call, beside N calls of ``mark_report`` (the
single-report path a client would loop over). Both write the audit entry and queue
the notification of every report.

Listing: the first page (50 summaries, newest first) of ``GET /api/reports``, and a
page filtered by reporter, beside a bare Table query that reads the same summary
properties of every report without sorting (the floor for a listing that scans).

Runs against the Azurite on 127.0.0.1 (started in memory when none is running) under
a fresh storage prefix, which it deletes afterwards.

    .venv/bin/python bench/review.py --reports 1000 5000 --bulk 500
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from devhost.azurite import azurite_running  # noqa: E402
from storage import Storage  # noqa: E402
from verdicts.bulk import mark_many  # noqa: E402
from verdicts.listing import SUMMARY_FIELDS, ReportFilter, list_reports  # noqa: E402
from verdicts.model import (  # noqa: E402
    Eligibility,
    Report,
    SystemVerdict,
    Verdict,
    report_to_entity,
)
from verdicts.service import mark_report  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def seed(storage: Storage, count: int, *, first: int = 0) -> list[str]:
    """Store ``count`` markable reports in transactions of 100; return their ids."""
    table = storage.table("reports")
    ids = []
    for start in range(first, first + count, 100):
        operations = []
        for number in range(start, min(start + 100, first + count)):
            report = Report(
                id=f"bench{number:07d}",
                received_at=START + timedelta(seconds=number),
                reporter_address=f"user{number % 200}@example.com",
                original_subject=f"Invoice {number}",
                original_sender="billing@invoices.example.net",
                system_verdict=SystemVerdict.DELIVERED,
                eligibility=Eligibility.FALSE_NEGATIVE,
                campaign_key=f"campaign{number % 50}",
            )
            operations.append(("upsert", report_to_entity(report)))
            ids.append(report.id)
        table.submit_transaction(operations)
    return ids


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def bench_bulk(storage: Storage, count: int) -> list[tuple[str, float]]:
    ids = seed(storage, 2 * count, first=10_000_000)
    bulk_ids, single_ids = ids[:count], ids[count:]
    bulk = timed(lambda: mark_many(storage, bulk_ids, Verdict.PHISHING, actor="bench"))
    single = timed(
        lambda: [
            mark_report(storage, report_id, Verdict.PHISHING, actor="bench")
            for report_id in single_ids
        ]
    )
    return [
        (f"mark {count} one by one (reference)", single),
        (f"mark {count} with one bulk call", bulk),
    ]


def median_seconds(work, runs: int) -> float:
    return statistics.median(timed(work) for _ in range(runs))


def bench_listing(storage: Storage, runs: int) -> list[tuple[str, float]]:
    table = storage.table("reports")

    def bare_scan() -> None:
        list(
            table.query_entities(
                "PartitionKey eq 'report'", select=["RowKey", *SUMMARY_FIELDS]
            )
        )

    def first_page() -> None:
        list_reports(storage, ReportFilter(), limit=50)

    def reporter_page() -> None:
        list_reports(storage, ReportFilter(reporter="user7@example.com"), limit=50)

    return [
        ("scan every summary, unsorted (reference)", median_seconds(bare_scan, runs)),
        ("first page of GET /api/reports", median_seconds(first_page, runs)),
        ("first page, reporter filter", median_seconds(reporter_page, runs)),
    ]


def open_bench_storage() -> Storage:
    os.environ["REPORTBACK_STORAGE_PREFIX"] = "bench" + uuid.uuid4().hex[:8]
    os.environ["REPORTBACK_MAILBOX_DIR"] = tempfile.mkdtemp(prefix="reportback-bench-")
    from runtime import get_runtime

    return get_runtime().storage


def delete_prefixed(storage: Storage) -> None:
    for table in storage.tables.list_tables():
        if table.name.startswith(storage.prefix):
            storage.tables.delete_table(table.name)
    for queue in storage.queues.list_queues(name_starts_with=storage.prefix):
        storage.queues.delete_queue(queue.name)
    for container in storage.blobs.list_containers(name_starts_with=storage.prefix):
        storage.blobs.delete_container(container.name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reports",
        type=int,
        nargs="+",
        default=[1000, 5000],
        help="report counts at which to time the listing",
    )
    parser.add_argument("--bulk", type=int, default=500, help="reports to mark")
    parser.add_argument("--runs", type=int, default=5, help="listing runs per case")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, Azurite")
    with azurite_running(Path(tempfile.mkdtemp()), in_memory=True):
        storage = open_bench_storage()
        try:
            for name, seconds in bench_bulk(storage, args.bulk):
                print(f"{name:45s} {seconds:8.2f} s  {args.bulk / seconds:7.0f}/s")
            stored = 0
            for size in sorted(args.reports):
                seed(storage, size - stored, first=stored)
                stored = size
                for name, seconds in bench_listing(storage, args.runs):
                    print(f"{size:6d} reports: {name:40s} {seconds * 1000:8.0f} ms")
        finally:
            delete_prefixed(storage)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

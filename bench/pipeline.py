"""Measure mark-to-outbox latency and bulk throughput beside bare Azurite round trips.

Runs the app's own functions with the folder mailbox on an in-memory Azurite that
it starts on free ports, so that other users of the shared one do not skew it:

- reference: a bare queue round trip (send, receive, delete) and a Table point read,
  the storage operations one notification is made of;
- latency: mark one report (``verdicts.service.mark_report``), then run the queue as
  the dev host does until the notification is in the outbox;
- bulk: mark ``--bulk`` reports through ``POST /api/verdicts`` in chunks of its
  maximum and run the queue on ``--workers`` threads until every notification is
  in the outbox.

    .venv/bin/python bench/pipeline.py --samples 100 --bulk 1000 --workers 4
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from devhost.azurite import (  # noqa: E402
    azurite_running,
    connection_string,
    free_ports,
)
from devhost.seed import wrap_original  # noqa: E402
from devhost.workers import QueueOptions, process_queue_once  # noqa: E402

QUEUE_OPTIONS = QueueOptions(max_dequeue_count=5, visibility_timeout_seconds=0)


def percentile(values: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))
    return ordered[index]


def report_mime(index: int) -> bytes:
    original = (
        f"From: Billing <billing@invoices.example.net>\r\n"
        f"To: user{index}@example.com\r\n"
        f"Subject: Invoice {index} is overdue\r\n"
        f"Message-ID: <bench-invoice-{index}@invoices.example.net>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        f"Pay invoice {index} today.\r\n"
    )
    return wrap_original(original.encode(), reporter=f"user{index}@example.com")


@contextlib.contextmanager
def bench_runtime(workdir: Path) -> Iterator[object]:
    """Yield a runtime on its own Azurite, fresh storage and an empty mailbox."""
    ports = free_ports()
    os.environ["AzureWebJobsStorage"] = connection_string(ports)
    os.environ.pop("AzureWebJobsStorage__accountName", None)
    os.environ["REPORTBACK_STORAGE_PREFIX"] = "b" + uuid.uuid4().hex[:12]
    os.environ["REPORTBACK_MAILBOX_DIR"] = str(workdir / "mailbox")
    os.environ["WEBSITE_AUTH_ENABLED"] = "True"
    os.environ.pop("REPORTBACK_REPORTING_MAILBOX", None)
    from runtime import get_runtime, reset_runtime

    with azurite_running(workdir / "azurite", in_memory=True, ports=ports):
        reset_runtime()
        try:
            yield get_runtime()
        finally:
            reset_runtime()


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def queue_round_trips(storage, samples: int) -> list[float]:
    queue = storage.queue("notifications-poison-poison")

    def round_trip() -> None:
        queue.send_message(json.dumps({"probe": True}))
        (message,) = list(queue.receive_messages(max_messages=1))
        queue.delete_message(message)

    return [timed(round_trip) for _ in range(samples)]


def table_reads(storage, samples: int) -> list[float]:
    table = storage.table("state")
    table.upsert_entity({"PartitionKey": "bench", "RowKey": "probe", "value": 1})
    return [timed(lambda: table.get_entity("bench", "probe")) for _ in range(samples)]


def ingest(runtime, first: int, count: int) -> list[str]:
    """Drop ``count`` reports into the folder inbox and poll until all are stored."""
    from azure.functions.timer import TimerRequest

    import function_app

    inbox = runtime.config.mailbox_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for index in range(first, first + count):
        (inbox / f"report-{index:05d}.eml").write_bytes(report_mime(index))
    while any(inbox.iterdir()):
        function_app.poll_reporting_mailbox(TimerRequest(past_due=False))
    rows = runtime.storage.table("reports").query_entities(
        "PartitionKey eq 'report'", select=["RowKey"]
    )
    return [row["RowKey"] for row in rows]


def outbox_count(runtime) -> int:
    return len(list((runtime.config.mailbox_dir / "outbox").glob("*.eml")))


def run_queue(runtime) -> int:
    import function_app

    storage = runtime.storage
    return process_queue_once(
        storage.queue("notifications"),
        storage.queue("notifications-poison"),
        function_app.send_notification,
        max_messages=32,
        options=QUEUE_OPTIONS,
    )


def mark_latencies(runtime, report_ids: list[str]) -> list[float]:
    from verdicts.model import Verdict
    from verdicts.service import mark_report

    latencies = []
    for report_id in report_ids:
        expected = outbox_count(runtime) + 1
        start = time.perf_counter()
        mark_report(runtime.storage, report_id, Verdict.PHISHING, actor="bench")
        while outbox_count(runtime) < expected:
            run_queue(runtime)
        latencies.append(time.perf_counter() - start)
    return latencies


def mark_in_bulk(report_ids: list[str]) -> None:
    import function_app
    from tests.conftest import http_request
    from verdicts.bulk import MAX_BULK_IDS

    for start in range(0, len(report_ids), MAX_BULK_IDS):
        body = {"ids": report_ids[start : start + MAX_BULK_IDS], "verdict": "spam"}
        response = function_app.mark_many(
            http_request("POST", "api/verdicts", body=body, role="reviewer")
        )
        if response.status_code != 200:
            raise SystemExit(f"bulk mark failed: {response.get_body()[:300]!r}")


def bulk_seconds(runtime, report_ids: list[str], workers: int) -> tuple[float, float]:
    """Return the seconds to mark ``report_ids`` and to have them all in the outbox."""
    expected = outbox_count(runtime) + len(report_ids)
    start = time.perf_counter()
    mark_in_bulk(report_ids)
    marked = time.perf_counter() - start

    def work() -> None:
        while outbox_count(runtime) < expected:
            if run_queue(runtime) == 0:
                time.sleep(0.05)

    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work) for _ in range(workers)]:
            future.result()
    return marked, time.perf_counter() - start


def _row(name: str, values: list[float]) -> str:
    p50 = percentile(values, 0.5) * 1000
    p95 = percentile(values, 0.95) * 1000
    return f"| {name} | {len(values)} | {p50:.1f} | {p95:.1f} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--samples", type=int, default=100, help="marks timed one at a time"
    )
    parser.add_argument("--bulk", type=int, default=1000, help="reports marked in bulk")
    parser.add_argument(
        "--workers", type=int, default=4, help="threads running the queue in bulk"
    )
    args = parser.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="reportback-bench-"))
    with bench_runtime(workdir) as runtime:
        storage = runtime.storage
        queue_trips = queue_round_trips(storage, args.samples)
        reads = table_reads(storage, args.samples)
        single = ingest(runtime, 1, args.samples)
        latencies = mark_latencies(runtime, single)
        ingest_start = time.perf_counter()
        every = ingest(runtime, args.samples + 1, args.bulk)
        ingest_total = time.perf_counter() - ingest_start
        bulk_ids = sorted(set(every) - set(single))
        marked, total = bulk_seconds(runtime, bulk_ids, args.workers)

    cpus = os.cpu_count()
    print(f"Python {platform.python_version()}, {cpus} CPUs, {platform.machine()}")
    print()
    print("| operation | n | p50 ms | p95 ms |")
    print("| --- | ---: | ---: | ---: |")
    print(_row("reference: queue send + receive + delete", queue_trips))
    print(_row("reference: Table point read", reads))
    print(_row("mark -> notification in outbox", latencies))
    print()
    print(f"ingest {args.bulk} reports: {ingest_total:.1f} s")
    print(
        f"bulk: mark {len(bulk_ids)} reports {marked:.1f} s, all notified "
        f"{total:.1f} s ({len(bulk_ids) / total:.0f}/s, {args.workers} workers)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

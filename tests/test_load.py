"""A thousand reports in, a thousand verdicts by bulk marking, one email each.

It runs on an in-memory Azurite of its own, so the load neither slows nor is
slowed by other tests using the shared one.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import function_app
from devhost.workers import process_queue_once
from runtime import reset_runtime
from tests.conftest import http_request, response_json
from tests.harness import FAST_QUEUE, Pipeline, PrivateAzurite, runtime_on

REPORTS = 1000
# The Functions host runs up to batchSize (16) messages of a queue at once.
WORKERS = 4
BULK_CHUNK = 500


def _drain(pipeline: Pipeline) -> None:
    """Run the notification queue on WORKERS threads until it is empty."""
    storage = pipeline.runtime.storage

    def work() -> None:
        queue = storage.queue("notifications")
        poison = storage.queue("notifications-poison")
        while process_queue_once(
            queue, poison, function_app.send_notification, options=FAST_QUEUE
        ):
            pass

    with ThreadPoolExecutor(WORKERS) as pool:
        for future in [pool.submit(work) for _ in range(WORKERS)]:
            future.result()


def _mark_in_bulk(report_ids: list[str]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for start in range(0, len(report_ids), BULK_CHUNK):
        response = function_app.mark_many(
            http_request(
                "POST",
                "api/verdicts",
                body={
                    "ids": report_ids[start : start + BULK_CHUNK],
                    "verdict": "phishing",
                },
                role="reviewer",
            )
        )
        assert response.status_code == 200
        for status, count in response_json(response)["counts"].items():
            totals[status] = totals.get(status, 0) + count
    return totals


@pytest.fixture
def runtime(tmp_path, monkeypatch):
    azurite = PrivateAzurite(tmp_path / "azurite", in_memory=True)
    azurite.start()
    yield runtime_on(azurite, tmp_path / "mailbox", monkeypatch)
    azurite.stop()
    reset_runtime()


def test_thousand_reports_notified_once(runtime):
    pipeline = Pipeline(runtime)
    pipeline.drop_reports(REPORTS)

    pipeline.run_until_quiet()
    report_ids = pipeline.report_ids()
    counts = _mark_in_bulk(report_ids)
    _drain(pipeline)
    pipeline.run_until_quiet()

    assert len(report_ids) == REPORTS
    assert counts["marked"] == REPORTS
    notified = pipeline.notified_counts()
    assert len(notified) == REPORTS
    assert set(notified.values()) == {1}
    assert pipeline.delivery_statuses() == {"sent": REPORTS}
    assert pipeline.queues_empty()

"""The sweep that enqueues notifications lost between the verdict and the queue."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ServiceRequestError
from azure.storage.queue import QueueClient

from notifier.deliveries import DeliveryStatus, DeliveryStore
from notifier.reconcile import enqueue_missing_notifications
from tests.harness import Fault, FaultInjector, Pipeline
from verdicts.model import Verdict
from verdicts.service import mark_report


@pytest.fixture
def pipeline(runtime) -> Pipeline:
    pipeline = Pipeline(runtime)
    pipeline.drop_reports(1)
    pipeline.poll()
    return pipeline


def _mark_losing_message(pipeline: Pipeline, monkeypatch) -> str:
    FaultInjector(monkeypatch).add(
        Fault(QueueClient, "send_message", error=ServiceRequestError)
    )
    (report_id,) = pipeline.report_ids()
    with pytest.raises(ServiceRequestError):
        mark_report(
            pipeline.runtime.storage, report_id, Verdict.SPAM, actor="alex@example.com"
        )
    monkeypatch.undo()
    return report_id


def test_lost_notification_enqueued_once(pipeline, monkeypatch):
    report_id = _mark_losing_message(pipeline, monkeypatch)
    storage = pipeline.runtime.storage

    assert enqueue_missing_notifications(storage, grace_seconds=0) == 1
    assert enqueue_missing_notifications(storage, grace_seconds=0) == 0

    pipeline.process_queues()
    delivery = DeliveryStore(storage).get(report_id, 1)
    assert delivery.status == DeliveryStatus.SENT
    assert len(pipeline.outbox()) == 1


def test_young_verdict_left_alone(pipeline, monkeypatch):
    _mark_losing_message(pipeline, monkeypatch)

    assert enqueue_missing_notifications(pipeline.runtime.storage) == 0


def test_verdict_without_notify_not_enqueued(pipeline):
    (report_id,) = pipeline.report_ids()
    storage = pipeline.runtime.storage
    mark_report(
        storage, report_id, Verdict.SPAM, actor="alex@example.com", notify=False
    )

    assert enqueue_missing_notifications(storage, grace_seconds=0) == 0


def test_enqueued_verdict_not_enqueued_again(pipeline):
    pipeline.mark_all()
    pipeline.process_queues()

    count = enqueue_missing_notifications(pipeline.runtime.storage, grace_seconds=0)

    assert count == 0
    assert len(pipeline.outbox()) == 1

"""The whole pipeline on the Graph mailbox while the fake Graph misbehaves."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from mailboxes.graph import GraphMailbox
from mailboxes.graphclient import GraphClient
from notifier.deliveries import DeliveryStatus, DeliveryStore
from tests.conftest import REPORTING_MAILBOX
from tests.harness import Pipeline, report_mime, use_mailbox


@dataclass
class GraphPipeline(Pipeline):
    """A pipeline whose reports arrive in, and notifications leave through, Graph."""

    graph: Any = None

    def drop_reports(self, count: int, *, start: int = 1) -> None:
        for index in range(start, start + count):
            self.graph.add_message(REPORTING_MAILBOX, report_mime(index))

    def inbox_empty(self) -> bool:
        # Graph keeps the messages; the delta cursor is what moves.
        return True

    def notified_counts(self) -> Counter[str]:
        return Counter(_recipient(body) for _, body in self.graph.sent)


def _lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key.lower(): _lower_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_lower_keys(item) for item in value]
    return value


def _recipient(body: dict[str, Any]) -> str:
    message = _lower_keys(body)["message"]
    return message["torecipients"][0]["emailaddress"]["address"]


@pytest.fixture
def pipeline(graph_runtime, fake_graph) -> GraphPipeline:
    pipeline = GraphPipeline(graph_runtime, graph=fake_graph)
    pipeline.drop_reports(1)
    pipeline.run_until_quiet()
    assert pipeline.mark_all() == 1
    return pipeline


def _delivery(pipeline: Pipeline):
    (report_id,) = pipeline.report_ids()
    return DeliveryStore(pipeline.runtime.storage).get(report_id, 1)


def _wait_seconds(delivery) -> float:
    return (delivery.next_attempt_at - datetime.now(timezone.utc)).total_seconds()


def _hidden_messages(pipeline: Pipeline) -> int:
    queue = pipeline.runtime.storage.queue("notifications")
    visible = len(list(queue.peek_messages(max_messages=32)))
    return queue.get_queue_properties().approximate_message_count - visible


def test_throttled_send_waits_retry_after(pipeline, fake_graph):
    fake_graph.fail_next("POST", "send_mail", 429, headers={"Retry-After": "1"})

    pipeline.process_queues()

    delivery = _delivery(pipeline)
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.attempts == 1
    assert 0 < _wait_seconds(delivery) <= 1.5
    assert fake_graph.sent == []
    deadline = time.monotonic() + 10
    while not fake_graph.sent and time.monotonic() < deadline:
        time.sleep(0.2)
        pipeline.process_queues()
    assert pipeline.notified_counts() == {"user1@example.com": 1}
    assert len(fake_graph.requests_for("send_mail")) == 2
    assert _delivery(pipeline).status == DeliveryStatus.SENT


@pytest.mark.parametrize(
    ("status", "headers", "expected_wait"),
    [
        (503, {}, 60),
        (503, {"Retry-After": "120"}, 120),
        (500, {}, 30),
    ],
)
def test_server_error_schedules_retry(
    pipeline, fake_graph, status, headers, expected_wait
):
    fake_graph.fail_next("POST", "send_mail", status, headers=headers)

    pipeline.process_queues()

    delivery = _delivery(pipeline)
    assert delivery.status == DeliveryStatus.QUEUED
    assert f"HTTP {status}" in delivery.last_error
    assert expected_wait - 5 < _wait_seconds(delivery) <= expected_wait
    assert _hidden_messages(pipeline) == 1
    assert fake_graph.sent == []


def test_timed_out_send_backs_off(pipeline, fake_graph):
    client = GraphClient(fake_graph.base_url, timeout_seconds=0.3)
    configured = pipeline.runtime.mailbox
    use_mailbox(
        pipeline.runtime,
        GraphMailbox(
            reporting_mailbox=REPORTING_MAILBOX,
            client=client,
            storage=pipeline.runtime.storage,
        ),
    )
    fake_graph.fail_next("POST", "send_mail", 500, delay_seconds=1.0)

    pipeline.process_queues()

    delivery = _delivery(pipeline)
    assert delivery.status == DeliveryStatus.QUEUED
    assert delivery.last_error == (
        "Graph sendMail failed: Timeout: request timed out (ReadTimeout)"
    )
    assert (
        timedelta(seconds=25)
        < delivery.next_attempt_at - datetime.now(timezone.utc)
        <= timedelta(seconds=30)
    )
    # The fixture closes the configured mailbox's client at teardown.
    client.close()
    use_mailbox(pipeline.runtime, configured)


def test_send_as_denied_fails_at_once(pipeline, fake_graph):
    fake_graph.send_as_denied.add("security-results@example.com")

    pipeline.run_until_quiet()

    delivery = _delivery(pipeline)
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == 1
    assert len(fake_graph.requests_for("send_mail")) == 1
    assert _hidden_messages(pipeline) == 0


def test_expired_delta_resync_sends_nothing_twice(pipeline, fake_graph):
    pipeline.run_until_quiet()
    fake_graph.expire_delta_tokens()
    pipeline.drop_reports(1, start=2)

    pipeline.run_until_quiet()
    assert pipeline.mark_all() == 2
    pipeline.run_until_quiet()

    assert len(pipeline.report_ids()) == 2
    assert pipeline.notified_counts() == {
        "user1@example.com": 1,
        "user2@example.com": 1,
    }
    assert pipeline.delivery_statuses() == {"sent": 2}

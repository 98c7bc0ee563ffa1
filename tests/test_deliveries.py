"""Delivery state: retries through the queue, poison handling, crashes, replay."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest
from azure.functions.queue import QueueMessage

import function_app
from mailboxes import PermanentSendError, TransientSendError
from mailboxes.folder import FolderMailbox
from notifier import service
from notifier.deliveries import DeliveryStatus, DeliveryStore
from notifier.errors import DeliveryBusy
from notifier.poison import POISON_REASON
from notifier.retries import MAX_SEND_ATTEMPTS, retry_delay
from notifier.service import INTERRUPTED_REASON, QueueRun, handle_notification
from tests.conftest import http_request, response_json
from tests.harness import (
    Crash,
    Fault,
    FaultInjector,
    ForgetfulMailbox,
    Pipeline,
    ScriptedMailbox,
    use_mailbox,
)
from verdicts.model import Verdict
from verdicts.service import mark_report


@pytest.fixture
def pipeline(runtime) -> Pipeline:
    pipeline = Pipeline(runtime)
    pipeline.drop_reports(1)
    pipeline.poll()
    return pipeline


@pytest.fixture
def faults(monkeypatch) -> FaultInjector:
    return FaultInjector(monkeypatch)


def _report_id(pipeline: Pipeline) -> str:
    (report_id,) = pipeline.report_ids()
    return report_id


def _mark(pipeline: Pipeline, verdict: Verdict = Verdict.PHISHING) -> str:
    report_id = _report_id(pipeline)
    mark_report(pipeline.runtime.storage, report_id, verdict, actor="alex@example.com")
    return report_id


def _delivery(pipeline: Pipeline, report_id: str, version: int = 1):
    return DeliveryStore(pipeline.runtime.storage).get(report_id, version)


def _scripted(pipeline: Pipeline, *errors: BaseException, forgetful: bool = False):
    kind = ForgetfulMailbox if forgetful else ScriptedMailbox
    inner = FolderMailbox(pipeline.mailbox_dir)
    return use_mailbox(pipeline.runtime, kind(inner, list(errors)))


def _queue_count(pipeline: Pipeline, name: str = "notifications") -> int:
    queue = pipeline.runtime.storage.queue(name)
    return queue.get_queue_properties().approximate_message_count


class TestRetryDelay:
    @pytest.mark.parametrize(
        ("attempts", "retry_after", "expected"),
        [
            (1, None, 30),
            (2, None, 60),
            (4, None, 240),
            (8, None, 3600),
            (1, 7, 7),
            (5, 0.2, 1),
            (1, 0, 0),
            (1, 30 * 24 * 3600, 7 * 24 * 3600),
        ],
    )
    def test_retry_delay(self, attempts, retry_after, expected):
        assert retry_delay(attempts, retry_after) == expected


class TestTransientFailure:
    def test_retry_after_delays_new_message(self, pipeline):
        mailbox = _scripted(pipeline, TransientSendError("throttled", retry_after=7))
        report_id = _mark(pipeline)
        before = datetime.now(timezone.utc)

        assert pipeline.process_queues() == 1

        delivery = _delivery(pipeline, report_id)
        assert delivery.status == DeliveryStatus.QUEUED
        assert delivery.attempts == 1
        assert delivery.last_error == "throttled"
        wait = delivery.next_attempt_at - before
        assert timedelta(seconds=6) < wait < timedelta(seconds=9)
        # The retry waits invisible in the queue; the original message is gone.
        queue = pipeline.runtime.storage.queue("notifications")
        assert _queue_count(pipeline) == 1
        assert list(queue.peek_messages()) == []
        assert mailbox.sends == 1
        assert pipeline.outbox() == []

    def test_retry_is_sent_when_due(self, pipeline):
        _scripted(pipeline, TransientSendError("unavailable", retry_after=1))
        report_id = _mark(pipeline)
        pipeline.process_queues()

        deadline = datetime.now(timezone.utc) + timedelta(seconds=10)
        while not pipeline.outbox() and datetime.now(timezone.utc) < deadline:
            pipeline.process_queues()

        delivery = _delivery(pipeline, report_id)
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.attempts == 2
        assert delivery.last_error == "unavailable"
        assert len(pipeline.outbox()) == 1

    def test_attempts_exhausted_fail_delivery(self, pipeline):
        errors = [
            TransientSendError(f"timeout {n}", retry_after=0)
            for n in range(1, MAX_SEND_ATTEMPTS + 1)
        ]
        mailbox = _scripted(pipeline, *errors)
        report_id = _mark(pipeline)

        pipeline.run_until_quiet()

        delivery = _delivery(pipeline, report_id)
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.attempts == MAX_SEND_ATTEMPTS
        assert delivery.reason == (
            f"gave up after {MAX_SEND_ATTEMPTS} attempts; last error: timeout 8"
        )
        assert mailbox.sends == MAX_SEND_ATTEMPTS
        assert pipeline.outbox() == []

    def test_older_copy_of_retried_message_is_ignored(self, pipeline):
        mailbox = _scripted(pipeline, TransientSendError("busy", retry_after=600))
        report_id = _mark(pipeline)
        pipeline.process_queues()

        # The first message again, as after a crash before the host deleted it.
        status = handle_notification(
            service.NotificationRequest(report_id, 1, attempt=1),
            storage=pipeline.runtime.storage,
            mailbox=mailbox,
            default_sender="security-results@example.com",
        )

        assert status == DeliveryStatus.QUEUED
        assert mailbox.sends == 1
        assert _delivery(pipeline, report_id).attempts == 1


class TestPermanentFailure:
    def test_permanent_error_fails_at_once(self, pipeline):
        mailbox = _scripted(pipeline, PermanentSendError("send-as permission denied"))
        report_id = _mark(pipeline)

        pipeline.run_until_quiet()

        delivery = _delivery(pipeline, report_id)
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.attempts == 1
        assert delivery.reason == "send failed: send-as permission denied"
        assert mailbox.sends == 1
        assert _queue_count(pipeline) == 0


class TestPoisonQueue:
    def test_repeated_errors_end_failed(self, pipeline, faults):
        render = faults.add(
            Fault(service, "compose_notification", error=RuntimeError, times=99)
        )
        report_id = _mark(pipeline)

        pipeline.run_until_quiet()

        assert render.fired == 5
        delivery = _delivery(pipeline, report_id)
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.reason == POISON_REASON
        assert _queue_count(pipeline, "notifications-poison") == 0
        assert pipeline.outbox() == []

    def test_poison_after_send_keeps_sent(self, pipeline):
        report_id = _mark(pipeline)
        pipeline.run_until_quiet()
        poison = pipeline.runtime.storage.queue("notifications-poison")
        poison.send_message(json.dumps({"report_id": report_id, "verdict_version": 1}))

        pipeline.run_until_quiet()

        assert _delivery(pipeline, report_id).status == DeliveryStatus.SENT

    def test_invalid_poison_message_is_dropped(self, pipeline):
        poison = pipeline.runtime.storage.queue("notifications-poison")
        poison.send_message("not json")

        pipeline.run_until_quiet()

        assert _queue_count(pipeline, "notifications-poison") == 0
        assert pipeline.delivery_statuses() == {}


class TestCrashRecovery:
    def test_crash_after_send_records_sent_once(self, pipeline, faults):
        faults.add(Fault(FolderMailbox, "send", after=True))
        report_id = _mark(pipeline)

        pipeline.run_until_quiet()

        assert pipeline.crashes == 1
        assert len(pipeline.outbox()) == 1
        delivery = _delivery(pipeline, report_id)
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.attempts == 1

    def test_crash_before_send_sends_once(self, pipeline, faults):
        faults.add(Fault(FolderMailbox, "send"))
        report_id = _mark(pipeline)

        pipeline.run_until_quiet()

        assert pipeline.crashes == 1
        assert len(pipeline.outbox()) == 1
        delivery = _delivery(pipeline, report_id)
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.attempts == 2

    def test_unknown_outcome_fails_for_review(self, pipeline, faults):
        mailbox = _scripted(pipeline, forgetful=True)
        faults.add(Fault(ScriptedMailbox, "send", after=True))
        report_id = _mark(pipeline)

        pipeline.run_until_quiet()

        assert mailbox.sends == 1
        assert len(pipeline.outbox()) == 1
        delivery = _delivery(pipeline, report_id)
        assert delivery.status == DeliveryStatus.FAILED
        assert delivery.reason == INTERRUPTED_REASON

    def test_fresh_claim_of_other_message_is_busy(self, pipeline, faults):
        faults.add(Fault(FolderMailbox, "send"))
        report_id = _mark(pipeline)
        storage = pipeline.runtime.storage
        request = service.NotificationRequest(report_id, 1)
        arguments = dict(
            storage=storage,
            mailbox=pipeline.runtime.mailbox,
            default_sender="security-results@example.com",
        )
        with pytest.raises(Crash):
            handle_notification(request, run=QueueRun("first", 1), **arguments)

        with pytest.raises(DeliveryBusy):
            handle_notification(request, run=QueueRun("second", 1), **arguments)
        status = handle_notification(request, run=QueueRun("first", 2), **arguments)

        assert status == DeliveryStatus.SENT
        assert len(pipeline.outbox()) == 1


class TestConcurrentWorkers:
    def test_same_message_two_workers_send_once(self, pipeline):
        gate = threading.Event()
        entered = threading.Event()

        class SlowMailbox(ScriptedMailbox):
            def send(self, message):
                entered.set()
                gate.wait(10)
                super().send(message)

        mailbox = use_mailbox(
            pipeline.runtime, SlowMailbox(FolderMailbox(pipeline.mailbox_dir))
        )
        report_id = _mark(pipeline)
        (item,) = pipeline.runtime.storage.queue("notifications").receive_messages()
        message = QueueMessage(
            id=item.id, body=item.content.encode(), dequeue_count=item.dequeue_count
        )
        outcomes: list[str] = []

        def worker() -> None:
            try:
                function_app.send_notification(message)
            except DeliveryBusy:
                outcomes.append("busy")
            else:
                outcomes.append("done")

        first = threading.Thread(target=worker)
        first.start()
        assert entered.wait(10)
        second = threading.Thread(target=worker)
        second.start()
        second.join(10)
        gate.set()
        first.join(10)

        assert outcomes == ["busy", "done"]
        assert mailbox.sends == 1
        assert len(pipeline.outbox()) == 1
        assert _delivery(pipeline, report_id).status == DeliveryStatus.SENT

    def test_redelivered_sent_message_does_nothing(self, pipeline):
        report_id = _mark(pipeline)
        pipeline.run_until_quiet()
        queue = pipeline.runtime.storage.queue("notifications")
        queue.send_message(json.dumps({"report_id": report_id, "verdict_version": 1}))

        pipeline.run_until_quiet()

        assert len(pipeline.outbox()) == 1
        assert _delivery(pipeline, report_id).attempts == 1


class TestSuperseded:
    def test_outdated_version_recorded_superseded(self, pipeline):
        report_id = _mark(pipeline, Verdict.PHISHING)
        _mark(pipeline, Verdict.SPAM)

        pipeline.run_until_quiet()

        first = _delivery(pipeline, report_id, 1)
        assert first.status == DeliveryStatus.SUPERSEDED
        assert first.reason == "verdict version 2 replaced it"
        assert _delivery(pipeline, report_id, 2).status == DeliveryStatus.SENT
        (sent,) = pipeline.outbox()
        assert "Result: Junk" in sent.get_body(("plain",)).get_content()


def _retry(report_id: str, role: str = "reviewer"):
    return function_app.retry_notification(
        http_request(
            "POST",
            f"api/reports/{report_id}/notification/retry",
            route_params={"id": report_id},
            role=role,
        )
    )


class TestRetryRoute:
    def test_failed_delivery_retried_and_sent(self, pipeline):
        _scripted(pipeline, PermanentSendError("mailbox disabled"))
        report_id = _mark(pipeline)
        pipeline.run_until_quiet()

        response = _retry(report_id)

        assert response.status_code == 202
        body = response_json(response)
        assert body["status"] == "queued"
        assert body["attempts"] == 1
        pipeline.run_until_quiet()
        delivery = _delivery(pipeline, report_id)
        assert delivery.status == DeliveryStatus.SENT
        assert delivery.attempts == 2
        assert len(pipeline.outbox()) == 1
        store = pipeline.runtime.storage.table("audit")
        actions = [e["action"] for e in store.list_entities()]
        assert actions.count("notification_retry") == 1

    def test_sent_delivery_is_not_retried(self, pipeline):
        report_id = _mark(pipeline)
        pipeline.run_until_quiet()

        response = _retry(report_id)

        assert response.status_code == 409
        assert response.mimetype == "application/problem+json"
        assert response_json(response)["detail"] == (
            f"notification of report {report_id!r} version 1 is sent; only a "
            "failed notification can be retried"
        )
        assert len(pipeline.outbox()) == 1

    def test_unmarked_report_has_nothing_to_retry(self, pipeline):
        report_id = _report_id(pipeline)

        response = _retry(report_id)

        assert response.status_code == 409
        assert response_json(response)["detail"] == (
            f"report {report_id!r} has no verdict to notify"
        )

    def test_unknown_report_is_404(self, runtime):
        response = _retry("0" * 32)

        assert response.status_code == 404

    def test_reader_cannot_retry(self, pipeline):
        response = _retry(_report_id(pipeline), role="reader")

        assert response.status_code == 403


class TestListDeliveries:
    def test_lists_failed_deliveries(self, pipeline):
        _scripted(pipeline, PermanentSendError("recipient rejected"))
        report_id = _mark(pipeline)
        pipeline.run_until_quiet()

        response = function_app.list_deliveries(
            http_request(
                "GET", "api/deliveries", params={"status": "failed"}, role="reader"
            )
        )

        assert response.status_code == 200
        (item,) = response_json(response)["items"]
        assert item["report_id"] == report_id
        assert item["verdict_version"] == 1
        assert item["status"] == "failed"
        assert item["reason"] == "send failed: recipient rejected"

    def test_sent_deliveries_not_listed_as_failed(self, pipeline):
        _mark(pipeline)
        pipeline.run_until_quiet()

        response = function_app.list_deliveries(
            http_request("GET", "api/deliveries", params={"status": "failed"})
        )

        assert response_json(response)["items"] == []

    @pytest.mark.parametrize(
        ("params", "field", "detail"),
        [
            (
                {"status": "lost"},
                "status",
                "status 'lost' is invalid; expected one of: queued, sending, sent, "
                "failed, superseded",
            ),
            (
                {"limit": "0"},
                "limit",
                "limit '0' is invalid; expected an integer from 1 to 1000",
            ),
        ],
    )
    def test_invalid_query_is_400(self, runtime, params, field, detail):
        response = function_app.list_deliveries(
            http_request("GET", "api/deliveries", params=params)
        )

        assert response.status_code == 400
        body = response_json(response)
        assert body["field"] == field
        assert body["detail"] == detail

    def test_anonymous_is_401(self, runtime):
        response = function_app.list_deliveries(
            http_request("GET", "api/deliveries", role=None)
        )

        assert response.status_code == 401

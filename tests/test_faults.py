"""Crash the pipeline at each step boundary, then let it recover.

Each case kills the process (``Crash``) just before or just after one step of
intake, marking or notifying. The test keeps driving the app as the Functions host
and a reviewer would. Then every report must be stored once, every verdict
notified exactly once, every delivery ``sent`` and every queue empty.
"""

from __future__ import annotations

import os

import pytest
from azure.data.tables import TableClient
from azure.storage.blob import ContainerClient
from azure.storage.queue import QueueClient

from mailboxes.folder import FolderMailbox
from notifier import reconcile, service
from notifier.deliveries import DeliveryStatus, DeliveryStore
from tests.harness import Fault, FaultInjector, Pipeline

REPORTS = 3


def _table(name: str):
    return lambda client, *args, **kwargs: client.table_name.endswith(name)


def _queue(name: str):
    return lambda client, *args, **kwargs: client.queue_name.endswith(name)


def _delivery_in(status: DeliveryStatus):
    return lambda store, delivery: delivery.status == status


def _cursor_move(source, target):
    return os.path.basename(os.path.dirname(target)) == "processed"


# (step, owner, method, filter)
STEPS = [
    ("blob-write", ContainerClient, "upload_blob", None),
    ("report-insert", TableClient, "create_entity", _table("reports")),
    ("cursor-save", os, "replace", _cursor_move),
    ("verdict-write", TableClient, "update_entity", _table("reports")),
    ("audit-write", TableClient, "upsert_entity", _table("audit")),
    ("enqueue", QueueClient, "send_message", _queue("notifications")),
    ("render", service, "build_notification", None),
    ("claim", DeliveryStore, "save", _delivery_in(DeliveryStatus.SENDING)),
    ("send", FolderMailbox, "send", None),
    ("sent-record", DeliveryStore, "save", _delivery_in(DeliveryStatus.SENT)),
    ("message-delete", QueueClient, "delete_message", _queue("notifications")),
]
CASES = [
    pytest.param(
        owner, method, when, after, id=f"{step}-{'after' if after else 'before'}"
    )
    for step, owner, method, when in STEPS
    for after in (False, True)
    # Rendering writes nothing, so a crash after it equals one before the claim.
    if not (step == "render" and after)
]


@pytest.fixture
def pipeline(runtime, monkeypatch) -> Pipeline:
    # Sweep lost notifications at once instead of after the grace period.
    monkeypatch.setattr(reconcile, "GRACE_SECONDS", 0)
    return Pipeline(runtime)


@pytest.mark.parametrize(("owner", "method", "when", "after"), CASES)
def test_crash_at_step_recovers(pipeline, monkeypatch, owner, method, when, after):
    fault = FaultInjector(monkeypatch).add(Fault(owner, method, after=after, when=when))
    pipeline.drop_reports(REPORTS)

    pipeline.run_until_quiet()
    assert pipeline.mark_all() == REPORTS
    pipeline.run_until_quiet()

    assert fault.fired == 1
    assert pipeline.crashes == 1
    report_ids = pipeline.report_ids()
    assert len(report_ids) == REPORTS
    blobs = pipeline.runtime.storage.container("raw-reports").list_blobs()
    assert sorted(b.name for b in blobs) == [f"{r}.eml" for r in report_ids]
    expected = {f"user{n}@example.com": 1 for n in range(1, REPORTS + 1)}
    assert pipeline.notified_counts() == expected
    assert pipeline.delivery_statuses() == {"sent": REPORTS}
    assert pipeline.queues_empty()
    assert pipeline.inbox_empty()
    processed = pipeline.mailbox_dir / "processed"
    assert len(list(processed.iterdir())) == REPORTS


def test_same_report_polled_twice(pipeline):
    pipeline.drop_reports(2)
    pipeline.poll()
    # The mailbox delivers the same messages again, as after a lost cursor.
    pipeline.drop_reports(2)

    pipeline.run_until_quiet()

    assert len(pipeline.report_ids()) == 2

"""The poll lease: timer runs never overlap, and a poll that loses it stops."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError
from azure.functions.timer import TimerRequest
from azure.storage.blob import BlobLeaseClient

import function_app
from intake import lease as lease_module
from intake import poller
from intake.lease import LEASE_BLOB, poll_lease
from tests.harness import Pipeline


@pytest.fixture
def pipeline(runtime) -> Pipeline:
    return Pipeline(runtime)


def _inbox_names(pipeline: Pipeline) -> list[str]:
    return sorted(p.name for p in (pipeline.mailbox_dir / "inbox").iterdir())


def test_poll_skipped_while_lease_held(pipeline):
    pipeline.drop_reports(2)
    storage = pipeline.runtime.storage

    with poll_lease(storage) as held:
        assert held is not None
        result = poller.poll_once(pipeline.runtime.mailbox, storage)

    assert result.skipped is True
    assert result.seen == 0
    assert pipeline.report_ids() == []
    assert _inbox_names(pipeline) == ["report-00001.eml", "report-00002.eml"]


def test_poll_runs_after_lease_released(pipeline):
    pipeline.drop_reports(2)
    storage = pipeline.runtime.storage
    with poll_lease(storage):
        pass

    result = poller.poll_once(pipeline.runtime.mailbox, storage)

    assert result.skipped is False
    assert result.created == 2
    assert _inbox_names(pipeline) == []


def test_lost_lease_stops_before_cursor(pipeline, monkeypatch):
    pipeline.drop_reports(2)
    storage = pipeline.runtime.storage
    monkeypatch.setattr(lease_module, "RENEW_AFTER_SECONDS", 0)
    blob = storage.container("locks").get_blob_client(LEASE_BLOB)
    original_store = poller.store_message
    rival_leases: list = []

    def store_then_lose_lease(*args, **kwargs):
        created = original_store(*args, **kwargs)
        if not rival_leases:
            # Another poll breaks in, as after this one stalled past its lease.
            BlobLeaseClient(blob).break_lease(lease_break_period=0)
            rival_leases.append(blob.acquire_lease(lease_duration=15))
        return created

    monkeypatch.setattr(poller, "store_message", store_then_lose_lease)

    with pytest.raises(HttpResponseError):
        poller.poll_once(pipeline.runtime.mailbox, storage)

    assert len(pipeline.report_ids()) == 1
    assert _inbox_names(pipeline) == ["report-00001.eml", "report-00002.eml"]
    rival_leases[0].release()
    monkeypatch.setattr(poller, "store_message", original_store)
    assert poller.poll_once(pipeline.runtime.mailbox, storage).created == 1
    assert len(pipeline.report_ids()) == 2
    assert _inbox_names(pipeline) == []


def test_past_due_timer_polls(pipeline):
    pipeline.drop_reports(1)

    function_app.poll_reporting_mailbox(TimerRequest(past_due=True))

    assert len(pipeline.report_ids()) == 1

"""Storage goes away in the middle of a run and comes back: nothing is lost or repeated.

The test runs an Azurite of its own on free ports with its data on disk, so that
stopping it leaves the shared one alone and a restart finds the same data.
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import AzureError

from mailboxes.folder import FolderMailbox
from notifier import reconcile
from runtime import reset_runtime
from tests.harness import Pipeline, PrivateAzurite, runtime_on

REPORTS = 4


@pytest.fixture
def azurite(tmp_path):
    azurite = PrivateAzurite(tmp_path / "azurite")
    azurite.start()
    yield azurite
    azurite.stop()
    reset_runtime()


def _attempt(step) -> bool:
    """Run one timer or queue step as the host would; False when storage failed."""
    try:
        step()
    except AzureError:
        return False
    return True


def test_storage_restart_mid_run(azurite, tmp_path, monkeypatch):
    monkeypatch.setattr(reconcile, "GRACE_SECONDS", 0)
    runtime = runtime_on(azurite, tmp_path / "mailbox", monkeypatch, sdk_retries=False)
    pipeline = Pipeline(runtime)
    pipeline.drop_reports(REPORTS)
    pipeline.run_until_quiet()
    assert pipeline.mark_all() == REPORTS
    # Storage stops right after the first email leaves, before it is recorded.
    original_send = FolderMailbox.send
    stopped = []

    def send_then_stop(mailbox, message):
        original_send(mailbox, message)
        if not stopped:
            azurite.stop()
            stopped.append(True)

    monkeypatch.setattr(FolderMailbox, "send", send_then_stop)

    assert _attempt(pipeline.process_queues) is False
    pipeline.drop_reports(2, start=REPORTS + 1)
    assert _attempt(pipeline.poll) is False
    azurite.start()
    pipeline.run_until_quiet()
    assert pipeline.mark_all() == REPORTS + 2
    pipeline.run_until_quiet()

    assert stopped == [True]
    assert len(pipeline.report_ids()) == REPORTS + 2
    expected = {f"user{n}@example.com": 1 for n in range(1, REPORTS + 3)}
    assert pipeline.notified_counts() == expected
    assert pipeline.delivery_statuses() == {"sent": REPORTS + 2}
    assert pipeline.queues_empty()

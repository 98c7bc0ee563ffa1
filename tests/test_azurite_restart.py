"""Storage goes away in the middle of a run and comes back: nothing is lost or repeated.

The test runs an Azurite of its own on free ports with its data on disk, so that
stopping it leaves the shared one alone and a restart finds the same data.
"""

from __future__ import annotations

import contextlib
import socket
import uuid

import pytest
from azure.core.exceptions import AzureError
from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from devhost.azurite import azurite_running
from mailboxes.folder import FolderMailbox
from notifier import reconcile
from runtime import get_runtime, reset_runtime
from storage import Storage
from tests.harness import Pipeline

# Azurite's documented development account; it exists only inside the emulator.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
    "KBHBeksoGMGw=="
)
REPORTS = 4


def _free_ports() -> tuple[int, int, int]:
    sockets = [socket.socket() for _ in range(3)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = tuple(sock.getsockname()[1] for sock in sockets)
    for sock in sockets:
        sock.close()
    return ports


def _connection_string(ports: tuple[int, int, int]) -> str:
    blob, queue, table = ports
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{blob}/{ACCOUNT};"
        f"QueueEndpoint=http://127.0.0.1:{queue}/{ACCOUNT};"
        f"TableEndpoint=http://127.0.0.1:{table}/{ACCOUNT};"
    )


def _storage_without_retries(connection: str, prefix: str) -> Storage:
    # The SDKs' own retries wait up to minutes for a stopped server; the pipeline
    # retries through the queue and the timer instead.
    return Storage(
        tables=TableServiceClient.from_connection_string(connection, retry_total=0),
        queues=QueueServiceClient.from_connection_string(connection, retry_total=0),
        blobs=BlobServiceClient.from_connection_string(connection, retry_total=0),
        prefix=prefix,
    )


@pytest.fixture
def own_azurite(tmp_path, monkeypatch):
    """Yield (stop, start) for an Azurite of this test, already started."""
    ports = _free_ports()
    location = tmp_path / "azurite"
    stack = contextlib.ExitStack()

    def start() -> None:
        stack.enter_context(azurite_running(location, ports=ports))

    start()
    connection = _connection_string(ports)
    monkeypatch.setenv("AzureWebJobsStorage", connection)
    monkeypatch.setenv("REPORTBACK_STORAGE_PREFIX", "r" + uuid.uuid4().hex[:12])
    monkeypatch.setenv("REPORTBACK_MAILBOX_DIR", str(tmp_path / "mailbox"))
    monkeypatch.setenv("REPORTBACK_DEFAULT_SENDER", "security-results@example.com")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.delenv("REPORTBACK_REPORTING_MAILBOX", raising=False)
    monkeypatch.delenv("AzureWebJobsStorage__accountName", raising=False)
    monkeypatch.setattr(reconcile, "GRACE_SECONDS", 0)
    reset_runtime()
    runtime = get_runtime()
    config = runtime.config
    storage = _storage_without_retries(connection, config.storage_prefix)
    storage.create_all()
    runtime.__dict__["storage"] = storage
    yield runtime, stack.close, start
    stack.close()
    reset_runtime()


def _attempt(step) -> bool:
    """Run one timer or queue step as the host would; False when storage failed."""
    try:
        step()
    except AzureError:
        return False
    return True


def test_storage_restart_mid_run(own_azurite, monkeypatch):
    runtime, stop, start = own_azurite
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
            stop()
            stopped.append(True)

    monkeypatch.setattr(FolderMailbox, "send", send_then_stop)

    assert _attempt(pipeline.process_queues) is False
    pipeline.drop_reports(2, start=REPORTS + 1)
    assert _attempt(pipeline.poll) is False
    start()
    pipeline.run_until_quiet()
    assert pipeline.mark_all() == REPORTS + 2
    pipeline.run_until_quiet()

    assert stopped == [True]
    assert len(pipeline.report_ids()) == REPORTS + 2
    expected = {f"user{n}@example.com": 1 for n in range(1, REPORTS + 3)}
    assert pipeline.notified_counts() == expected
    assert pipeline.delivery_statuses() == {"sent": REPORTS + 2}
    assert pipeline.queues_empty()

"""Fault injection and a pipeline driver for the reliability tests.

``Crash`` is the process dying. It derives from BaseException, so it passes every
``except Exception`` in the app and the dev host, as a killed worker would.
``FaultInjector`` raises it (or any error) before or after one step, and
``Pipeline`` drives the app's own functions as the Functions host would until
nothing is left to do.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import functools
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from azure.data.tables import TableServiceClient
from azure.functions.timer import TimerRequest
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

import function_app
from devhost.azurite import azurite_running, connection_string, free_ports
from devhost.seed import wrap_original
from devhost.workers import QueueOptions, process_queue_once
from runtime import Runtime, get_runtime, reset_runtime
from storage import Storage
from verdicts.model import Verdict
from verdicts.service import mark_report

# Failed runs are visible again at once, so recovery does not wait 30 s.
FAST_QUEUE = QueueOptions(max_dequeue_count=5, visibility_timeout_seconds=0)
# A crashed run's message is invisible this long, the minimum Azure accepts.
CRASHED_RUN_SECONDS = 1


class Crash(BaseException):
    """The process died at an injected point."""


@dataclass
class Fault:
    """One injected failure: which call, before or after it runs, how often."""

    owner: Any
    attribute: str
    after: bool = False
    error: BaseException | type[BaseException] = Crash
    when: Callable[..., bool] | None = None
    times: int = 1
    fired: int = 0


class FaultInjector:
    """Wraps methods so that chosen calls fail, through pytest's monkeypatch."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def add(self, fault: Fault) -> Fault:
        original = getattr(fault.owner, fault.attribute)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            matches = fault.when is None or fault.when(*args, **kwargs)
            armed = matches and fault.fired < fault.times
            if armed and not fault.after:
                fault.fired += 1
                raise _instance(fault.error, fault)
            result = original(*args, **kwargs)
            if armed:
                fault.fired += 1
                raise _instance(fault.error, fault)
            return result

        self._monkeypatch.setattr(fault.owner, fault.attribute, wrapper)
        return fault


def _instance(
    error: BaseException | type[BaseException], fault: Fault
) -> BaseException:
    if isinstance(error, BaseException):
        return error
    where = "after" if fault.after else "before"
    return error(f"injected {where} {fault.attribute}")


@functools.cache
def report_mime(index: int, *, reporter_domain: str = "example.com") -> bytes:
    """Return a phishing report by ``user<index>`` with an inline original.

    Cached, because the wrapper gets a new Message-ID and so a new report id
    each time it is built.
    """
    original = (
        "From: Billing <billing@invoices.example.net>\r\n"
        "To: user{0}@{1}\r\n"
        "Subject: Invoice {0} is overdue\r\n"
        "Date: Thu, 03 Dec 2026 09:00:00 +0000\r\n"
        "Message-ID: <invoice-{0}@invoices.example.net>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Pay invoice {0} today.\r\n"
    ).format(index, reporter_domain)
    return wrap_original(
        original.encode(),
        reporter=f"user{index}@{reporter_domain}",
        reporter_name=f"User {index}",
    )


@dataclass
class Pipeline:
    """Runs the app's timer and queue functions against one test runtime."""

    runtime: Runtime
    crashes: int = 0

    @property
    def mailbox_dir(self) -> Path:
        return self.runtime.config.mailbox_dir

    def drop_reports(self, count: int, *, start: int = 1) -> None:
        inbox = self.mailbox_dir / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        for index in range(start, start + count):
            (inbox / f"report-{index:05d}.eml").write_bytes(report_mime(index))

    def poll(self) -> bool:
        """Fire the timer once; return False when the run crashed."""
        try:
            function_app.poll_reporting_mailbox(TimerRequest(past_due=False))
        except Crash:
            self.crashes += 1
            return False
        return True

    def process_queues(self) -> int:
        """Run each queue once as the host would; return the messages received."""
        storage = self.runtime.storage
        handled = 0
        for name, function in (
            ("notifications", function_app.send_notification),
            ("notifications-poison", function_app.record_poisoned_notification),
        ):
            try:
                handled += process_queue_once(
                    storage.queue(name),
                    storage.queue(f"{name}-poison"),
                    function,
                    max_messages=32,
                    options=FAST_QUEUE,
                    run_visibility_seconds=CRASHED_RUN_SECONDS,
                )
            except Crash:
                self.crashes += 1
                # The crashed run's messages come back once their lease runs out.
                time.sleep(CRASHED_RUN_SECONDS + 0.2)
                handled += 1
        return handled

    def mark_all(self, verdict: Verdict = Verdict.PHISHING) -> int:
        """Mark every report as a reviewer would, retrying after a crash."""
        storage = self.runtime.storage
        marked = 0
        for report_id in self.report_ids():
            for _ in range(3):
                try:
                    mark_report(storage, report_id, verdict, actor="alex@example.com")
                except Crash:
                    self.crashes += 1
                    continue
                marked += 1
                break
        return marked

    def run_until_quiet(self, *, max_rounds: int = 50) -> None:
        """Poll and run the queues until the inbox and every queue are empty."""
        for _ in range(max_rounds):
            polled = self.poll()
            handled = self.process_queues()
            if polled and handled == 0 and self.queues_empty() and self.inbox_empty():
                return
        raise AssertionError(f"pipeline still busy after {max_rounds} rounds")

    def inbox_empty(self) -> bool:
        inbox = self.mailbox_dir / "inbox"
        return not inbox.exists() or not any(inbox.iterdir())

    def queues_empty(self) -> bool:
        storage = self.runtime.storage
        return all(
            storage.queue(name).get_queue_properties().approximate_message_count == 0
            for name in ("notifications", "notifications-poison")
        )

    def report_ids(self) -> list[str]:
        table = self.runtime.storage.table("reports")
        rows = table.query_entities("PartitionKey eq 'report'", select=["RowKey"])
        return sorted(row["RowKey"] for row in rows)

    def outbox(self) -> list[email.message.EmailMessage]:
        outbox = self.mailbox_dir / "outbox"
        if not outbox.exists():
            return []
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(outbox.glob("*.eml"))
        ]

    def notified_counts(self) -> Counter[str]:
        """Count sent notifications per recipient address."""
        return Counter(m["To"].addresses[0].addr_spec for m in self.outbox())

    def delivery_statuses(self) -> Counter[str]:
        table = self.runtime.storage.table("deliveries")
        return Counter(row["status"] for row in table.list_entities())


class ScriptedMailbox:
    """A folder mailbox whose sends first fail with the given errors, in order."""

    def __init__(self, inner: Any, errors: list[BaseException] | None = None) -> None:
        self.inner = inner
        self.errors = list(errors or [])
        self.sends = 0

    def poll(self) -> Any:
        return self.inner.poll()

    def send(self, message: Any) -> None:
        self.sends += 1
        if self.errors:
            raise self.errors.pop(0)
        self.inner.send(message)

    def was_sent(self, message_id: str) -> bool:
        return self.inner.was_sent(message_id)


class ForgetfulMailbox(ScriptedMailbox):
    """A scripted mailbox that cannot look up what it sent (no ``was_sent``)."""

    was_sent = None  # type: ignore[assignment]


def use_mailbox(runtime: Runtime, mailbox: Any) -> Any:
    """Make the app's functions send through ``mailbox`` for this runtime."""
    runtime.__dict__["mailbox"] = mailbox
    return mailbox


class PrivateAzurite:
    """An Azurite of one test on free ports, which it may stop and start again.

    The shared Azurite serves every developer's tests at once, so a test that stops
    storage, or measures load, runs its own.
    """

    def __init__(self, location: Path, *, in_memory: bool = False) -> None:
        self.location = location
        self.in_memory = in_memory
        self.ports = free_ports()
        self._stack = contextlib.ExitStack()

    @property
    def connection_string(self) -> str:
        return connection_string(self.ports)

    def start(self) -> None:
        self._stack.enter_context(
            azurite_running(self.location, in_memory=self.in_memory, ports=self.ports)
        )

    def stop(self) -> None:
        self._stack.close()


def runtime_on(
    azurite: PrivateAzurite,
    mailbox_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    sdk_retries: bool = True,
) -> Runtime:
    """Return a fresh runtime on ``azurite``, set up as the ``runtime`` fixture does.

    Without ``sdk_retries`` a storage call to a stopped Azurite fails at once; the
    SDKs' own retries would wait for minutes.
    """
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    monkeypatch.setenv("REPORTBACK_STORAGE_PREFIX", "r" + uuid.uuid4().hex[:12])
    monkeypatch.setenv("REPORTBACK_MAILBOX_DIR", str(mailbox_dir))
    monkeypatch.setenv("REPORTBACK_DEFAULT_SENDER", "security-results@example.com")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.delenv("REPORTBACK_REPORTING_MAILBOX", raising=False)
    monkeypatch.delenv("AzureWebJobsStorage__accountName", raising=False)
    reset_runtime()
    runtime = get_runtime()
    if not sdk_retries:
        connection = azurite.connection_string
        storage = Storage(
            tables=TableServiceClient.from_connection_string(connection, retry_total=0),
            queues=QueueServiceClient.from_connection_string(connection, retry_total=0),
            blobs=BlobServiceClient.from_connection_string(connection, retry_total=0),
            prefix=runtime.config.storage_prefix,
        )
        storage.create_all()
        runtime.__dict__["storage"] = storage
    return runtime

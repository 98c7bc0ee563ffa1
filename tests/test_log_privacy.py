"""Logs of a full run name ids, never a reporter's address, subject or message text."""

from __future__ import annotations

import logging

import pytest

import function_app
from mailboxes import PermanentSendError, TransientSendError
from mailboxes.folder import FolderMailbox
from notifier import reconcile
from tests.conftest import http_request, response_json
from tests.harness import Pipeline, ScriptedMailbox, use_mailbox
from tests.test_delivery_graph import GraphPipeline

REPORTS = 3


def _private_values(count: int) -> list[str]:
    """Return what ``tests.harness.report_mime`` puts in report ``1..count``."""
    values = ["billing@invoices.example.net", "Billing <"]
    for index in range(1, count + 1):
        values += [
            f"user{index}@example.com",
            f"User {index}",
            f"Invoice {index} is overdue",
            f"Pay invoice {index} today",
        ]
    return values


def _logged_text(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return text


def _run(pipeline: Pipeline) -> None:
    """Store, mark and notify every report, with a retry, a failure and a replay."""
    pipeline.drop_reports(REPORTS)
    pipeline.run_until_quiet()
    assert pipeline.mark_all() == REPORTS
    pipeline.run_until_quiet()
    listing = function_app.list_deliveries(
        http_request("GET", "api/deliveries", params={"status": "failed"})
    )
    (failed,) = response_json(listing)["items"]
    report_id = failed["report_id"]
    response = function_app.retry_notification(
        http_request(
            "POST",
            f"api/reports/{report_id}/notification/retry",
            route_params={"id": report_id},
            role="reviewer",
        )
    )
    assert response.status_code == 202
    pipeline.run_until_quiet()
    pipeline.runtime.storage.queue("notifications").send_message("not a request")
    pipeline.run_until_quiet()


def _assert_private(caplog: pytest.LogCaptureFixture) -> None:
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert records, "the run logged nothing at INFO or above"
    private = _private_values(REPORTS)
    for record in records:
        text = _logged_text(record)
        leaked = [value for value in private if value in text]
        assert leaked == [], f"{record.name} {record.levelname}: {text}"


@pytest.fixture(autouse=True)
def sweep_at_once(monkeypatch):
    monkeypatch.setattr(reconcile, "GRACE_SECONDS", 0)


def test_folder_run_logs_no_private_values(runtime, caplog):
    caplog.set_level(logging.DEBUG)
    pipeline = Pipeline(runtime)
    use_mailbox(
        runtime,
        ScriptedMailbox(
            FolderMailbox(runtime.config.mailbox_dir),
            [
                TransientSendError("451 user1@example.com mailbox busy", retry_after=0),
                PermanentSendError("550 user1@example.com: recipient rejected"),
            ],
        ),
    )

    _run(pipeline)

    _assert_private(caplog)
    assert len(pipeline.outbox()) == REPORTS


def test_graph_run_logs_no_private_values(graph_runtime, fake_graph, caplog):
    caplog.set_level(logging.DEBUG)
    pipeline = GraphPipeline(graph_runtime, graph=fake_graph)
    fake_graph.fail_next("POST", "send_mail", 429, headers={"Retry-After": "1"})
    fake_graph.send_as_denied.add("security-results@example.com")

    pipeline.drop_reports(REPORTS)
    pipeline.run_until_quiet()
    assert pipeline.mark_all() == REPORTS
    pipeline.run_until_quiet()
    fake_graph.send_as_denied.clear()
    pipeline.runtime.storage.queue("notifications").send_message("not a request")
    pipeline.run_until_quiet()

    _assert_private(caplog)
    assert pipeline.delivery_statuses() == {"failed": REPORTS}

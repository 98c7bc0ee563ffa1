"""Reports stored directly, for tests of the review API that need exact field values."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import azure.functions as func

import function_app
from tests.conftest import http_request, response_json
from verdicts.model import Eligibility, Kind, Report, SystemVerdict
from verdicts.store import ReportStore

BASE_TIME = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
_numbers = itertools.count(1)


def store_report(runtime, **fields: Any) -> Report:
    """Store a markable email report; ``fields`` override the defaults."""
    number = next(_numbers)
    values: dict[str, Any] = {
        "id": f"report{number:05d}",
        "kind": Kind.EMAIL,
        "received_at": BASE_TIME + timedelta(minutes=number),
        "reporter_address": f"user{number}@example.com",
        "reporter_name": f"User {number}",
        "original_sender": "billing@invoices.example.net",
        "original_subject": f"Invoice {number}",
        "system_verdict": SystemVerdict.DELIVERED,
        "eligibility": Eligibility.FALSE_NEGATIVE,
        "campaign_key": f"campaign{number}",
    }
    values.update(fields)
    report = Report(**values)
    assert ReportStore(runtime.storage).add(report)
    return report


def call(name: str, request: func.HttpRequest) -> func.HttpResponse:
    """Call the function ``name`` of ``function_app`` as the Functions host does."""
    return getattr(function_app, name)(request)


def mark(report_id: str, body: dict[str, Any], **options: Any) -> func.HttpResponse:
    options.setdefault("role", "reviewer")
    return call(
        "mark_verdict",
        http_request(
            "POST",
            f"api/reports/{report_id}/verdict",
            route_params={"id": report_id},
            body=body,
            **options,
        ),
    )


def list_ids(params: dict[str, str] | None = None) -> list[str]:
    response = call("list_reports", http_request("GET", "api/reports", params=params))
    assert response.status_code == 200, response.get_body()
    return [item["id"] for item in response_json(response)["items"]]


def queued_messages(runtime) -> list[str]:
    queue = runtime.storage.queue("notifications")
    return [m.content for m in queue.peek_messages(max_messages=32)]

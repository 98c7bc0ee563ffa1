"""Shared fixtures: Azurite, an isolated storage prefix per test, request builders."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from devhost.azurite import azurite_running  # noqa: E402
from runtime import Runtime, get_runtime, reset_runtime  # noqa: E402
from verdicts.http import encode_principal  # noqa: E402

SAMPLES_DIR = PROJECT_DIR.parent / "shared" / "samples"
SEED_DIR = PROJECT_DIR / "devhost" / "seed"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the expected files in tests/golden/ instead of comparing",
    )


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Start an in-memory Azurite for the session unless one is already running."""
    with azurite_running(tmp_path_factory.mktemp("azurite"), in_memory=True):
        yield


@pytest.fixture
def runtime(azurite: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """A runtime on fresh tables, queues and containers, and an empty folder mailbox."""
    prefix = "t" + uuid.uuid4().hex[:12]
    monkeypatch.setenv("REPORTBACK_STORAGE_PREFIX", prefix)
    monkeypatch.setenv("REPORTBACK_MAILBOX_DIR", str(tmp_path / "mailbox"))
    monkeypatch.setenv("REPORTBACK_DEFAULT_SENDER", "security-results@example.com")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    monkeypatch.delenv("REPORTBACK_REPORTING_MAILBOX", raising=False)
    monkeypatch.delenv("AzureWebJobsStorage__accountName", raising=False)
    reset_runtime()
    current = get_runtime()
    yield current
    _delete_prefixed(current)
    reset_runtime()


def _delete_prefixed(runtime: Runtime) -> None:
    storage = runtime.__dict__.get("storage")
    if storage is None:
        return
    prefix = storage.prefix
    for table in storage.tables.list_tables():
        if table.name.startswith(prefix):
            storage.tables.delete_table(table.name)
    for queue in storage.queues.list_queues(name_starts_with=prefix):
        storage.queues.delete_queue(queue.name)
    for container in storage.blobs.list_containers(name_starts_with=prefix):
        storage.blobs.delete_container(container.name)


def http_request(
    method: str,
    path: str,
    *,
    route_params: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    body: Any = None,
    role: str | None = "settings_admin",
    headers: dict[str, str] | None = None,
) -> func.HttpRequest:
    """Build a request as the Functions runtime passes it, signed in with ``role``.

    It carries the header state-changing API calls need, as the portal sends it.
    """
    all_headers = {
        "content-type": "application/json",
        "x-requested-with": "XMLHttpRequest",
    }
    if role is not None:
        all_headers["x-ms-client-principal"] = encode_principal(
            "alex@example.com", role
        )
    all_headers.update(headers or {})
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    return func.HttpRequest(
        method=method,
        url=f"http://127.0.0.1:7071/{path}",
        headers=all_headers,
        params=params or {},
        route_params=route_params or {},
        body=data,
    )


def response_json(response: func.HttpResponse) -> Any:
    return json.loads(response.get_body())


REPORTING_MAILBOX = "phishing-reports@example.com"


@pytest.fixture
def fake_graph():
    """A fake Graph server on 127.0.0.1 with the reporting and the sender mailbox."""
    from tests.fakegraph import FakeGraph

    with FakeGraph(
        mailboxes=[REPORTING_MAILBOX, "security-results@example.com"]
    ) as graph:
        yield graph


@pytest.fixture
def graph_runtime(runtime: Runtime, fake_graph, monkeypatch: pytest.MonkeyPatch):
    """The ``runtime`` fixture's storage, with the Graph mailbox on ``fake_graph``."""
    runtime.storage  # create the prefixed tables so that teardown deletes them
    monkeypatch.setenv("REPORTBACK_REPORTING_MAILBOX", REPORTING_MAILBOX)
    monkeypatch.setenv("REPORTBACK_GRAPH_BASE_URL", fake_graph.base_url)
    reset_runtime()
    current = get_runtime()
    yield current
    mailbox = current.__dict__.get("mailbox")
    if mailbox is not None:
        mailbox.client.close()
    graph_client = current.__dict__.get("graph_client")
    if graph_client is not None:
        graph_client.close()

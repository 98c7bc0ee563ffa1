"""Telemetry export: off without a connection string, real spans with one.

OpenTelemetry's providers are global to a process, so each case runs the app in a
subprocess. A loopback server replaces the Application Insights ingestion endpoint,
and the subprocess rejects every connection and name lookup that is not loopback,
so no test traffic can leave the machine.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent

# Prepended to every subprocess script: record and reject non-loopback traffic.
LOOPBACK_GUARD = """
import json, socket, sys
blocked = []
_connect = socket.socket.connect
_getaddrinfo = socket.getaddrinfo

def _is_loopback(host):
    return host in (None, "localhost", "::1") or str(host).startswith("127.")

def connect(self, address):
    host = address[0] if isinstance(address, tuple) else None
    if isinstance(address, tuple) and not _is_loopback(host):
        blocked.append(str(host))
        raise ConnectionRefusedError(f"test guard: {host} is not loopback")
    return _connect(self, address)

def getaddrinfo(host, *args, **kwargs):
    if not _is_loopback(host):
        blocked.append(str(host))
        raise socket.gaierror(f"test guard: {host} is not loopback")
    return _getaddrinfo(host, *args, **kwargs)

socket.socket.connect = connect
socket.getaddrinfo = getaddrinfo
sys.path.insert(0, sys.argv[1])
"""

EXPORT_SCRIPT = """
from opentelemetry import trace
from runtime import get_runtime
from storage.clients import CONTAINERS, QUEUES, TABLES

runtime = get_runtime()
storage = runtime.storage  # creates tables, queues and containers: Azure SDK spans
for name in TABLES:
    storage.tables.delete_table(storage.prefix + name)
for name in QUEUES:
    storage.queues.delete_queue(storage.prefix + name)
for name in CONTAINERS:
    storage.blobs.delete_container(storage.prefix + name)
flushed = trace.get_tracer_provider().force_flush(10_000)
print(json.dumps({"flushed": flushed, "blocked": blocked}))
"""

IDLE_SCRIPT = """
from runtime import get_runtime
get_runtime()
print(json.dumps({
    "imported": "azure.monitor.opentelemetry" in sys.modules,
    "blocked": blocked,
}))
"""


class FakeIngestion(ThreadingHTTPServer):
    """A loopback Application Insights ingestion endpoint that keeps envelopes."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), IngestionHandler)
        self.envelopes: list[dict] = []
        self.port = self.server_address[1]


class IngestionHandler(BaseHTTPRequestHandler):
    server: FakeIngestion

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        if self.path.lstrip("/").startswith("v2.1/track"):
            items = json.loads(body)
            self.server.envelopes.extend(items)
            answer = {"itemsReceived": len(items), "itemsAccepted": len(items)}
            answer["errors"] = []
        else:
            answer = {}
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def ingestion() -> Iterator[FakeIngestion]:
    server = FakeIngestion()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_app(script: str, tmp_path: Path, **settings: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("APPLICATIONINSIGHTS_", "REPORTBACK_", "OTEL_"))
    }
    env.update(
        REPORTBACK_STORAGE_PREFIX="t" + uuid.uuid4().hex[:12],
        REPORTBACK_MAILBOX_DIR=str(tmp_path / "mailbox"),
        # The SDK's own usage statistics go to a fixed Microsoft endpoint.
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL="true",
        APPLICATIONINSIGHTS_SDKSTATS_DISABLED="true",
        APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED="true",
        # The distro's default azure_vm detector requests the instance metadata
        # endpoint at 169.254.169.254; App Service's detector reads variables only.
        OTEL_EXPERIMENTAL_RESOURCE_DETECTORS="azure_app_service",
        # The distro samples 5 traces a second by default; keep every span here.
        OTEL_TRACES_SAMPLER="always_on",
        **settings,
    )
    result = subprocess.run(
        [sys.executable, "-c", LOOPBACK_GUARD + script, str(PROJECT_DIR)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_without_connection_string_nothing_is_imported(azurite, tmp_path):
    outcome = run_app(IDLE_SCRIPT, tmp_path)
    assert outcome == {"imported": False, "blocked": []}


def test_storage_calls_reach_application_insights(azurite, tmp_path, ingestion):
    endpoint = f"http://127.0.0.1:{ingestion.port}"
    connection = (
        f"InstrumentationKey={uuid.uuid4()};IngestionEndpoint={endpoint};"
        f"LiveEndpoint={endpoint}"
    )
    outcome = run_app(
        EXPORT_SCRIPT, tmp_path, APPLICATIONINSIGHTS_CONNECTION_STRING=connection
    )
    assert outcome["blocked"] == []
    assert outcome["flushed"] is True
    dependencies = [
        item["data"]["baseData"]
        for item in ingestion.envelopes
        if item["data"]["baseType"] == "RemoteDependencyData"
    ]
    targets = {dependency.get("target") for dependency in dependencies}
    assert "127.0.0.1:10002" in targets  # Azurite's Table endpoint
    assert "127.0.0.1:10001" in targets  # Queue
    assert "127.0.0.1:10000" in targets  # Blob

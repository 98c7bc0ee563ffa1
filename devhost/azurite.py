"""Start Azurite, the storage emulator, on 127.0.0.1 unless one is already running."""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_PORTS = (10000, 10001, 10002)  # blob, queue, table
START_TIMEOUT_SECONDS = 30.0


class AzuriteError(RuntimeError):
    """Azurite could not be found or did not start."""


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# Azurite's documented development account; it exists only inside the emulator.
DEV_ACCOUNT = "devstoreaccount1"
DEV_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
    "KBHBeksoGMGw=="
)


def free_ports() -> tuple[int, int, int]:
    """Return three TCP ports on 127.0.0.1 that were free a moment ago."""
    sockets = [socket.socket() for _ in range(3)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = tuple(sock.getsockname()[1] for sock in sockets)
    for sock in sockets:
        sock.close()
    return ports


def connection_string(ports: tuple[int, int, int]) -> str:
    """Return the connection string of an Azurite on ``ports`` (blob, queue, table)."""
    blob, queue, table = ports
    return (
        f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};"
        f"AccountKey={DEV_ACCOUNT_KEY};"
        f"BlobEndpoint=http://127.0.0.1:{blob}/{DEV_ACCOUNT};"
        f"QueueEndpoint=http://127.0.0.1:{queue}/{DEV_ACCOUNT};"
        f"TableEndpoint=http://127.0.0.1:{table}/{DEV_ACCOUNT};"
    )


def is_running(ports: tuple[int, int, int] = DEFAULT_PORTS) -> bool:
    return all(_port_open(port) for port in ports)


def azurite_command() -> str:
    local = PROJECT_DIR / "node_modules" / ".bin" / "azurite"
    if local.exists():
        return str(local)
    found = shutil.which("azurite")
    if found is None:
        raise AzuriteError(
            "azurite not found in node_modules/.bin or on PATH; run 'npm ci' first"
        )
    return found


@contextlib.contextmanager
def azurite_running(
    location: Path,
    *,
    in_memory: bool = False,
    ports: tuple[int, int, int] = DEFAULT_PORTS,
) -> Iterator[bool]:
    """Run Azurite for the duration of the block; yield whether this call started it.

    ``ports`` are the blob, queue and table ports.
    """
    if is_running(ports):
        yield False
        return
    if any(_port_open(port) for port in ports):
        raise AzuriteError(
            f"some of the ports {ports} are in use by something that is not Azurite"
        )
    location.mkdir(parents=True, exist_ok=True)
    command = [
        azurite_command(),
        "--silent",
        "--disableTelemetry",
        "--skipApiVersionCheck",
        "--blobHost", "127.0.0.1", "--blobPort", str(ports[0]),
        "--queueHost", "127.0.0.1", "--queuePort", str(ports[1]),
        "--tableHost", "127.0.0.1", "--tablePort", str(ports[2]),
    ]  # fmt: skip
    # Azurite rejects --location together with --inMemoryPersistence.
    command += ["--inMemoryPersistence"] if in_memory else ["--location", str(location)]
    log = open(location / "azurite.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not is_running(ports):
            if process.poll() is not None:
                raise AzuriteError(
                    f"azurite exited with code {process.returncode}; "
                    f"see {location / 'azurite.log'}"
                )
            if time.monotonic() > deadline:
                raise AzuriteError(
                    f"azurite did not open ports {ports} within "
                    f"{START_TIMEOUT_SECONDS:.0f} s"
                )
            time.sleep(0.1)
        logger.info("azurite started, data in %s", location)
        yield True
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()

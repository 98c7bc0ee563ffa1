"""Measure what telemetry adds to the first ``get_runtime`` call of a process.

Each case runs in a fresh interpreter, ``--runs`` times, after one warm-up run that
writes the bytecode caches; only the ``get_runtime()`` call is timed. The reference
leaves ``APPLICATIONINSIGHTS_CONNECTION_STRING`` empty, as local runs and tests do.
The other case sets it, so azure-monitor-opentelemetry is imported and configured.
Its endpoint is a closed loopback port, the Azure VM resource detector and the SDK's
usage statistics are off, so nothing is sent anywhere.

    .venv/bin/python bench/telemetry_start.py --runs 10
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
PROBE = (
    "import time\n"
    "from runtime import get_runtime\n"
    "start = time.perf_counter()\n"
    "get_runtime()\n"
    "print(time.perf_counter() - start)\n"
)
# Port 9 (discard) on loopback: nothing listens there on these machines, so an
# export attempt fails at once without leaving the machine.
CLOSED_ENDPOINT = "http://127.0.0.1:9"
CASES = {
    "no connection string (reference)": {},
    "connection string set": {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": (
            "InstrumentationKey=00000000-0000-0000-0000-000000000000;"
            f"IngestionEndpoint={CLOSED_ENDPOINT};LiveEndpoint={CLOSED_ENDPOINT}"
        ),
    },
}


def start_seconds(settings: dict[str, str], mailbox_dir: str) -> float:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("APPLICATIONINSIGHTS_", "OTEL_"))
    }
    env.update(
        REPORTBACK_MAILBOX_DIR=mailbox_dir,
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL="true",
        APPLICATIONINSIGHTS_SDKSTATS_DISABLED="true",
        APPLICATIONINSIGHTS_CONTROLPLANE_DISABLED="true",
        OTEL_EXPERIMENTAL_RESOURCE_DETECTORS="azure_app_service",
        **settings,
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per case")
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs; median of {args.runs} runs"
    )
    with tempfile.TemporaryDirectory() as mailbox_dir:
        for name, settings in CASES.items():
            start_seconds(settings, mailbox_dir)
            times = [start_seconds(settings, mailbox_dir) for _ in range(args.runs)]
            print(
                f"{name:34} {statistics.median(times) * 1000:8.1f} ms "
                f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})"
            )


if __name__ == "__main__":
    main()

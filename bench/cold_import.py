"""Measure the cold import time of ``function_app`` beside its references.

Each module is imported in a fresh interpreter, ``--runs`` times, after one warm-up
run that writes the bytecode caches. Time is measured inside the child process with
``time.perf_counter`` around the import statement only, so interpreter start-up is
left out. References: ``azure.functions`` (the floor any Functions app pays) and
``msgraph`` plus ``mailboxes.graph`` (what the first Graph call pays later).

    .venv/bin/python bench/cold_import.py --runs 15
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
MODULES = ("azure.functions", "function_app", "msgraph", "mailboxes.graph")
PROBE = (
    "import time\n"
    "start = time.perf_counter()\n"
    "import {module}\n"
    "print(time.perf_counter() - start)\n"
)


def import_seconds(module: str) -> float:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="imports per module")
    args = parser.parse_args(argv)
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {args.runs} runs"
    )
    print(f"{'module':<18} {'median ms':>10} {'min ms':>8} {'max ms':>8}")
    for module in MODULES:
        import_seconds(module)  # warm-up: bytecode caches
        samples = [import_seconds(module) * 1000 for _ in range(args.runs)]
        print(
            f"{module:<18} {statistics.median(samples):>10.1f} "
            f"{min(samples):>8.1f} {max(samples):>8.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

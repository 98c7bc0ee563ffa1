"""Intake parse throughput over the shared phishing originals, beside other parsers.

Run from the project root: ``.venv/bin/python bench/intake.py`` (or ``make bench``).
Every parser reads the same in-memory corpus (``../shared/samples/eml/``) in the
same process, several rounds each; the best round counts, which damps noise from
other work on the machine. Printed: messages per second and how our full
extraction compares with each reference.

- ours, Graph item: ``parse_report`` with the original as a Graph item attachment
  beside a small wrapper, so nearly all the work is the original.
- ours, .eml report: ``parse_report`` on the original wrapped as a report by
  ``devhost.seed.wrap_original`` (the folder mailbox's real input).
- mail-parser: ``mailparser.parse_from_bytes``.
- eml_parser: ``EmlParser().decode_email_bytes`` with its defaults.
- stdlib: ``email.message_from_bytes``, the bare parse no full extraction can beat.
"""

from __future__ import annotations

import argparse
import email
import logging
import platform
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from devhost.seed import wrap_original  # noqa: E402
from intake.parser import parse_report  # noqa: E402

CORPUS_DIR = PROJECT_DIR.parent / "shared" / "samples" / "eml"
RECEIVED = datetime(2026, 12, 1, tzinfo=UTC)
WRAPPER = b"From: user1@example.com\r\nSubject: 3|Phishing:\r\nMessage-ID: <b@example.com>\r\n\r\n"


def _ours_graph_item(data: bytes) -> object:
    return parse_report(
        WRAPPER, report_id="bench", received_at=RECEIVED, attached_originals=(data,)
    )


def _ours_report(data: bytes) -> object:
    return parse_report(data, report_id="bench", received_at=RECEIVED)


def _parsers() -> dict[str, Callable[[bytes], object]]:
    import eml_parser
    import mailparser

    def parse_with_eml_parser(data: bytes) -> object:
        return eml_parser.EmlParser().decode_email_bytes(data)

    return {
        "ours, Graph item": _ours_graph_item,
        "ours, .eml report": _ours_report,
        "mail-parser": mailparser.parse_from_bytes,
        "eml_parser": parse_with_eml_parser,
        "stdlib": email.message_from_bytes,
    }


def _round_seconds(parse: Callable[[bytes], object], corpus: list[bytes]) -> float:
    start = time.perf_counter()
    for data in corpus:
        parse(data)
    return time.perf_counter() - start


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument(
        "--rounds",
        type=int,
        default=5,
        help="passes over the corpus per parser; the best counts",
    )
    options = arguments.parse_args()
    # The reference parsers log every defect they meet; the measurement wants none.
    logging.disable(logging.CRITICAL)
    originals = [path.read_bytes() for path in sorted(CORPUS_DIR.glob("*.eml"))]
    if not originals:
        raise SystemExit(f"no .eml files found in {CORPUS_DIR}")
    reports = [wrap_original(data, reporter="user1@example.com") for data in originals]
    size = sum(len(data) for data in originals)
    print(
        f"corpus: {len(originals)} messages, {size / 1e6:.1f} MB from {CORPUS_DIR}; "
        f"best of {options.rounds} rounds"
    )
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu unknown'}, "
        f"Python {platform.python_version()}"
    )
    parsers = _parsers()
    corpora = {
        name: reports if name == "ours, .eml report" else originals for name in parsers
    }
    for name, parse in parsers.items():
        parse(corpora[name][0])  # warm up imports and caches
    best = dict.fromkeys(parsers, float("inf"))
    # Rounds alternate between parsers, so a burst of other load on the machine
    # slows all of them rather than one.
    for _ in range(options.rounds):
        for name, parse in parsers.items():
            best[name] = min(best[name], _round_seconds(parse, corpora[name]))
    results = {name: len(originals) / seconds for name, seconds in best.items()}
    for name, rate in results.items():
        print(f"{name:>18}: {rate:8.1f} msg/s")
    ours = results["ours, Graph item"]
    for name in ("mail-parser", "eml_parser", "stdlib"):
        print(f"ours (Graph item) / {name}: {ours / results[name]:.2f}x")
    print(
        f"ours (.eml report) / mail-parser: {results['ours, .eml report'] / results['mail-parser']:.2f}x"
    )


if __name__ == "__main__":
    main()

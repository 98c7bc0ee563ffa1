"""Measure rendering one notification beside the layout alone.

``render_notification`` checks each admin text, renders it in the jinja2 sandbox and
then renders the HTML and text layouts. The reference renders the same two layouts
with the body already rendered, so the difference is what the placeholder check and
the sandbox cost per notification. Both run in this process after a warm-up and are
timed with ``time.perf_counter``. The table gives the median, min and max of
``--runs`` batches of ``--batch`` renders each, in microseconds per render.

    .venv/bin/python bench/render.py --runs 15 --batch 200
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from notifier.render import (  # noqa: E402
    LogoReference,
    ReportSummary,
    _layout_environment,
    render_notification,
)
from notifier.settings import NotificationSettings, resolve_texts  # noqa: E402
from verdicts.model import Verdict  # noqa: E402

SUMMARY = ReportSummary(
    reporter_name="Dana Whitfield",
    reporter_address="dana.whitfield@example.com",
    subject="Action required: overdue invoice INV-20931",
    original_sender="billing@invoices.example.net",
    reported_at=datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc),
)
SETTINGS = NotificationSettings(
    organization_name="Contoso",
    texts={"phishing": "Thanks, {{ reporter_name }}: {{ subject }} was phishing."},
)
LOGO = LogoReference(content_id="reportback-logo", width=96, height=96)


def render_full() -> None:
    render_notification(
        SUMMARY,
        Verdict.PHISHING,
        texts=resolve_texts(SETTINGS, "en"),
        language="en",
        logo=LOGO,
    )


def render_layout_only() -> None:
    environment = _layout_environment()
    context = {
        "language": "en",
        "subject": "Result of your report: " + SUMMARY.subject,
        "heading": "We reviewed the message you reported",
        "verdict_label": "Result: Phishing",
        "verdict_color": "#b91c1c",
        "labels": resolve_texts(SETTINGS, "en"),
        "subject_of_report": SUMMARY.subject,
        "original_sender": SUMMARY.original_sender,
        "reported_at": "2026-03-02 09:15 UTC",
        "body_paragraphs": ["Thanks, Dana Whitfield: the message was phishing."],
        "footer_paragraphs": ["This message was sent automatically."],
        "logo_cid": LOGO.content_id,
        "logo_width": 48,
        "logo_height": 48,
        "organization_name": "Contoso",
    }
    environment.get_template("notification.html.j2").render(context)
    environment.get_template("notification.txt.j2").render(context)


def microseconds_per_call(function: Callable[[], None], batch: int) -> float:
    start = time.perf_counter()
    for _ in range(batch):
        function()
    return (time.perf_counter() - start) / batch * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="batches per case")
    parser.add_argument("--batch", type=int, default=200, help="renders per batch")
    args = parser.parse_args(argv)
    cases = {
        "layout only (reference)": render_layout_only,
        "render_notification": render_full,
    }
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{args.runs} runs of {args.batch}"
    )
    print(f"{'case':<26} {'median us':>10} {'min us':>8} {'max us':>8}")
    for name, function in cases.items():
        microseconds_per_call(function, args.batch)  # warm-up: template caches
        samples = [
            microseconds_per_call(function, args.batch) for _ in range(args.runs)
        ]
        print(
            f"{name:<26} {statistics.median(samples):>10.1f} "
            f"{min(samples):>8.1f} {max(samples):>8.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

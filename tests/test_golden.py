"""Rendered notifications compared with the files in ``tests/golden/``.

Each verdict is rendered in English and German, with the default and an uploaded
logo. After an intended change of the layout or the texts, rewrite the files with
``pytest tests/test_golden.py --update-golden`` and review the diff.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from notifier.render import LogoReference, ReportSummary, render_notification
from notifier.settings import NotificationSettings, resolve_texts
from verdicts.model import Verdict

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"

SUMMARY = ReportSummary(
    reporter_name="Dana Whitfield",
    reporter_address="dana.whitfield@example.com",
    subject="Action required: overdue invoice INV-20931 <urgent>",
    original_sender="billing@invoices.example.net",
    reported_at=datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc),
)
SETTINGS = NotificationSettings(
    organization_name="Contoso",
    languages={"de": {"footer": "Fragen? Schreiben Sie an {{ organization_name }}."}},
)
LOGOS = {
    "default-logo": LogoReference(content_id="reportback-logo", width=96, height=96),
    "custom-logo": LogoReference(
        content_id="organization-logo-0123456789abcdef", width=300, height=100
    ),
}
CASES = [
    (verdict, language, logo)
    for verdict in Verdict
    for language in ("en", "de")
    for logo in LOGOS
]


@pytest.mark.parametrize(("verdict", "language", "logo"), CASES)
def test_rendering_matches_golden(request, verdict, language, logo):
    rendered = render_notification(
        SUMMARY,
        verdict,
        texts=resolve_texts(SETTINGS, language),
        language=language,
        logo=LOGOS[logo],
    )
    name = f"{verdict.value}-{language}-{logo}"
    outputs = {f"{name}.html": rendered.html, f"{name}.txt": rendered.text}
    if request.config.getoption("--update-golden"):
        for file_name, content in outputs.items():
            (GOLDEN_DIR / file_name).write_text(content, encoding="utf-8")
    for file_name, content in outputs.items():
        expected = (GOLDEN_DIR / file_name).read_text(encoding="utf-8")
        assert content == expected, f"{file_name} differs; see the module docstring"

"""A notification's HTML as a browser shows it, screenshotted by headless Chromium.

Chromium is Debian's ``chromium`` package, which ``make install`` adds when missing.
The screenshot is kept in ``test-output/`` for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest
from PIL import Image

from notifier.render import (
    LogoReference,
    ReportSummary,
    inline_image_as_data_uri,
    render_notification,
)
from notifier.settings import NotificationSettings, resolve_texts
from tests.conftest import PROJECT_DIR
from tests.test_logo import image_bytes
from verdicts.model import Verdict

OUTPUT_DIR = PROJECT_DIR / "test-output"
WINDOW = (700, 900)
LOGO_COLOR = (255, 0, 255)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium is not installed; run make install"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def _run_chromium(profile: Path, *args: str) -> str:
    command = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout


@pytest.fixture(scope="module")
def rendered_page(tmp_path_factory) -> Path:
    """Write a phishing notification with a magenta 400x100 logo as an HTML file."""
    logo = image_bytes("PNG", (400, 100), color=LOGO_COLOR)
    settings = NotificationSettings(organization_name="Contoso")
    rendered = render_notification(
        ReportSummary(
            reporter_name="Dana Whitfield",
            reporter_address="dana.whitfield@example.com",
            subject="Action required: overdue invoice INV-20931",
            original_sender="billing@invoices.example.net",
            reported_at=datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc),
        ),
        Verdict.PHISHING,
        texts=resolve_texts(settings, "en"),
        language="en",
        logo=LogoReference(content_id="organization-logo-test", width=400, height=100),
    )
    html = inline_image_as_data_uri(
        rendered.html, "organization-logo-test", "image/png", logo
    )
    OUTPUT_DIR.mkdir(exist_ok=True)
    page = OUTPUT_DIR / "notification-phishing.html"
    page.write_text(html, encoding="utf-8")
    return page


def test_screenshot_shows_logo_and_text(rendered_page, tmp_path):
    screenshot = OUTPUT_DIR / "notification-phishing.png"
    screenshot.unlink(missing_ok=True)
    _run_chromium(
        tmp_path / "profile",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--screenshot={screenshot}",
        rendered_page.as_uri(),
    )
    image = Image.open(screenshot).convert("RGB")
    assert image.size == WINDOW
    pixels = list(image.get_flattened_data())
    # Not blank: the grey page, the white card and dark text are all there.
    assert len(set(pixels)) > 50
    dark = sum(1 for r, g, b in pixels if r + g + b < 200)
    assert dark > 2000
    # The logo, scaled from 400x100 to 192x48 CSS pixels, in its own colour.
    logo_box = [
        (index % WINDOW[0], index // WINDOW[0])
        for index, pixel in enumerate(pixels)
        if pixel == LOGO_COLOR
    ]
    xs = [x for x, _ in logo_box]
    ys = [y for _, y in logo_box]
    assert len(logo_box) == 192 * 48
    assert max(xs) - min(xs) + 1 == 192
    assert max(ys) - min(ys) + 1 == 48


def test_dom_has_text_and_no_placeholders(rendered_page, tmp_path):
    dom = _run_chromium(tmp_path / "profile", "--dump-dom", rendered_page.as_uri())
    assert "Result: Phishing" in dom
    assert "Action required: overdue invoice INV-20931" in dom
    assert "you helped protect Contoso" in dom
    assert 'src="data:image/png;base64,' in dom
    assert "{{" not in dom
    assert "{%" not in dom
    assert "cid:" not in dom

"""The review portal in a real browser, against the dev host.

Chromium is Debian's package, driven by Playwright; ``make install`` installs it.
Screenshots of every page go to ``test-output/portal/`` for review.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import time
from pathlib import Path

import pytest
from azure.functions.timer import TimerRequest
from playwright.sync_api import Browser, Page, expect, sync_playwright

import function_app
from devhost.seed import wrap_original
from tests.conftest import PROJECT_DIR, SAMPLES_DIR, SEED_DIR

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SCRIPT = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = PROJECT_DIR / "test-output" / "portal"

# Originals whose subject and sender name are markup; the portal must show them as text.
HOSTILE_SUBJECTS = [
    '<img src=x onerror="window.__hostile = 1">Invoice',
    "<script>window.__hostile = 2</script>Payroll",
    '"><svg onload="window.__hostile = 3">',
]


def _hostile_original(subject: str, index: int) -> bytes:
    return (
        f'From: "<b onmouseover=window.__hostile=4>Billing</b>" '
        f"<billing{index}@contoso-billing.example.org>\r\n"
        "To: dana.whitfield@example.com\r\n"
        f"Subject: {subject}\r\n"
        "Date: Thu, 03 Dec 2026 09:00:00 +0000\r\n"
        f"Message-ID: <hostile-{index}@contoso-billing.example.org>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "\r\n"
        "Open javascript:window.__hostile=5 now.\r\n"
    ).encode()


# Module scope: Playwright's sync API keeps an asyncio loop running in this thread
# until it stops, which would break later tests that start a loop of their own.
@pytest.fixture(scope="module")
def browser() -> Browser:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _start_host(runtime, monkeypatch, role: str):
    from devhost.app import DevHost
    from runtime import reset_runtime

    monkeypatch.setenv("REPORTBACK_LOCAL_ROLE", role)
    # Polls run in the test, so the timer thread only adds its one run at start.
    monkeypatch.setenv("REPORTBACK_POLL_SECONDS", "3600")
    reset_runtime()
    host = DevHost(port=0, seed=False)
    host.start()
    return host


def _fill_inbox(mailbox_dir: Path) -> None:
    inbox = mailbox_dir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for path in sorted(SEED_DIR.glob("*.eml")):
        shutil.copy(path, inbox)
    for index, subject in enumerate(HOSTILE_SUBJECTS):
        report = wrap_original(
            _hostile_original(subject, index),
            reporter=f"hostile{index}@example.com",
            reporter_name='"<i>Reporter</i>"',
        )
        (inbox / f"60-hostile-{index}.eml").write_bytes(report)
    bad_subject = SAMPLES_DIR / "edge" / "mail_bad_encoded_subject.eml"
    report = wrap_original(bad_subject.read_bytes(), reporter="sam.okafor@example.com")
    (inbox / "70-bad-subject.eml").write_bytes(report)
    function_app.poll_reporting_mailbox(TimerRequest(past_due=False))


@pytest.fixture
def portal(runtime, monkeypatch):
    """The dev host with the local role reviewer, and the seeded reports polled."""
    _fill_inbox(runtime.config.mailbox_dir)
    host = _start_host(runtime, monkeypatch, "reviewer")
    yield f"http://127.0.0.1:{host.port}"
    host.stop()


@pytest.fixture
def reader_portal(runtime, monkeypatch):
    _fill_inbox(runtime.config.mailbox_dir)
    host = _start_host(runtime, monkeypatch, "reader")
    yield f"http://127.0.0.1:{host.port}"
    host.stop()


@pytest.fixture
def admin_portal(runtime, monkeypatch):
    _fill_inbox(runtime.config.mailbox_dir)
    host = _start_host(runtime, monkeypatch, "settings_admin")
    yield f"http://127.0.0.1:{host.port}"
    host.stop()


@pytest.fixture
def page(browser: Browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))

    def on_console(message) -> None:
        if message.type == "error":
            errors.append(message.text)

    opened.on("console", on_console)
    opened.errors = errors
    yield opened
    context.close()


def _screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _axe_violations(page: Page) -> list[str]:
    # Evaluated through the DevTools protocol, so the page's CSP does not apply.
    page.evaluate(AXE_SCRIPT.read_text("utf-8"))
    result = page.evaluate("async () => await axe.run(document)")
    assert len(result["passes"]) > 10, "axe ran too few rules to trust"
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes: "
        f"{[n['target'] for n in v['nodes']][:3]})"
        for v in result["violations"]
    ]


def _row(page: Page, reporter: str):
    return page.locator("#reports tbody tr", has_text=reporter)


def _outbox(mailbox_dir: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted((mailbox_dir / "outbox").glob("*.eml"))
    ]


def _wait_for_outbox(mailbox_dir: Path, count: int, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = _outbox(mailbox_dir)
        if len(messages) >= count:
            return messages
        time.sleep(0.1)
    return _outbox(mailbox_dir)


class TestUserReported:
    def test_mark_and_notify_sends_eml(self, portal, page, runtime):
        page.goto(portal + "/")
        row = _row(page, "dana.whitfield@example.com")
        expect(row).to_have_count(1)
        _screenshot(page, "user-reported")

        row.get_by_role("checkbox").check()
        expect(page.locator("#selection-count")).to_have_text("1 selected.")
        page.locator("#verdict-choice").select_option("phishing")
        page.get_by_role("button", name="Mark as and notify").click()

        expect(page.locator("#status")).to_have_text(
            "Marked 1 report as Phishing. The reporters will be notified."
        )
        expect(row.locator("td").nth(8)).to_contain_text("Phishing")
        (sent,) = _wait_for_outbox(runtime.config.mailbox_dir, 1)
        assert sent["To"].addresses[0].addr_spec == "dana.whitfield@example.com"
        assert sent["Subject"] == (
            "Result of your report: Action required: overdue invoice INV-20931"
        )
        assert "Result: Phishing" in sent.get_body(("plain",)).get_content()

        page.reload()
        expect(row.locator("td").nth(9)).to_have_text("Sent")
        row.locator("td.subject button").click()
        delivery = page.locator(
            "section.detail-section", has_text="Notification delivery"
        )
        expect(delivery.locator("dd").first).to_have_text("Sent")
        audit = page.locator("section.detail-section", has_text="Audit trail")
        expect(audit.locator("li")).to_have_count(1)
        expect(audit.locator("li")).to_contain_text(
            "local-user, verdict: not reviewed → Phishing"
        )
        page.get_by_label("Admin verdict").select_option("phishing")
        expect(page.locator("#reports tbody tr[data-id]")).to_have_count(1)
        _screenshot(page, "user-reported-marked")
        assert page.errors == []

    def test_failed_notification_is_retried(self, portal, page, runtime):
        from notifier.deliveries import Delivery, DeliveryStatus, DeliveryStore

        page.goto(portal + "/")
        row = _row(page, "dana.whitfield@example.com")
        row.get_by_role("checkbox").check()
        page.locator("#verdict-choice").select_option("phishing")
        page.get_by_label("Notify the reporters").uncheck()
        page.get_by_role("button", name="Mark as", exact=True).click()
        expect(page.locator("#status")).to_have_text(
            "Marked 1 report as Phishing. No one is notified."
        )
        report_id = row.get_attribute("data-id")
        DeliveryStore(runtime.storage).save(
            Delivery(
                report_id=report_id,
                verdict_version=1,
                status=DeliveryStatus.FAILED,
                attempts=8,
                reason="the mailbox rejected the message",
            )
        )

        page.reload()
        expect(row.locator("td").nth(9)).to_have_text("Failed")
        row.locator("td.subject button").click()
        delivery = page.locator(
            "section.detail-section", has_text="Notification delivery"
        )
        expect(delivery.locator("dd").nth(2)).to_have_text(
            "the mailbox rejected the message"
        )
        delivery.get_by_role("button", name="Retry the notification").click()
        expect(delivery.get_by_role("status")).to_have_text(
            "The notification is queued again."
        )
        (sent,) = _wait_for_outbox(runtime.config.mailbox_dir, 1)
        assert sent["To"].addresses[0].addr_spec == "dana.whitfield@example.com"
        _screenshot(page, "report-retried")

    def test_raw_message_downloads(self, portal, page):
        page.goto(portal + "/")
        row = _row(page, "dana.whitfield@example.com")
        row.locator("td.subject button").click()
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download the report as received").click()
        raw = Path(download_info.value.path()).read_bytes()
        seed = (SEED_DIR / "01-phishing-invoice.eml").read_bytes()
        assert raw == seed

    def test_details_panel_shows_report(self, portal, page):
        page.goto(portal + "/")
        row = _row(page, "dana.whitfield@example.com")
        subject = "Action required: overdue invoice INV-20931"
        row.get_by_role("button", name=subject).click()
        details = page.locator("#details")
        expect(details).to_be_visible()
        expect(page.locator("#details-heading")).to_be_focused()
        expect(details.locator("dd").first).to_have_text(
            "Action required: overdue invoice INV-20931"
        )
        _screenshot(page, "report-details")
        page.keyboard.press("Escape")
        expect(details).to_be_hidden()
        assert page.errors == []

    def test_verdicts_follow_selection_kind(self, portal, page):
        page.goto(portal + "/")
        _row(page, "dana.whitfield@example.com").get_by_role("checkbox").check()
        options = page.locator("#verdict-choice option")
        expect(options).to_have_text(["No threats found", "Phishing", "Spam"])

    def test_filters_narrow_the_list(self, portal, page):
        page.goto(portal + "/")
        expect(page.locator("#reports tbody tr[data-id]")).to_have_count(8)
        page.get_by_label("Search").fill("payroll calendar")
        expect(page.locator("#reports tbody tr[data-id]")).to_have_count(1)
        expect(page.locator("#reports-caption")).to_have_text(
            "Reported messages, newest first: 1 of 8"
        )
        page.get_by_label("Search").fill("")
        page.get_by_label("Reported as").select_option("junk")
        expect(page.locator("#reports tbody tr[data-id]")).to_have_count(1)
        expect(page.locator("#reports-caption")).to_have_text(
            "Reported messages, newest first: 1 of 1"
        )

    def test_hostile_subjects_render_as_text(self, portal, page):
        page.goto(portal + "/")
        for index, subject in enumerate(HOSTILE_SUBJECTS):
            row = _row(page, f"hostile{index}@example.com")
            expect(row.locator("td.subject")).to_have_text(subject)
        expect(page.locator("#reports tbody img, #reports tbody svg")).to_have_count(0)
        expect(page.locator("#reports tbody script, #reports tbody b")).to_have_count(0)
        _row(page, "hostile0@example.com").locator("td.subject button").click()
        expect(page.locator("#details dd").nth(1)).to_have_text(
            "<b onmouseover=window.__hostile=4>Billing</b> "
            "<billing0@contoso-billing.example.org>"
        )
        page.locator("#reports tbody td.subject button").first.hover()
        _screenshot(page, "hostile-subjects")
        assert page.evaluate("window.__hostile") is None
        assert page.errors == []

    def test_keyboard_marks_a_report(self, portal, page, runtime):
        page.goto(portal + "/")
        expect(_row(page, "priya.natarajan@example.com")).to_have_count(1)
        box = _row(page, "priya.natarajan@example.com").get_by_role("checkbox")
        box.focus()
        page.keyboard.press("Space")
        expect(box).to_be_checked()
        page.locator("#verdict-choice").focus()
        page.keyboard.press("Tab")
        expect(page.locator("#notify")).to_be_focused()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        expect(page.locator("#mark-button")).to_be_focused()
        expect(page.locator("#mark-button")).to_have_text("Mark as")
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_have_text(
            "Marked 1 report as No threats found. No one is notified."
        )
        assert _outbox(runtime.config.mailbox_dir) == []


class TestReader:
    def test_reader_cannot_mark(self, reader_portal, page, runtime):
        page.goto(reader_portal + "/")
        row = _row(page, "dana.whitfield@example.com")
        expect(row).to_have_count(1)
        expect(row.get_by_role("checkbox")).to_be_disabled()
        expect(page.locator("#mark-button")).to_be_disabled()
        expect(page.locator("#mark-note")).to_have_text(
            "Your role is reader: you can view reports but not mark them. "
            "Marking needs the reviewer role."
        )
        expect(page.locator("#caller")).to_have_text("Signed in as local-user (reader)")
        expect(page.get_by_role("link", name="Settings")).to_be_hidden()
        _screenshot(page, "user-reported-reader")

        report_id = row.get_attribute("data-id")
        status = page.evaluate(
            """async (id) => (await fetch(`/api/reports/${id}/verdict`, {
                method: "POST",
                headers: {"Content-Type": "application/json",
                          "X-Requested-With": "XMLHttpRequest"},
                body: JSON.stringify({verdict: "phishing"}),
            })).status""",
            report_id,
        )
        assert status == 403
        time.sleep(1)
        assert _outbox(runtime.config.mailbox_dir) == []

    def test_reader_cannot_open_settings(self, reader_portal, page):
        page.goto(reader_portal + "/settings")
        expect(page.locator("#settings-unavailable")).to_have_text(
            "Settings need the settings admin role; your role is reader."
        )
        expect(page.locator("#settings-form")).to_be_hidden()


class TestCrossSite:
    def test_post_without_header_is_rejected(self, portal, page):
        page.goto(portal + "/")
        report_id = _row(page, "dana.whitfield@example.com").get_attribute("data-id")
        status = page.evaluate(
            """async (id) => (await fetch(`/api/reports/${id}/verdict`, {
                method: "POST",
                headers: {"Content-Type": "application/json"},
                body: JSON.stringify({verdict: "phishing"}),
            })).status""",
            report_id,
        )
        assert status == 403

    def test_pages_send_strict_policy(self, portal, page):
        response = page.goto(portal + "/")
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"


class TestCampaigns:
    def test_campaign_decision_marks_group(self, portal, page, runtime):
        page.goto(portal + "/campaigns")
        card = page.locator("section.campaign", has_text="Payroll calendar 2027")
        expect(card).to_have_count(1)
        _screenshot(page, "campaigns")
        card.get_by_label("Decision for the group").select_option("no_threats_found")
        card.get_by_role("button", name="Mark 1 and notify").click()
        expect(page.locator("#status")).to_have_text(
            "Marked 1 report as No threats found. The reporters will be notified."
        )
        (sent,) = _wait_for_outbox(runtime.config.mailbox_dir, 1)
        assert sent["To"].addresses[0].addr_spec == "priya.natarajan@example.com"


class TestSettings:
    def test_edit_with_preview_and_save(self, admin_portal, page):
        page.goto(admin_portal + "/settings")
        expect(page.locator("#preview-subject")).not_to_be_empty()
        page.locator("#text-phishing").fill(
            "Thanks {{ reporter_name }}, this one was phishing."
        )
        expect(page.locator("#preview-text")).to_contain_text(
            "Thanks Alex Wilber, this one was phishing."
        )
        frame = page.frame_locator("#preview-html")
        expect(frame.locator("body")).to_contain_text(
            "Thanks Alex Wilber, this one was phishing."
        )
        expect(frame.locator("img")).to_have_count(1)
        _screenshot(page, "settings-preview")

        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#status")).to_have_text("Settings saved.")
        page.reload()
        expect(page.locator("#text-phishing")).to_have_value(
            "Thanks {{ reporter_name }}, this one was phishing."
        )
        assert page.errors == []

    def test_invalid_text_is_not_saved(self, admin_portal, page):
        page.goto(admin_portal + "/settings")
        expect(page.locator("#preview-subject")).not_to_be_empty()
        page.get_by_role("tab", name="Footer").click()
        page.locator("#text-footer").fill("{% if true %}x{% endif %}")
        page.get_by_role("tab", name="Phishing").click()
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#status")).to_have_text("The settings were not saved.")
        expect(page.locator("#form-errors")).to_contain_text(
            "template syntax '{%' at line 1, column 1 is not allowed"
        )
        footer = page.locator("#text-footer")
        expect(footer).to_be_focused()
        expect(footer).to_have_attribute("aria-invalid", "true")
        _screenshot(page, "settings-invalid")

    def test_test_send_writes_eml(self, admin_portal, page, runtime):
        page.goto(admin_portal + "/settings")
        expect(page.locator("#preview-subject")).not_to_be_empty()
        page.get_by_label("Send a test message to").fill("alex@example.com")
        page.get_by_role("button", name="Send test message").click()
        expect(page.locator("#test-status")).to_have_text(
            "Test message sent to alex@example.com."
        )
        (sent,) = _outbox(runtime.config.mailbox_dir)
        assert sent["To"].addresses[0].addr_spec == "alex@example.com"
        assert sent["Subject"] == page.locator("#preview-subject").text_content()

    def test_logo_upload_and_language(self, admin_portal, page, tmp_path):
        import io

        from PIL import Image

        logo = tmp_path / "logo.png"
        buffer = io.BytesIO()
        Image.new("RGB", (32, 32), (29, 78, 216)).save(buffer, format="PNG")
        logo.write_bytes(buffer.getvalue())

        page.goto(admin_portal + "/settings")
        expect(page.locator("#preview-subject")).not_to_be_empty()
        page.get_by_role("tab", name="Sender and logo").click()
        page.get_by_label("Upload a logo (PNG, JPEG or GIF)").set_input_files(logo)
        page.get_by_role("button", name="Upload logo").click()
        expect(page.locator("#status")).to_have_text("Logo uploaded.")
        expect(page.locator("#logo-state")).to_contain_text("A logo is uploaded")

        page.get_by_role("tab", name="Languages").click()
        page.get_by_label("Add texts for another language").fill("de")
        page.get_by_role("button", name="Add language").click()
        page.get_by_label("Phishing (de)").fill("Danke, {{ reporter_name }}!")
        page.locator("#preview-language").select_option("de")
        expect(page.locator("#preview-text")).to_contain_text("Danke, Alex Wilber!")
        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#status")).to_have_text("Settings saved.")
        _screenshot(page, "settings-languages")

    def test_tabs_follow_arrow_keys(self, admin_portal, page):
        page.goto(admin_portal + "/settings")
        phishing = page.get_by_role("tab", name="Phishing")
        phishing.focus()
        page.keyboard.press("ArrowRight")
        junk = page.get_by_role("tab", name="Junk")
        expect(junk).to_be_focused()
        expect(junk).to_have_attribute("aria-selected", "true")
        expect(page.locator("#panel-junk")).to_be_visible()
        expect(page.locator("#panel-phishing")).to_be_hidden()


class TestAccessibility:
    @pytest.mark.parametrize("path", ["/", "/campaigns", "/settings"])
    def test_page_has_no_axe_violations(self, admin_portal, page, path):
        page.goto(admin_portal + path)
        page.wait_for_load_state("networkidle")
        if path == "/":
            page.locator("#reports tbody td.subject button").first.click()
            expect(page.locator("#details dl").first).to_be_visible()
        assert _axe_violations(page) == []
        name = {"/": "axe-user-reported", "/campaigns": "axe-campaigns"}
        _screenshot(page, name.get(path, "settings"))

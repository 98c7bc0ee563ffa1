"""A report goes in, a reviewer marks it, the reporter gets the result.

Every step runs through the function objects of ``function_app`` as the Functions
runtime calls them, against Azurite and the folder mailbox.
"""

from __future__ import annotations

import email
import email.policy
import shutil

from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest

import function_app
from tests.conftest import SEED_DIR, http_request, response_json


def _poll() -> None:
    function_app.poll_reporting_mailbox(TimerRequest(past_due=False))


def _deliver_queued(runtime) -> int:
    queue = runtime.storage.queue("notifications")
    count = 0
    for message in queue.receive_messages():
        function_app.send_notification(
            QueueMessage(id=message.id, body=message.content.encode(), dequeue_count=1)
        )
        queue.delete_message(message)
        count += 1
    return count


def _report_id_for_reporter(address: str) -> str:
    listing = response_json(
        function_app.list_reports(http_request("GET", "api/reports"))
    )
    (item,) = [r for r in listing["items"] if r["reporter_address"] == address]
    return item["id"]


def _outbox_messages(runtime) -> list[email.message.EmailMessage]:
    outbox = runtime.config.mailbox_dir / "outbox"
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(outbox.glob("*.eml"))
    ]


def test_report_marked_phishing_notifies_reporter(runtime):
    inbox = runtime.config.mailbox_dir / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy(SEED_DIR / "01-phishing-invoice.eml", inbox)

    _poll()
    report_id = _report_id_for_reporter("dana.whitfield@example.com")
    response = function_app.mark_verdict(
        http_request(
            "POST",
            f"api/reports/{report_id}/verdict",
            route_params={"id": report_id},
            body={"verdict": "phishing"},
            role="reviewer",
        )
    )
    assert response.status_code == 202
    assert response_json(response)["verdict_version"] == 1
    assert _deliver_queued(runtime) == 1

    (sent,) = _outbox_messages(runtime)
    assert sent["To"].addresses[0].addr_spec == "dana.whitfield@example.com"
    assert sent["From"].addresses[0].addr_spec == "security-results@example.com"
    assert sent["Subject"] == (
        "Result of your report: Action required: overdue invoice INV-20931"
    )
    assert sent["Auto-Submitted"] == "auto-generated"
    assert sent["In-Reply-To"] == "<report-0001.dana@example.com>"
    assert sent.get_content_type() == "multipart/alternative"
    text = sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    assert "Result: Phishing" in text
    assert "found it to be phishing" in text
    assert "sent automatically by your security team" in text
    assert "Result: Phishing" in html
    assert 'src="cid:reportback-logo"' in html
    assert list((runtime.config.mailbox_dir / "inbox").iterdir()) == []


def test_poll_twice_creates_one_report(runtime):
    inbox = runtime.config.mailbox_dir / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy(SEED_DIR / "02-junk-newsletter.eml", inbox)
    _poll()
    # The same message arriving again (a re-delivered or re-polled file).
    shutil.copy(SEED_DIR / "02-junk-newsletter.eml", inbox / "again.eml")
    _poll()

    listing = response_json(
        function_app.list_reports(http_request("GET", "api/reports"))
    )
    assert len(listing["items"]) == 1


def test_outdated_verdict_version_is_not_sent(runtime):
    inbox = runtime.config.mailbox_dir / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy(SEED_DIR / "03-not-junk-payroll.eml", inbox)
    _poll()
    report_id = _report_id_for_reporter("priya.natarajan@example.com")
    for verdict in ("phishing", "no_threats_found"):
        response = function_app.mark_verdict(
            http_request(
                "POST",
                f"api/reports/{report_id}/verdict",
                route_params={"id": report_id},
                body={"verdict": verdict},
            )
        )
        assert response.status_code == 202

    assert _deliver_queued(runtime) == 2
    (sent,) = _outbox_messages(runtime)
    assert "Result: No threats found" in sent.get_body(("plain",)).get_content()

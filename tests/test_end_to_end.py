"""A report goes in, a reviewer marks it, the reporter gets the result.

Every step runs through the function objects of ``function_app`` as the Functions
runtime calls them, against Azurite, once with the folder mailbox and once with the
Graph mailbox on the fake Graph server.
"""

from __future__ import annotations

import base64
import email
import email.policy
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest

import function_app
from tests.conftest import REPORTING_MAILBOX, SEED_DIR, http_request, response_json


@dataclass(frozen=True)
class Sent:
    """A sent notification, read from the outbox or from the sendMail request."""

    to: str
    sender: str
    subject: str
    html: str
    mime: email.message.EmailMessage | None = None
    graph_message: dict | None = None


class FolderMail:
    kind = "folder"

    def __init__(self, runtime) -> None:
        self.root = runtime.config.mailbox_dir
        (self.root / "inbox").mkdir(parents=True, exist_ok=True)

    def deliver(self, path: Path, name: str | None = None) -> None:
        shutil.copy(path, self.root / "inbox" / (name or path.name))

    def sent(self) -> list[Sent]:
        messages = [
            email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in sorted((self.root / "outbox").glob("*.eml"))
        ]
        return [
            Sent(
                to=m["To"].addresses[0].addr_spec,
                sender=m["From"].addresses[0].addr_spec,
                subject=m["Subject"],
                html=m.get_body(("html",)).get_content(),
                mime=m,
            )
            for m in messages
        ]


class GraphMail:
    kind = "graph"

    def __init__(self, fake_graph) -> None:
        self.graph = fake_graph

    def deliver(self, path: Path, name: str | None = None) -> None:
        self.graph.add_message(REPORTING_MAILBOX, path.read_bytes())

    def sent(self) -> list[Sent]:
        found = []
        for sender, body in self.graph.sent:
            message = body["Message"]
            assert message["from"]["emailAddress"]["address"] == sender
            assert message["body"]["contentType"] == "html"
            (recipient,) = message["toRecipients"]
            found.append(
                Sent(
                    to=recipient["emailAddress"]["address"],
                    sender=sender,
                    subject=message["subject"],
                    html=message["body"]["content"],
                    graph_message=message,
                )
            )
        return found


@pytest.fixture(params=["folder", "graph"])
def mail(request):
    """The mailbox the app runs with, and how a test reads and fills it."""
    if request.param == "folder":
        return FolderMail(request.getfixturevalue("runtime"))
    request.getfixturevalue("graph_runtime")
    return GraphMail(request.getfixturevalue("fake_graph"))


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


def test_report_marked_phishing_notifies_reporter(runtime, mail):
    mail.deliver(SEED_DIR / "01-phishing-invoice.eml")

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

    (sent,) = mail.sent()
    assert sent.to == "dana.whitfield@example.com"
    assert sent.sender == "security-results@example.com"
    assert sent.subject == (
        "Result of your report: Action required: overdue invoice INV-20931"
    )
    assert "Result: Phishing" in sent.html
    assert 'src="cid:reportback-logo"' in sent.html
    if mail.kind == "graph":
        (logo,) = sent.graph_message["attachments"]
        assert logo["contentId"] == "reportback-logo"
        assert logo["isInline"] is True
        assert base64.b64decode(logo["contentBytes"]).startswith(b"\x89PNG")
        return
    sent = sent.mime
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


def test_poll_twice_creates_one_report(runtime, mail):
    mail.deliver(SEED_DIR / "02-junk-newsletter.eml")
    _poll()
    # The same message arriving again (a re-delivered or re-polled message).
    mail.deliver(SEED_DIR / "02-junk-newsletter.eml", "again.eml")
    _poll()

    listing = response_json(
        function_app.list_reports(http_request("GET", "api/reports"))
    )
    assert len(listing["items"]) == 1


def test_outdated_verdict_version_is_not_sent(runtime, mail):
    mail.deliver(SEED_DIR / "03-not-junk-payroll.eml")
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
    (sent,) = mail.sent()
    assert "Result: No threats found" in sent.html


def test_reporter_outside_organization_gets_no_mail(runtime, mail, tmp_path):
    # Anyone can write to the reporting mailbox; a stranger must not be able to
    # make the app send mail on its behalf.
    report = tmp_path / "outsider.eml"
    original = (SEED_DIR / "01-phishing-invoice.eml").read_bytes()
    report.write_bytes(
        original.replace(
            b"From: Dana Whitfield <dana.whitfield@example.com>",
            b"From: Mallory <mallory@attacker.example.net>",
        ).replace(b"<report-0001.dana@example.com>", b"<outsider-1@example.net>")
    )
    mail.deliver(report)
    _poll()
    report_id = _report_id_for_reporter("mallory@attacker.example.net")
    response = function_app.mark_verdict(
        http_request(
            "POST",
            f"api/reports/{report_id}/verdict",
            route_params={"id": report_id},
            body={"verdict": "phishing"},
        )
    )
    assert response.status_code == 202

    _deliver_queued(runtime)
    assert mail.sent() == []
    deliveries = response_json(
        function_app.list_deliveries(
            http_request("GET", "api/deliveries", params={"status": "failed"})
        )
    )
    (failed,) = deliveries["items"]
    assert failed["report_id"] == report_id
    assert failed["reason"] == (
        "the reporter's address is outside the organization's domains "
        "(REPORTBACK_ACCEPTED_DOMAINS and the tenant's verified domains); "
        "no notification was sent"
    )


def test_reused_message_id_keeps_both_reports(runtime, mail, tmp_path):
    # A second, different message with a Message-ID already seen must not be
    # taken for a re-poll of the first and dropped.
    first = (SEED_DIR / "01-phishing-invoice.eml").read_bytes()
    second = tmp_path / "same-id.eml"
    second.write_bytes(
        first.replace(
            b"From: Dana Whitfield <dana.whitfield@example.com>",
            b"From: Sam Okafor <sam.okafor@example.com>",
        )
    )
    mail.deliver(SEED_DIR / "01-phishing-invoice.eml")
    _poll()
    mail.deliver(second)
    _poll()

    listing = response_json(
        function_app.list_reports(http_request("GET", "api/reports"))
    )
    by_reporter = {item["reporter_address"]: item for item in listing["items"]}
    assert sorted(by_reporter) == [
        "dana.whitfield@example.com",
        "sam.okafor@example.com",
    ]
    flagged = by_reporter["sam.okafor@example.com"]
    assert flagged["parse_status"] == "needs_attention"
    first_id = by_reporter["dana.whitfield@example.com"]["id"]
    detail = response_json(
        function_app.get_report(
            http_request(
                "GET",
                f"api/reports/{flagged['id']}",
                route_params={"id": flagged["id"]},
            )
        )
    )
    assert (
        f"its Message-ID is also on report {first_id}, whose content differs"
        in detail["problems"]
    )

"""GraphMailbox: the real msgraph-sdk client against the fake Graph server."""

from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from azure.core.credentials import AccessToken

from intake.poller import poll_once
from mailboxes import (
    InlineImage,
    OutboundMessage,
    PermanentSendError,
    TransientSendError,
)
from mailboxes.errors import GraphRequestError, MailboxError
from mailboxes.graph import GraphMailbox
from mailboxes.graphclient import GraphClient
from mailboxes.graphstate import CURSOR_PARTITION, SendPacer
from tests.conftest import REPORTING_MAILBOX, SEED_DIR
from verdicts.store import ReportStore

SENDER = "security-results@example.com"


def _report(number: int, *, original: bytes | None = None) -> bytes:
    """Return a small report; with ``original`` it attaches that message."""
    head = (
        f"From: Reporter {number} <reporter{number}@example.com>\r\n"
        "To: phishing-reports@example.com\r\n"
        f"Subject: 3|Phishing: suspicious message {number}\r\n"
        f"Message-ID: <report-{number}@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
    )
    if original is None:
        return (head + "Content-Type: text/plain\r\n\r\nPlease check.\r\n").encode()
    return (
        head.encode()
        + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + b"--b\r\nContent-Type: text/plain\r\n\r\nPlease check.\r\n"
        + b"--b\r\nContent-Type: message/rfc822\r\n\r\n"
        + original
        + b"\r\n--b--\r\n"
    )


ORIGINAL = (
    b"From: Billing <billing@contoso.example.org>\r\n"
    b"To: reporter1@example.com\r\n"
    b"Subject: Overdue invoice\r\n"
    b"Message-ID: <invoice-77@contoso.example.org>\r\n"
    b"\r\n"
    b"Pay now.\r\n"
)


@pytest.fixture
def mailbox(runtime, fake_graph):
    client = GraphClient(fake_graph.base_url, timeout_seconds=5)
    yield GraphMailbox(
        reporting_mailbox=REPORTING_MAILBOX,
        client=client,
        storage=runtime.storage,
        page_size=2,
    )
    client.close()


def _notification(**overrides) -> OutboundMessage:
    values = dict(
        sender=SENDER,
        recipient="dana.whitfield@example.com",
        recipient_name="Dana Whitfield",
        subject="Result of your report: Overdue invoice",
        html='<p>Phishing</p><img src="cid:reportback-logo">',
        text="Phishing",
        message_id="<n1@example.com>",
        inline_images=(
            InlineImage("reportback-logo", "image/png", b"\x89PNG-logo", "logo.png"),
        ),
        extra_headers=(("Auto-Submitted", "auto-generated"), ("X-Reportback", "1")),
    )
    values.update(overrides)
    return OutboundMessage(**values)


class TestPolling:
    def test_first_poll_pages_to_delta_link(self, mailbox, fake_graph):
        ids = [fake_graph.add_message(REPORTING_MAILBOX, _report(n)) for n in (1, 2, 3)]

        batch = mailbox.poll()

        assert [m.mailbox_id for m in batch.messages] == ids
        assert [m.mime for m in batch.messages] == [_report(n) for n in (1, 2, 3)]
        first, second = fake_graph.requests_for("delta")
        assert first.headers["prefer"] == "odata.maxpagesize=2"
        assert first.query["changeType"] == ["created"]
        assert first.query["$select"] == ["id,hasAttachments,receivedDateTime"]
        assert "$skiptoken" in second.query
        assert second.headers["prefer"] == "odata.maxpagesize=2"

    def test_quiet_poll_costs_one_request(self, mailbox, fake_graph):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))
        mailbox.poll().commit()
        before = len(fake_graph.requests)

        batch = mailbox.poll()

        assert batch.messages == []
        assert len(fake_graph.requests) == before + 1
        assert "$deltatoken" in fake_graph.requests[-1].query

    def test_delta_link_reused_for_new_messages(self, mailbox, fake_graph):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))
        mailbox.poll().commit()
        new_id = fake_graph.add_message(REPORTING_MAILBOX, _report(2))

        batch = mailbox.poll()

        assert [m.mailbox_id for m in batch.messages] == [new_id]

    def test_cursor_moves_only_on_commit(self, mailbox, fake_graph):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))
        mailbox.poll()  # intake failed before commit

        batch = mailbox.poll()

        assert [m.mime for m in batch.messages] == [_report(1)]

    def test_cursor_row_key_is_a_digest(self, mailbox, runtime, fake_graph):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))
        mailbox.poll().commit()

        (row,) = runtime.storage.table("state").query_entities(
            "PartitionKey eq @p", parameters={"p": CURSOR_PARTITION}
        )

        assert len(row["RowKey"]) == 40
        assert row["link"].startswith(fake_graph.base_url + "/users/")
        assert "$deltatoken=" in row["link"]

    def test_expired_delta_link_resyncs_without_duplicates(
        self, mailbox, runtime, fake_graph
    ):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))
        assert poll_once(mailbox, runtime.storage).created == 1
        fake_graph.expire_delta_tokens()
        fake_graph.add_message(REPORTING_MAILBOX, _report(2))

        result = poll_once(mailbox, runtime.storage)

        assert (result.seen, result.created) == (2, 1)
        assert len(list(ReportStore(runtime.storage).iter_reports())) == 2
        gone, *_ = [
            r for r in fake_graph.requests_for("delta") if "$deltatoken" in r.query
        ]
        assert gone.query["$deltatoken"]
        assert poll_once(mailbox, runtime.storage).seen == 0

    def test_large_first_sync_spreads_over_polls(self, mailbox, fake_graph):
        mailbox.max_batch = 2
        for n in (1, 2, 3):
            fake_graph.add_message(REPORTING_MAILBOX, _report(n))

        first = mailbox.poll()
        first.commit()
        second = mailbox.poll()

        assert [m.mime for m in first.messages] == [_report(1), _report(2)]
        assert [m.mime for m in second.messages] == [_report(3)]

    def test_removed_message_is_skipped(self, mailbox, fake_graph):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))
        mailbox.poll().commit()
        gone = fake_graph.add_message(REPORTING_MAILBOX, _report(2))
        mailbox.poll().commit()
        fake_graph.remove_message(REPORTING_MAILBOX, gone)

        assert mailbox.poll().messages == []

    def test_ids_with_slash_and_plus_are_fetched(self, mailbox, fake_graph):
        odd_id = "AAMkAG/x+y=z/1=="
        fake_graph.add_message(REPORTING_MAILBOX, _report(1), message_id=odd_id)

        (message,) = mailbox.poll().messages

        assert message.mailbox_id == odd_id
        assert message.mime == _report(1)
        (fetch,) = fake_graph.requests_for("message_value")
        assert "AAMkAG%2Fx%2By%3Dz%2F1%3D%3D" in fetch.path

    def test_item_attachments_fetched_as_mime(self, mailbox, runtime, fake_graph):
        fake_graph.add_message(
            REPORTING_MAILBOX,
            _report(1),
            item_attachments=[("Overdue invoice.eml", ORIGINAL)],
        )

        (message,) = mailbox.poll().messages

        assert message.attached_originals == (ORIGINAL,)
        assert len(fake_graph.requests_for("attachments")) == 1
        assert len(fake_graph.requests_for("attachment_value")) == 1

    def test_item_attachment_becomes_the_reports_original(
        self, mailbox, runtime, fake_graph
    ):
        fake_graph.add_message(
            REPORTING_MAILBOX, _report(1), item_attachments=[("o.eml", ORIGINAL)]
        )

        poll_once(mailbox, runtime.storage)

        (report,) = ReportStore(runtime.storage).iter_reports()
        assert report.original_subject == "Overdue invoice"
        assert report.original_sender == "billing@contoso.example.org"

    def test_message_without_attachments_costs_one_fetch(self, mailbox, fake_graph):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))

        mailbox.poll()

        assert len(fake_graph.requests_for("message_value")) == 1
        assert fake_graph.requests_for("attachments") == []

    def test_message_gone_before_fetch_is_skipped(self, mailbox, fake_graph):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))
        kept = fake_graph.add_message(REPORTING_MAILBOX, _report(2))
        fake_graph.fail_next("GET", "message_value", 404, code="ErrorItemNotFound")

        batch = mailbox.poll()

        assert [m.mailbox_id for m in batch.messages] == [kept]

    @pytest.mark.parametrize("operation", ["delta", "message_value"])
    def test_server_error_fails_poll_and_keeps_cursor(
        self, mailbox, fake_graph, operation
    ):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))
        fake_graph.fail_next("GET", operation, 500)

        with pytest.raises(GraphRequestError) as caught:
            mailbox.poll()

        assert caught.value.status == 500
        assert [m.mime for m in mailbox.poll().messages] == [_report(1)]

    def test_throttled_poll_is_not_retried_by_the_sdk(self, mailbox, fake_graph):
        fake_graph.fail_next("GET", "delta", 429, headers={"Retry-After": "2"})

        with pytest.raises(GraphRequestError) as caught:
            mailbox.poll()

        assert caught.value.retry_after == 2.0
        assert len(fake_graph.requests_for("delta")) == 1

    def test_saved_link_to_another_host_starts_full_sync(self, mailbox, fake_graph):
        mailbox._cursors.save(
            "http://127.0.0.2:1/v1.0/users/x/mailFolders/inbox/messages/delta"
            "?$deltatoken=abc"
        )
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))

        batch = mailbox.poll()

        assert [m.mime for m in batch.messages] == [_report(1)]
        (delta,) = fake_graph.requests_for("delta")
        assert "$deltatoken" not in delta.query

    def test_next_link_to_another_host_is_rejected(self, mailbox, fake_graph):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))
        fake_graph.root_url_override = "http://127.0.0.2:9"

        with pytest.raises(MailboxError, match="link to another host"):
            mailbox.poll()

    def test_loopback_url_sends_no_token(self, mailbox, fake_graph):
        fake_graph.add_message(REPORTING_MAILBOX, _report(1))

        mailbox.poll()

        assert all("authorization" not in r.headers for r in fake_graph.requests)


class TestSending:
    def test_send_mail_body_shape(self, mailbox, fake_graph):
        mailbox.send(_notification())

        ((sender, body),) = fake_graph.sent
        message = body["Message"]
        assert sender == SENDER
        assert body["SaveToSentItems"] is False
        assert message["subject"] == "Result of your report: Overdue invoice"
        assert message["body"] == {
            "contentType": "html",
            "content": '<p>Phishing</p><img src="cid:reportback-logo">',
        }
        assert message["from"] == {"emailAddress": {"address": SENDER}}
        assert message["toRecipients"] == [
            {
                "emailAddress": {
                    "address": "dana.whitfield@example.com",
                    "name": "Dana Whitfield",
                }
            }
        ]
        assert "ccRecipients" not in message
        assert "bccRecipients" not in message
        (logo,) = message["attachments"]
        assert logo["@odata.type"] == "#microsoft.graph.fileAttachment"
        assert logo["isInline"] is True
        assert logo["contentId"] == "reportback-logo"
        assert logo["contentType"] == "image/png"
        assert logo["name"] == "logo.png"
        assert base64.b64decode(logo["contentBytes"]) == b"\x89PNG-logo"
        assert message["internetMessageHeaders"] == [
            {"name": "X-Reportback", "value": "1"},
            {"name": "X-Auto-Response-Suppress", "value": "All"},
        ]

    def test_sent_items_copy_when_configured(self, mailbox, fake_graph):
        mailbox.save_to_sent_items = True

        mailbox.send(_notification())

        assert fake_graph.sent[0][1]["SaveToSentItems"] is True

    @pytest.mark.parametrize(
        ("status", "retry_after", "expected"),
        [
            (429, "7", 7.0),
            (503, "12", 12.0),
            (504, None, 60.0),
            (429, "0", 1.0),
            (429, "86400", 3600.0),
        ],
    )
    def test_throttled_send_is_transient(
        self, mailbox, fake_graph, status, retry_after, expected
    ):
        headers = {"Retry-After": retry_after} if retry_after else {}
        fake_graph.fail_next("POST", "send_mail", status, headers=headers)

        with pytest.raises(TransientSendError) as caught:
            mailbox.send(_notification())

        assert caught.value.retry_after == expected
        assert len(fake_graph.requests_for("send_mail")) == 1
        assert fake_graph.sent == []

    def test_retry_after_as_http_date(self, mailbox, fake_graph):
        when = datetime.now(timezone.utc) + timedelta(seconds=90)
        fake_graph.fail_next(
            "POST",
            "send_mail",
            429,
            headers={"Retry-After": format_datetime(when, usegmt=True)},
        )

        with pytest.raises(TransientSendError) as caught:
            mailbox.send(_notification())

        assert 85.0 <= caught.value.retry_after <= 90.0

    def test_server_error_is_transient(self, mailbox, fake_graph):
        fake_graph.fail_next("POST", "send_mail", 500)

        with pytest.raises(TransientSendError) as caught:
            mailbox.send(_notification())

        assert caught.value.retry_after is None
        assert "HTTP 500 InternalServerError" in str(caught.value)

    def test_timeout_is_transient(self, runtime, fake_graph):
        client = GraphClient(fake_graph.base_url, timeout_seconds=0.3)
        mailbox = GraphMailbox(
            reporting_mailbox=REPORTING_MAILBOX, client=client, storage=runtime.storage
        )
        fake_graph.fail_next("POST", "send_mail", 500, delay_seconds=1.0)

        with pytest.raises(TransientSendError) as caught:
            mailbox.send(_notification())

        assert caught.value.retry_after is None
        assert str(caught.value) == (
            "Graph sendMail failed: Timeout: request timed out (ReadTimeout)"
        )
        client.close()

    def test_send_as_denied_is_permanent(self, mailbox, fake_graph):
        fake_graph.send_as_denied.add(SENDER)

        with pytest.raises(PermanentSendError) as caught:
            mailbox.send(_notification())

        assert str(caught.value).startswith(
            f"send-as denied for {SENDER}: give the app's identity the right to "
            f"send as {SENDER}"
        )

    def test_unknown_sender_mailbox_is_permanent(self, mailbox, fake_graph):
        with pytest.raises(PermanentSendError) as caught:
            mailbox.send(_notification(sender="nobody@example.com"))

        assert str(caught.value).startswith(
            "sender mailbox nobody@example.com not found: check the custom sender "
            "or REPORTBACK_DEFAULT_SENDER"
        )

    def test_mailbox_outside_app_scope_is_permanent(self, mailbox, fake_graph):
        fake_graph.out_of_scope.add(SENDER)

        with pytest.raises(PermanentSendError) as caught:
            mailbox.send(_notification())

        assert str(caught.value).startswith(
            f"access denied to sender mailbox {SENDER}: grant the app Mail.Send and "
            "include the mailbox in its Exchange Online management scope"
        )

    def test_pace_per_sender_mailbox(self, mailbox, fake_graph):
        mailbox._pacer = SendPacer(
            mailbox._pacer._table, per_minute=2, clock=lambda: 1000.0
        )
        mailbox.sends_per_minute = 2
        mailbox.send(_notification())
        mailbox.send(_notification())

        with pytest.raises(TransientSendError) as caught:
            mailbox.send(_notification())

        assert caught.value.retry_after == 30.0
        assert str(caught.value) == (
            f"sender mailbox {SENDER} reached its limit of 2 messages a minute; "
            "retry in 30 s"
        )
        assert len(fake_graph.sent) == 2
        fake_graph.add_mailbox("other@example.com")
        mailbox.send(_notification(sender="other@example.com"))
        assert len(fake_graph.sent) == 3


class _RotatingCredential:
    """Hands out token-1, token-2, ... as if each earlier one had expired."""

    def __init__(self) -> None:
        self.issued: list[str] = []

    def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
        self.issued.append(f"token-{len(self.issued) + 1}")
        return AccessToken(self.issued[-1], int(time.time()) + 3600)


def test_expired_token_is_refreshed_once(runtime, fake_graph):
    credential = _RotatingCredential()
    client = GraphClient(fake_graph.base_url, credential=credential)
    mailbox = GraphMailbox(
        reporting_mailbox=REPORTING_MAILBOX, client=client, storage=runtime.storage
    )
    fake_graph.rejected_tokens.add("token-1")

    mailbox.send(_notification())

    first, second = fake_graph.requests_for("send_mail")
    assert first.headers["authorization"] == "Bearer token-1"
    assert second.headers["authorization"] == "Bearer token-2"
    assert len(fake_graph.sent) == 1
    client.close()


def test_token_rejected_twice_is_permanent(runtime, fake_graph):
    client = GraphClient(fake_graph.base_url, credential=_RotatingCredential())
    mailbox = GraphMailbox(
        reporting_mailbox=REPORTING_MAILBOX, client=client, storage=runtime.storage
    )
    fake_graph.rejected_tokens.update({"token-1", "token-2"})

    with pytest.raises(PermanentSendError, match="rejected the app's token twice"):
        mailbox.send(_notification())

    assert len(fake_graph.requests_for("send_mail")) == 2
    client.close()


def test_seed_reports_arrive_through_graph(mailbox, runtime, fake_graph):
    for path in sorted(SEED_DIR.glob("*.eml")):
        fake_graph.add_message(REPORTING_MAILBOX, path.read_bytes())

    result = poll_once(mailbox, runtime.storage)

    assert (result.seen, result.created) == (4, 4)
    addresses = sorted(
        r.reporter_address for r in ReportStore(runtime.storage).iter_reports()
    )
    assert "dana.whitfield@example.com" in addresses

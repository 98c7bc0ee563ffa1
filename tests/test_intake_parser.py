"""Reading reports in every format the reporting mailbox receives, and broken mail."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest

from devhost.seed import forward_inline, wrap_original
from intake.parser import parse_report, report_id_for
from tests.conftest import SAMPLES_DIR, SEED_DIR
from verdicts.model import Eligibility, ParseStatus, ReportedAs, SystemVerdict

RECEIVED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ATTACHMENT = b"%PDF-1.4 invoice\n"

ORIGINAL = (
    b"Received: from mail.billing-notice.example.net (203.0.113.25) by\r\n"
    b" mx.example.com with ESMTPS; Mon, 30 Nov 2026 08:58:10 +0000\r\n"
    b"Authentication-Results: spf=fail (sender IP is 203.0.113.25)\r\n"
    b" smtp.mailfrom=billing-notice.example.net; dkim=none (message not signed)\r\n"
    b" header.d=none;dmarc=fail action=none header.from=contoso.example.org;\r\n"
    b" compauth=fail reason=001\r\n"
    b"Authentication-Results: spf=pass (forged lower down) smtp.mailfrom=x\r\n"
    b"X-MS-Exchange-Organization-Network-Message-Id: 6f1c2b1e-0d7a-4a55-9b39\r\n"
    b"X-Forefront-Antispam-Report: CIP:203.0.113.25;CTRY:US;LANG:en;SCL:1;\r\n"
    b" SRV:;IPV:NLI;SFV:NSPM;H:mail.billing-notice.example.net;CAT:NONE;DIR:INB;\r\n"
    b"X-Microsoft-Antispam: BCL:0;\r\n"
    b"Return-Path: <bounce@billing-notice.example.net>\r\n"
    b"From: =?utf-8?Q?Contoso_Billing_=E2=80=93_Accounts?=\r\n"
    b" <Accounts@Contoso.example.org>\r\n"
    b"Sender: mailer@billing-notice.example.net\r\n"
    b"Reply-To: payments@billing-notice.example.net, help@billing-notice.example.net\r\n"
    b"To: Dana Whitfield <dana.whitfield@example.com>\r\n"
    b"Cc: ap@example.com\r\n"
    b"Subject: =?utf-8?B?T3ZlcmR1ZSBpbnZvaWNlIOKAkyBhY3Qgbm93?=\r\n"
    b"Date: Mon, 30 Nov 2026 08:58:02 +0000\r\n"
    b"Message-ID: <inv-20931.7731@contoso.example.org>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="outer"\r\n'
    b"\r\n"
    b"--outer\r\n"
    b'Content-Type: multipart/alternative; boundary="alt"\r\n'
    b"\r\n"
    b"--alt\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Dear customer,\r\n"
    b"pay at https://billing-notice.example.net/pay?id=20931. Thanks.\r\n"
    b"--alt\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"\r\n"
    b'<p>Dear customer, <a href="https://billing-notice.example.net/pay?id=20931&amp;'
    b"x=1\">pay</a> or <a href='http://Login.Example.NET/'>sign in</a>.</p>\r\n"
    b"--alt--\r\n"
    b"--outer\r\n"
    b"Content-Type: application/pdf\r\n"
    b'Content-Disposition: attachment; filename="INV-20931.pdf"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n" + base64.encodebytes(ATTACHMENT).replace(b"\n", b"\r\n") + b"--outer--\r\n"
)

ORIGINAL_URLS = [
    "https://billing-notice.example.net/pay?id=20931",
    "https://billing-notice.example.net/pay?id=20931&x=1",
    "http://Login.Example.NET/",
]


def _parse(mime: bytes, **options):
    return parse_report(mime, report_id="r1", received_at=RECEIVED, **options)


def _report_of(original: bytes, **options) -> bytes:
    return wrap_original(
        original, reporter="dana.whitfield@example.com", reporter_name="Dana", **options
    )


def _message(headers: bytes, body: bytes = b"Hello.\r\n") -> bytes:
    """Return an original with the given header lines and ``body``."""
    return (
        b"From: Sender <sender@example.net>\r\n"
        b"To: dana.whitfield@example.com\r\n"
        b"Subject: Test\r\n"
        b"Message-ID: <test-1@example.net>\r\n" + headers + b"\r\n" + body
    )


class TestAttachedFormats:
    @pytest.mark.parametrize("attach_as", ["rfc822", "rfc822_base64", "octet_stream"])
    def test_original_fields_read_exactly(self, attach_as):
        report = _parse(_report_of(ORIGINAL, attach_as=attach_as))
        assert report.parse_status == ParseStatus.PARSED
        assert report.attention_reason == ""
        assert report.original_format == "eml"
        assert report.reporter_address == "dana.whitfield@example.com"
        assert report.reporter_name == "Dana"
        assert report.reported_as == ReportedAs.PHISHING
        assert report.original_sender == "accounts@contoso.example.org"
        assert report.original_sender_name == "Contoso Billing – Accounts"
        assert report.original_sender_header == "mailer@billing-notice.example.net"
        assert report.original_reply_to == [
            "payments@billing-notice.example.net",
            "help@billing-notice.example.net",
        ]
        assert report.original_return_path == "bounce@billing-notice.example.net"
        assert report.original_to == ["dana.whitfield@example.com"]
        assert report.original_cc == ["ap@example.com"]
        assert report.original_subject == "Overdue invoice – act now"
        assert report.original_date == "Mon, 30 Nov 2026 08:58:02 +0000"
        assert report.original_message_id == "<inv-20931.7731@contoso.example.org>"
        assert report.original_network_message_id == "6f1c2b1e-0d7a-4a55-9b39"
        assert report.authentication == {
            "spf": "fail",
            "dkim": "none",
            "dmarc": "fail",
            "compauth": "fail",
        }
        assert report.antispam_sfv == "NSPM"
        assert report.antispam_scl == 1
        assert report.antispam_cat == "NONE"
        assert report.antispam_bcl == 0
        assert report.system_verdict == SystemVerdict.DELIVERED
        assert report.eligibility == Eligibility.FALSE_NEGATIVE
        assert report.urls == ORIGINAL_URLS
        assert report.url_hosts == ["billing-notice.example.net", "login.example.net"]
        assert report.attachments == [
            {
                "name": "INV-20931.pdf",
                "content_type": "application/pdf",
                "size": len(ATTACHMENT),
                "sha256": hashlib.sha256(ATTACHMENT).hexdigest(),
            }
        ]
        assert report.body_preview == (
            "Dear customer, pay at https://billing-notice.example.net/pay?id=20931. "
            "Thanks."
        )
        assert report.details["original_filename"] == "reported message.eml"

    def test_base64_message_part_is_noted(self):
        report = _parse(_report_of(ORIGINAL, attach_as="rfc822_base64"))
        assert report.problems == [
            "message part 'reported message.eml' is base64-encoded; decoded it"
        ]

    def test_outlook_msg_attachment(self):
        outlook = (SAMPLES_DIR / "msg" / "poi_58214_with_attachment.msg").read_bytes()
        report = _parse(_report_of(outlook, attach_as="msg", filename="original.msg"))
        assert report.parse_status == ParseStatus.PARSED
        assert report.original_format == "msg"
        assert report.original_subject == "Master mail"
        assert report.original_sender == "bertrand.beyssac@c6.eu"
        assert report.original_sender_name == "Bertrand Beyssac"
        assert report.original_message_id == "<003c01d0cf76$96c2be20$c4483a60$@c6.eu>"

    def test_msg_named_part_that_is_not_outlook(self):
        mime = _report_of(ORIGINAL, attach_as="msg", filename="original.msg")
        report = _parse(mime)
        assert report.original_format == "eml"
        assert report.original_subject == "Overdue invoice – act now"
        assert (
            "attachment 'original.msg' is named .msg but is not an Outlook file"
            in report.problems
        )

    def test_graph_item_attachment_takes_the_same_path(self):
        wrapper = (
            b"From: Dana <dana.whitfield@example.com>\r\n"
            b"Subject: 1|Junk: reported\r\n"
            b"Message-ID: <graph-1@example.com>\r\n"
            b"\r\n"
            b"Reported with the add-in.\r\n"
        )
        report = _parse(wrapper, attached_originals=(ORIGINAL,))
        assert report.parse_status == ParseStatus.PARSED
        assert report.original_format == "graph_item"
        assert report.reported_as == ReportedAs.JUNK
        assert report.original_subject == "Overdue invoice – act now"
        assert report.urls == ORIGINAL_URLS
        assert report.eligibility == Eligibility.FALSE_NEGATIVE

    def test_graph_item_may_be_an_outlook_file(self):
        outlook = (SAMPLES_DIR / "msg" / "poi_cyrillic_message.msg").read_bytes()
        wrapper = b"From: dana.whitfield@example.com\r\nSubject: 3|\r\n\r\nx\r\n"
        report = _parse(wrapper, attached_originals=(outlook,))
        assert report.original_format == "msg"
        assert report.original_sender == "no-reply@niips.ru"

    def test_octet_stream_without_eml_name_is_read_if_it_is_mail(self):
        report = _parse(_report_of(ORIGINAL, attach_as="octet_stream", filename="x"))
        assert report.original_format == "eml"
        assert report.original_subject == "Overdue invoice – act now"

    def test_octet_stream_that_is_not_mail_is_ignored(self):
        report = _parse(
            _report_of(b"\x00\x01binary", attach_as="octet_stream", filename="a.bin")
        )
        assert report.original_format == ""
        assert report.attention_reason == "no attached original and no inline forward"


class TestReportedAs:
    @pytest.mark.parametrize(
        ("subject", "expected"),
        [
            ("1|reported message", ReportedAs.JUNK),
            ("Junk: reported message", ReportedAs.JUNK),
            ("JUNK:reported message", ReportedAs.JUNK),
            ("2|", ReportedAs.NOT_JUNK),
            ("Not junk: reported message", ReportedAs.NOT_JUNK),
            ("  not JUNK: x", ReportedAs.NOT_JUNK),
            ("3|Phishing: x", ReportedAs.PHISHING),
            ("phishing: x", ReportedAs.PHISHING),
            ("FW: Your invoice", ReportedAs.PHISHING),
            ("", ReportedAs.PHISHING),
            ("Re: 1| not at the start", ReportedAs.PHISHING),
        ],
    )
    def test_subject_prefix_sets_reported_as(self, subject, expected):
        report = _parse(_report_of(ORIGINAL, subject=subject))
        assert report.reported_as == expected

    def test_not_junk_report_of_junked_mail_is_false_positive(self):
        junked = ORIGINAL.replace(b"SFV:NSPM", b"SFV:SPM").replace(
            b"CAT:NONE", b"CAT:SPM"
        )
        report = _parse(_report_of(junked, reported_as="not_junk"))
        assert report.system_verdict == SystemVerdict.JUNK
        assert report.eligibility == Eligibility.FALSE_POSITIVE


class TestNeedsAttention:
    def test_inline_forward_is_read_best_effort(self):
        report = _parse(forward_inline(ORIGINAL, reporter="sam@example.com"))
        assert report.parse_status == ParseStatus.NEEDS_ATTENTION
        assert report.attention_reason == "no attached original; read an inline forward"
        assert report.original_format == "inline_forward"
        assert report.reporter_address == "sam@example.com"
        assert report.original_sender == "accounts@contoso.example.org"
        assert report.original_subject == "Overdue invoice – act now"
        assert report.original_date == "Mon, 30 Nov 2026 08:58:02 +0000"
        assert report.urls == ["https://billing-notice.example.net/pay?id=20931"]
        assert report.system_verdict == SystemVerdict.UNKNOWN
        assert report.eligibility == Eligibility.UNKNOWN

    def test_outlook_style_inline_forward(self):
        report = _parse((SEED_DIR / "04-inline-forward.eml").read_bytes())
        assert report.original_format == "inline_forward"
        assert report.original_sender == "helpdesk@mail-quota.example.net"
        assert report.original_sender_name == "IT Helpdesk"
        assert report.original_subject == "Your mailbox is almost full"
        assert report.original_date == "Thursday, December 3, 2026 3:58 PM"
        assert report.urls == ["http://mail-quota.example.net/verify"]

    def test_mailto_brackets_of_outlook_forward(self):
        body = (
            "Please check.\n\n________________________________\n"
            "From: IT Desk [mailto:desk@quota.example.net]\n"
            "Sent: Monday, 30 November 2026 10:00\n"
            "Subject: Quota\n\nClick http://quota.example.net/x\n"
        )
        mime = (
            b"From: sam@example.com\r\nSubject: FW: Quota\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + body.encode()
        )
        report = _parse(mime)
        assert report.original_sender == "desk@quota.example.net"
        assert report.original_sender_name == "IT Desk"
        assert report.urls == ["http://quota.example.net/x"]

    def test_two_attached_originals_read_the_first(self):
        second = ORIGINAL.replace(b"Overdue invoice", b"Second")
        mime = _report_of(ORIGINAL)
        boundary = mime.split(b'boundary="', 1)[1].split(b'"', 1)[0]
        extra = (
            b"\r\n--" + boundary + b"\r\nContent-Type: message/rfc822\r\n\r\n" + second
        )
        mime = mime.replace(
            b"\r\n--" + boundary + b"--", extra + b"\r\n--" + boundary + b"--"
        )
        report = _parse(mime)
        assert report.parse_status == ParseStatus.NEEDS_ATTENTION
        assert report.attention_reason == "2 attached messages; read the first"
        assert report.details["attached_originals"] == 2
        assert report.original_subject == "Overdue invoice – act now"

    def test_report_of_a_forwarded_report_reads_the_outer_original(self):
        forwarded_report = _report_of(ORIGINAL)
        report = _parse(_report_of(forwarded_report))
        assert report.parse_status == ParseStatus.PARSED
        assert report.original_subject == "3|Phishing: reported message"
        assert report.original_sender == "dana.whitfield@example.com"
        assert [a["content_type"] for a in report.attachments] == ["message/rfc822"]

    def test_missing_reporter(self):
        report = _parse(_report_of(ORIGINAL).replace(b"From: Dana", b"X-From: Dana", 1))
        assert report.parse_status == ParseStatus.NEEDS_ATTENTION
        assert (
            report.attention_reason == "reporter address missing from the From header"
        )
        assert report.original_subject == "Overdue invoice – act now"

    def test_headers_only_original_of_an_abuse_report(self):
        report = _parse((SAMPLES_DIR / "reports" / "sisimai_arf-20.eml").read_bytes())
        assert report.original_format == "headers"
        assert "only the original's header section was attached" in report.problems


class TestHostileMail:
    def test_invalid_base64_in_encoded_word_is_kept(self):
        mime = _message(b"").replace(
            b"Subject: Test", b"Subject: Pay =?utf-8?B?A?= now"
        )
        report = _parse(_report_of(mime))
        assert report.original_subject == "Pay =?utf-8?B?A?= now"
        assert "header Subject: invalid encoded word '=?utf-8?B?A?='" in report.problems

    def test_misspelled_charset_in_encoded_word(self):
        mime = _message(b"").replace(
            b"Subject: Test", b"Subject: =?uft-8?Q?caf=C3=A9?="
        )
        report = _parse(_report_of(mime))
        assert report.original_subject == "café"
        assert "header Subject: unknown charset 'uft-8'" in report.problems

    def test_unknown_body_charset_falls_back(self):
        mime = _message(
            b"Content-Type: text/plain; charset=x-unknown\r\n", b"Gr\xfc\xdfe\r\n"
        )
        report = _parse(_report_of(mime))
        assert report.body_preview == "Grüße"
        assert "part 1 (text/plain): unknown charset 'x-unknown'" in report.problems

    def test_raw_8bit_bytes_in_headers(self):
        mime = _message(b"").replace(b"Subject: Test", b"Subject: Rechnung f\xfcr Sie")
        mime = mime.replace(b"From: Sender", b"From: Jos\xc3\xa9 Sender")
        report = _parse(_report_of(mime))
        assert report.original_subject == "Rechnung für Sie"
        assert report.original_sender_name == "José Sender"
        assert "header Subject: raw 8-bit bytes decoded as cp1252" in report.problems

    def test_address_list_with_trailing_comma(self):
        mime = _message(b"Cc: a@example.com, b@example.com,\r\n")
        report = _parse(_report_of(mime))
        assert report.original_cc == ["a@example.com", "b@example.com"]

    def test_bracketed_exchange_message_id(self):
        mime = _message(b"").replace(
            b"<test-1@example.net>", b"<[DM6PR11MB1234.namprd11.prod]@example.com>"
        )
        report = _parse(_report_of(mime))
        assert (
            report.original_message_id == "<[DM6PR11MB1234.namprd11.prod]@example.com>"
        )
        assert report.campaign_key != ""

    def test_filename_star_without_value(self):
        part = (
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nSee file.\r\n"
            b"--b\r\nContent-Type: application/pdf\r\n"
            b"Content-Disposition: attachment; filename*=\r\n\r\n%PDF\r\n--b--\r\n"
        )
        headers, body = part.split(b"\r\n\r\n", 1)
        report = _parse(_report_of(_message(headers + b"\r\n", body)))
        assert report.attachments == [
            {
                "name": "",
                "content_type": "application/pdf",
                "size": 4,
                "sha256": hashlib.sha256(b"%PDF").hexdigest(),
            }
        ]

    def test_body_declared_base64_that_is_not(self):
        mime = _message(
            b"Content-Transfer-Encoding: base64\r\n",
            b"This is plain text, not base64!\r\n",
        )
        report = _parse(_report_of(mime))
        assert report.body_preview == "This is plain text, not base64!"
        assert (
            "part 1 (text/plain): declared base64 but is not; kept as sent"
            in report.problems
        )

    def test_base64_with_trailing_space_in_encoding(self):
        body = base64.encodebytes(b"Visit https://trailing.example.net/ now")
        mime = _message(b"Content-Transfer-Encoding: base64 \r\n", body)
        report = _parse(_report_of(mime))
        assert report.body_preview == "Visit https://trailing.example.net/ now"
        assert report.urls == ["https://trailing.example.net/"]

    def test_missing_content_type_reads_as_text(self):
        report = _parse(
            _report_of(_message(b"", b"Plain body https://a.example.net/\r\n"))
        )
        assert report.body_preview == "Plain body https://a.example.net/"
        assert report.urls == ["https://a.example.net/"]

    def test_line_of_100k_characters(self):
        body = b"A" * 100_000 + b" https://long-line.example.net/end\r\n"
        report = _parse(_report_of(_message(b"", body)))
        assert report.body_preview == "A" * 1000
        assert report.urls == ["https://long-line.example.net/end"]

    def test_message_of_25_megabytes(self):
        data = bytes(range(256)) * (25 * 1024 * 1024 // 256)
        part = (
            b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nBig.\r\n"
            b"--b\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n"
            b'Content-Disposition: attachment; filename="big.zip"\r\n\r\n'
            + base64.encodebytes(data)
            + b"--b--\r\n"
        )
        headers, body = part.split(b"\r\n\r\n", 1)
        mime = _report_of(_message(headers + b"\r\n", body))
        assert len(mime) > 25 * 1024 * 1024
        report = _parse(mime)
        assert report.parse_status == ParseStatus.PARSED
        assert report.attachments[0]["size"] == len(data)
        assert report.attachments[0]["sha256"] == hashlib.sha256(data).hexdigest()

    def test_fifty_levels_of_nesting(self):
        message = _message(b"").replace(b"Subject: Test", b"Subject: level 0")
        for level in range(1, 51):
            message = (
                b"From: relay@example.net\r\nSubject: level %d\r\n"
                b"Content-Type: message/rfc822\r\n\r\n" % level + message
            )
        report = _parse(_report_of(message))
        assert report.parse_status == ParseStatus.PARSED
        assert report.original_subject == "level 50"
        assert report.attachments[0]["content_type"] == "message/rfc822"

    def test_nesting_too_deep_for_python_parser(self):
        message = _message(b"")
        for _ in range(2000):
            message = b"Content-Type: message/rfc822\r\n\r\n" + message
        report = _parse(_report_of(message))
        assert report.parse_status == ParseStatus.NEEDS_ATTENTION
        assert (
            "report: nested too deeply to parse; read its headers only"
            in report.problems
        )
        assert report.reporter_address == "dana.whitfield@example.com"

    def test_empty_file(self):
        report = _parse(b"")
        assert report.parse_status == ParseStatus.NEEDS_ATTENTION
        assert report.attention_reason == "message is empty"

    def test_non_mime_binary_file(self):
        png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16
        report = _parse(png)
        assert report.parse_status == ParseStatus.NEEDS_ATTENTION
        assert report.attention_reason == (
            "message has no header fields; it is not RFC 5322 mail; "
            "no attached original and no inline forward"
        )

    def test_outlook_file_dropped_in_the_mailbox(self):
        outlook = (SAMPLES_DIR / "msg" / "poi_cyrillic_message.msg").read_bytes()
        report = _parse(outlook)
        assert report.attention_reason == "message is an Outlook file, not a report"
        assert report.original_format == "msg"
        assert report.original_sender == "no-reply@niips.ru"


class TestCampaignKey:
    def test_same_message_id_groups_reports(self):
        first = _parse(_report_of(ORIGINAL))
        second = _parse(
            wrap_original(
                ORIGINAL, reporter="sam@example.com", attach_as="octet_stream"
            )
        )
        other = _parse(_report_of(ORIGINAL.replace(b"inv-20931.7731", b"inv-1")))
        assert first.campaign_key == second.campaign_key
        assert first.campaign_key != other.campaign_key

    def test_same_sender_subject_and_urls_without_message_id(self):
        without_id = ORIGINAL.replace(
            b"Message-ID: <inv-20931.7731@contoso.example.org>\r\n", b""
        )
        first = _parse(_report_of(without_id))
        second = _parse(_report_of(without_id.replace(b"08:58:02", b"09:14:40")))
        changed_url = _parse(_report_of(without_id.replace(b"id=20931.", b"id=1.")))
        assert first.original_message_id == ""
        assert first.campaign_key == second.campaign_key
        assert first.campaign_key != changed_url.campaign_key


def test_report_id_is_stable_per_wrapper():
    mime = _report_of(ORIGINAL)
    assert report_id_for(mime) == report_id_for(mime)
    assert report_id_for(mime) != report_id_for(_report_of(ORIGINAL))


@pytest.mark.parametrize(
    "from_header",
    [
        b"=?utf-8?q?y=40evil=2Eexample=2C?= <eve@example.com>",
        b"=?utf-8?q?Eve=0D=0ABcc=3A_y=40evil=2Eexample?= <eve@example.com>",
    ],
)
def test_encoded_display_name_cannot_change_reporter(from_header):
    mime = (
        b"From: " + from_header + b"\r\nSubject: Phishing: x\r\n"
        b"Message-ID: <a1@example.com>\r\n\r\nhi\r\n"
    )
    report = parse_report(
        mime, report_id="r1", received_at=datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert report.reporter_address == "eve@example.com"
    assert "\r" not in report.reporter_name
    assert "\n" not in report.reporter_name


def test_raw_8bit_reporter_address_is_text():
    mime = b"From: J\xf6rg <j\xf6rg@example.com>\r\nSubject: x\r\n\r\nhi\r\n"
    report = parse_report(
        mime, report_id="r1", received_at=datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert report.reporter_address == "jörg@example.com"
    assert report.reporter_name == "Jörg"

"""Intake over the shared corpus of real originals, reports, Outlook files and edge
cases: every message is recorded, and hand-checked fields come out right."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devhost.seed import forward_inline, wrap_original
from intake.parser import content_id_for, parse_report, report_id_for
from intake.poller import store_message
from mailboxes import InboundMessage
from tests.conftest import SAMPLES_DIR
from verdicts.model import ParseStatus
from verdicts.store import ReportStore

RECEIVED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FOLDERS = ("eml", "msg", "reports", "edge")


def _sample_files() -> list[Path]:
    files = []
    for folder in FOLDERS:
        files.extend(sorted((SAMPLES_DIR / folder).glob("*.eml")))
        files.extend(sorted((SAMPLES_DIR / folder).glob("*.msg")))
    return files


def _as_mailbox_messages(path: Path) -> list[bytes]:
    """Return the file as it is, plus, for originals, the file wrapped as a report."""
    data = path.read_bytes()
    messages = [data]
    if path.parent.name == "eml":
        messages.append(wrap_original(data, reporter="user1@example.com"))
    elif path.parent.name == "msg":
        messages.append(
            wrap_original(
                data, reporter="user1@example.com", attach_as="msg", filename=path.name
            )
        )
    return messages


def test_corpus_is_present():
    counts = {folder: len(list((SAMPLES_DIR / folder).iterdir())) for folder in FOLDERS}
    assert all(count > 1 for count in counts.values()), counts


def test_every_sample_is_recorded(runtime):
    runtime.storage.create_all()
    reports = ReportStore(runtime.storage)
    # Report id -> raw bytes. Some corpus files share a Message-ID with different
    # content; the second is kept under an id from its bytes.
    expected: dict[str, bytes] = {}
    for path in _sample_files():
        for index, mime in enumerate(_as_mailbox_messages(path)):
            message = InboundMessage(mailbox_id=f"{path.name}#{index}", mime=mime)
            store_message(message, runtime.storage, reports)
            report_id = report_id_for(mime)
            if expected.setdefault(report_id, mime) != mime:
                expected.setdefault(content_id_for(mime), mime)
    expected_ids = set(expected)
    stored = {report.id: report for report in reports.iter_reports()}
    assert set(stored) == expected_ids
    for report in stored.values():
        assert report.raw_blob == f"{report.id}.eml"
        assert not any(p.startswith("parser failed") for p in report.problems), report
    assert len(expected_ids) >= 120


# Hand-checked against the files: (folder/file, reported_as used to wrap an original,
# reporter, original sender, original subject, system verdict, eligibility, URL count,
# attachment names). Files under reports/ are read as they are, with their own sender.
HAND_CHECKED = [
    (
        "reports/mail_attachment_msg_from_outlook.eml",
        None,
        "pavel@yyy.com",
        "pavel@yyy.com",
        "This is test mail without attachment",
        "unknown",
        "unknown",
        0,
        [],
    ),
    (
        "reports/phishingpot_sample-2590.eml",
        None,
        "test@jzbgno.hospedagemweb.net",
        "test@jzbgno.hospedagemweb.net",
        "PLEASE GET BACK TO US",
        "unknown",
        "unknown",
        0,
        [],
    ),
    (
        "reports/sisimai_arf-01.eml",
        None,
        "kijitora@example.co.jp",
        "abuse@example.ed.jp",
        "Kijitora cat family",
        "unknown",
        "unknown",
        0,
        [],
    ),
    (
        "reports/sisimai_arf-22.eml",
        None,
        "staff@hotmail.com",
        "sironeko@example.com",
        "Nyaan",
        "unknown",
        "unknown",
        0,
        [],
    ),
    (
        "reports/mailparser_delivery-status.eml",
        None,
        "mailer-daemon@amazonses.com",
        "xxx@xxx.com",
        "Example Subject",
        "unknown",
        "unknown",
        0,
        [],
    ),
    (
        "reports/mail_attachment_message_rfc822.eml",
        None,
        "foo@example.com",
        "xxxx@xxxx.com",
        "Another PDF",
        "unknown",
        "unknown",
        0,
        ["broken.pdf"],
    ),
    (
        "eml/sample-1620.eml",
        "junk",
        "user1@example.com",
        "ldhsx@odakitap.com",
        "Fa\u0337lha na e\u0337ntre\u0337ga: sua e\u0337ntrega e\u0337stá pe\u0337ndente",
        "delivered",
        "false_negative",
        6,
        ["image001.png", "miro-logo_mail-1589550283.jpg", "image004.jpg"],
    ),
    (
        "eml/sample-254.eml",
        "not_junk",
        "user1@example.com",
        "firoj@sigmaworld.in",
        "HELP UKRAINIANS DEFEAT THE DARKNESS",
        "junk",
        "false_positive",
        0,
        [],
    ),
    (
        "eml/sample-4177.eml",
        "phishing",
        "user1@example.com",
        "service@stayfriends.de",
        None,
        "delivered",
        "false_negative",
        6,
        [],
    ),
    (
        "eml/sample-5881.eml",
        "phishing",
        "user1@example.com",
        "kt@refrigeracaota.com.br",
        "Confirm your details by Sun, September 14, 2025",
        "delivered",
        "false_negative",
        5,
        ["Compliance5161360952", "Document20250912", "New Regulation12082025"],
    ),
    (
        "eml/sample-3205.eml",
        "junk",
        "user1@example.com",
        "contato@e.planosdesaude-e.com",
        "phishing@pot, Proposta Notredame Intermédica - Nova tabela 2024 disponível",
        "delivered",
        "false_negative",
        2,
        [],
    ),
    (
        "eml/sample-5644.eml",
        "phishing",
        "user1@example.com",
        "insuresign@send.insuresign.com",
        "Profile Activity Updated - New Bid Check it !",
        "junk",
        "agrees",
        1,
        [],
    ),
    (
        "eml/sample-5810.eml",
        "phishing",
        "user1@example.com",
        "159.64.174.232.sakai@club.polokwanegolfclub.co.za",
        "Your Norton Order Confirmation For Order #NP00X08463232",
        "delivered",
        "false_negative",
        0,
        ["Billing-Details#NP0045698791324.docx"],
    ),
    (
        "eml/sample-918.eml",
        "phishing",
        "user1@example.com",
        "noreply-lrs.gov-7161637700935@alquilatucamioneta.com.ar",
        "New Statement Available #215-1116067-514",
        "delivered",
        "false_negative",
        0,
        ["lRS-2LVQ6.pdf"],
    ),
    (
        "eml/sample-2024.eml",
        "phishing",
        "user1@example.com",
        "",
        "",
        "unknown",
        "unknown",
        0,
        [],
    ),
    (
        "msg/poi_58214_with_attachment.msg",
        "phishing",
        "user1@example.com",
        "bertrand.beyssac@c6.eu",
        "Master mail",
        "unknown",
        "unknown",
        0,
        ["Test mail attachment.msg"],
    ),
    (
        "msg/poi_example_received_unicode.msg",
        "junk",
        "user1@example.com",
        "mike.farman@alfresco.com",
        "This is a test message please ignore",
        "unknown",
        "unknown",
        1,
        ["alfresco.gif"],
    ),
]


@pytest.mark.parametrize(
    (
        "name",
        "reported_as",
        "reporter",
        "sender",
        "subject",
        "system_verdict",
        "eligibility",
        "url_count",
        "attachment_names",
    ),
    HAND_CHECKED,
    ids=[row[0] for row in HAND_CHECKED],
)
def test_hand_checked_fields(
    name,
    reported_as,
    reporter,
    sender,
    subject,
    system_verdict,
    eligibility,
    url_count,
    attachment_names,
):
    path = SAMPLES_DIR / name
    data = path.read_bytes()
    if reported_as is not None:
        attach_as = "msg" if path.suffix == ".msg" else "rfc822"
        data = wrap_original(
            data, reporter=reporter, reported_as=reported_as, attach_as=attach_as
        )
    report = parse_report(data, report_id="r1", received_at=RECEIVED)
    assert report.reporter_address == reporter
    assert report.reported_as.value == (reported_as or "phishing")
    assert report.original_sender == sender
    if subject is not None:
        assert report.original_subject == subject
    assert report.system_verdict.value == system_verdict
    assert report.eligibility.value == eligibility
    assert len(report.urls) == url_count
    assert [a["name"] for a in report.attachments] == attachment_names


def _stdlib_reading(original: bytes) -> dict[str, str]:
    """Read the fields a user compares with the standard library's own parser."""
    message = email.message_from_bytes(original, policy=email.policy.compat32)
    sender = email.utils.getaddresses([str(message.get("From", ""))])
    return {
        "message_id": str(message.get("Message-ID", "")).strip(),
        "date": " ".join(str(message.get("Date", "")).split()),
        "sender": sender[0][1].lower().rstrip(".") if sender else "",
    }


@pytest.mark.parametrize(
    "path", sorted((SAMPLES_DIR / "eml").glob("*.eml")), ids=lambda p: p.name
)
@pytest.mark.parametrize("attach_as", ["rfc822", "rfc822_base64", "octet_stream"])
def test_wrapped_original_matches_what_went_in(path, attach_as):
    original = path.read_bytes()
    direct = parse_report(
        b"From: user1@example.com\r\nSubject: x\r\n\r\n",
        report_id="r1",
        received_at=RECEIVED,
        attached_originals=(original,),
    )
    wrapped = parse_report(
        wrap_original(original, reporter="user1@example.com", attach_as=attach_as),
        report_id="r2",
        received_at=RECEIVED,
    )
    expected = _stdlib_reading(original)
    assert wrapped.original_format == "eml"
    assert wrapped.original_message_id == expected["message_id"]
    if expected["date"].isascii():
        assert " ".join(wrapped.original_date.split()) == expected["date"]
    for field in (
        "original_sender",
        "original_subject",
        "original_message_id",
        "authentication",
        "system_verdict",
        "urls",
        "attachments",
        "body_preview",
        "campaign_key",
    ):
        assert getattr(wrapped, field) == getattr(direct, field), field


@pytest.mark.parametrize(
    "path", sorted((SAMPLES_DIR / "eml").glob("*.eml")), ids=lambda p: p.name
)
def test_inline_forward_keeps_sender_and_subject(path):
    original = path.read_bytes()
    direct = parse_report(
        b"From: user1@example.com\r\nSubject: x\r\n\r\n",
        report_id="r1",
        received_at=RECEIVED,
        attached_originals=(original,),
    )
    forwarded = parse_report(
        forward_inline(original, reporter="user1@example.com"),
        report_id="r2",
        received_at=RECEIVED,
    )
    assert forwarded.parse_status == ParseStatus.NEEDS_ATTENTION
    if direct.original_sender:
        assert forwarded.original_format == "inline_forward"
        assert forwarded.original_sender == direct.original_sender
        assert " ".join(forwarded.original_subject.split()) == " ".join(
            direct.original_subject.split()
        )


@pytest.mark.parametrize(
    "path", sorted((SAMPLES_DIR / "msg").glob("*.msg")), ids=lambda p: p.name
)
def test_wrapped_outlook_file_matches_the_file(path):
    data = path.read_bytes()
    direct = parse_report(data, report_id="r1", received_at=RECEIVED)
    wrapped = parse_report(
        wrap_original(data, reporter="user1@example.com", attach_as="msg"),
        report_id="r2",
        received_at=RECEIVED,
    )
    assert wrapped.original_format == direct.original_format
    for field in ("original_sender", "original_subject", "urls", "attachments"):
        assert getattr(wrapped, field) == getattr(direct, field), field

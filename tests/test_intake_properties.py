"""Damaged real mail never makes intake raise, and every message is recorded."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devhost.seed import wrap_original
from intake.parser import content_id_for, parse_report, report_id_for
from intake.poller import store_message
from mailboxes import InboundMessage
from tests.conftest import SAMPLES_DIR
from verdicts.store import ReportStore

RECEIVED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# Small and mid-sized samples keep each example fast; the large ones add nothing
# that the mutations do not already cover.
SAMPLES = [
    path.read_bytes()
    for folder in ("eml", "reports", "edge")
    for path in sorted((SAMPLES_DIR / folder).glob("*.eml"))
    if path.stat().st_size < 60_000
]
CHARSETS = [b"uft-8", b"x-unknown", b"utf-7", b"ks_c_5601-1987", b"", b'"', b"utf-16"]
_HEADER_LINE = re.compile(rb"^[A-Za-z-]+:[^\r\n]*\r?\n", re.MULTILINE)
_CHARSET = re.compile(rb"charset=\"?[A-Za-z0-9_.:-]*\"?", re.IGNORECASE)
_BOUNDARY = re.compile(rb"^--[^\r\n]+", re.MULTILINE)


@st.composite
def mutations(draw: st.DrawFn, data: bytes) -> bytes:
    """Apply one to three damaging edits of the kinds real mail shows."""
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["truncate", "flip", "duplicate", "boundary", "charset"])
        )
        if not data:
            break
        if kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif kind == "flip":
            for _ in range(draw(st.integers(1, 20))):
                position = draw(st.integers(0, len(data) - 1))
                data = (
                    data[:position]
                    + bytes([draw(st.integers(0, 255))])
                    + data[position + 1 :]
                )
        elif kind == "duplicate":
            lines = _HEADER_LINE.findall(data[:20_000])
            if lines:
                line = draw(st.sampled_from(lines))
                data = data.replace(line, line * draw(st.integers(2, 50)), 1)
        elif kind == "boundary":
            markers = _BOUNDARY.findall(data)
            if markers:
                marker = draw(st.sampled_from(markers))
                damage = draw(st.sampled_from([b"", b"--", marker[:-3], marker + b"x"]))
                data = data.replace(marker, damage, draw(st.integers(1, 3)))
        else:
            data = _CHARSET.sub(b"charset=" + draw(st.sampled_from(CHARSETS)), data)
    return data


@st.composite
def damaged_reports(draw: st.DrawFn) -> bytes:
    original = draw(mutations(draw(st.sampled_from(SAMPLES))))
    if draw(st.booleans()):
        return original
    attach_as = draw(st.sampled_from(["rfc822", "rfc822_base64", "octet_stream"]))
    # A Message-ID derived from the content keeps examples reproducible, and equal
    # reports get equal ids, as a re-delivered message would.
    digest = hashlib.sha256(original).hexdigest()[:20]
    report = wrap_original(
        original,
        reporter="user1@example.com",
        attach_as=attach_as,
        message_id=f"<{digest}.{attach_as}@example.com>",
    )
    return draw(mutations(report)) if draw(st.booleans()) else report


@settings(max_examples=300, deadline=None, derandomize=True)
@given(damaged_reports())
def test_damaged_mail_never_raises(mime):
    report = parse_report(mime, report_id="r1", received_at=RECEIVED)
    assert report.id == "r1"
    assert not report.attention_reason.startswith("parser failed"), (
        report.attention_reason
    )
    assert report.parse_status.value in ("parsed", "needs_attention")


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(mime=damaged_reports())
def test_damaged_mail_is_always_recorded(runtime, mime):
    runtime.storage.create_all()
    reports = ReportStore(runtime.storage)
    message = InboundMessage(mailbox_id="damaged.eml", mime=mime)
    created = store_message(message, runtime.storage, reports)
    report_id = report_id_for(mime)
    assert reports.exists(report_id)
    # The examples share one storage. A message whose Message-ID was seen before
    # is a re-delivery when its bytes match, else it is kept under an id from its
    # bytes; either way its exact bytes are stored.
    container = runtime.storage.container("raw-reports")
    stored = [
        container.download_blob(f"{candidate}.eml").readall()
        for candidate in (report_id, content_id_for(mime))
        if reports.exists(candidate)
    ]
    assert mime in stored or not created

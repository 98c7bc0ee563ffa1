"""The system's verdict read from Exchange Online's antispam headers."""

from __future__ import annotations

import pytest

from intake.antispam import read_stamp, system_verdict
from verdicts.model import Eligibility, ReportedAs, SystemVerdict
from verdicts.rules import eligibility_for

FOREFRONT = (
    "CIP:203.0.113.25;CTRY:US;LANG:en;SCL:{scl};SRV:;IPV:NLI;SFV:{sfv};CAT:{cat};"
)


@pytest.mark.parametrize(
    ("sfv", "scl", "cat", "expected"),
    [
        ("NSPM", "1", "NONE", SystemVerdict.DELIVERED),
        ("SFE", "-1", "NONE", SystemVerdict.DELIVERED),
        ("SKA", "-1", "NONE", SystemVerdict.DELIVERED),
        ("SKN", "-1", "NONE", SystemVerdict.DELIVERED),
        ("SKI", "-1", "NONE", SystemVerdict.DELIVERED),
        ("SPM", "5", "SPM", SystemVerdict.JUNK),
        ("SPM", "9", "HSPM", SystemVerdict.JUNK),
        ("SPM", "9", "HPHSH", SystemVerdict.PHISHING),
        ("SPM", "5", "PHSH", SystemVerdict.PHISHING),
        ("SKS", "5", "NONE", SystemVerdict.JUNK),
        ("SKB", "6", "NONE", SystemVerdict.JUNK),
        ("BLK", "6", "NONE", SystemVerdict.JUNK),
        ("SKQ", "1", "NONE", SystemVerdict.JUNK),
        ("", "1", "", SystemVerdict.DELIVERED),
        ("", "0", "", SystemVerdict.DELIVERED),
        ("", "5", "", SystemVerdict.JUNK),
        ("", "9", "MALW", SystemVerdict.PHISHING),
        ("", "3", "", SystemVerdict.UNKNOWN),
        ("", "", "", SystemVerdict.UNKNOWN),
        ("XYZ", "", "NONE", SystemVerdict.UNKNOWN),
    ],
)
def test_forefront_fields_map_to_system_verdict(sfv, scl, cat, expected):
    stamp = read_stamp(FOREFRONT.format(sfv=sfv, scl=scl, cat=cat))
    assert system_verdict(stamp) == expected


def test_stamp_reads_every_header():
    stamp = read_stamp(
        "CIP:198.51.100.7;SCL:5;SFV:SPM;CAT:SPM;DIR:INB;",
        "BCL:7;",
        "9",
        "ucf:0;jmr:0;auth:0;dest:J;OFR:SpamFilterAuthJ;",
    )
    assert stamp.sfv == "SPM"
    assert stamp.scl == 5
    assert stamp.cat == "SPM"
    assert stamp.bcl == 7
    assert stamp.dest == "J"


def test_organization_scl_used_without_forefront_scl():
    stamp = read_stamp("", "BCL:0;", " 8 ")
    assert stamp.scl == 8
    assert system_verdict(stamp) == SystemVerdict.JUNK


@pytest.mark.parametrize(
    ("dest", "sfv", "scl", "expected"),
    [
        # The mailbox's delivery decision wins over the filter's stamp.
        ("I", "SPM", "8", SystemVerdict.DELIVERED),
        ("J", "NSPM", "1", SystemVerdict.JUNK),
        ("C", "", "5", SystemVerdict.JUNK),
        ("C", "NSPM", "5", SystemVerdict.DELIVERED),
    ],
)
def test_mailbox_delivery_dest_decides_first(dest, sfv, scl, expected):
    stamp = read_stamp(f"SFV:{sfv};SCL:{scl};", "", "", f"dest:{dest};")
    assert system_verdict(stamp) == expected


def test_unparseable_scl_is_none():
    stamp = read_stamp("SCL:high;SFV:;", "BCL:x;")
    assert stamp.scl is None
    assert stamp.bcl is None
    assert system_verdict(stamp) == SystemVerdict.UNKNOWN


@pytest.mark.parametrize(
    ("system", "reported_as", "expected"),
    [
        (SystemVerdict.DELIVERED, ReportedAs.PHISHING, Eligibility.FALSE_NEGATIVE),
        (SystemVerdict.DELIVERED, ReportedAs.JUNK, Eligibility.FALSE_NEGATIVE),
        (SystemVerdict.DELIVERED, ReportedAs.NOT_JUNK, Eligibility.AGREES),
        (SystemVerdict.JUNK, ReportedAs.NOT_JUNK, Eligibility.FALSE_POSITIVE),
        (SystemVerdict.PHISHING, ReportedAs.NOT_JUNK, Eligibility.FALSE_POSITIVE),
        (SystemVerdict.JUNK, ReportedAs.JUNK, Eligibility.AGREES),
        (SystemVerdict.JUNK, ReportedAs.PHISHING, Eligibility.AGREES),
        (SystemVerdict.PHISHING, ReportedAs.PHISHING, Eligibility.AGREES),
        (SystemVerdict.UNKNOWN, ReportedAs.PHISHING, Eligibility.UNKNOWN),
        (SystemVerdict.UNKNOWN, ReportedAs.NOT_JUNK, Eligibility.UNKNOWN),
    ],
)
def test_eligibility_compares_reporter_with_system(system, reported_as, expected):
    assert eligibility_for(reported_as, system) == expected

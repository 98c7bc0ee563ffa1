"""The mail system's own verdict on an original, and how a report relates to it.

Exchange Online Protection stamps delivered mail with ``X-Forefront-Antispam-Report``
(``SFV``, ``SCL``, ``CAT`` among other ``FIELD:value;`` pairs),
``X-Microsoft-Antispam`` (``BCL``), ``X-MS-Exchange-Organization-SCL`` and
``X-Microsoft-Antispam-Mailbox-Delivery`` (``dest``). Sources of the meanings below:
Microsoft Learn, "Anti-spam message headers in Microsoft 365"
(https://learn.microsoft.com/defender-office-365/message-headers-eop-mdo), for SFV,
SCL and CAT; [MS-OXCMAIL] 2.2.3.2.21 for ``X-MS-Exchange-Organization-SCL``; the
University of Oxford IT help page "Examine junk mail delivery"
(https://help.it.ox.ac.uk/examine-junk-mail-delivery) for ``dest``.

``dest`` decides first, because it records where the mailbox put the message:
``I`` the inbox (delivered), ``J`` the Junk Email folder (junked). ``C`` (a custom
folder, chosen by the user's rules) tells nothing about the filter's verdict.

Then ``SFV``:

- ``NSPM`` (not spam), ``SFE`` (sender on the user's Safe Senders list), ``SKA``
  (sender allowed by an anti-spam policy), ``SKN`` (marked not spam before filtering,
  e.g. by a mail flow rule), ``SKI`` (filtering skipped, e.g. intra-organization
  mail): delivered to the inbox.
- ``SPM`` (spam filtering marked it spam), ``SKS`` (marked spam before filtering),
  ``SKB`` (sender blocked by an anti-spam policy), ``BLK`` (sender on the user's
  Blocked Senders list): junked.
- ``SKQ``: released from quarantine. The system had quarantined it, so the system's
  verdict is junk even though the reporter found it in the inbox.

Without a known ``dest`` or ``SFV``, ``SCL`` decides: -1, 0 and 1 mean not spam (delivered);
5 and 6 spam; 7, 8 and 9 high confidence spam (junked). Other values tell nothing.

A junked message counts as phishing when ``CAT`` names a phishing or malware policy:
``PHSH``, ``HPHSH``/``HPHISH`` (high confidence phishing), ``MALW``, ``AMP``,
``SAP``, ``GIMP``/``UIMP``/``DIMP`` (impersonation), ``SPOOF``.
"""

from __future__ import annotations

from dataclasses import dataclass

from verdicts.model import SystemVerdict

DELIVERED_SFV = frozenset({"NSPM", "SFE", "SKA", "SKN", "SKI"})
JUNKED_SFV = frozenset({"SPM", "SKS", "SKB", "BLK", "SKQ"})
PHISHING_CAT = frozenset(
    {"PHSH", "HPHSH", "HPHISH", "MALW", "AMP", "SAP", "GIMP", "UIMP", "DIMP", "SPOOF"}
)


@dataclass(frozen=True)
class AntispamStamp:
    """The fields of an original's antispam headers that decide its verdict."""

    sfv: str = ""
    scl: int | None = None
    cat: str = ""
    bcl: int | None = None
    dest: str = ""


def parse_fields(value: str) -> dict[str, str]:
    """Split a ``FIELD:value;FIELD:value`` header into upper-case field names."""
    fields: dict[str, str] = {}
    for item in value.split(";"):
        name, sep, field_value = item.partition(":")
        name = name.strip().upper()
        if sep and name and name not in fields:
            fields[name] = field_value.strip()
    return fields


def _integer(value: str | None) -> int | None:
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


def read_stamp(
    forefront: str,
    microsoft: str = "",
    organization_scl: str = "",
    mailbox_delivery: str = "",
) -> AntispamStamp:
    """Read SFV, SCL and CAT from ``X-Forefront-Antispam-Report``, BCL from
    ``X-Microsoft-Antispam``, SCL from ``X-MS-Exchange-Organization-SCL`` when the
    first has none, and dest from ``X-Microsoft-Antispam-Mailbox-Delivery``."""
    report = parse_fields(forefront)
    scl = _integer(report.get("SCL"))
    if scl is None:
        scl = _integer(organization_scl or None)
    return AntispamStamp(
        sfv=report.get("SFV", "").upper(),
        scl=scl,
        cat=report.get("CAT", "").upper(),
        bcl=_integer(parse_fields(microsoft).get("BCL")),
        dest=parse_fields(mailbox_delivery).get("DEST", "").upper(),
    )


def system_verdict(stamp: AntispamStamp) -> SystemVerdict:
    """Map an antispam stamp to where the system put the message (see module doc)."""
    if stamp.dest == "I" or (stamp.dest != "J" and stamp.sfv in DELIVERED_SFV):
        return SystemVerdict.DELIVERED
    junked = stamp.dest == "J" or stamp.sfv in JUNKED_SFV
    if not junked and stamp.scl is not None:
        if -1 <= stamp.scl <= 1:
            return SystemVerdict.DELIVERED
        junked = 5 <= stamp.scl <= 9
    if not junked:
        return SystemVerdict.UNKNOWN
    if stamp.cat in PHISHING_CAT:
        return SystemVerdict.PHISHING
    return SystemVerdict.JUNK

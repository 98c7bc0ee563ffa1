"""Reports, audit entries and verdict versions in Table Storage."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)

from storage import Storage, check_entity_limits, check_key
from storage.keys import MAX_ENTITY_BYTES, MAX_STRING_CHARS, truncate_utf16
from verdicts.errors import Conflict, ReportNotFound
from verdicts.model import (
    JSON_FIELDS,
    Report,
    report_from_entity,
    report_to_entity,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredReport:
    """A report with the ETag it was read at."""

    report: Report
    etag: str


def fit_entity(entity: dict[str, Any]) -> dict[str, Any]:
    """Cut properties that Azure would reject and list them in ``truncated_fields``.

    A string longer than 32K UTF-16 code units is truncated. A JSON list keeps as
    many leading items as fit, so it stays valid JSON; a JSON object that does not
    fit becomes ``{"truncated": true}``. If the entity is still over 1 MiB, its
    largest properties are halved until it fits. The raw MIME blob keeps all data.
    """
    fitted = dict(entity)
    truncated: list[str] = []
    for name, value in entity.items():
        if isinstance(value, str) and _utf16_units(value) > MAX_STRING_CHARS:
            fitted[name] = _fit_property(name, value, MAX_STRING_CHARS)
            truncated.append(name)
    while _entity_bytes(fitted) > MAX_ENTITY_BYTES:
        name = max(
            (n for n, v in fitted.items() if isinstance(v, str) and n not in _KEYS),
            key=lambda n: len(fitted[n]),
        )
        units = _utf16_units(fitted[name]) // 2
        if units == 0:
            break
        fitted[name] = _fit_property(name, fitted[name], units)
        if name not in truncated:
            truncated.append(name)
    if truncated:
        fitted["truncated_fields"] = _fit_property(
            "truncated_fields",
            json.dumps(list(dict.fromkeys(_previous_truncated(entity) + truncated))),
            MAX_STRING_CHARS,
        )
    check_entity_limits(fitted)
    return fitted


_KEYS = ("PartitionKey", "RowKey")


def _fit_property(name: str, value: str, max_units: int) -> str:
    if name not in JSON_FIELDS:
        return truncate_utf16(value, max_units)
    try:
        data = json.loads(value)
    except ValueError:
        return "[]"
    if not isinstance(data, list):
        return json.dumps({"truncated": True})
    # Bisect the number of leading items whose JSON fits.
    low, high = 0, len(data)
    while low < high:
        middle = (low + high + 1) // 2
        text = json.dumps(data[:middle], ensure_ascii=False, separators=(",", ":"))
        if _utf16_units(text) <= max_units:
            low = middle
        else:
            high = middle - 1
    return json.dumps(data[:low], ensure_ascii=False, separators=(",", ":"))


def _previous_truncated(entity: dict[str, Any]) -> list[str]:
    try:
        previous = json.loads(entity.get("truncated_fields") or "[]")
    except ValueError:
        return []
    if not isinstance(previous, list):
        return []
    return [name for name in previous if isinstance(name, str)]


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _entity_bytes(entity: dict[str, Any]) -> int:
    total = 0
    for name, value in entity.items():
        total += 2 * len(name)
        if isinstance(value, str):
            total += 2 * _utf16_units(value)
        elif isinstance(value, bytes):
            total += len(value)
        else:
            total += 8
    return total


class ReportStore:
    """The ``reports`` and ``audit`` tables."""

    def __init__(self, storage: Storage) -> None:
        self._reports = storage.table("reports")
        self._audit = storage.table("audit")

    def add(self, report: Report) -> bool:
        """Store ``report`` unless one with its id exists; return whether it was new."""
        check_key(report.id)
        try:
            self._reports.create_entity(fit_entity(report_to_entity(report)))
        except ResourceExistsError:
            return False
        return True

    def exists(self, report_id: str) -> bool:
        try:
            self._reports.get_entity("report", check_key(report_id), select=["RowKey"])
        except ResourceNotFoundError:
            return False
        return True

    def get(self, report_id: str) -> StoredReport:
        try:
            entity = self._reports.get_entity("report", check_key(report_id))
        except ResourceNotFoundError:
            raise ReportNotFound(f"report {report_id!r} not found") from None
        return StoredReport(report_from_entity(entity), entity.metadata["etag"])

    def replace(self, report: Report, *, etag: str) -> str:
        """Write ``report`` if it is unchanged since ``etag``; return the new ETag."""
        try:
            metadata = self._reports.update_entity(
                fit_entity(report_to_entity(report)),
                mode="replace",
                etag=etag,
                match_condition=MatchConditions.IfNotModified,
            )
        except ResourceModifiedError:
            raise Conflict(
                f"report {report.id!r} changed since it was read; reload it and retry"
            ) from None
        except ResourceNotFoundError:
            raise ReportNotFound(f"report {report.id!r} not found") from None
        return metadata["etag"]

    def iter_reports(self) -> Iterator[Report]:
        for entity in self._reports.query_entities("PartitionKey eq 'report'"):
            yield report_from_entity(entity)

    def iter_notify_requested(self, since: datetime) -> Iterator[Report]:
        """Yield reports marked since ``since`` that requested a notification.

        Only reports whose current verdict version is the requested one count.
        """
        entities = self._reports.query_entities(
            "PartitionKey eq 'report' and verdict_at ge @since and notify_version gt 0",
            parameters={"since": since},
        )
        for entity in entities:
            report = report_from_entity(entity)
            if report.notify_version == report.verdict_version:
                yield report

    def add_audit(self, *, subject: str, action: str, actor: str, **data: Any) -> None:
        """Append an audit entry for ``subject`` (a report id or ``settings``)."""
        now = datetime.now(timezone.utc)
        # Row keys sort ascending, so a zero-padded time keeps entries in order.
        row = f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{action}"
        entity = {
            "PartitionKey": check_key(subject),
            "RowKey": check_key(row),
            "action": action,
            "actor": actor,
            "at": now,
            "data": json.dumps(data, ensure_ascii=False, default=str),
        }
        self._audit.upsert_entity(fit_entity(entity))

    def audit_for(self, subject: str) -> list[dict[str, Any]]:
        entries = self._audit.query_entities(
            "PartitionKey eq @subject", parameters={"subject": check_key(subject)}
        )
        return [
            {
                "action": e["action"],
                "actor": e["actor"],
                "at": e["at"].isoformat() if hasattr(e["at"], "isoformat") else e["at"],
                **json.loads(e.get("data") or "{}"),
            }
            for e in entries
        ]

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
from storage.keys import MAX_STRING_CHARS, truncate_utf16
from verdicts.errors import Conflict, ReportNotFound
from verdicts.model import Report, report_from_entity, report_to_entity

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredReport:
    """A report with the ETag it was read at."""

    report: Report
    etag: str


def fit_entity(entity: dict[str, Any]) -> dict[str, Any]:
    """Truncate string properties that Azure would reject; the raw blob keeps all."""
    fitted = dict(entity)
    for name, value in entity.items():
        if isinstance(value, str) and len(value) > MAX_STRING_CHARS // 2:
            fitted[name] = truncate_utf16(value, MAX_STRING_CHARS)
            if name in ("urls", "attachments", "problems", "details", "authentication"):
                # Cut JSON cannot be parsed back, so store a marker instead.
                fitted[name] = (
                    json.dumps({"truncated": True})
                    if name
                    in (
                        "details",
                        "authentication",
                    )
                    else "[]"
                )
    check_entity_limits(fitted)
    return fitted


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

"""Reports, audit entries and verdict versions in Table Storage."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)
from azure.data.tables import TableTransactionError

from storage import Storage, TableLimitError, check_entity_limits, check_key
from storage.keys import MAX_ENTITY_BYTES, MAX_STRING_CHARS, truncate_utf16
from verdicts.errors import Conflict, ReportNotFound, VerdictError
from verdicts.model import (
    JSON_FIELDS,
    Report,
    report_from_entity,
    report_to_entity,
)

logger = logging.getLogger(__name__)

# Azure Table Storage takes at most 100 operations in one transaction, and at most 15
# comparisons in one filter.
MAX_TRANSACTION_OPERATIONS = 100
MAX_FILTER_COMPARISONS = 15
# Properties a verdict changes; a bulk mark merges only these.
VERDICT_PROPERTIES = (
    "verdict",
    "verdict_version",
    "verdict_at",
    "verdict_by",
    "notify_version",
)


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
        self._storage = storage
        self._reports = storage.table("reports")

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
        except (ResourceNotFoundError, TableLimitError):
            raise ReportNotFound(f"report {report_id[:80]!r} not found") from None
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

    def query(
        self,
        conditions: dict[str, Any],
        *,
        received_from: datetime | None = None,
        received_before: datetime | None = None,
        select: list[str] | None = None,
    ) -> Iterator[Report]:
        """Yield reports whose properties equal ``conditions``, in no set order.

        With ``select``, the reports carry only those properties (and defaults).
        """
        entities = self.query_entities(
            conditions,
            received_from=received_from,
            received_before=received_before,
            select=select,
        )
        for entity in entities:
            yield report_from_entity(entity)

    def query_entities(
        self,
        conditions: dict[str, Any],
        *,
        received_from: datetime | None = None,
        received_before: datetime | None = None,
        select: list[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield the Table entities that ``query`` turns into reports."""
        clauses = ["PartitionKey eq 'report'"]
        parameters: dict[str, Any] = {}
        for index, (name, value) in enumerate(sorted(conditions.items())):
            clauses.append(f"{name} eq @p{index}")
            parameters[f"p{index}"] = value
        if received_from is not None:
            clauses.append("received_at ge @received_from")
            parameters["received_from"] = received_from
        if received_before is not None:
            clauses.append("received_at lt @received_before")
            parameters["received_before"] = received_before
        entities = self._reports.query_entities(
            " and ".join(clauses),
            parameters=parameters,
            select=["RowKey", *select] if select else None,
        )
        yield from entities

    def get_many(self, report_ids: list[str]) -> dict[str, StoredReport]:
        """Return the reports that exist among ``report_ids``, by id."""
        valid = []
        for report_id in report_ids:
            try:
                valid.append(check_key(report_id))
            except TableLimitError:
                continue
        found: dict[str, StoredReport] = {}
        for start in range(0, len(valid), MAX_FILTER_COMPARISONS - 1):
            chunk = valid[start : start + MAX_FILTER_COMPARISONS - 1]
            names = [f"id{i}" for i in range(len(chunk))]
            keys = " or ".join(f"RowKey eq @{name}" for name in names)
            # The SDK finds @names between spaces, so the parentheses stand apart.
            entities = self._reports.query_entities(
                f"PartitionKey eq 'report' and ( {keys} )",
                parameters=dict(zip(names, chunk, strict=True)),
            )
            for entity in entities:
                report = report_from_entity(entity)
                found[report.id] = StoredReport(report, entity.metadata["etag"])
        return found

    def merge_verdicts(
        self, changes: list[tuple[Report, str]]
    ) -> tuple[dict[str, str], dict[str, VerdictError]]:
        """Write the verdict properties of each (report, ETag) in Table transactions.

        A report changed or deleted since its ETag is left out and the rest are
        written. Returns the new ETags by report id and the errors by report id.
        """
        written: dict[str, str] = {}
        failed: dict[str, VerdictError] = {}
        for start in range(0, len(changes), MAX_TRANSACTION_OPERATIONS):
            batch = changes[start : start + MAX_TRANSACTION_OPERATIONS]
            while batch:
                try:
                    results = self._reports.submit_transaction(
                        [_verdict_merge(report, etag) for report, etag in batch]
                    )
                except TableTransactionError as error:
                    report = batch.pop(error.index)[0]
                    failed[report.id] = _transaction_failure(report.id, error)
                    continue
                for (report, _), metadata in zip(batch, results, strict=True):
                    written[report.id] = metadata["etag"]
                break
        return written, failed

    def add_audit(self, *, subject: str, action: str, actor: str, **data: Any) -> None:
        """Append an audit entry for ``subject`` (a report id or ``settings``)."""
        from verdicts.audit import AuditLog

        AuditLog(self._storage).add(subject=subject, action=action, actor=actor, **data)

    def audit_for(self, subject: str) -> list[dict[str, Any]]:
        """Return the audit entries of ``subject``, oldest first, data flattened."""
        from verdicts.audit import AuditLog

        return [
            {"action": e.action, "actor": e.actor, "at": e.at.isoformat(), **e.data}
            for e in AuditLog(self._storage).for_subject(subject)
        ]


def _verdict_merge(report: Report, etag: str) -> tuple[str, dict[str, Any], dict]:
    entity = report_to_entity(report)
    properties = {name: entity[name] for name in VERDICT_PROPERTIES if name in entity}
    return (
        "update",
        {"PartitionKey": "report", "RowKey": report.id, **properties},
        {
            "mode": "merge",
            "etag": etag,
            "match_condition": MatchConditions.IfNotModified,
        },
    )


def _transaction_failure(report_id: str, error: TableTransactionError) -> VerdictError:
    if error.status_code == 404:
        return ReportNotFound(f"report {report_id!r} not found")
    if error.status_code == 412:
        return Conflict(
            f"report {report_id!r} changed since it was read; reload it and retry"
        )
    raise error


@dataclass(frozen=True)
class RawReport:
    """The bytes a report was made from, as kept in the ``raw-reports`` container."""

    data: bytes
    content_type: str
    filename: str


def read_raw_report(storage: Storage, report_id: str) -> RawReport:
    """Return the raw MIME (or submitted JSON) of a report.

    Raises ReportNotFound when the report, or its blob, does not exist.
    """
    report = ReportStore(storage).get(report_id).report
    if not report.raw_blob:
        raise ReportNotFound(f"report {report_id!r} has no raw message stored")
    blob = storage.container("raw-reports").get_blob_client(report.raw_blob)
    try:
        data = blob.download_blob().readall()
    except ResourceNotFoundError:
        raise ReportNotFound(f"raw message of report {report_id!r} not found") from None
    if report.raw_blob.endswith(".json"):
        return RawReport(data, "application/json", f"{report.id}.json")
    return RawReport(data, "message/rfc822", f"{report.id}.eml")

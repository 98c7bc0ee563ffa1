"""Table, Queue and Blob access shared by intake, verdicts and notifier."""

from storage.clients import Storage, open_storage
from storage.errors import StorageError, TableLimitError
from storage.keys import check_entity_limits, check_key

__all__ = [
    "Storage",
    "StorageError",
    "TableLimitError",
    "check_entity_limits",
    "check_key",
    "open_storage",
]

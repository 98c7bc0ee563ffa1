"""Errors raised by the storage package."""


class StorageError(Exception):
    """Base class of storage errors."""


class TableLimitError(StorageError):
    """A key or entity breaks an Azure Table Storage limit."""

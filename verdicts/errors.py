"""Errors of the review rules and the report store."""


class VerdictError(Exception):
    """Base class of review errors."""


class ReportNotFound(VerdictError):
    """No report has the requested id."""


class Conflict(VerdictError):
    """The report changed since the caller read it, or its state forbids the change."""


class NotAllowed(VerdictError):
    """The verdict is not allowed for this kind of report."""

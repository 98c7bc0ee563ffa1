"""Errors raised by intake."""


class IntakeError(Exception):
    """Base class of intake errors."""

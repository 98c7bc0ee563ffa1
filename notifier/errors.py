"""Errors raised by the notifier."""


class NotifierError(Exception):
    """Base class of notifier errors."""


class TemplateTextError(NotifierError):
    """Admin text uses template syntax beyond the documented placeholders."""

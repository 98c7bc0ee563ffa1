"""Errors raised by the notifier."""


class NotifierError(Exception):
    """Base class of notifier errors."""


class TemplateTextError(NotifierError):
    """Admin text uses template syntax beyond the documented placeholders."""


class DeliveryConflict(NotifierError):
    """Another worker wrote the delivery record since it was read."""


class DeliveryBusy(NotifierError):
    """Another worker is sending this notification now; try the message later."""


class NotRetryable(NotifierError):
    """The notification is not in a state a reviewer can retry."""

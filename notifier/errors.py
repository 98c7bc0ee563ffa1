"""Errors raised by the notifier."""

from __future__ import annotations


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


class InvalidLogo(NotifierError):
    """An uploaded logo is damaged or its pixel size is outside the limits."""


class LogoTooLarge(InvalidLogo):
    """An uploaded logo has more bytes than allowed."""


class UnsupportedImageType(InvalidLogo):
    """An uploaded logo is not a PNG, JPEG or GIF image (an SVG, for example)."""


class InvalidSettings(NotifierError):
    """Notification settings break a rule; ``problems`` lists (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(
            "; ".join(f"{field}: {message}" for field, message in problems)
        )
        self.problems = problems


class SettingsConflict(NotifierError):
    """The settings changed since the ETag the caller sent."""

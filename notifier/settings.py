"""The organization's notification settings: one ETag-checked document in Table Storage.

The document contains the body text per verdict, one footer, per-language variants of
those texts, an optional custom sender and whether to use the uploaded logo. An empty
text means the built-in default. Every text may use only the documented placeholders
(``notifier.render.PLACEHOLDERS``); anything else is rejected when the settings are
saved, so a stored text always renders.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import (
    ResourceExistsError,
    ResourceModifiedError,
    ResourceNotFoundError,
)

from notifier.errors import InvalidSettings, SettingsConflict, TemplateTextError
from notifier.language import normalize_tag
from notifier.logo import SETTINGS_PARTITION, LogoStore
from notifier.render import BUILTIN_LANGUAGE, builtin_texts, check_text
from storage import Storage, check_entity_limits
from verdicts.store import ReportStore

logger = logging.getLogger(__name__)

TEXT_FIELDS = ("phishing", "junk", "no_threats_found", "footer")
MAX_TEXT_CHARS = 2000
MAX_LANGUAGES = 20
MAX_ORGANIZATION_NAME_CHARS = 100
SETTINGS_ROW = "current"
# Keys that GET returns but PUT does not change.
READ_ONLY_KEYS = frozenset({"logo"})
SENDER_OUTSIDE_DOMAINS = "Specify an email address in your domain"

# A conservative RFC 5321 addr-spec: dot-atom local part, dotted DNS domain.
_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, kw_only=True)
class NotificationSettings:
    """An admin's configuration, in which an empty text means the built-in one."""

    default_language: str = "en"
    organization_name: str = ""
    sender: str = ""
    use_organization_logo: bool = False
    texts: Mapping[str, str] = field(default_factory=dict)
    languages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "default_language": self.default_language,
            "organization_name": self.organization_name,
            "sender": self.sender,
            "use_organization_logo": self.use_organization_logo,
            "texts": {name: self.texts.get(name, "") for name in TEXT_FIELDS},
            "languages": {
                tag: {name: texts.get(name, "") for name in TEXT_FIELDS}
                for tag, texts in self.languages.items()
            },
        }

    @property
    def available_languages(self) -> list[str]:
        return [self.default_language, *self.languages]


@dataclass(frozen=True)
class StoredSettings:
    settings: NotificationSettings
    etag: str


def is_accepted_address(address: str, accepted_domains: Iterable[str]) -> bool:
    """Tell whether ``address`` is a plain addr-spec in one of ``accepted_domains``."""
    if not _ADDRESS.fullmatch(address) or len(address) > 254:
        return False
    domain = address.rpartition("@")[2].lower()
    return domain in {d.lower() for d in accepted_domains}


def resolve_texts(settings: NotificationSettings, language: str) -> dict[str, str]:
    """Return every text and label of a notification in ``language``.

    Layers, the later winning: the built-in English texts, the built-in texts of the
    default language, the admin's texts, and for another language its built-in texts
    and then the admin's texts in it. Empty admin texts do not count.
    """
    texts = dict(builtin_texts(BUILTIN_LANGUAGE) or {})
    texts.update(builtin_texts(settings.default_language) or {})
    texts.update({name: text for name, text in settings.texts.items() if text})
    if language != settings.default_language:
        texts.update(builtin_texts(language) or {})
        variant = settings.languages.get(language, {})
        texts.update({name: text for name, text in variant.items() if text})
    if settings.organization_name:
        texts["organization_name"] = settings.organization_name
    return texts


def _text(value: Any, path: str, problems: list[tuple[str, str]]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.append((path, "must be a string"))
        return ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return ""
    if len(text) > MAX_TEXT_CHARS:
        problems.append(
            (path, f"is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
        )
        return ""
    if _CONTROL.search(text):
        problems.append((path, "contains control characters; use plain text"))
        return ""
    try:
        check_text(text)
    except TemplateTextError as error:
        problems.append((path, str(error)))
        return ""
    return text


def _texts(value: Any, path: str, problems: list[tuple[str, str]]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append((path, "must be an object of texts"))
        return {}
    for name in value:
        if name not in TEXT_FIELDS:
            problems.append(
                (
                    f"{path}.{name}",
                    f"is unknown; expected one of {', '.join(TEXT_FIELDS)}",
                )
            )
    texts = {
        name: _text(value.get(name), f"{path}.{name}", problems) for name in TEXT_FIELDS
    }
    return {name: text for name, text in texts.items() if text}


def _languages(
    value: Any, default_language: str, problems: list[tuple[str, str]]
) -> dict[str, dict[str, str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(("languages", "must be an object keyed by language tag"))
        return {}
    if len(value) > MAX_LANGUAGES:
        problems.append(
            ("languages", f"has {len(value)} languages; the limit is {MAX_LANGUAGES}")
        )
        return {}
    languages: dict[str, dict[str, str]] = {}
    for raw_tag, texts in value.items():
        path = f"languages.{raw_tag}"
        tag = normalize_tag(raw_tag)
        if tag is None:
            problems.append(
                (path, f"{raw_tag!r} is not a language tag such as de or fr-CA")
            )
        elif tag.lower() == default_language.lower():
            problems.append(
                (path, f"{tag} is the default language; put its texts under texts")
            )
        elif tag in languages:
            problems.append((path, f"{tag} is given twice"))
        else:
            languages[tag] = _texts(texts, path, problems)
    return languages


def _sender(
    value: Any, accepted_domains: Iterable[str], problems: list[tuple[str, str]]
) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not is_accepted_address(
        value.strip(), accepted_domains
    ):
        problems.append(("sender", SENDER_OUTSIDE_DOMAINS))
        return ""
    return value.strip()


def _organization_name(value: Any, problems: list[tuple[str, str]]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or _CONTROL.search(value) or "\n" in value:
        problems.append(("organization_name", "must be a single line of text"))
        return ""
    if len(value) > MAX_ORGANIZATION_NAME_CHARS:
        problems.append(
            (
                "organization_name",
                f"is {len(value)} characters; the limit is "
                f"{MAX_ORGANIZATION_NAME_CHARS}",
            )
        )
        return ""
    return value.strip()


def settings_from_json(
    data: Mapping[str, Any],
    *,
    accepted_domains: Iterable[str],
    logo_uploaded: bool,
) -> NotificationSettings:
    """Check a settings document sent by a client and return it normalized.

    Raises InvalidSettings listing every field that breaks a rule.
    """
    problems: list[tuple[str, str]] = []
    known = {
        "default_language",
        "organization_name",
        "sender",
        "use_organization_logo",
        "texts",
        "languages",
    } | READ_ONLY_KEYS
    for key in data:
        if key not in known:
            problems.append((key, "is unknown"))
    raw_default = data.get("default_language") or "en"
    default_language = (
        normalize_tag(raw_default) if isinstance(raw_default, str) else None
    )
    if default_language is None:
        problems.append(
            (
                "default_language",
                f"{raw_default!r} is not a language tag such as en or de",
            )
        )
        default_language = "en"
    use_logo = data.get("use_organization_logo", False)
    if not isinstance(use_logo, bool):
        problems.append(("use_organization_logo", "must be true or false"))
        use_logo = False
    elif use_logo and not logo_uploaded:
        problems.append(
            (
                "use_organization_logo",
                "no logo is uploaded; PUT /api/settings/logo first",
            )
        )
    settings = NotificationSettings(
        default_language=default_language,
        organization_name=_organization_name(data.get("organization_name"), problems),
        sender=_sender(data.get("sender"), accepted_domains, problems),
        use_organization_logo=use_logo,
        texts=_texts(data.get("texts"), "texts", problems),
        languages=_languages(data.get("languages"), default_language, problems),
    )
    if problems:
        raise InvalidSettings(problems)
    return settings


def _to_entity(settings: NotificationSettings) -> dict[str, Any]:
    # One property per language keeps each under Table Storage's 64 KiB limit.
    entity: dict[str, Any] = {
        "PartitionKey": SETTINGS_PARTITION,
        "RowKey": SETTINGS_ROW,
        "default_language": settings.default_language,
        "organization_name": settings.organization_name,
        "sender": settings.sender,
        "use_organization_logo": settings.use_organization_logo,
        "texts": json.dumps(dict(settings.texts), ensure_ascii=False),
        "language_tags": json.dumps(list(settings.languages)),
    }
    for index, texts in enumerate(settings.languages.values()):
        entity[f"language_texts_{index}"] = json.dumps(dict(texts), ensure_ascii=False)
    check_entity_limits(entity)
    return entity


def _from_entity(entity: Mapping[str, Any]) -> NotificationSettings:
    tags = json.loads(entity.get("language_tags") or "[]")
    return NotificationSettings(
        default_language=entity.get("default_language") or "en",
        organization_name=entity.get("organization_name") or "",
        sender=entity.get("sender") or "",
        use_organization_logo=bool(entity.get("use_organization_logo")),
        texts=json.loads(entity.get("texts") or "{}"),
        languages={
            tag: json.loads(entity[f"language_texts_{index}"])
            for index, tag in enumerate(tags)
        },
    )


class SettingsStore:
    """The notification settings row of the ``settings`` table."""

    def __init__(self, storage: Storage) -> None:
        self._table = storage.table("settings")

    def read(self) -> NotificationSettings:
        """Return the stored settings, or the defaults when none are stored."""
        try:
            entity = self._table.get_entity(SETTINGS_PARTITION, SETTINGS_ROW)
        except ResourceNotFoundError:
            return NotificationSettings()
        return _from_entity(entity)

    def get(self) -> StoredSettings:
        """Return the settings with their ETag, storing the defaults on first use.

        Storing them gives even an untouched document an ETag for If-Match.
        """
        try:
            entity = self._table.get_entity(SETTINGS_PARTITION, SETTINGS_ROW)
        except ResourceNotFoundError:
            try:
                self._table.create_entity(_to_entity(NotificationSettings()))
            except ResourceExistsError:
                pass
            entity = self._table.get_entity(SETTINGS_PARTITION, SETTINGS_ROW)
        return StoredSettings(_from_entity(entity), entity.metadata["etag"])

    def replace(self, settings: NotificationSettings, *, if_match: str) -> str:
        """Write ``settings`` if unchanged since ``if_match`` (``*``: any version).

        Returns the new ETag. Raises SettingsConflict when another write came first.
        """
        entity = _to_entity(settings)
        try:
            if if_match == "*":
                metadata = self._table.update_entity(entity, mode="replace")
            else:
                metadata = self._table.update_entity(
                    entity,
                    mode="replace",
                    etag=if_match,
                    match_condition=MatchConditions.IfNotModified,
                )
        except (ResourceModifiedError, ResourceNotFoundError):
            raise SettingsConflict(
                "notification settings changed since the ETag in If-Match; "
                "GET them again and reapply your change"
            ) from None
        return metadata["etag"]


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def settings_changes(
    old: NotificationSettings, new: NotificationSettings
) -> dict[str, dict[str, Any]]:
    """Return ``{field path: {"old": ..., "new": ...}}`` for every changed value."""
    before = _flatten(old.to_json())
    after = _flatten(new.to_json())
    return {
        path: {"old": before.get(path), "new": after.get(path)}
        for path in sorted(before.keys() | after.keys())
        if before.get(path) != after.get(path)
    }


def save_settings(
    storage: Storage,
    data: Mapping[str, Any],
    *,
    if_match: str,
    actor: str,
    accepted_domains: Iterable[str],
) -> StoredSettings:
    """Check and store a settings document, and audit what changed.

    Raises InvalidSettings, or SettingsConflict when ``if_match`` is not the current
    ETag (``*`` matches any).
    """
    settings = settings_from_json(
        data,
        accepted_domains=accepted_domains,
        logo_uploaded=LogoStore(storage).current() is not None,
    )
    store = SettingsStore(storage)
    current = store.get()
    if if_match not in ("*", current.etag):
        raise SettingsConflict(
            "notification settings changed since the ETag in If-Match; "
            "GET them again and reapply your change"
        )
    # Writing against the ETag just read makes the audited "old" values exact.
    etag = store.replace(settings, if_match=current.etag)
    changes = settings_changes(current.settings, settings)
    ReportStore(storage).add_audit(
        subject="settings", action="notification_settings", actor=actor, changes=changes
    )
    logger.info("notification settings saved: %s values changed", len(changes))
    return StoredSettings(settings, etag)

"""Render a result notification from the default layout and the verdict's text.

Body texts (the built-in ones in ``templates/texts/`` or an admin's) are plain text with
``{{ placeholder }}`` fields. They are rendered in a jinja2 sandbox with plain string
values only, then placed into the autoescaped HTML layout, so nothing from a report or
an admin becomes markup. A value is substituted once: a subject that itself contains
``{{ ... }}`` is shown as typed, never rendered again.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifier.errors import TemplateTextError
from notifier.language import lookup_language
from verdicts.model import Report, Verdict

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
TEXTS_DIR = TEMPLATES_DIR / "texts"
BUILTIN_LANGUAGE = "en"
# RFC 5322 section 2.1.1 limits a line to 998 characters and recommends 78. Capping
# the subject keeps the folded header short in every script.
MAX_SUBJECT_CHARS = 120
# The logo is shown at most this many CSS pixels high and wide, aspect ratio kept.
LOGO_MAX_HEIGHT = 48
LOGO_MAX_WIDTH = 192

PLACEHOLDERS = (
    "reporter_name",
    "reporter_address",
    "subject",
    "original_sender",
    "reported_at",
    "verdict",
    "organization_name",
)

# The body text key for each verdict: Spam uses the admin's "junk" text.
TEXT_KEYS = {
    Verdict.PHISHING: "phishing",
    Verdict.SPAM: "junk",
    Verdict.NO_THREATS_FOUND: "no_threats_found",
}
VERDICT_COLORS = {
    Verdict.PHISHING: "#b91c1c",
    Verdict.SPAM: "#b45309",
    Verdict.NO_THREATS_FOUND: "#047857",
}


@dataclass(frozen=True)
class RenderedNotification:
    subject: str
    html: str
    text: str


@dataclass(frozen=True, kw_only=True)
class ReportSummary:
    """The reported message and its reporter, as a notification describes them."""

    reporter_name: str
    reporter_address: str
    subject: str
    original_sender: str
    reported_at: datetime

    @classmethod
    def from_report(cls, report: Report) -> ReportSummary:
        return cls(
            reporter_name=report.reporter_name,
            reporter_address=report.reporter_address,
            subject=report.original_subject,
            original_sender=report.original_sender,
            reported_at=report.received_at,
        )


@dataclass(frozen=True, kw_only=True)
class LogoReference:
    """An inline image the HTML shows as ``cid:<content_id>``, with its pixel size."""

    content_id: str
    width: int
    height: int


@lru_cache(maxsize=1)
def _layout_environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def _text_environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        autoescape=False, undefined=jinja2.StrictUndefined
    )


@lru_cache(maxsize=1)
def builtin_languages() -> tuple[str, ...]:
    """Return the languages that have built-in texts in ``templates/texts/``."""
    return tuple(sorted(path.stem for path in TEXTS_DIR.glob("*.json")))


@lru_cache(maxsize=32)
def _load_texts(language: str) -> dict[str, str]:
    return json.loads((TEXTS_DIR / f"{language}.json").read_text("utf-8"))


def builtin_texts(language: str) -> dict[str, str] | None:
    """Return the built-in texts that match ``language`` (``fr-CA`` uses ``fr``)."""
    found = lookup_language([language], builtin_languages(), "")
    return dict(_load_texts(found)) if found else None


_ALLOWED_FIELD = re.compile(r"\{\{\s*(" + "|".join(PLACEHOLDERS) + r")\s*\}\}")
_ANY_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


def _position(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def check_text(text: str) -> None:
    """Raise TemplateTextError unless ``text`` uses only the documented placeholders.

    Only ``{{ name }}`` with a name from PLACEHOLDERS is allowed. An unknown name or
    any other template syntax is rejected with its 1-based line and column.
    """
    allowed = ", ".join("{{ %s }}" % name for name in PLACEHOLDERS)
    stripped = _ALLOWED_FIELD.sub(lambda m: " " * len(m.group(0)), text)
    unknown = _ANY_FIELD.search(stripped)
    if unknown:
        raise TemplateTextError(
            f"unknown placeholder {unknown.group(0)!r} at "
            f"{_position(text, unknown.start())}; use one of: {allowed}"
        )
    found = [
        (index, marker)
        for marker in ("{{", "}}", "{%", "%}", "{#", "#}")
        if (index := stripped.find(marker)) >= 0
    ]
    if found:
        index, marker = min(found)
        raise TemplateTextError(
            f"template syntax {marker!r} at {_position(text, index)} is not allowed; "
            f"use only these placeholders: {allowed}"
        )


@lru_cache(maxsize=256)
def _compiled_text(text: str) -> jinja2.Template:
    # The same few texts come back for every notification, and compiling them was
    # about 88% of a render's time before this cache (bench/render.md).
    check_text(text)
    return _text_environment().from_string(text)


def render_text(text: str, values: Mapping[str, str]) -> str:
    return _compiled_text(text).render(**values)


def single_line(value: str, max_chars: int) -> str:
    """Collapse CR, LF and other control characters so ``value`` fits in a header."""
    cleaned = re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", value).strip()
    if len(cleaned) > max_chars:
        cleaned = cleaned[: max_chars - 1].rstrip() + "…"
    return cleaned


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def verdict_label(verdict: Verdict, texts: Mapping[str, str]) -> str:
    return texts[f"verdict_{verdict.value}"]


def placeholder_values(
    summary: ReportSummary, verdict: Verdict, texts: Mapping[str, str]
) -> dict[str, str]:
    return {
        "reporter_name": summary.reporter_name or summary.reporter_address,
        "reporter_address": summary.reporter_address,
        "subject": single_line(summary.subject, 998) or texts["no_subject"],
        "original_sender": single_line(summary.original_sender, 998)
        or texts["unknown_sender"],
        "reported_at": summary.reported_at.strftime("%Y-%m-%d %H:%M UTC"),
        "verdict": verdict_label(verdict, texts),
        "organization_name": texts["organization_name"],
    }


def logo_display_size(width: int, height: int) -> tuple[int, int]:
    """Scale a logo down to fit LOGO_MAX_WIDTH x LOGO_MAX_HEIGHT, keeping its shape."""
    scale = min(LOGO_MAX_WIDTH / width, LOGO_MAX_HEIGHT / height, 1.0)
    return max(1, round(width * scale)), max(1, round(height * scale))


def render_notification(
    summary: ReportSummary,
    verdict: Verdict,
    *,
    texts: Mapping[str, str],
    language: str,
    logo: LogoReference | None = None,
    corrected: bool = False,
) -> RenderedNotification:
    """Render the subject, HTML and plain text of one result notification.

    ``texts`` contains every body text and label (``notifier.settings.resolve_texts``).
    ``corrected`` marks a result that replaces one the reporter already received.
    """
    values = placeholder_values(summary, verdict, texts)
    paragraphs = _paragraphs(render_text(texts[TEXT_KEYS[verdict]], values))
    if corrected:
        paragraphs = _paragraphs(render_text(texts["corrected"], values)) + paragraphs
    prefix = texts["corrected_subject_prefix" if corrected else "subject_prefix"]
    subject = single_line(f"{prefix}: {values['subject']}", MAX_SUBJECT_CHARS)
    logo_size = logo_display_size(logo.width, logo.height) if logo else (0, 0)
    context = {
        "language": language,
        "subject": subject,
        "heading": texts["corrected_heading" if corrected else "heading"],
        "verdict_label": f"{texts['result_label']}: {values['verdict']}",
        "verdict_color": VERDICT_COLORS[verdict],
        "labels": texts,
        "subject_of_report": values["subject"],
        "original_sender": values["original_sender"],
        "reported_at": values["reported_at"],
        "body_paragraphs": paragraphs,
        "footer_paragraphs": _paragraphs(render_text(texts["footer"], values)),
        "logo_cid": logo.content_id if logo else None,
        "logo_width": logo_size[0],
        "logo_height": logo_size[1],
        "organization_name": values["organization_name"],
    }
    environment = _layout_environment()
    html = environment.get_template("notification.html.j2").render(context)
    text = environment.get_template("notification.txt.j2").render(context)
    return RenderedNotification(subject=subject, html=html, text=text)


def inline_image_as_data_uri(
    html: str, content_id: str, content_type: str, data: bytes
) -> str:
    """Replace ``cid:<content_id>`` with a data: URI so that a browser shows it."""
    encoded = base64.b64encode(data).decode("ascii")
    return html.replace(
        f'src="cid:{content_id}"', f'src="data:{content_type};base64,{encoded}"'
    )

"""Render a result notification from the default layout and the verdict's text.

Body texts (the defaults or an admin's) are plain text with ``{{ placeholder }}``
fields. They are rendered in a jinja2 sandbox with plain values only, then placed into
the autoescaped HTML layout, so nothing from a report or an admin becomes markup.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from notifier.errors import TemplateTextError
from verdicts.model import Report, Verdict

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
# Subjects stay well under RFC 5322's 78-character recommended line once encoded.
MAX_SUBJECT_CHARS = 120

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
VERDICT_LABELS = {
    Verdict.PHISHING: ("Phishing", "#b91c1c"),
    Verdict.SPAM: ("Junk", "#b45309"),
    Verdict.NO_THREATS_FOUND: ("No threats found", "#047857"),
}


@dataclass(frozen=True)
class RenderedNotification:
    subject: str
    html: str
    text: str


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
def default_texts() -> dict[str, str]:
    return json.loads((TEMPLATES_DIR / "default_texts.json").read_text("utf-8"))


_ALLOWED_FIELD = re.compile(r"\{\{\s*(" + "|".join(PLACEHOLDERS) + r")\s*\}\}")


def check_text(text: str) -> None:
    """Raise TemplateTextError unless ``text`` uses only the documented placeholders.

    Only ``{{ name }}`` with a name from PLACEHOLDERS is allowed; any other template
    syntax is rejected with its position (1-based line and column).
    """
    stripped = _ALLOWED_FIELD.sub(lambda m: " " * len(m.group(0)), text)
    for marker in ("{{", "}}", "{%", "%}", "{#", "#}"):
        index = stripped.find(marker)
        if index >= 0:
            line = text.count("\n", 0, index) + 1
            column = index - (text.rfind("\n", 0, index) + 1) + 1
            allowed = ", ".join("{{ %s }}" % name for name in PLACEHOLDERS)
            raise TemplateTextError(
                f"template syntax {marker!r} at line {line}, column {column} is not "
                f"allowed; use only these placeholders: {allowed}"
            )


def render_text(text: str, values: dict[str, str]) -> str:
    check_text(text)
    return _text_environment().from_string(text).render(**values)


def single_line(value: str, max_chars: int) -> str:
    """Collapse CR, LF and other control characters so ``value`` fits in a header."""
    cleaned = re.sub(r"[\x00-\x1f\x7f]+", " ", value).strip()
    if len(cleaned) > max_chars:
        cleaned = cleaned[: max_chars - 1].rstrip() + "…"
    return cleaned


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def placeholder_values(
    report: Report, verdict: Verdict, *, organization_name: str
) -> dict[str, str]:
    return {
        "reporter_name": report.reporter_name or report.reporter_address,
        "reporter_address": report.reporter_address,
        "subject": report.original_subject or "(no subject)",
        "original_sender": report.original_sender or "(unknown sender)",
        "reported_at": report.received_at.strftime("%Y-%m-%d %H:%M UTC"),
        "verdict": VERDICT_LABELS[verdict][0],
        "organization_name": organization_name,
    }


def render_notification(
    report: Report,
    verdict: Verdict,
    *,
    body_text: str | None = None,
    footer_text: str | None = None,
    logo_cid: str | None = None,
    organization_name: str = "your organization",
    language: str = "en",
) -> RenderedNotification:
    """Render the subject, HTML and plain text of one result notification."""
    defaults = default_texts()
    values = placeholder_values(report, verdict, organization_name=organization_name)
    body = render_text(body_text or defaults[TEXT_KEYS[verdict]], values)
    footer = render_text(footer_text or defaults["footer"], values)
    label, color = VERDICT_LABELS[verdict]
    subject = single_line(
        f"Result of your report: {values['subject']}", MAX_SUBJECT_CHARS
    )
    context = {
        "language": language,
        "subject": subject,
        "heading": "We reviewed the message you reported",
        "verdict_label": f"Result: {label}",
        "verdict_color": color,
        "subject_of_report": values["subject"],
        "original_sender": values["original_sender"],
        "reported_at": values["reported_at"],
        "body_paragraphs": _paragraphs(body),
        "footer_paragraphs": _paragraphs(footer),
        "logo_cid": logo_cid,
        "organization_name": organization_name,
    }
    environment = _layout_environment()
    html = environment.get_template("notification.html.j2").render(context)
    text = environment.get_template("notification.txt.j2").render(context)
    return RenderedNotification(subject=subject, html=html, text=text)

"""The web view's Jinja2 templates (shipped in the package), rendered in the reader's language."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.core.i18n import Translator

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

_environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, t: Translator, **context: Any) -> str:
    """`template` with `_` (gettext), `ngettext` and `t` of the reader's Translator."""
    return _environment.get_template(template).render(
        _=t.gettext, ngettext=t.ngettext, t=t, lang=t.locale, **context
    )

"""Small helpers shared by every domain's forms."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, str(label)) for value, label in pairs]


def language_choices() -> list[SelectChoice]:
    """The interface languages, each named in its own language."""
    return choices(current_app.config["LANGUAGES"].items())

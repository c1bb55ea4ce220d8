"""Small helpers shared by every domain's forms."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectChoice
from wtforms.validators import DataRequired, Email, Length


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices."""
    return [SelectChoice(value, str(label)) for value, label in pairs]


def language_choices() -> list[SelectChoice]:
    """The interface languages, each named in its own language."""
    return choices(current_app.config["LANGUAGES"].items())


def email_field(autocomplete: str = "email") -> EmailField:
    """A required email address, checked for shape, at most 254 characters."""
    return EmailField(
        _l("Email"),
        validators=[
            DataRequired(),
            Email(message=_l("Enter an email address like name@example.org.")),
            Length(max=254),
        ],
        render_kw={"autocomplete": autocomplete, "spellcheck": "false"},
    )

"""Small helpers shared by every domain's forms."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, SelectChoice
from wtforms.validators import DataRequired, Email, Length

ENTER_DATE = _l("Enter the date, like 2026-09-15.")
# Dates people type are school-calendar dates: anything outside these years is a typo (and
# 9999-12-31 would overflow date arithmetic in feeds and reports).
EARLIEST_DATE = date(1950, 1, 1)
LATEST_DATE = date(2200, 12, 31)
DATE_OUT_OF_RANGE = _l("Enter a date between 1950 and 2200.")


MAX_INT = 2**31 - 1  # the largest id or version a database integer column holds


def parse_int(value: object) -> int | None:
    """A whole number sent by a client (an id, a version, a page), or None: only ASCII
    digits count ("²".isdigit() is true, but int("²") fails), and never more than a
    database integer column holds."""
    text = str(value or "").strip()
    if not text or len(text) > 10 or not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number <= MAX_INT else None


def optional_id(value: object) -> int | None:
    """A select's value as an id (a `coerce=` for SelectField): the empty first choice is
    None, anything that is not an id is -1, which no choice has, so the field refuses it."""
    if value is None or value == "":
        return None
    if isinstance(value, int):
        return value
    number = parse_int(value)
    return -1 if number is None else number


def choices(pairs: Iterable[tuple[str, str]], *, empty: str | None = None) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select choices; `empty` labels a first choice with the
    value "" ("Choose a strand", "None"), which `optional_id` reads as None."""
    first = [SelectChoice("", str(empty))] if empty is not None else []
    return first + [SelectChoice(value, str(label)) for value, label in pairs]


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


class ClearDateField(DateField):
    """A date field whose "could not read that" message says what to type, and which
    refuses dates outside 1950-2200. `invalid` replaces the unreadable-date message."""

    def __init__(self, *args: Any, invalid: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid = invalid or ENTER_DATE

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(self.invalid)) from error
        if self.data is not None and not EARLIEST_DATE <= self.data <= LATEST_DATE:
            raise ValueError(str(DATE_OUT_OF_RANGE))

"""The email preferences form (one choice of frequency per category) and the small POST-only
forms of the notifications page (open, mark read, mark all read, unsubscribe)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import AnyOf, InputRequired

from fellowship.notifications.labels import CATEGORY_DESCRIPTIONS, CATEGORY_NAMES
from fellowship.notifications.models import Category, Frequency

CHOOSE_FREQUENCY = _l("Choose how often to get these emails.")


def frequency_label(frequency: Frequency) -> str:
    """A frequency as a person reads it ("Off" needs context in some languages)."""
    return {
        Frequency.IMMEDIATELY: pgettext("email frequency", "Immediately"),
        Frequency.DAILY: pgettext("email frequency", "Daily digest"),
        Frequency.WEEKLY: pgettext("email frequency", "Weekly digest"),
        Frequency.OFF: pgettext("email frequency", "Off"),
    }[frequency]


class PreferencesForm(FlaskForm):
    """A radio group per category, named after the category's value ("coaching", ...)."""

    def categories(self) -> list[tuple[Category, RadioField]]:
        return [(category, self[category.value]) for category in Category]

    def chosen(self) -> dict[Category, Frequency]:
        return {category: Frequency(field.data) for category, field in self.categories()}


def _frequency_field(category: Category) -> RadioField:
    return RadioField(
        CATEGORY_NAMES[category],
        choices=[],
        validate_choice=False,  # AnyOf says it in words
        validators=[
            InputRequired(message=CHOOSE_FREQUENCY),
            AnyOf([f.value for f in Frequency], message=CHOOSE_FREQUENCY),
        ],
        description=CATEGORY_DESCRIPTIONS[category],
    )


for _each in Category:
    setattr(PreferencesForm, _each.value, _frequency_field(_each))


def preferences_form(current: dict[Category, Frequency], **kwargs: Any) -> PreferencesForm:
    """The form, its choices in the request's language, preset to the person's frequencies
    (a submitted form keeps what was sent)."""
    form = PreferencesForm(data={c.value: f.value for c, f in current.items()}, **kwargs)
    for _category, field in form.categories():
        field.choices = [(f.value, frequency_label(f)) for f in Frequency]
    return form


class ActionForm(FlaskForm):
    """A button that changes something (open, mark read, mark all read, unsubscribe): only the
    CSRF token."""

"""The announcement form: what to say, and to whom (a cohort, or every member of a school
year's cycles). The same form carries the checked values through the preview to "Send"."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, ValidationError

from fellowship.forms import choices, optional_id
from fellowship.notifications.models import Audience

MAX_SUBJECT = 200
MAX_MESSAGE = 10_000

AUDIENCE_LABELS = {
    Audience.COHORT.value: _l("A cohort"),
    Audience.CYCLES.value: _l("Every member of a school year's cycles"),
}


def _one_line(form: Any, field: Field) -> None:
    if any(char in (field.data or "") for char in "\r\n"):
        raise ValidationError(str(_l("Keep the subject on one line.")))


class AnnouncementForm(FlaskForm):
    subject = StringField(
        _l("Subject"),
        validators=[
            DataRequired(message=_l("Write a subject.")),
            Length(max=MAX_SUBJECT, message=_l("Keep the subject to 200 characters or fewer.")),
            _one_line,
        ],
        description=_l("The subject of the email and the title in the app."),
        render_kw={"maxlength": MAX_SUBJECT, "autocomplete": "off"},
    )
    message = TextAreaField(
        _l("Message"),
        validators=[
            DataRequired(message=_l("Write the message.")),
            Length(max=MAX_MESSAGE, message=_l("Keep the message to 10,000 characters or fewer.")),
        ],
        description=_l(
            "Markdown: **bold**, *italic*, [a link](https://example.org), lists with - at the "
            "start of a line."
        ),
        render_kw={"rows": 10, "maxlength": MAX_MESSAGE},
    )
    audience = RadioField(
        _l("Who gets it"),
        validate_choice=False,  # one clear message instead of "Not a valid choice"
        validators=[
            InputRequired(message=_l("Choose who gets the announcement.")),
            AnyOf(list(AUDIENCE_LABELS), message=_l("Choose who gets the announcement.")),
        ],
    )
    cohort = SelectField(_l("Cohort"), coerce=optional_id)
    school_year = SelectField(_l("School year"), coerce=optional_id)
    # Set by the preview: the one-time key of this announcement (a second "Send" with the same
    # key sends nothing) and the number of people the preview showed.
    send_key = HiddenField()
    expected = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.audience.choices = choices(AUDIENCE_LABELS.items())  # labels in today's language

    def validate_cohort(self, field: Field) -> None:
        if self.audience.data == Audience.COHORT.value and field.data is None:
            raise ValidationError(str(_l("Choose the cohort.")))

    def validate_school_year(self, field: Field) -> None:
        if self.audience.data == Audience.CYCLES.value and field.data is None:
            raise ValidationError(str(_l("Choose the school year.")))

    def target(self) -> tuple[Audience, int]:
        """The chosen audience and its cohort or school year id (after validation)."""
        audience = Audience(self.audience.data)
        target = self.cohort.data if audience == Audience.COHORT else self.school_year.data
        assert isinstance(target, int)
        return audience, target

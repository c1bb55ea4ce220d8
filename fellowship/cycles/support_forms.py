"""Support log forms: an entry of the log, and the school year of the report.

The forms check what the input alone can tell; the services check the rules again (the
linked goal belongs to this cycle, the hours, the date) before anything is saved.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from fellowship.cycles import support_services as rules
from fellowship.cycles.goal_forms import number_field
from fellowship.cycles.models import SupportKind
from fellowship.db import utcnow
from fellowship.forms import ClearDateField, choices, optional_id

KIND_LABELS = {
    SupportKind.TECHNICAL_ASSISTANCE.value: _l("Technical assistance"),
    SupportKind.PROFESSIONAL_DEVELOPMENT.value: _l("Professional development"),
    SupportKind.COACHING.value: _l("Coaching"),
}


class _ParticipantsField(IntegerField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(rules.PARTICIPANTS_RANGE)) from error


class SupportForm(FlaskForm):
    kind = RadioField(
        _l("Kind of support"),
        validators=[InputRequired(message=rules.KIND_NEEDED)],
        validate_choice=True,
    )
    held_on = ClearDateField(
        _l("Date"),
        validators=[InputRequired(message=rules.HELD_ON_NEEDED)],
        description=_l("The day the support was given, like 2026-09-15."),
        invalid=rules.HELD_ON_NEEDED,
    )
    hours = number_field(
        _l("Hours"),
        rules.HOURS_NEEDED,
        _l("More than 0 and at most 24 for one entry; quarter hours are fine (1.25 or 1,25)."),
    )
    participants = _ParticipantsField(
        _l("Participants"),
        default=0,
        validators=[
            InputRequired(message=rules.PARTICIPANTS_RANGE),
            NumberRange(min=0, max=rules.MAX_PARTICIPANTS, message=rules.PARTICIPANTS_RANGE),
        ],
        description=_l("How many people from the school took part, from 0 to 10,000."),
        render_kw={"inputmode": "numeric", "min": 0, "max": rules.MAX_PARTICIPANTS},
    )
    topic = StringField(
        _l("Topic"),
        validators=[
            DataRequired(message=rules.TOPIC_NEEDED),
            Length(max=rules.MAX_TOPIC, message=rules.TOPIC_TOO_LONG),
        ],
        description=_l("What the support was about, like “Reading the enrollment data”."),
        render_kw={"autocomplete": "off", "maxlength": rules.MAX_TOPIC},
    )
    provider_name = StringField(
        _l("Organisation"),
        validators=[
            Optional(),
            Length(max=rules.MAX_ORGANISATION, message=rules.ORGANISATION_TOO_LONG),
        ],
        description=_l("The organisation that gave the support."),
        render_kw={"autocomplete": "organization", "maxlength": rules.MAX_ORGANISATION},
    )
    goal = SelectField(
        _l("Linked goal"),
        coerce=optional_id,
        validators=[Optional()],
        validate_choice=True,
        description=_l("The goal of this cycle the support worked toward, if any."),
    )
    notes = TextAreaField(
        _l("Notes"),
        validators=[Optional(), Length(max=rules.MAX_NOTES, message=rules.NOTES_TOO_LONG)],
        render_kw={"rows": 3},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(key, str(label)) for key, label in KIND_LABELS.items()]
        self.kind.invalid_choice_message = str(rules.KIND_NEEDED)
        self.goal.choices = []
        self.goal.invalid_choice_message = str(rules.GOAL_NOT_IN_CYCLE)

    def set_goals(self, goals: list[tuple[int, str]]) -> None:
        self.goal.choices = choices(
            [(str(i), title) for i, title in goals], empty=str(_l("No linked goal"))
        )

    def validate_held_on(self, field: Field) -> None:
        if field.data is None:
            return
        problem = rules.held_on_problem(field.data, utcnow().date())
        if problem:
            raise ValidationError(problem)

    def validate_hours(self, field: Field) -> None:
        number = getattr(field, "number", None)
        if number is None:
            return
        problem = rules.hours_problem(number)
        if problem:
            raise ValidationError(problem)

"""Forms for logging a check-in, replying to it and marking action items done.

The check-in form checks what can be checked from the input alone (dates readable, duration
in range, an action item with a due date has a description); the service checks the rules
again (strands of the cohort, owners, items of this check-in) before anything is saved.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from fellowship.coaching.models import CheckInMode
from fellowship.coaching.services import (
    DESCRIPTION_NEEDED,
    DURATION_RANGE,
    ENTER_DATE,
    FUTURE_DATE,
    MAX_DURATION,
    MAX_ITEMS,
    MIN_DURATION,
    NEXT_AFTER_HELD,
    latest_allowed_day,
)
from fellowship.forms import ClearDateField, choices

MODE_LABELS = {
    CheckInMode.IN_PERSON.value: _l("In person"),
    CheckInMode.VIDEO.value: _l("Video"),
    CheckInMode.PHONE.value: _l("Phone"),
}

# Who owns an action item, as the form says it (the view maps these to people).
OWNER_FELLOW = "fellow"
OWNER_COACH = "coach"

BLANK_ITEM_ROWS = 3
MARKDOWN_HINT = _l(
    "Markdown: a blank line between paragraphs, - at the start of a line for a list, **bold**."
)


class _ClearIntegerField(IntegerField):
    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(DURATION_RANGE)) from error


class ActionItemEntry(Form):
    """One row of the action items table (a sub-form: the outer form carries the CSRF token)."""

    id = HiddenField()
    owner = SelectField(_l("Owner"), choices=[], default=OWNER_FELLOW, validate_choice=True)
    description = StringField(
        _l("Action item"),
        validators=[Optional(), Length(max=500)],
        render_kw={"autocomplete": "off"},
    )
    due_on = ClearDateField(_l("Due date"), validators=[Optional()])

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.due_on.data and not (self.description.data or "").strip():
            self.description.errors = [*self.description.errors, str(DESCRIPTION_NEEDED)]
            ok = False
        return ok


class CheckInForm(FlaskForm):
    held_on = ClearDateField(_l("Date"), validators=[InputRequired(message=ENTER_DATE)])
    duration_minutes = _ClearIntegerField(
        _l("Length in minutes"),
        validators=[
            InputRequired(message=DURATION_RANGE),
            NumberRange(min=MIN_DURATION, max=MAX_DURATION, message=DURATION_RANGE),
        ],
        render_kw={"inputmode": "numeric", "min": MIN_DURATION, "max": MAX_DURATION},
    )
    mode = RadioField(
        _l("How you met"),
        choices=choices(MODE_LABELS.items()),
        validators=[InputRequired(message=_l("Choose how you met."))],
    )
    focus = SelectMultipleField(_l("Focus areas"), coerce=int, validate_choice=True)
    shared_summary = TextAreaField(
        _l("Summary for the fellow"),
        validators=[Optional(), Length(max=20000)],
        description=_l(
            "The fellow reads this once you share the check-in. Markdown: a blank line between "
            "paragraphs, - at the start of a line for a list, **bold**."
        ),
        render_kw={"rows": 6},
    )
    next_steps = TextAreaField(
        _l("Next steps"),
        validators=[Optional(), Length(max=20000)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 4},
    )
    private_notes = TextAreaField(
        _l("Private notes"),
        validators=[Optional(), Length(max=20000)],
        description=_l(
            "Only you can ever read these: not the fellow, not a later coach, not staff, "
            "not an administrator."
        ),
        render_kw={"rows": 5},
    )
    next_checkin_on = ClearDateField(
        _l("Next check-in"),
        validators=[Optional()],
        description=_l("It goes into your calendar and the fellow's."),
    )
    items = FieldList(
        FormField(ActionItemEntry), min_entries=BLANK_ITEM_ROWS, max_entries=MAX_ITEMS
    )
    version = HiddenField()
    save = SubmitField(_l("Save as draft"))
    share = SubmitField(_l("Save and share"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.focus.choices = []

    def set_choices(self, strands: list[tuple[int, str]], fellow_name: str) -> None:
        """The cohort's strands as focus areas; the fellow or the coach as item owners."""
        self.focus.choices = list(strands)
        owners = choices([(OWNER_FELLOW, fellow_name), (OWNER_COACH, str(_l("Me (coach)")))])
        for entry in self.items:
            entry.form.owner.choices = owners

    def validate_held_on(self, field: Field) -> None:
        if field.data and field.data > latest_allowed_day():
            raise ValidationError(str(FUTURE_DATE))

    def validate_next_checkin_on(self, field: Field) -> None:
        if field.data and self.held_on.data and field.data < self.held_on.data:
            raise ValidationError(str(NEXT_AFTER_HELD))

    def sharing(self) -> bool:
        """True when the person pressed "Save and share"."""
        return bool(self.share.data)


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your reply"),
        validators=[
            DataRequired(message=_l("Write a reply before sending it.")),
            Length(max=5000),
        ],
        description=MARKDOWN_HINT,
        render_kw={"rows": 4},
    )


class ToggleItemForm(FlaskForm):
    """Mark an action item done (or not done again); `next` is where to go back to."""

    next = HiddenField()

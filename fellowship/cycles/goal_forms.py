"""Goal forms: a goal, a measurement (with an evidence file or link), and setting or
clearing a status by hand.

The forms check what the input alone can tell (required, lengths, readable dates and
numbers, a web address, the target on the right side of the baseline); the services check
the rules again, with the cycle in hand, before anything is saved.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import Field, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from fellowship.curriculum.services import MAX_URL, url_problem
from fellowship.cycles import goal_services as rules
from fellowship.cycles.models import GoalCategory, GoalDirection, GoalStatus
from fellowship.db import utcnow
from fellowship.forms import ClearDateField, choices

CATEGORY_LABELS = {
    GoalCategory.ENROLLMENT_DIVERSITY.value: _l("Enrollment diversity"),
    GoalCategory.ACHIEVEMENT.value: _l("Achievement"),
    GoalCategory.CLIMATE.value: _l("Climate"),
    GoalCategory.FAMILY_ENGAGEMENT.value: _l("Family engagement"),
    GoalCategory.OTHER.value: _l("Other"),
}
DIRECTION_LABELS = {
    GoalDirection.RAISE.value: _l("Raise"),
    GoalDirection.LOWER.value: _l("Lower"),
    GoalDirection.HOLD.value: _l("Hold"),
}
STATUS_LABELS = {
    GoalStatus.MET.value: _l("Met"),
    GoalStatus.ON_TRACK.value: _l("On track"),
    GoalStatus.AT_RISK.value: _l("At risk"),
    GoalStatus.OFF_TRACK.value: _l("Off track"),
    GoalStatus.NO_DATA.value: _l("No data"),
}
LABELS = {
    "category_labels": CATEGORY_LABELS,
    "direction_labels": DIRECTION_LABELS,
    "status_labels": STATUS_LABELS,
}


class NumberField(StringField):
    """A number typed as text ("18.5", "18,5", "1,234.5"): `data` keeps exactly what was
    typed (so a refused form shows it again) and `number` is the value, or None."""

    number: float | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        self.number = None
        text = (self.data or "").strip()
        if text:
            try:
                self.number = rules.parse_number(text)
            except rules.NumberProblem as problem:
                raise ValueError(problem.message) from problem


def number_field(label: Any, needed: Any, description: Any = None) -> NumberField:
    return NumberField(
        label,
        validators=[DataRequired(message=needed)],
        description=description,
        render_kw={"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"},
    )


class GoalForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=rules.TITLE_NEEDED),
            Length(max=rules.MAX_TITLE, message=rules.TITLE_TOO_LONG),
        ],
        description=_l("A short name, like “More diverse kindergarten applicants”."),
        render_kw={"autocomplete": "off", "maxlength": rules.MAX_TITLE},
    )
    category = SelectField(
        _l("Category"),
        validators=[InputRequired(message=rules.CATEGORY_NEEDED)],
        validate_choice=True,
    )
    metric = StringField(
        _l("Metric"),
        validators=[
            DataRequired(message=rules.METRIC_NEEDED),
            Length(max=rules.MAX_METRIC, message=rules.METRIC_TOO_LONG),
        ],
        description=_l(
            "What is measured, and how: “Share of kindergarten applicants from outside the "
            "attendance zone, from the district’s application data”."
        ),
        render_kw={"autocomplete": "off", "maxlength": rules.MAX_METRIC},
    )
    unit = StringField(
        _l("Unit"),
        validators=[Optional(), Length(max=rules.MAX_UNIT, message=rules.UNIT_TOO_LONG)],
        description=_l("Like %, students, days or families."),
        render_kw={"autocomplete": "off", "maxlength": rules.MAX_UNIT},
    )
    baseline_value = number_field(
        _l("Baseline value"),
        rules.BASELINE_NEEDED,
        _l("Where you start. Decimals with a point or a comma: 18.5 or 18,5."),
    )
    baseline_on = ClearDateField(
        _l("Baseline date"),
        validators=[InputRequired(message=rules.BASELINE_DATE_NEEDED)],
        description=_l("When the baseline was measured, like 2026-09-15."),
        invalid=rules.BASELINE_DATE_NEEDED,
    )
    direction = RadioField(
        _l("Direction"),
        validators=[InputRequired(message=rules.DIRECTION_NEEDED)],
        validate_choice=True,
    )
    target_value = number_field(
        _l("Target value"),
        rules.TARGET_NEEDED,
        _l("Above the baseline to raise, below it to lower; for hold, the value to keep."),
    )
    due_on = ClearDateField(
        _l("Due date"),
        validators=[Optional()],
        description=_l(
            "When the target should be reached. Leave it empty for the end of the school year."
        ),
    )
    version = HiddenField()

    def __init__(
        self, *args: Any, due_range: tuple[date, date] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.due_range = due_range  # the due dates the cycle allows (see goal_services)
        self.category.choices = choices(CATEGORY_LABELS.items(), empty=str(_l("Choose a category")))
        self.category.invalid_choice_message = str(rules.CATEGORY_NEEDED)
        self.direction.choices = [
            (GoalDirection.RAISE.value, str(_l("Raise: a higher value is better"))),
            (GoalDirection.LOWER.value, str(_l("Lower: a lower value is better"))),
            (GoalDirection.HOLD.value, str(_l("Hold: keep the value near the target"))),
        ]
        self.direction.invalid_choice_message = str(rules.DIRECTION_NEEDED)

    def validate_due_on(self, field: Field) -> None:
        if field.data is None or self.due_range is None:
            return
        problem = rules.due_on_problem(field.data, self.baseline_on.data, self.due_range)
        if problem:
            raise ValidationError(problem)

    def validate_target_value(self, field: Field) -> None:
        baseline = self.baseline_value.number
        target = getattr(field, "number", None)
        if baseline is None or target is None:
            return
        try:
            direction = GoalDirection(self.direction.data)
        except ValueError:
            return
        problem = rules.direction_problem(direction, baseline, target)
        if problem:
            raise ValidationError(problem)


def _check_url(form: Any, field: Field) -> None:
    if (field.data or "").strip():
        problem = url_problem(field.data)
        if problem:
            raise ValidationError(problem)


class MeasurementForm(FlaskForm):
    measured_on = ClearDateField(
        _l("Date measured"),
        validators=[InputRequired(message=rules.MEASURED_ON_NEEDED)],
        description=_l("The day the value was true, like 2026-09-15."),
        invalid=rules.MEASURED_ON_NEEDED,
    )
    value = number_field(
        _l("Value"), rules.VALUE_NEEDED, _l("Decimals with a point or a comma: 18.5 or 18,5.")
    )
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=rules.MAX_NOTE, message=rules.NOTE_TOO_LONG)],
        description=_l("Where the number comes from, or what to know about it."),
        render_kw={"rows": 3},
    )
    evidence_file = FileField(_l("Evidence file"), validators=[Optional()])
    evidence_url = StringField(
        _l("Evidence link"),
        validators=[_check_url],
        description=_l("Or a web address starting with https:// (a shared report, a dashboard)."),
        render_kw={
            "autocomplete": "off",
            "spellcheck": "false",
            "maxlength": MAX_URL,
            "inputmode": "url",
        },
    )

    def __init__(self, *args: Any, accept: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.evidence_url.flags.optional = True
        if accept:
            self.evidence_file.render_kw = {"accept": accept}

    def validate_measured_on(self, field: Field) -> None:
        if field.data is None:
            return
        problem = rules.measured_on_problem(field.data, rules.latest_measured_on(utcnow().date()))
        if problem:
            raise ValidationError(problem)


class OverrideForm(FlaskForm):
    status = SelectField(
        _l("Status to show"),
        validators=[InputRequired(message=rules.STATUS_NEEDED)],
        validate_choice=True,
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[
            DataRequired(message=rules.REASON_NEEDED),
            Length(max=rules.MAX_REASON, message=rules.REASON_TOO_LONG),
        ],
        description=_l(
            "Why the rule’s answer is not right for this goal. Everyone who can see the goal "
            "reads this."
        ),
        render_kw={"rows": 3, "maxlength": rules.MAX_REASON},
    )
    version = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = choices(STATUS_LABELS.items(), empty=str(_l("Choose a status")))
        self.status.invalid_choice_message = str(rules.STATUS_NEEDED)


class VersionForm(FlaskForm):
    """A button that posts with the goal's version (clearing a status set by hand)."""

    version = HiddenField()

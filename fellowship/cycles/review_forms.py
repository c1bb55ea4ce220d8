"""Forms of the yearly goals review: scheduling the meeting, rating every goal, the
discussion notes, next year's goals, signing and amending; and the labels the review's
pages and PDF show for stored values.

Forms read the input (numbers, dates, choices); the rules — a goal of this cycle, a baseline
unless a goal is continued, nothing changed after freezing — live in `review_services`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Field, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from fellowship.cycles.models import (
    EngagementGroup,
    GoalCategory,
    GoalDirection,
    GoalStatus,
    PdsaDecision,
    Rating,
    ReviewStatus,
    SupportKind,
)
from fellowship.forms import ENTER_DATE, ClearDateField, choices, optional_id, parse_int

MAX_LOCATION = 200
MAX_PARTICIPANTS = 5_000
MAX_NOTES = 20_000
MAX_COMMENT = 4_000
MAX_TITLE = 200
MAX_METRIC = 300
MAX_UNIT = 40
MAX_NUMBER = 1e12  # larger figures are typos (and overflow sums and charts)

NOT_A_NUMBER = _l("Enter a number, like 12.5.")
NUMBER_OUT_OF_RANGE = _l("Enter a number between -1,000,000,000,000 and 1,000,000,000,000.")
CHOOSE_ONE = _l("Choose one of the options.")

RATING_LABELS = {
    Rating.MET.value: _l("Met"),
    Rating.PROGRESSING.value: _l("Progressing"),
    Rating.NOT_MET.value: _l("Not met"),
}
REVIEW_STATUS_LABELS = {
    ReviewStatus.SCHEDULED.value: _l("Scheduled"),
    ReviewStatus.IN_MEETING.value: _l("In the meeting"),
    ReviewStatus.SIGNED.value: _l("Signed"),
    ReviewStatus.AMENDED.value: _l("Amended"),
}
GOAL_STATUS_LABELS = {
    GoalStatus.MET.value: _l("Met"),
    GoalStatus.ON_TRACK.value: _l("On track"),
    GoalStatus.AT_RISK.value: _l("At risk"),
    GoalStatus.OFF_TRACK.value: _l("Off track"),
    GoalStatus.NO_DATA.value: _l("No data"),
}
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
DECISION_LABELS = {
    PdsaDecision.ADOPT.value: _l("Adopt"),
    PdsaDecision.ADAPT.value: _l("Adapt"),
    PdsaDecision.ABANDON.value: _l("Abandon"),
}
SUPPORT_KIND_LABELS = {
    SupportKind.TECHNICAL_ASSISTANCE.value: _l("Technical assistance"),
    SupportKind.PROFESSIONAL_DEVELOPMENT.value: _l("Professional development"),
    SupportKind.COACHING.value: _l("Coaching"),
}
GROUP_LABELS = {
    EngagementGroup.ADVISORY_COUNCIL.value: _l("Advisory council"),
    EngagementGroup.FAMILIES.value: _l("Families"),
    EngagementGroup.STUDENTS.value: _l("Students"),
    EngagementGroup.STAFF.value: _l("Staff"),
    EngagementGroup.COMMUNITY.value: _l("Community"),
}
TREND_LABELS = {
    "improving": _l("Improving"),
    "worsening": _l("Worsening"),
    "steady": _l("Steady"),
}


def labels() -> dict[str, dict[str, Any]]:
    """Every label map, for templates: `labels.rating["met"]`."""
    return {
        "rating": RATING_LABELS,
        "review_status": REVIEW_STATUS_LABELS,
        "goal_status": GOAL_STATUS_LABELS,
        "category": CATEGORY_LABELS,
        "direction": DIRECTION_LABELS,
        "decision": DECISION_LABELS,
        "support_kind": SUPPORT_KIND_LABELS,
        "group": GROUP_LABELS,
        "trend": TREND_LABELS,
    }


# Numbers --------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


def read_number(text: str | None) -> float | None:
    """A number as people type it ("12.5", "12,5", "1 200", "-3"), or None when empty.
    ValueError (with the message to show) for anything else: words, nan, inf, and values
    beyond ±1e12."""
    raw = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if not raw:
        return None
    if len(raw) > 40:
        raise ValueError(str(NOT_A_NUMBER))
    if raw.count(",") == 1 and "." not in raw:
        raw = raw.replace(",", ".")  # a decimal comma (12,5)
    if not _NUMBER.fullmatch(raw):
        raise ValueError(str(NOT_A_NUMBER))
    value = float(raw)
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise ValueError(str(NUMBER_OUT_OF_RANGE))
    return value


def a_number(form: Any, field: Field) -> None:
    """Validator: the field holds a number `read_number` accepts (or nothing)."""
    try:
        read_number(field.data)
    except ValueError as error:
        raise ValidationError(str(error)) from error


def one_of(values: Iterable[str]) -> Any:
    allowed = set(values)

    def _check(form: Any, field: Field) -> None:
        if field.data not in allowed:
            raise ValidationError(str(CHOOSE_ONE))

    return _check


def number_field(label: Any, *, required: bool, description: Any = None) -> StringField:
    checks: list[Any] = [
        InputRequired(message=NOT_A_NUMBER) if required else Optional(),
        Length(max=40, message=NOT_A_NUMBER),
        a_number,
    ]
    return StringField(
        label,
        validators=checks,
        description=description,
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


class _Versioned(FlaskForm):
    version = HiddenField()

    def expected_version(self) -> int | None:
        return parse_int(self.version.data)


# Scheduling ------------------------------------------------------------------------------------


class ScheduleForm(_Versioned):
    scheduled_for = ClearDateField(
        _l("Date of the review meeting"),
        validators=[InputRequired(message=ENTER_DATE)],
    )
    location = StringField(
        _l("Where"),
        validators=[
            Optional(),
            Length(max=MAX_LOCATION, message=_l("Use at most 200 characters.")),
        ],
        description=_l("A room, an address or a video-call link."),
    )
    participants = TextAreaField(
        _l("Participants"),
        validators=[
            Optional(),
            Length(max=MAX_PARTICIPANTS, message=_l("Use at most 5,000 characters.")),
        ],
        description=_l("Who attends: one name per line."),
        render_kw={"rows": 5},
    )


# The meeting record ------------------------------------------------------------------------------


def rating_field(goal_id: int) -> str:
    return f"rating_{goal_id}"


def comment_field(goal_id: int) -> str:
    return f"comment_{goal_id}"


_RATING_KEY = re.compile(r"(rating|comment)_(\d{1,10})")


class RatingsForm(_Versioned):
    """One rating and one comment per goal (`rating_<goal id>`, `comment_<goal id>`); built
    for the cycle's goals by `ratings_form_class`."""

    goal_ids: tuple[int, ...] = ()

    def rating_fields(self) -> list[tuple[int, Any, Any]]:
        return [(gid, self[rating_field(gid)], self[comment_field(gid)]) for gid in self.goal_ids]

    def submitted(self, formdata: MultiDict[str, Any]) -> dict[int, tuple[str | None, str]]:
        """{goal id: (rating or None, comment)} for every goal the request names — those of
        the page it sends, and any other id (the service refuses ids of other cycles). A goal
        the request does not mention is left as it is."""
        found: dict[int, tuple[str | None, str]] = {}
        for gid, rating, comment in self.rating_fields():
            if rating.name in formdata or comment.name in formdata:
                found[gid] = (rating.data or None, (comment.data or "").strip())
        for key in formdata:
            match = _RATING_KEY.fullmatch(key)
            if not match:
                continue
            number = parse_int(match.group(2))
            gid = number if number is not None else -1
            if gid not in found:
                found[gid] = (
                    formdata.get(rating_field(gid)) or None,
                    str(formdata.get(comment_field(gid)) or "").strip(),
                )
        return found


def ratings_form_class(goals: Mapping[int, str]) -> type[RatingsForm]:
    """The ratings form for these goals ({id: title}, in order)."""
    ids = tuple(goals)
    fields: dict[str, Any] = {"goal_ids": ids}
    for gid, title in goals.items():
        fields[rating_field(gid)] = SelectField(
            _l("Rating of “%(goal)s”", goal=title),
            choices=choices([("", _l("Not rated")), *RATING_LABELS.items()]),
            validators=[Optional()],
            validate_choice=False,
        )
        fields[comment_field(gid)] = TextAreaField(
            _l("Comment on “%(goal)s”", goal=title),
            validators=[
                Optional(),
                Length(max=MAX_COMMENT, message=_l("Use at most 4,000 characters.")),
            ],
            render_kw={"rows": 2},
        )
    return type("BuiltRatingsForm", (RatingsForm,), fields)


class NotesForm(_Versioned):
    notes = TextAreaField(
        _l("Discussion notes"),
        validators=[
            Optional(),
            Length(max=MAX_NOTES, message=_l("Use at most 20,000 characters.")),
        ],
        description=_l(
            "What was discussed and agreed. Markdown: a blank line between paragraphs, - at "
            "the start of a line for a list, **bold**."
        ),
        render_kw={"rows": 10},
    )


class ProposedGoalForm(_Versioned):
    """A goal for next year. `continues` is filled with the cycle's goals by the view."""

    continues = SelectField(
        _l("Continues this year's goal"),
        coerce=optional_id,
        validators=[Optional()],
        validate_choice=False,
        description=_l(
            "Choose a goal to carry it on: its latest value becomes next year's baseline."
        ),
    )
    title = StringField(
        _l("Goal"),
        validators=[
            InputRequired(message=_l("Name the goal.")),
            Length(max=MAX_TITLE, message=_l("Use at most 200 characters.")),
        ],
    )
    category = SelectField(
        _l("Category"),
        choices=choices(CATEGORY_LABELS.items()),
        validators=[one_of(CATEGORY_LABELS)],
        validate_choice=False,
    )
    metric = StringField(
        _l("What is measured, and how"),
        validators=[
            InputRequired(message=_l("Say what is measured.")),
            Length(max=MAX_METRIC, message=_l("Use at most 300 characters.")),
        ],
    )
    unit = StringField(
        _l("Unit"),
        validators=[Optional(), Length(max=MAX_UNIT, message=_l("Use at most 40 characters."))],
        description=_l("For example %, students, days."),
    )
    baseline_value = number_field(
        _l("Baseline value"),
        required=False,
        description=_l("Needed unless the goal continues this year's goal."),
    )
    baseline_on = ClearDateField(_l("Baseline date"), validators=[Optional()])
    target_value = number_field(_l("Target"), required=True)
    direction = SelectField(
        _l("Direction"),
        choices=choices(DIRECTION_LABELS.items()),
        validators=[one_of(DIRECTION_LABELS)],
        validate_choice=False,
        description=_l("Raise or lower the value toward the target, or hold it near it."),
    )
    due_on = ClearDateField(
        _l("Due date"),
        validators=[Optional()],
        description=_l("Leave empty for the end of next school year."),
    )


class SignForm(_Versioned):
    side = HiddenField()


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token (amend, delete)."""

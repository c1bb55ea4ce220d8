"""Forms of the plan: the initiative, a driver, the stage buttons, an improvement test (PDSA)
and an engagement session.

The forms check what the input alone can tell (required, lengths, readable dates and
numbers, a choice among those offered); the services check the rules again, with the cycle
in hand, before anything is saved.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from fellowship.cycles.models import CycleStage, DriverKind, EngagementGroup, PdsaDecision
from fellowship.cycles.plan_services import (
    DATE_NEEDED,
    DRIVER_TEXT_NEEDED,
    DRIVER_TEXT_TOO_LONG,
    END_BEFORE_START,
    GROUP_NEEDED,
    HEARD_NEEDED,
    KIND_NEEDED,
    MAX_DRIVER_TEXT,
    MAX_PARTICIPANTS,
    MAX_TEXT,
    MAX_TITLE,
    PARTICIPANTS_RANGE,
    TEST_TITLE_NEEDED,
    TEXT_TOO_LONG,
    TITLE_TOO_LONG,
)
from fellowship.forms import ClearDateField, choices, optional_id, parse_int

MARKDOWN_HINT = _l(
    "Markdown: a blank line between paragraphs, - at the start of a line for a list, "
    "[text](https://…) for a link, **bold**. Raw HTML is not shown."
)

STAGE_LABELS = {
    CycleStage.PLANNING.value: _l("Planning"),
    CycleStage.IMPLEMENTING.value: _l("Implementing"),
    CycleStage.YEARLY_REVIEW.value: _l("Yearly review"),
    CycleStage.CLOSED.value: _l("Closed"),
}
KIND_LABELS = {
    DriverKind.PRIMARY.value: _l("Primary driver"),
    DriverKind.SECONDARY.value: _l("Secondary driver"),
    DriverKind.CHANGE_IDEA.value: _l("Change idea"),
}
# The "add" links and the new-driver form's heading, by the kind added.
ADD_LABELS = {
    DriverKind.PRIMARY.value: _l("Add a primary driver"),
    DriverKind.SECONDARY.value: _l("Add a secondary driver"),
    DriverKind.CHANGE_IDEA.value: _l("Add a change idea"),
}
KIND_HINTS = {
    DriverKind.PRIMARY.value: _l("A big area that must change for the aim to be reached."),
    DriverKind.SECONDARY.value: _l("A more specific place to act within the primary driver."),
    DriverKind.CHANGE_IDEA.value: _l("Something concrete the team can try, and test."),
}
DECISION_LABELS = {
    PdsaDecision.ADOPT.value: _l("Adopt"),
    PdsaDecision.ADAPT.value: _l("Adapt"),
    PdsaDecision.ABANDON.value: _l("Abandon"),
}
DECISION_HINTS = {
    PdsaDecision.ADOPT.value: _l("It worked: make it part of how we work."),
    PdsaDecision.ADAPT.value: _l("Promising: change it and test again."),
    PdsaDecision.ABANDON.value: _l("It did not work: stop."),
}
GROUP_LABELS = {
    EngagementGroup.ADVISORY_COUNCIL.value: _l("Advisory council"),
    EngagementGroup.FAMILIES.value: _l("Families"),
    EngagementGroup.STUDENTS.value: _l("Students"),
    EngagementGroup.STAFF.value: _l("Staff"),
    EngagementGroup.COMMUNITY.value: _l("Community"),
}


def _long_text(label: Any, hint: Any = MARKDOWN_HINT, rows: int = 6) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=MAX_TEXT, message=TEXT_TOO_LONG)],
        description=hint,
        render_kw={"rows": rows},
    )


def _enum_or_none(enum_cls: Any) -> Any:
    """A `coerce=` for a select or radio of enum values: "" is None, anything unknown is
    left as text so the field refuses it as not a choice."""

    def coerce(value: object) -> Any:
        if value is None or value == "":
            return None
        if isinstance(value, enum_cls):
            return value
        try:
            return enum_cls(str(value))
        except ValueError:
            return str(value)

    return coerce


class InitiativeForm(FlaskForm):
    title = StringField(
        _l("Initiative title"),
        validators=[Optional(), Length(max=MAX_TITLE, message=TITLE_TOO_LONG)],
        description=_l("A short name for the initiative, up to 200 characters."),
        render_kw={"autocomplete": "off", "maxlength": MAX_TITLE},
    )
    equity_challenge = _long_text(
        _l("The equity challenge"),
        _l(
            "What is unfair now, for whom, and how you know. Markdown: a blank line between "
            "paragraphs, - for a list, **bold**. Raw HTML is not shown."
        ),
    )
    root_causes = _long_text(
        _l("Root causes"),
        _l(
            "Why it happens: what the team found when it looked underneath. Markdown: a "
            "blank line between paragraphs, - for a list, **bold**. Raw HTML is not shown."
        ),
    )
    aim = _long_text(
        _l("Aim statement"),
        _l(
            "What will change, for whom, by how much and by when. Markdown, as above; the "
            "picture of the driver diagram shows its first few lines."
        ),
        rows=4,
    )
    version = HiddenField()


class DriverForm(FlaskForm):
    text = TextAreaField(
        _l("Text"),
        validators=[
            DataRequired(message=DRIVER_TEXT_NEEDED),
            Length(max=MAX_DRIVER_TEXT, message=DRIVER_TEXT_TOO_LONG),
        ],
        description=_l("One or two sentences, up to 500 characters."),
        render_kw={"rows": 3, "maxlength": MAX_DRIVER_TEXT},
    )
    kind = RadioField(
        _l("Kind"),
        coerce=_enum_or_none(DriverKind),
        validators=[InputRequired(message=KIND_NEEDED)],
        validate_choice=True,
    )

    def __init__(self, *args: Any, kinds: tuple[DriverKind, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(kind, str(KIND_LABELS[kind.value])) for kind in kinds]
        self.kind.invalid_choice_message = str(KIND_NEEDED)
        if len(kinds) <= 1:  # nothing to choose: the place decides
            self.kind.validators = [Optional()]
            self.kind.flags.required = False


class EditDriverForm(FlaskForm):
    text = DriverForm.text


class MoveForm(FlaskForm):
    """Move a driver up or down: only the CSRF token; the pressed button sends `direction`."""


class StageForm(FlaskForm):
    """The stage buttons: the pressed one sends `direction`; `seen` is the stage shown."""

    seen = HiddenField()


class PdsaForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(message=TEST_TITLE_NEEDED),
            Length(max=MAX_TITLE, message=TITLE_TOO_LONG),
        ],
        description=_l("What is being tried, in a few words."),
        render_kw={"autocomplete": "off", "maxlength": MAX_TITLE},
    )
    driver = SelectField(
        _l("Change idea tested"),
        coerce=optional_id,
        validators=[Optional()],
        validate_choice=True,
    )
    started_on = ClearDateField(_l("Started on"), validators=[Optional()])
    ended_on = ClearDateField(
        _l("Ended on"),
        validators=[Optional()],
        description=_l("Leave empty while the test is running. Not before the start date."),
    )
    plan = _long_text(_l("Plan"), _l("Who does what, when and where, and what will be measured."))
    prediction = _long_text(_l("Prediction"), _l("What you expect to happen, and why."), rows=3)
    do = _long_text(_l("Do: what was done"), _l("What actually happened, and any surprises."))
    study = _long_text(
        _l("Study: what was learned"), _l("What the results show, compared with the prediction.")
    )
    decision = RadioField(
        _l("Act: the decision"),
        coerce=_enum_or_none(PdsaDecision),
        validators=[Optional()],
        validate_choice=True,
        description=_l("Needed once the test has ended."),
    )
    version = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.driver.choices = []
        self.driver.invalid_choice_message = str(
            _l("Choose one of this cycle's change ideas, or none.")
        )
        self.decision.choices = [
            (decision, str(DECISION_LABELS[decision.value])) for decision in PdsaDecision
        ]
        self.decision.invalid_choice_message = str(_l("Choose adopt, adapt or abandon."))

    def set_change_ideas(self, ideas: list[tuple[int, str]]) -> None:
        self.driver.choices = choices(
            [(str(i), _short(t)) for i, t in ideas], empty=str(_l("None"))
        )

    def validate_ended_on(self, field: Field) -> None:
        start = self.started_on.data
        if start is not None and field.data is not None and field.data < start:
            raise ValidationError(str(END_BEFORE_START))


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class _ParticipantsField(IntegerField):
    """A whole number of people: digits only (no signs, decimals, exponents or NaN)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or str(valuelist[0]).strip() == "":
            self.data = None
            raise ValueError(str(PARTICIPANTS_RANGE))
        raw = str(valuelist[0]).strip().replace(",", "")
        number = parse_int(raw)
        if number is None or number > MAX_PARTICIPANTS:
            self.data = None
            raise ValueError(str(PARTICIPANTS_RANGE))
        self.data = number


class EngagementForm(FlaskForm):
    held_on = ClearDateField(
        _l("Date"),
        validators=[InputRequired(message=DATE_NEEDED)],
        invalid=DATE_NEEDED,
    )
    group = SelectField(
        _l("Group"),
        coerce=_enum_or_none(EngagementGroup),
        validators=[InputRequired(message=GROUP_NEEDED)],
        validate_choice=True,
    )
    participants = _ParticipantsField(
        _l("Participants"),
        description=_l("How many people took part, from 0 to 100,000."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    heard = _long_text(_l("What was heard"), rows=6)
    changed = _long_text(
        _l("What changed because of it"),
        _l(
            "What the team did or will do differently because of what was heard. Markdown: "
            "a blank line between paragraphs, - for a list, **bold**. Raw HTML is not shown."
        ),
        rows=4,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group.choices = [("", str(_l("Choose a group")))] + [
            (group, str(GROUP_LABELS[group.value])) for group in EngagementGroup
        ]
        self.group.invalid_choice_message = str(GROUP_NEEDED)
        self.participants.flags.required = True
        self.heard.validators = [
            DataRequired(message=HEARD_NEEDED),
            Length(max=MAX_TEXT, message=TEXT_TOO_LONG),
        ]
        self.heard.flags.required = True
        self.heard.flags.optional = False

"""A fellow's capstone forms: the details (start and edit, with the working draft's
narrative), a file, submitting, the practice library, and the graduate's outcome.

The forms check what the input alone can tell (required, lengths, choices, web addresses);
the services check the rules again before anything is saved. Labels for states and kinds
live here too, for every capstone page.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from fellowship.capstones.models import (
    CapstoneStatus,
    OutcomeKind,
    Recommendation,
    SchoolLevel,
    Stage,
)
from fellowship.capstones.services import (
    CHOOSE_LISTED_FILES,
    MAX_NAME,
    MAX_NARRATIVE,
    MAX_NOTE,
    MAX_SUMMARY,
    MAX_TEXT,
    MAX_TITLE,
    MAX_TOPICS,
    MAX_URL,
    NARRATIVE_TOO_LONG,
    NOTE_TOO_LONG,
    SUMMARY_TOO_LONG,
    TEXT_TOO_LONG,
    TITLE_NEEDED,
    TITLE_TOO_LONG,
    OutcomeData,
    outcome_problems,
    topics_problem,
)
from fellowship.forms import ClearDateField, choices, optional_id, parse_int

STATUS_LABELS = {
    CapstoneStatus.DRAFT.value: _l("Draft"),
    CapstoneStatus.PROPOSAL_SUBMITTED.value: _l("Proposal submitted"),
    CapstoneStatus.PROPOSAL_REVISIONS.value: _l("Proposal: revisions requested"),
    CapstoneStatus.PROPOSAL_APPROVED.value: _l("Proposal approved"),
    CapstoneStatus.FINAL_SUBMITTED.value: _l("Final submitted"),
    CapstoneStatus.FINAL_REVISIONS.value: _l("Final: revisions requested"),
    CapstoneStatus.APPROVED.value: _l("Approved"),
}
STAGE_LABELS = {Stage.PROPOSAL.value: _l("Proposal"), Stage.FINAL.value: _l("Final")}
SCHOOL_LEVEL_LABELS = {
    SchoolLevel.ELEMENTARY.value: _l("Elementary"),
    SchoolLevel.MIDDLE.value: _l("Middle school"),
    SchoolLevel.HIGH.value: _l("High school"),
    SchoolLevel.K8.value: _l("K–8"),
    SchoolLevel.K12.value: _l("K–12"),
    SchoolLevel.OTHER.value: _l("Other"),
}
# A reviewer's recommendation, as the reviewer chooses it and as everyone reads it.
RECOMMENDATION_LABELS = {
    Recommendation.APPROVE.value: _l("Approve"),
    Recommendation.REVISE.value: _l("Request revisions"),
}
DECISION_LABELS = {
    Recommendation.APPROVE.value: _l("Approved"),
    Recommendation.REVISE.value: _l("Revisions requested"),
}
OUTCOME_KIND_LABELS = {
    OutcomeKind.LAUNCHED_SCHOOL.value: _l("Launched a school"),
    OutcomeKind.LEADERSHIP_ROLE.value: _l("Took a leadership role"),
    OutcomeKind.OTHER.value: _l("Something else"),
}

MARKDOWN_HINT = _l(
    "Markdown: a blank line between paragraphs, # at the start of a line for a heading, - for "
    "a list, [text](https://…) for a link, **bold**. Raw HTML is not shown."
)


def _id(value: Any) -> int:
    """A checkbox's value as an id (through `parse_int`); anything else is refused."""
    if isinstance(value, int):
        return value
    number = parse_int(value)
    if number is None:
        raise ValueError("not an id")
    return number


def _optional_text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


class CapstoneForm(FlaskForm):
    """The details of a capstone: what starting one asks, and the top of the edit page."""

    title = StringField(
        _l("Title"),
        validators=[
            InputRequired(message=TITLE_NEEDED),
            Length(max=MAX_TITLE, message=TITLE_TOO_LONG),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_TITLE},
    )
    summary = TextAreaField(
        _l("Summary"),
        validators=[Optional(), Length(max=MAX_SUMMARY, message=SUMMARY_TOO_LONG)],
        description=_l(
            "Two or three sentences: what you will build, and for whom. Shown first in the "
            "practice library if you publish your capstone."
        ),
        render_kw={"rows": 3},
    )
    problem_md = TextAreaField(
        _l("The problem it addresses"),
        validators=[Optional(), Length(max=MAX_TEXT, message=TEXT_TOO_LONG)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 6},
    )
    community_md = TextAreaField(
        _l("The community it serves"),
        validators=[Optional(), Length(max=MAX_TEXT, message=TEXT_TOO_LONG)],
        description=MARKDOWN_HINT,
        render_kw={"rows": 6},
    )
    strand = SelectField(
        _l("Strand"), coerce=optional_id, validators=[Optional()], validate_choice=True
    )
    school_level = SelectField(
        _l("School level"), coerce=_optional_text, validators=[Optional()], validate_choice=True
    )
    topics = StringField(
        _l("Topics"),
        validators=[Optional()],
        description=_l(
            "Separated by commas, like: enrollment, family engagement, transportation. At "
            "most 300 characters. People find capstones in the library by topic."
        ),
        render_kw={"autocomplete": "off", "maxlength": MAX_TOPICS},
    )
    version = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.strand.choices = []
        self.strand.invalid_choice_message = str(_l("Choose one of this cohort's strands."))
        self.school_level.choices = choices(
            [("", str(_l("Not set")))]
            + [(value, str(label)) for value, label in SCHOOL_LEVEL_LABELS.items()]
        )
        self.school_level.invalid_choice_message = str(_l("Choose one of the school levels."))

    def set_strands(self, strands: list[tuple[int, str]]) -> None:
        self.strand.choices = choices(
            [(str(i), name) for i, name in strands], empty=str(_l("No strand"))
        )

    def validate_topics(self, field: Field) -> None:
        problem = topics_problem(field.data)
        if problem:
            raise ValidationError(problem)


class CapstoneEditForm(CapstoneForm):
    narrative = TextAreaField(
        _l("Narrative"),
        validators=[Optional(), Length(max=MAX_NARRATIVE, message=NARRATIVE_TOO_LONG)],
        description=_l(
            "The text reviewers read for this version: your plan, your evidence, your next "
            "steps. At most 100,000 characters. Markdown: a blank line between paragraphs, # "
            "at the start of a line for a heading, - for a list, | between the cells of a "
            "table row, **bold**. Raw HTML is not shown."
        ),
        render_kw={"rows": 20},
    )


class FileForm(FlaskForm):
    file = FileField(
        _l("Add a file"), validators=[FileRequired(message=_l("Choose a file to upload."))]
    )

    def __init__(self, *args: Any, accept: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.file.flags.required = True
        if accept:
            self.file.render_kw = {"accept": accept}


class SubmitForm(FlaskForm):
    """Confirm the submission of the working draft the page showed (`draft`)."""

    draft = HiddenField()

    def draft_id(self) -> int | None:
        return parse_int(self.draft.data)


class PublishForm(FlaskForm):
    consent = BooleanField(
        _l(
            "I agree to publish my capstone in the practice library, where every person "
            "signed in to Fellowship can read it and download the files I choose."
        ),
        description=_l("You can withdraw it at any time; it leaves the library at once."),
    )
    files = SelectMultipleField(
        _l("Files to include"),
        coerce=_id,
        validate_choice=True,
        invalid_value_message=CHOOSE_LISTED_FILES,
        invalid_choice_message=CHOOSE_LISTED_FILES,
    )
    publish = SubmitField(_l("Publish to the library"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.files.choices = []


class WithdrawForm(FlaskForm):
    withdraw = SubmitField(_l("Withdraw from the library"))


_YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]


class OutcomeForm(FlaskForm):
    kind = RadioField(
        _l("What did you do after the program?"),
        choices=[],
        validators=[InputRequired(message=_l("Choose what you did after the program."))],
    )
    school_name = StringField(
        _l("Name of the school"),
        validators=[Optional(), Length(max=MAX_NAME)],
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME},
    )
    opened_on = ClearDateField(
        _l("Opening date"),
        validators=[Optional()],
        description=_l("When the school opened, or will open."),
    )
    diverse_by_design = RadioField(
        _l("Is the school diverse by design?"),
        choices=[],
        validators=[Optional()],
        description=_l(
            "Designed from the start to enroll students across race and income: an "
            "admissions plan, location and outreach built for it."
        ),
    )
    url = URLField(
        _l("The school's web address"),
        validators=[Optional(), Length(max=MAX_URL)],
        description=_l("Starting with https:// (or http://)."),
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": MAX_URL},
    )
    role_title = StringField(
        _l("Title of the role"),
        validators=[Optional(), Length(max=MAX_NAME)],
        description=_l(
            "Required for a leadership role. For example: principal of Lincoln Middle School."
        ),
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME},
    )
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=MAX_NOTE, message=NOTE_TOO_LONG)],
        description=_l("Anything the institute should know. At most 5,000 characters."),
        render_kw={"rows": 4},
    )
    token = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Made per request, so the labels are in the reader's language.
        self.kind.choices = choices(OUTCOME_KIND_LABELS.items())
        self.diverse_by_design.choices = choices(_YES_NO)
        self.diverse_by_design.invalid_choice_message = str(_l("Choose yes or no."))

    def data_for_service(self) -> OutcomeData:
        diverse = self.diverse_by_design.data
        return OutcomeData(
            kind=self.kind.data or None,
            school_name=self.school_name.data or "",
            opened_on=self.opened_on.data,
            diverse_by_design=None if diverse not in ("yes", "no") else diverse == "yes",
            role_title=self.role_title.data or "",
            url=self.url.data or "",
            note=self.note.data or "",
        )

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if self.kind.errors:
            return False
        for name, message in outcome_problems(self.data_for_service()):
            field = getattr(self, name)
            if message not in field.errors:
                field.errors = [*field.errors, message]
                valid = False
        return valid

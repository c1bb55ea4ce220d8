"""Forms for the pipeline's filter, assigning reviewers, recording a decision and the cohort's
capstone settings.

The forms check what can be checked from the input alone (present, not too long); the
services check the rules (an active reviewer of the cohort, a version waiting for its
decision) before anything is saved.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Form,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from fellowship.capstones.models import Recommendation
from fellowship.capstones.staff_services import (
    CHOOSE_OUTCOME,
    MAX_MESSAGE,
    MESSAGE_NEEDED,
    MESSAGE_TOO_LONG,
)
from fellowship.forms import choices, parse_int

MESSAGE_HINT = _l(
    "The fellow reads this with the decision, in the email and on their capstone page. "
    "Say what was strong and, for revisions, what to change. Markdown: a blank line between "
    "paragraphs, - at the start of a line for a list, **bold**."
)


class PipelineFilterForm(Form):
    """The pipeline's status filter and sort order: a GET form, no CSRF token (it changes
    nothing). Unknown values mean "all" and "by fellow"."""

    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    sort = SelectField(_l("Sort by"), choices=[], validate_choice=False)

    def status_key(self, known: list[str]) -> str | None:
        return self.status.data if self.status.data in known else None

    def sort_key(self, known: tuple[str, ...]) -> str:
        return self.sort.data if self.sort.data in known else known[0]


class AssignForm(FlaskForm):
    reviewers = SelectMultipleField(_l("Reviewers"), choices=[], validate_choice=False)

    def reviewer_ids(self) -> list[int] | None:
        """The chosen ids; None when one of them is not a number at all."""
        ids = [parse_int(value) for value in self.reviewers.data or []]
        if any(value is None for value in ids):
            return None
        return [value for value in ids if value is not None]


class DecisionForm(FlaskForm):
    outcome = RadioField(
        _l("Decision"),
        choices=[],
        validate_choice=False,  # AnyOf says it in words
        validators=[
            InputRequired(message=CHOOSE_OUTCOME),
            AnyOf([r.value for r in Recommendation], message=CHOOSE_OUTCOME),
        ],
    )
    message = TextAreaField(
        _l("Message to the fellow"),
        validators=[
            DataRequired(message=MESSAGE_NEEDED),
            Length(max=MAX_MESSAGE, message=MESSAGE_TOO_LONG),
        ],
        description=MESSAGE_HINT,
        render_kw={"rows": 10, "maxlength": MAX_MESSAGE},
    )
    version = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.outcome.choices = choices(
            [
                (Recommendation.APPROVE.value, _("Approve")),
                (Recommendation.REVISE.value, _("Request revisions")),
            ]
        )

    def expected_version(self) -> int | None:
        return parse_int(self.version.data)


class SettingsForm(FlaskForm):
    reviewer_names_visible = BooleanField(
        _l("Show reviewers’ names to fellows"),
        description=_l(
            "Fellows (and their coaches) see who wrote each review once the decision is "
            "recorded. Off: the reviews are shown as “Reviewer 1”, “Reviewer 2”."
        ),
    )
    hide_reviews_until_own = BooleanField(
        _l("Hide reviews from other reviewers until they submit their own"),
        description=_l(
            "A reviewer reads the other reviews of a submission only after submitting theirs, "
            "so each review is independent. Recommended."
        ),
    )
    version = HiddenField()

    def expected_version(self) -> int | None:
        return parse_int(self.version.data)

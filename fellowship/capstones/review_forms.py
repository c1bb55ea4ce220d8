"""Forms of the review page and the rubric page. Both have fields that depend on the cohort's
rubric (one radio group per criterion; one set of text boxes per criterion), so each is a
class built for the rubric at hand.

The forms read the input; the rules (a score is one of the criterion's levels, every
criterion scored to submit, names present and distinct, descriptors not empty) live in
`review_services` and `rubric`, which put each message next to its field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from fellowship.capstones.forms import RECOMMENDATION_LABELS
from fellowship.capstones.review_services import (
    COMMENTS_TOO_LONG,
    MAX_COMMENTS,
    ReviewData,
    score_field,
)
from fellowship.capstones.rubric import (
    MAX_DESCRIPTION,
    MAX_DESCRIPTOR,
    MAX_NAME,
    NEW_LEVELS,
    CriterionData,
    CriterionView,
)
from fellowship.forms import choices, parse_int

COMMENTS_HINT = _l(
    "For the fellow and the staff who decide. Markdown: a blank line between paragraphs, - at "
    "the start of a line for a list, **bold**."
)
GO_TARGETS = ("prev", "next")


# The review -------------------------------------------------------------------------------


class ReviewForm(FlaskForm):
    """Comments, recommendation and the review's version; `review_form_class` adds one radio
    group per criterion (`score_<key>`)."""

    comments = TextAreaField(
        _l("Comments"),
        validators=[Optional(), Length(max=MAX_COMMENTS, message=COMMENTS_TOO_LONG)],
        description=COMMENTS_HINT,
        render_kw={"rows": 12, "maxlength": MAX_COMMENTS},
    )
    recommendation = RadioField(
        _l("Your recommendation"),
        choices=choices(RECOMMENDATION_LABELS.items()),
        validators=[Optional()],
        validate_choice=False,
    )
    version = HiddenField()

    criteria: Sequence[CriterionView] = ()

    def expected_version(self) -> int | None:
        return parse_int(self.version.data)

    def score_fields(self) -> list[tuple[CriterionView, Any]]:
        return [(c, self[score_field(c.key)]) for c in self.criteria]

    def data_for_service(self, formdata: MultiDict[str, Any] | None = None) -> ReviewData:
        """What to save. Scores of criteria the page did not show (a criterion removed since
        it was opened) are passed on too, so the service can refuse them."""
        scores: dict[str, str | int | None] = {
            c.key: field.data for c, field in self.score_fields()
        }
        for name, value in (formdata or MultiDict()).items():
            if name.startswith("score_") and name not in self._fields:
                scores[name.removeprefix("score_")] = value
        return ReviewData(
            scores=scores,
            comments=self.comments.data or "",
            recommendation=self.recommendation.data or None,
        )


def review_form_class(criteria: Sequence[CriterionView]) -> type[ReviewForm]:
    """A ReviewForm with a radio group for each criterion (choices: its levels)."""
    attributes: dict[str, Any] = {"criteria": tuple(criteria)}
    for criterion in criteria:
        attributes[score_field(criterion.key)] = RadioField(
            criterion.name,
            choices=choices((str(level.score), level.descriptor) for level in criterion.levels),
            validators=[Optional()],
            validate_choice=False,
            description=criterion.description,
        )
    return type("RubricReviewForm", (ReviewForm,), attributes)


# The rubric -------------------------------------------------------------------------------


class RubricForm(FlaskForm):
    """The rubric's version; `rubric_form_class` adds the text boxes of each criterion and of
    the criterion being added."""

    version = HiddenField()

    criteria: Sequence[CriterionView] = ()

    def expected_version(self) -> int | None:
        return parse_int(self.version.data)

    def edits(self) -> list[CriterionData]:
        return [
            CriterionData(
                key=c.key,
                name=self[f"name_{c.key}"].data or "",
                description=self[f"description_{c.key}"].data or "",
                levels={lv.score: self[f"level_{c.key}_{lv.score}"].data or "" for lv in c.levels},
            )
            for c in self.criteria
        ]

    def new_criterion(self, required: bool) -> CriterionData | None:
        """The criterion being added: None when its boxes are empty (unless `required`)."""
        data = CriterionData(
            key="new",
            name=self.new_name.data or "",
            description=self.new_description.data or "",
            levels={score: self[f"new_level_{score}"].data or "" for score in NEW_LEVELS},
        )
        typed = [data.name, data.description, *data.levels.values()]
        if not required and not any(text.strip() for text in typed):
            return None
        return data

    def criterion_fields(self, criterion: CriterionView) -> tuple[Any, Any, list[Any]]:
        return (
            self[f"name_{criterion.key}"],
            self[f"description_{criterion.key}"],
            [self[f"level_{criterion.key}_{level.score}"] for level in criterion.levels],
        )

    def new_fields(self) -> tuple[Any, Any, list[Any]]:
        return (
            self.new_name,
            self.new_description,
            [self[f"new_level_{score}"] for score in NEW_LEVELS],
        )


def _name_field(label: Any) -> StringField:
    return StringField(label, render_kw={"maxlength": MAX_NAME})


def _description_field(label: Any, hint: Any = None) -> TextAreaField:
    return TextAreaField(
        label, description=hint, render_kw={"rows": 2, "maxlength": MAX_DESCRIPTION}
    )


def _level_field(label: Any) -> TextAreaField:
    return TextAreaField(label, render_kw={"rows": 2, "maxlength": MAX_DESCRIPTOR})


def rubric_form_class(criteria: Sequence[CriterionView]) -> type[RubricForm]:
    """A RubricForm for these criteria: per criterion `name_<key>`, `description_<key>`,
    `level_<key>_<score>`; for the new one `new_name`, `new_description`, `new_level_<n>`."""
    attributes: dict[str, Any] = {"criteria": tuple(criteria)}
    for number, criterion in enumerate(criteria, start=1):
        attributes[f"name_{criterion.key}"] = _name_field(
            _l("Criterion %(number)d: name", number=number)
        )
        attributes[f"description_{criterion.key}"] = _description_field(
            _l("Criterion %(number)d: what it looks at", number=number)
        )
        for level in criterion.levels:
            attributes[f"level_{criterion.key}_{level.score}"] = _level_field(
                _l("Criterion %(number)d, level %(score)d", number=number, score=level.score)
            )
    attributes["new_name"] = _name_field(_l("Name of the new criterion"))
    attributes["new_description"] = _description_field(
        _l("What the new criterion looks at"), _l("Optional: one or two sentences.")
    )
    for score in NEW_LEVELS:
        attributes[f"new_level_{score}"] = _level_field(
            _l("New criterion, level %(score)d", score=score)
        )
    return type("CohortRubricForm", (RubricForm,), attributes)


def rubric_form_data(criteria: Sequence[CriterionView], version: int | None) -> dict[str, Any]:
    """The saved rubric as the form's initial data."""
    data: dict[str, Any] = {"version": "" if version is None else str(version)}
    for criterion in criteria:
        data[f"name_{criterion.key}"] = criterion.name
        data[f"description_{criterion.key}"] = criterion.description
        for level in criterion.levels:
            data[f"level_{criterion.key}_{level.score}"] = level.descriptor
    return data


class ConfirmRemoveForm(FlaskForm):
    """ "Yes, remove it": the criterion and the rubric version the question was asked at."""

    criterion = HiddenField()
    version = HiddenField()

    def expected_version(self) -> int | None:
        return parse_int(self.version.data)

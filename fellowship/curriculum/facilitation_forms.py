"""Forms for feedback on a reflection, due-date extensions and the progress grid's filter.

The forms check what can be checked from the input alone (present, not too long, a readable
date); the services check the rules (a submitted reflection, an active fellow of the cohort,
a date after the module's due date) before anything is saved.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from fellowship.curriculum.facilitation_services import (
    FEEDBACK_NEEDED,
    FEEDBACK_TOO_LONG,
    MAX_FEEDBACK,
    MAX_REASON,
    REASON_TOO_LONG,
)
from fellowship.forms import ClearDateField, parse_int

ENTER_DATE = _l("Enter the date, like 2026-09-15.")
MARKDOWN_HINT = _l(
    "The fellow reads this on the module page. Markdown: a blank line between paragraphs, "
    "- at the start of a line for a list, **bold**."
)


class FeedbackForm(FlaskForm):
    feedback = TextAreaField(
        _l("Your feedback"),
        validators=[
            DataRequired(message=FEEDBACK_NEEDED),
            Length(max=MAX_FEEDBACK, message=FEEDBACK_TOO_LONG),
        ],
        description=MARKDOWN_HINT,
        render_kw={"rows": 10, "maxlength": MAX_FEEDBACK},
    )
    version = HiddenField()

    def expected_version(self) -> int | None:
        return parse_int(self.version.data)


class ExtensionForm(FlaskForm):
    fellow = SelectField(
        _l("Fellow"),
        choices=[],
        validators=[InputRequired(message=_l("Choose a fellow."))],
    )
    due_on = ClearDateField(
        _l("New due date"),
        validators=[InputRequired(message=ENTER_DATE)],
    )
    reason = TextAreaField(
        _l("Reason"),
        validators=[Optional(), Length(max=MAX_REASON, message=REASON_TOO_LONG)],
        description=_l("For the record: why the fellow needs more time."),
        render_kw={"rows": 3, "maxlength": MAX_REASON},
    )

    def fellow_id(self) -> int | None:
        return parse_int(self.fellow.data)


class StrandFilterForm(Form):
    """The progress grid's strand filter: a GET form, no CSRF token (it changes nothing)."""

    strand = SelectField(_l("Strand"), choices=[], validate_choice=False)

    def strand_id(self, known: set[int]) -> int | None:
        value = parse_int(self.strand.data)
        return value if value in known else None

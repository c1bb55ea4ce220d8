"""Forms of a fellow's work on a module: mark an item done, write a reflection.

A module page holds one reflection form per reflection item, so each form carries a prefix
made from the item's id (`reflection_form(item_id)`): field ids stay unique on the page and
the view that receives the post builds the same form.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import AnyOf, Length

from fellowship.curriculum.learning_services import MAX_REFLECTION_CHARS, TOO_LONG
from fellowship.forms import parse_int

REFLECTION_HINT = _l(
    "Markdown: a blank line between paragraphs, - at the start of a line for a list, "
    "**bold**. At most 20,000 characters."
)


class MarkDoneForm(FlaskForm):
    """Mark an item done (`done` = 1) or not done again (`done` = 0)."""

    done = HiddenField(validators=[AnyOf(["0", "1"])])


class ReflectionForm(FlaskForm):
    response = TextAreaField(
        _l("Your reflection"),
        validators=[Length(max=MAX_REFLECTION_CHARS, message=TOO_LONG)],
        description=REFLECTION_HINT,
        render_kw={"rows": 8},
    )
    version = HiddenField()
    save_draft = SubmitField(_l("Save draft"))
    submit_reflection = SubmitField(_l("Submit"))

    def submitting(self) -> bool:
        """True when the person pressed "Submit" (or "Save changes" once submitted)."""
        return bool(self.submit_reflection.data)

    def expected_version(self) -> int | None:
        return parse_int(self.version.data)


def reflection_form(item_id: int, **kwargs: Any) -> ReflectionForm:
    return ReflectionForm(prefix=f"item{item_id}", **kwargs)

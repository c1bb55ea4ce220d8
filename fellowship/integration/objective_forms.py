"""The form that sets a magnet school's integration objective, and the words for each kind.

The form takes what was typed as it is (the band width k as text, so "abc" comes back to the
person unchanged); `objective_services.set_objective` checks every rule before saving.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from fellowship.forms import choices
from fellowship.integration.models import ObjectiveKind

MAX_NOTE = 2000

# The name of each kind of objective, and what it means in plain words. `p` is the school's
# minority share, `P` the district's, `a` the minority share of the school's applicants.
KIND_LABELS = {
    ObjectiveKind.ABSOLUTE.value: _l("Not isolated (at most 50% minority)"),
    ObjectiveKind.RELATIVE_BAND.value: _l("Close to the district"),
    ObjectiveKind.APPLICANT_POOL.value: _l("Applicants less isolated than enrollment"),
    ObjectiveKind.PREVENT.value: _l("Prevent isolation (watch band, not rising)"),
}
KIND_EXPLANATIONS = {
    ObjectiveKind.ABSOLUTE.value: _l(
        "Met in a year when at most half of the school's students of known race or "
        "ethnicity belong to the groups counted as minority (p ≤ 50%)."
    ),
    ObjectiveKind.RELATIVE_BAND.value: _l(
        "Met in a year when the school's minority share is no more than k percentage points "
        "above or below the district's (|p − P| ≤ k). With k = 15 and a district share of "
        "48%, any share from 33% to 63% meets it."
    ),
    ObjectiveKind.APPLICANT_POOL.value: _l(
        "Met in a year when the minority share of the students who applied is lower than the "
        "minority share of the students enrolled (a < p): the new students move the school "
        "away from isolation."
    ),
    ObjectiveKind.PREVENT.value: _l(
        "For a school that is not isolated yet. Met in a year when the school's minority share "
        "is from 20 to 50 percent and did not rise since the year before. A share under 20 or "
        "over 50 percent does not meet it; a share from 20 to 50 percent is not judged in a year "
        "with no figure for the year before."
    ),
}

KIND_NEEDED = _l("Choose the kind of objective.")
YEAR_NEEDED = _l("Choose the school year the objective starts in.")
NOTE_TOO_LONG = _l("Keep the note to 2,000 characters or fewer.")


class ObjectiveForm(FlaskForm):
    kind = RadioField(_l("Kind of objective"), validate_choice=False)
    band_k = StringField(
        _l("Band width k, in percentage points"),
        description=_l(
            "Only for “Close to the district”. A number of percentage points above 0 and at "
            "most 50, with at most one decimal: 15 (the default) means the school's share may "
            "be up to 15 points above or below the district's."
        ),
        render_kw={"inputmode": "decimal", "autocomplete": "off", "maxlength": 8},
    )
    year = SelectField(
        _l("In force from the school year"),
        description=_l(
            "The objective counts from this year on, until a later one replaces it. Choosing a "
            "year that already has an objective changes that one; earlier ones stay in the "
            "history."
        ),
        validate_choice=False,
    )
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(), Length(max=MAX_NOTE, message=NOTE_TOO_LONG)],
        description=_l("Why this objective, for example the board decision it comes from."),
        render_kw={"rows": 3, "maxlength": MAX_NOTE},
    )
    # The school's objectives as they were when the form was opened (see
    # `objective_services.revision`): a save over someone else's change is refused.
    revision = HiddenField()

    def __init__(self, *args: Any, years: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = [(kind.value, KIND_LABELS[kind.value]) for kind in ObjectiveKind]
        self.year.choices = choices(years, empty=_l("Choose a school year"))

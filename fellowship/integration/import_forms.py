"""Forms of the enrollment-count import (upload, confirm) and of the admin raw-data screen,
and the labels of measures and groups they show."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from fellowship.forms import choices
from fellowship.integration.models import Group, Measure
from fellowship.integration.settings_forms import RACE_GROUP_LABELS

# The measures' names on every page (the import, the dashboard, the federal table).
MEASURE_LABELS = {
    Measure.ENROLLMENT.value: _l("Enrollment on October 1"),
    Measure.APPLICANTS.value: _l("Applicants"),
    Measure.APPLIED_ENROLLED.value: _l("Applied and enrolled"),
    Measure.NEW_NOT_APPLIED.value: _l("New, did not apply"),
    Measure.CONTINUING.value: _l("Continuing"),
}
GROUP_LABELS = {
    **RACE_GROUP_LABELS,
    Group.LOW_INCOME.value: _l("Low income"),
    Group.NOT_LOW_INCOME.value: _l("Not low income"),
}


class CountsUploadForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(message=_l("Choose a CSV file to upload."))],
        render_kw={"accept": ".csv,text/csv"},
    )


class CountsConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])


class RawCountsForm(FlaskForm):
    """Which school and year the raw-data screen shows (a GET form)."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    school = SelectField(_l("School"), default="", validate_choice=True)
    code = StringField(
        _l("Or the school's state code"),
        validators=[Optional(), Length(max=32)],
        description=_l("When filled in, the code is used instead of the list."),
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 32},
    )
    year = SelectField(_l("School year"), default="", validate_choice=True)

    def __init__(
        self,
        *args: Any,
        schools: list[tuple[int, str, str, bool]] | None = None,
        years: list[tuple[int, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        inactive = _l("inactive")
        self.school.choices = choices(
            (
                (
                    str(school_id),
                    f"{name} ({code})" if active else f"{name} ({code}, {inactive})",
                )
                for school_id, code, name, active in schools or []
            ),
            empty=_l("Choose a school"),
        )
        self.year.choices = choices(
            ((str(year_id), label) for year_id, label in years or []),
            empty=_l("The latest year with counts"),
        )

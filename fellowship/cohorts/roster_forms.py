"""Forms of the roster import: the upload, and the confirmation of a previewed import."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from fellowship.cohorts.roster import AUTO, CSV, ONEROSTER
from fellowship.forms import choices, language_choices

KIND_LABELS = {
    AUTO: _l("Detect from the file"),
    CSV: _l("CSV file"),
    ONEROSTER: _l("OneRoster 1.1 bundle (zip)"),
}


class RosterUploadForm(FlaskForm):
    file = FileField(
        _l("Roster file"),
        validators=[FileRequired(message=_l("Choose a file to upload."))],
        render_kw={"accept": ".csv,.zip,text/csv,application/zip"},
    )
    kind = SelectField(_l("Kind of file"), default=AUTO)
    class_id = StringField(
        _l("OneRoster class (sourcedId)"),
        validators=[Optional(), Length(max=255)],
        description=_l("Needed only when the bundle has enrollments in more than one class."),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    locale = SelectField(
        _l("Language of the invitations"),
        default="en",
        description=_l("For new people, unless the file has a language column."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(KIND_LABELS.items())
        self.locale.choices = language_choices()


class ConfirmImportForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])

"""Forms for schools: one school, the list's filters, and the CSV import (upload, confirm).

The forms check what the input alone can tell (required, lengths, the code's shape); the
services check every rule again (a free code, a theme for a magnet school) before saving.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, Regexp

from fellowship.capstones.forms import SCHOOL_LEVEL_LABELS
from fellowship.cycles.models import SchoolLevel
from fellowship.cycles.school_services import (
    CODE_NEEDED,
    CODE_PATTERN,
    CODE_SHAPE,
    CODE_TOO_LONG,
    LEVEL_NEEDED,
    MAX_CODE,
    MAX_NAME,
    MAX_REGION,
    MAX_THEME,
    NAME_NEEDED,
    NAME_TOO_LONG,
    REGION_TOO_LONG,
    THEME_TOO_LONG,
)
from fellowship.forms import choices

LEVEL_LABELS = SCHOOL_LEVEL_LABELS
YES_NO_ANY = (("", _l("Any")), ("yes", _l("Yes")), ("no", _l("No")))


def level_choices() -> list[Any]:
    return choices((level.value, LEVEL_LABELS[level.value]) for level in SchoolLevel)


class SchoolForm(FlaskForm):
    code = StringField(
        _l("State code"),
        validators=[
            DataRequired(message=CODE_NEEDED),
            Length(max=MAX_CODE, message=CODE_TOO_LONG),
            Regexp(CODE_PATTERN.pattern + "$", message=CODE_SHAPE),
        ],
        description=_l("The code the state gives the school: letters, digits, - and _."),
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": MAX_CODE},
    )
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(message=NAME_NEEDED),
            Length(max=MAX_NAME, message=NAME_TOO_LONG),
        ],
        render_kw={"autocomplete": "off", "maxlength": MAX_NAME},
    )
    level = SelectField(
        _l("Level"), validators=[InputRequired(message=LEVEL_NEEDED)], validate_choice=True
    )
    is_magnet = BooleanField(_l("Magnet school"))
    magnet_theme = StringField(
        _l("Magnet theme"),
        validators=[Optional(), Length(max=MAX_THEME, message=THEME_TOO_LONG)],
        description=_l("Needed for a magnet school, for example STEM or Arts and humanities."),
        render_kw={"autocomplete": "off", "maxlength": MAX_THEME},
    )
    is_pilot = BooleanField(
        _l("Pilot school"), description=_l("One of the schools the program started with.")
    )
    region = StringField(
        _l("Region"),
        validators=[Optional(), Length(max=MAX_REGION, message=REGION_TOO_LONG)],
        render_kw={"autocomplete": "off", "maxlength": MAX_REGION},
    )
    is_active = BooleanField(
        _l("Active"),
        description=_l("Inactive schools keep their cycles but get no new ones."),
        default=True,
    )
    version = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.level.choices = [*choices([("", _l("Choose a level"))]), *level_choices()]


class SchoolFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Search by name or code"), validators=[Optional(), Length(max=120)])
    pilot = SelectField(_l("Pilot"), default="", validate_choice=True)
    magnet = SelectField(_l("Magnet"), default="", validate_choice=True)
    region = SelectField(_l("Region"), default="", validate_choice=False)
    active = SelectField(_l("Active"), default="", validate_choice=True)

    def __init__(self, *args: Any, regions: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for select in (self.pilot, self.magnet, self.active):
            select.choices = choices(YES_NO_ANY)
        self.region.choices = choices(
            [("", _l("Any region")), *((region, region) for region in regions or [])]
        )


class SchoolImportForm(FlaskForm):
    file = FileField(
        _l("CSV file"),
        validators=[FileRequired(message=_l("Choose a CSV file to upload."))],
        render_kw={"accept": ".csv,text/csv"},
    )


class ImportConfirmForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])

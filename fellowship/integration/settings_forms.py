"""The integration settings form: which groups count as "minority", the small-cell threshold.

The form takes what was typed as it is (the threshold as text, so "ten" comes back to the
person unchanged); `settings_services.save_settings` checks every rule before saving.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField

from fellowship.integration.models import (
    DEFAULT_THRESHOLD,
    MINORITY_CHOICES,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    Group,
)

# The race and ethnicity groups as the federal categories name them.
RACE_GROUP_LABELS = {
    Group.AMERICAN_INDIAN_ALASKA_NATIVE.value: _l("American Indian or Alaska Native"),
    Group.ASIAN.value: _l("Asian"),
    Group.BLACK.value: _l("Black or African American"),
    Group.HISPANIC_LATINO.value: _l("Hispanic or Latino"),
    Group.NATIVE_HAWAIIAN_PACIFIC_ISLANDER.value: _l("Native Hawaiian or Other Pacific Islander"),
    Group.WHITE.value: _l("White"),
    Group.TWO_OR_MORE.value: _l("Two or more races"),
    Group.UNKNOWN.value: _l("Unknown or not reported"),
}


class SettingsForm(FlaskForm):
    minority = SelectMultipleField(
        _l("Groups counted as minority"),
        description=_l("Choose at least one."),
        validate_choice=False,
    )
    threshold = StringField(
        _l("Small-cell threshold N"),
        description=_l(
            "A whole number from %(low)d to %(high)d; %(default)d unless the district decides "
            "otherwise.",
            low=THRESHOLD_MIN,
            high=THRESHOLD_MAX,
            default=DEFAULT_THRESHOLD,
        ),
        render_kw={"inputmode": "numeric", "autocomplete": "off", "maxlength": 6},
    )
    # The settings row's version when the form was opened (0: no row yet, the defaults).
    version = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.minority.choices = [(g.value, RACE_GROUP_LABELS[g.value]) for g in MINORITY_CHOICES]

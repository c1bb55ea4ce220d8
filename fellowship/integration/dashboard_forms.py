"""The year picker of the integration pages (GET, changes nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from fellowship.integration.queries import YearRow


class YearForm(FlaskForm):
    class Meta:
        csrf = False  # a GET picker changes nothing

    year = SelectField(_l("School year"), validate_choice=False)


def year_form(years: Sequence[YearRow], chosen: YearRow | None) -> YearForm:
    """The picker with the years that have counts, the latest first, `chosen` selected."""
    form = YearForm(formdata=None)
    form.year.choices = [(year.label, year.label) for year in reversed(years)]
    form.year.data = chosen.label if chosen else None
    return form

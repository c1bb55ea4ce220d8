"""The portfolio's filter form (GET, changes nothing) and the words its pages use."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from fellowship.cycles.models import CycleStage, GoalStatus
from fellowship.cycles.portfolio_queries import Filters
from fellowship.forms import choices
from fellowship.school_years import SchoolYear

STAGE_LABELS = {
    CycleStage.PLANNING.value: _l("Planning"),
    CycleStage.IMPLEMENTING.value: _l("Implementing"),
    CycleStage.YEARLY_REVIEW.value: _l("Yearly review"),
    CycleStage.CLOSED.value: _l("Closed"),
}
STATUS_LABELS = {
    GoalStatus.MET.value: _l("Met"),
    GoalStatus.ON_TRACK.value: _l("On track"),
    GoalStatus.AT_RISK.value: _l("At risk"),
    GoalStatus.OFF_TRACK.value: _l("Off track"),
    GoalStatus.NO_DATA.value: _l("No data"),
}
REVIEW_LABELS = {
    "none": _l("No review yet"),
    "scheduled": _l("Scheduled"),
    "in_meeting": _l("In meeting"),
    "signed": _l("Signed"),
    "amended": _l("Amended"),
}
COLUMN_LABELS = {
    "school": _l("School"),
    "type": _l("Pilot / magnet"),
    "region": _l("Region"),
    "stage": _l("Stage"),
    **{key: label for key, label in STATUS_LABELS.items()},
    "last": _l("Last measurement"),
    "hours": _l("Support hours"),
    "review": _l("Goals review"),
}


class PortfolioFilterForm(FlaskForm):
    """Filters of the portfolio; the view fills the choices and the checked values."""

    class Meta:
        csrf = False  # a GET filter form changes nothing

    year = SelectField(_l("School year"))
    pilot = SelectField(_l("Pilot schools"))
    magnet = SelectField(_l("Magnet schools"))
    region = SelectField(_l("Region"))
    stage = SelectField(_l("Stage"))
    sort = HiddenField()
    dir = HiddenField()


def filter_form(
    years: list[SchoolYear],
    year: SchoolYear | None,
    regions: list[str],
    filters: Filters,
    sort: str,
    direction: str,
) -> PortfolioFilterForm:
    """The form showing what the page shows (not what was typed: unknown values fell back)."""
    form = PortfolioFilterForm(
        formdata=None,
        data={
            "year": year.label if year else "",
            "pilot": filters.pilot,
            "magnet": filters.magnet,
            "region": filters.region,
            "stage": filters.stage,
            "sort": sort,
            "dir": direction,
        },
    )
    form.year.choices = choices((y.label, y.label) for y in years)
    form.pilot.choices = choices(
        [("", _l("Pilot or not")), ("yes", _l("Pilot schools only")), ("no", _l("Not pilots"))]
    )
    form.magnet.choices = choices(
        [("", _l("Magnet or not")), ("yes", _l("Magnet schools only")), ("no", _l("Not magnets"))]
    )
    form.region.choices = choices([("", _l("Every region")), *((r, r) for r in regions)])
    form.stage.choices = choices([("", _l("Every stage")), *STAGE_LABELS.items()])
    return form

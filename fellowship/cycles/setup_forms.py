"""Forms for setting cycles up: opening a cycle, the team, choosing a year, opening next
year's cycles. The services check every rule again with the cycle in hand."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from fellowship.cycles.models import CycleRole, CycleStage
from fellowship.cycles.setup_queries import ROLE_ORDER
from fellowship.cycles.setup_services import (
    MAX_ORGANISATION,
    ORGANISATION_TOO_LONG,
    SCHOOL_NEEDED,
    YEAR_SHAPE,
)
from fellowship.forms import choices, email_field, optional_id

STAGE_LABELS = {
    CycleStage.PLANNING.value: _l("Planning"),
    CycleStage.IMPLEMENTING.value: _l("Implementing"),
    CycleStage.YEARLY_REVIEW.value: _l("Yearly review"),
    CycleStage.CLOSED.value: _l("Closed"),
}
ROLE_LABELS = {
    CycleRole.LEAD_TEACHER.value: _l("Lead teacher"),
    CycleRole.TEAM_MEMBER.value: _l("Team member"),
    CycleRole.PARTNER.value: _l("Partner"),
    CycleRole.STAFF_LIAISON.value: _l("Staff liaison"),
}
ROLE_NEEDED = _l("Choose the person's role in the cycle.")


def role_choices() -> list[Any]:
    return choices((role.value, ROLE_LABELS[role.value]) for role in ROLE_ORDER)


class CycleForm(FlaskForm):
    school = SelectField(
        _l("School"),
        coerce=optional_id,
        validators=[InputRequired(message=SCHOOL_NEEDED)],
        validate_choice=False,  # the service says why a school cannot be chosen
        description=_l("Active schools only."),
    )
    school_year = StringField(
        _l("School year"),
        validators=[DataRequired(message=YEAR_SHAPE), Length(max=16, message=YEAR_SHAPE)],
        description=_l("Like 2026-27 (July to June)."),
        render_kw={"autocomplete": "off", "spellcheck": "false", "maxlength": 16},
    )


def _organisation_field() -> StringField:
    return StringField(
        _l("Organisation"),
        validators=[Optional(), Length(max=MAX_ORGANISATION, message=ORGANISATION_TOO_LONG)],
        description=_l("For a partner: the organisation they come from."),
        render_kw={"autocomplete": "organization", "maxlength": MAX_ORGANISATION},
    )


class MemberAddForm(FlaskForm):
    email = email_field(autocomplete="off")
    role = SelectField(
        _l("Role"), validators=[InputRequired(message=ROLE_NEEDED)], validate_choice=True
    )
    organisation = _organisation_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email.description = _l("The address of an existing account.")
        self.role.choices = [*choices([("", _l("Choose a role"))]), *role_choices()]


class MemberRoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), validators=[InputRequired(message=ROLE_NEEDED)], validate_choice=True
    )
    organisation = _organisation_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()


class YearForm(FlaskForm):
    class Meta:
        csrf = False  # a GET choice changes nothing

    year = SelectField(_l("School year"), validate_choice=False)


class OpenNextYearForm(FlaskForm):
    # Its own id: the year chooser above it on the same page is already "year".
    year = HiddenField(validators=[DataRequired(message=YEAR_SHAPE)], id="confirm-year")

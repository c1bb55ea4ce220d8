"""Forms for cohorts and their members."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from fellowship.cohorts.models import CohortRole, CohortStatus, MembershipStatus
from fellowship.forms import choices, email_field, language_choices
from fellowship.school_years import parse_label

STATUS_LABELS = {
    CohortStatus.PLANNING.value: _l("Planning"),
    CohortStatus.ACTIVE.value: _l("Active"),
    CohortStatus.COMPLETED.value: _l("Completed"),
    CohortStatus.ARCHIVED.value: _l("Archived"),
}
ROLE_LABELS = {
    CohortRole.FELLOW.value: _l("Fellow"),
    CohortRole.COACH.value: _l("Coach"),
    CohortRole.FACILITATOR.value: _l("Facilitator"),
    CohortRole.REVIEWER.value: _l("Reviewer"),
}
ROLE_PLURALS = {
    CohortRole.FELLOW.value: _l("Fellows"),
    CohortRole.COACH.value: _l("Coaches"),
    CohortRole.FACILITATOR.value: _l("Facilitators"),
    CohortRole.REVIEWER.value: _l("Reviewers"),
}
MEMBERSHIP_STATUS_LABELS = {
    MembershipStatus.ACTIVE.value: _l("Active"),
    MembershipStatus.WITHDRAWN.value: _l("Withdrawn"),
    MembershipStatus.COMPLETED.value: _l("Completed"),
}


def _school_year(form: Any, field: Any) -> None:
    if parse_label(field.data or "") is None:
        raise ValidationError(_l("Enter a school year like 2026-27."))


class CohortForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    school_year = StringField(
        _l("School year"),
        validators=[DataRequired(), _school_year],
        description=_l("Like 2026-27."),
    )
    starts_on = DateField(_l("Start date"), validators=[DataRequired()])
    ends_on = DateField(_l("End date"), validators=[DataRequired()])
    status = SelectField(_l("Status"), default=CohortStatus.PLANNING.value)
    checkin_rhythm_days = IntegerField(
        _l("Expected days between coaching check-ins"),
        default=14,
        validators=[DataRequired(), NumberRange(min=1, max=365)],
        description=_l("Pairs that go longer than this without a check-in are flagged."),
    )
    strands = TextAreaField(
        _l("Curriculum strands"),
        validators=[DataRequired(), Length(max=2000)],
        description=_l("One per line, in order. Renaming a line renames that strand."),
        render_kw={"rows": 5},
    )
    version = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.status.choices = choices(STATUS_LABELS.items())


class AddMemberForm(FlaskForm):
    email = email_field(autocomplete="off")
    name = StringField(
        _l("Name"),
        validators=[Optional(), Length(max=120)],
        description=_l("Needed only for someone without an account; they get an invitation."),
    )
    role = SelectField(_l("Role in this cohort"), default=CohortRole.FELLOW.value)
    locale = SelectField(_l("Language of the invitation"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = choices(ROLE_LABELS.items())
        self.locale.choices = language_choices()


class MembershipForm(FlaskForm):
    role = SelectField(_l("Role in this cohort"))
    status = SelectField(_l("Status"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = choices(ROLE_LABELS.items())
        self.status.choices = choices(MEMBERSHIP_STATUS_LABELS.items())


class CoachForm(FlaskForm):
    coach = SelectField(_l("Coach"), default="")

"""Forms for managing people and filtering the audit log."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from fellowship.forms import email_field, language_choices

ROLE_LABELS = {"admin": _l("Administrator"), "staff": _l("Staff"), "member": _l("Member")}


class InviteForm(FlaskForm):
    email = email_field(autocomplete="off")
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)])
    role = SelectField(
        _l("Role"),
        description=_l(
            "Members get their cohort and cycle roles from memberships. Staff run the program; "
            "administrators manage everything."
        ),
    )
    locale = SelectField(_l("Language of the invitation"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locale.choices = language_choices()


class RoleForm(FlaskForm):
    role = SelectField(_l("Global role"))


class PeopleFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Search by name or email"), validators=[Length(max=120)])
    role = SelectField(_l("Role"), default="")
    status = SelectField(_l("Status"), default="")


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    person = StringField(_l("Person (name or email)"), validators=[Length(max=120)])
    action = SelectField(_l("Action"), default="")
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

"""Forms for managing people and filtering the audit log."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from fellowship.forms import email_field, language_choices

ROLE_LABELS = {"admin": _l("Administrator"), "staff": _l("Staff"), "member": _l("Member")}

# How each audited action and outcome reads in the log (an unknown one shows its code).
ACTION_LABELS = {
    "admin_created": _l("Administrator created"),
    "attendance_recorded": _l("Took attendance"),
    "calendar_feed_rotated": _l("Made a new calendar address"),
    "capstone_decided": _l("Recorded a capstone decision"),
    "capstone_published": _l("Published a capstone to the practice library"),
    "capstone_settings_changed": _l("Changed capstone settings"),
    "capstone_submitted": _l("Submitted a capstone"),
    "capstone_withdrawn": _l("Withdrew a capstone from the practice library"),
    "checkin_logged": _l("Logged a check-in"),
    "checkin_shared": _l("Shared a check-in"),
    "checkin_updated": _l("Edited a check-in"),
    "coach_assigned": _l("Assigned a coach"),
    "cohort_archived": _l("Archived a cohort"),
    "cohort_created": _l("Created a cohort"),
    "cohort_member_added": _l("Added a person to a cohort"),
    "cohort_membership_changed": _l("Changed a cohort membership"),
    "cohort_updated": _l("Edited a cohort"),
    "convening_deleted": _l("Deleted a convening"),
    "curriculum_copied": _l("Copied a curriculum from another cohort"),
    "deactivate": _l("Deactivated a person"),
    "extension_granted": _l("Gave a due-date extension"),
    "extension_removed": _l("Removed a due-date extension"),
    "invitation_accepted": _l("Accepted an invitation"),
    "invite": _l("Invited a person"),
    "invite_resent": _l("Sent a new invitation"),
    "login": _l("Signed in"),
    "login_failed": _l("Failed sign-in"),
    "logout": _l("Signed out"),
    "logout_everywhere": _l("Signed out everywhere"),
    "module_deleted": _l("Deleted a curriculum module"),
    "outcome_recorded": _l("Recorded a graduate outcome"),
    "password_change": _l("Changed password"),
    "password_reset": _l("Reset password"),
    "password_reset_requested": _l("Asked for a password reset"),
    "reactivate": _l("Reactivated a person"),
    "recovery_code_used": _l("Used a recovery code"),
    "recovery_codes_regenerated": _l("Made new recovery codes"),
    "review_submitted": _l("Submitted a capstone review"),
    "reviewer_assigned": _l("Assigned a capstone reviewer"),
    "reviewer_unassigned": _l("Took a reviewer off a capstone"),
    "role_change": _l("Changed a role"),
    "roster_imported": _l("Imported a roster"),
    "rubric_changed": _l("Changed a capstone rubric"),
    "totp_disabled": _l("Turned off two-factor"),
    "totp_enabled": _l("Turned on two-factor"),
    "totp_failed": _l("Wrong two-factor code"),
}
OUTCOME_LABELS = {
    "success": _l("Success"),
    "failure": _l("Failure"),
    "replay": _l("Code used twice"),
    "unknown_address": _l("Unknown address"),
}


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

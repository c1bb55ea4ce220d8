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
    "announcement_sent": _l("Sent an announcement"),
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
    "cycle.driver_added": _l("Added a driver to a driver diagram"),
    "cycle.driver_deleted": _l("Deleted a driver and everything under it"),
    "cycle.driver_moved": _l("Moved a driver"),
    "cycle.driver_updated": _l("Edited a driver"),
    "cycle.engagement_deleted": _l("Deleted an engagement session"),
    "cycle.engagement_logged": _l("Logged an engagement session"),
    "cycle.engagement_updated": _l("Edited an engagement session"),
    "cycle.goal_created": _l("Added a cycle goal"),
    "cycle.goal_deleted": _l("Removed a cycle goal"),
    "cycle.goal_override_cleared": _l("Went back to a goal's computed status"),
    "cycle.goal_status_overridden": _l("Set a goal's status by hand"),
    "cycle.goal_updated": _l("Changed a cycle goal"),
    "cycle.measurement_deleted": _l("Removed a goal measurement"),
    "cycle.measurement_recorded": _l("Recorded a goal measurement"),
    "cycle.initiative_updated": _l("Edited a cycle's initiative"),
    "cycle.member_added": _l("Added a person to a cycle's team"),
    "cycle.member_changed": _l("Changed a cycle member's role"),
    "cycle.member_removed": _l("Took a person off a cycle's team"),
    "cycle.opened": _l("Opened a cycle"),
    "cycle.opened_next": _l("Opened next year's cycle from last year's"),
    "cycle.pdsa_created": _l("Added an improvement test"),
    "cycle.pdsa_updated": _l("Edited an improvement test"),
    "cycle.portfolio_exported": _l("Exported the school cycles portfolio (CSV)"),
    "cycle.review_amendment_started": _l("Started an amendment of a signed goals review"),
    "cycle.review_packet_downloaded": _l("Downloaded a goals review packet (PDF)"),
    "cycle.review_packet_sent": _l("Told the other side of a goals review its packet is ready"),
    "cycle.review_rescheduled": _l("Changed a goals review's date, place or participants"),
    "cycle.review_scheduled": _l("Scheduled a yearly goals review"),
    "cycle.review_signature_withdrawn": _l(
        "Withdrew a goals review signature (the record changed)"
    ),
    "cycle.review_signed": _l("Signed a goals review"),
    "cycle.stage_changed": _l("Moved a cycle to another stage"),
    "cycle.support_deleted": _l("Removed a support entry"),
    "cycle.support_exported": _l("Exported the support report (CSV)"),
    "cycle.support_logged": _l("Logged support given to a school"),
    "cycle.support_updated": _l("Changed a support entry"),
    "integration.counts_imported": _l("Imported enrollment counts"),
    "integration.federal_exported": _l("Exported the federal-report table (CSV)"),
    "integration.indicators_exported": _l("Exported the integration indicators (CSV)"),
    "integration.objective_set": _l("Set a magnet school's integration objective"),
    "integration.settings_changed": _l("Changed the integration settings"),
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
    "outbox_retried": _l("Sent an email again from the outbox"),
    "outbox_retried_all": _l("Sent every failed email again"),
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
    "school.created": _l("Added a school"),
    "school.imported": _l("Imported schools from a CSV file"),
    "school.updated": _l("Edited a school"),
    "test_email_sent": _l("Sent a test email"),
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

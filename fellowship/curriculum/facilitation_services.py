"""Facilitation rules: feedback on reflections, and per-fellow due-date extensions.

Services flush, audit and notify; the view commits. The first feedback on a reflection
notifies the fellow once (in the app, and by email in their language as their preferences
say); changing the feedback later updates it without another notification. Extensions are
audited: who gave which fellow how long, and what the date was before.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit
from fellowship.auth.models import User
from fellowship.cohorts.models import CohortMembership, CohortRole, MembershipStatus
from fellowship.curriculum.models import (
    DueDateExtension,
    ItemProgress,
    Module,
    ModuleItem,
)
from fellowship.db import db, utcnow
from fellowship.notifications.services import app_path, notify

MAX_FEEDBACK = 20_000
MAX_REASON = 500

FEEDBACK_NEEDED = _l("Write your feedback before saving it.")
FEEDBACK_TOO_LONG = _l("Feedback can be at most 20,000 characters.")
NOT_SUBMITTED = _l("This reflection is not submitted, so it cannot have feedback yet.")
FELLOW_CHANGED = _l(
    "The fellow changed their reflection after you opened it; read the new version below. "
    "Your feedback was not saved: it is still in the box, so you can adjust it and save again."
)
FEEDBACK_CHANGED = _l(
    "Someone saved feedback on this reflection after you opened it; it is shown below. "
    "Your feedback was not saved: it is still in the box. Save again to replace theirs."
)
NO_DUE_DATE = _l(
    "This module has no due date, so there is nothing to extend. Give the module a due date "
    "first if fellows need one."
)
CHOOSE_FELLOW = _l("Choose one of the cohort's active fellows.")
REASON_TOO_LONG = _l("The reason can be at most 500 characters.")


class CurriculumError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleReflection(CurriculumError):
    """The reflection (or its feedback) changed after the facilitator opened the form."""


# Feedback ---------------------------------------------------------------------------------


def _stale_message(progress: ItemProgress) -> str:
    """Who changed it: feedback saved after the fellow's last change, or the fellow."""
    last_by_fellow = max(
        (moment for moment in (progress.submitted_at, progress.response_saved_at) if moment),
        default=None,
    )
    if progress.feedback_at is not None and (
        last_by_fellow is None or progress.feedback_at >= last_by_fellow
    ):
        return str(FEEDBACK_CHANGED)
    return str(FELLOW_CHANGED)


def give_feedback(
    actor: User, progress: ItemProgress, text: str, expected_version: int | None
) -> bool:
    """Save `actor`'s feedback on a submitted reflection, opened at `expected_version`.

    Returns True for the first feedback on the reflection (the fellow is notified), False
    when it replaces earlier feedback (nobody is). Raises StaleReflection when the reflection
    or its feedback changed since the form was opened.
    """
    text = (text or "").strip()
    if not text:
        raise CurriculumError("feedback", str(FEEDBACK_NEEDED))
    if len(text) > MAX_FEEDBACK:
        raise CurriculumError("feedback", str(FEEDBACK_TOO_LONG))
    if progress.submitted_at is None:
        raise CurriculumError("feedback", str(NOT_SUBMITTED))
    if expected_version != progress.version:
        raise StaleReflection("feedback", _stale_message(progress))
    first = progress.feedback_at is None
    progress.feedback_md = text
    progress.feedback_by_id = actor.id
    progress.feedback_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError as error:  # a save committed between our read and our write
        raise StaleReflection("feedback", str(FELLOW_CHANGED)) from error
    if first:
        _tell_fellow(actor, progress)
    return first


def _tell_fellow(actor: User, progress: ItemProgress) -> None:
    """One notification per reflection, ever (the dedupe key), in the fellow's language."""
    fellow = db.session.get(User, progress.fellow_id)
    item = db.session.get(ModuleItem, progress.item_id)
    assert fellow is not None
    assert item is not None
    module = db.session.get(Module, item.module_id)
    assert module is not None
    notify(
        fellow,
        "curriculum/feedback_given",
        key=f"curriculum-feedback-{progress.id}",
        link=app_path("curriculum.module", module_id=module.id, _anchor=f"item-{item.id}"),
        facilitator=actor.name,
        module_title=module.title,
        item_title=item.title,
        submitted_at=progress.submitted_at,
    )


# Extensions -------------------------------------------------------------------------------


def _active_fellow(module: Module, fellow_id: int) -> bool:
    found = db.session.scalar(
        sa.select(sa.func.count(CohortMembership.id)).where(
            CohortMembership.cohort_id == module.cohort_id,
            CohortMembership.user_id == fellow_id,
            CohortMembership.role == CohortRole.FELLOW,
            CohortMembership.status == MembershipStatus.ACTIVE,
        )
    )
    return bool(found)


def check_extension(
    module: Module, fellow_id: int | None, due_on: date | None, reason: str
) -> None:
    """The rules of an extension, field by field (raises CurriculumError)."""
    if module.due_on is None:
        raise CurriculumError("due_on", str(NO_DUE_DATE))
    if fellow_id is None or not _active_fellow(module, fellow_id):
        raise CurriculumError("fellow", str(CHOOSE_FELLOW))
    if due_on is None or due_on <= module.due_on:
        message = _(
            "Choose a date after the module's due date, %(date)s.",
            date=format_date(module.due_on, "long"),
        )
        raise CurriculumError("due_on", message)
    if len(reason) > MAX_REASON:
        raise CurriculumError("reason", str(REASON_TOO_LONG))


def grant_extension(
    actor: User, module: Module, fellow_id: int, due_on: date, reason: str = ""
) -> DueDateExtension:
    """Give one fellow a later due date on `module`; a second grant replaces the first."""
    reason = (reason or "").strip()
    check_extension(module, fellow_id, due_on, reason)
    extension = db.session.scalar(
        sa.select(DueDateExtension).where(
            DueDateExtension.module_id == module.id, DueDateExtension.fellow_id == fellow_id
        )
    )
    old_due_on = extension.due_on if extension is not None else None
    if extension is None:
        extension = DueDateExtension(module_id=module.id, fellow_id=fellow_id)
        db.session.add(extension)
    extension.due_on = due_on
    extension.reason = reason
    extension.granted_by_id = actor.id
    extension.created_at = utcnow()  # when the current date was granted
    db.session.flush()
    audit.record(
        actor,
        "extension_granted",
        extension,
        details={
            "cohort_id": module.cohort_id,
            "module_id": module.id,
            "fellow_id": fellow_id,
            "module_due_on": module.due_on.isoformat() if module.due_on else None,
            "old_due_on": old_due_on.isoformat() if old_due_on else None,
            "new_due_on": due_on.isoformat(),
        },
    )
    return extension


def remove_extension(actor: User, extension: DueDateExtension) -> None:
    """Back to the module's due date for that fellow."""
    module = db.session.get(Module, extension.module_id)
    assert module is not None
    audit.record(
        actor,
        "extension_removed",
        extension,
        details={
            "cohort_id": module.cohort_id,
            "module_id": module.id,
            "fellow_id": extension.fellow_id,
            "old_due_on": extension.due_on.isoformat(),
            "module_due_on": module.due_on.isoformat() if module.due_on else None,
        },
    )
    db.session.delete(extension)
    db.session.flush()

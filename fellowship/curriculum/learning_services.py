"""A fellow's work on a module: mark items done, write, save and submit reflections.

Who may do this (an active fellow, in a released module whose prerequisites are complete,
in a cohort that is not archived) is `policy.can_work_on_module`, asked by the view; these
services keep the rules of the work itself. They flush and never commit.

A fellow's progress on an item is one row (unique item × fellow). It is looked up first
and created when missing; two clicks racing to create it meet the unique constraint, and
the app answers the loser with 409 ("someone else saved at the same moment").
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from fellowship.auth.models import User
from fellowship.curriculum.models import ItemKind, ItemProgress, ModuleItem
from fellowship.db import db, utcnow

MAX_REFLECTION_CHARS = 20_000

EMPTY_REFLECTION = _l("Write your reflection before submitting it.")
EMPTY_SUBMITTED = _l(
    "A submitted reflection cannot be empty. Write your reflection, then save your changes."
)
NOTHING_TO_SAVE = _l("There is nothing to save yet: write your reflection first.")
TOO_LONG = _l("A reflection can be at most 20,000 characters long.")
HAS_FEEDBACK = _l(
    "Your facilitator has already given feedback on this reflection, so it can no longer be "
    "changed."
)
FEEDBACK_MEANWHILE = _l(
    "Your facilitator gave feedback on this reflection while you were writing, so it can no "
    "longer be changed. What you typed was not saved: it is still in the box below, so you "
    "can copy it."
)
STALE_MESSAGE = _l(
    "This reflection was saved in another tab or window while you were writing. What you "
    "typed was not saved: it is still in the box below, and the saved version is shown above "
    "it. Save again to replace the saved version with yours."
)
SAME_MOMENT = _l("This item was changed at the same moment in another tab. Try again.")
REFLECTION_NOT_TICKED = _l("A reflection is done once you submit it.")
NOT_A_REFLECTION = _l("This item is not a reflection.")


class CurriculumError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleReflection(CurriculumError):
    """The reflection changed after the form was opened (another tab, or feedback given)."""


def _progress(fellow: User, item: ModuleItem) -> ItemProgress | None:
    return db.session.scalar(
        sa.select(ItemProgress).where(
            ItemProgress.item_id == item.id, ItemProgress.fellow_id == fellow.id
        )
    )


def _progress_or_new(fellow: User, item: ModuleItem) -> ItemProgress:
    row = _progress(fellow, item)
    if row is None:
        row = ItemProgress(item_id=item.id, fellow_id=fellow.id)
        db.session.add(row)
    return row


def mark_item_done(fellow: User, item: ModuleItem, done: bool) -> ItemProgress:
    """Mark a reading, link, file or video done (or not done again) for the fellow.

    Reflections are done by submitting them (`save_reflection`), never by a tick.
    """
    if item.kind == ItemKind.REFLECTION:
        raise CurriculumError(str(REFLECTION_NOT_TICKED))
    row = _progress_or_new(fellow, item)
    if done and row.completed_at is None:
        row.completed_at = utcnow()
    elif not done and row.completed_at is not None:
        row.completed_at = None
    try:
        db.session.flush()
    except StaleDataError as error:
        raise CurriculumError(str(SAME_MOMENT)) from error
    return row


def save_reflection(
    fellow: User,
    item: ModuleItem,
    text: str,
    submit: bool,
    expected_version: int | None,
) -> ItemProgress:
    """Save the fellow's reflection as a draft, or submit it.

    `expected_version` is the version of the fellow's progress row when the form was
    opened (None when there was none yet); a different version now means it was saved
    elsewhere meanwhile, and nothing is written. The first submission sets `submitted_at`
    and `completed_at`; later saves keep it submitted and update `response_saved_at`. Once
    a facilitator has given feedback, the reflection can no longer be changed.
    """
    if item.kind != ItemKind.REFLECTION:
        raise CurriculumError(str(NOT_A_REFLECTION))
    text = (text or "").strip()
    row = _progress(fellow, item)
    current = row.version if row is not None else None
    if row is not None and row.feedback_at is not None:
        if expected_version != current:
            raise StaleReflection(str(FEEDBACK_MEANWHILE), "response")
        raise CurriculumError(str(HAS_FEEDBACK), "response")
    if expected_version != current:
        raise StaleReflection(str(STALE_MESSAGE), "response")
    if len(text) > MAX_REFLECTION_CHARS:
        raise CurriculumError(str(TOO_LONG), "response")
    submitted = row is not None and row.submitted_at is not None
    if not text and submitted:
        raise CurriculumError(str(EMPTY_SUBMITTED), "response")
    if not text and submit:
        raise CurriculumError(str(EMPTY_REFLECTION), "response")
    if not text and row is None:
        raise CurriculumError(str(NOTHING_TO_SAVE), "response")
    if row is None:
        row = ItemProgress(item_id=item.id, fellow_id=fellow.id)
        db.session.add(row)
    now = utcnow()
    row.response_md = text
    row.response_saved_at = now
    if submit and not submitted:
        row.submitted_at = now
        row.completed_at = now
    try:
        db.session.flush()
    except StaleDataError as error:  # saved elsewhere between our read and our write
        raise StaleReflection(str(STALE_MESSAGE), "response") from error
    return row

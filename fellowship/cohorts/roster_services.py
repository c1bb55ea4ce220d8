"""Roster import: keep the upload between preview and confirm, plan it, apply it all at once.

The upload is stored under `UPLOAD_DIR/imports/` with a server-made name (written to a
temporary file, then renamed), read back at confirm and checked against its sha256, and
deleted once applied; uploads older than a day are removed when a new one arrives.

`apply_plan` writes with a few bulk statements (10,000 people in seconds), flushes and
audits; the view commits once, so an error anywhere leaves nothing written.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from fellowship import audit
from fellowship.auth import services as accounts
from fellowship.auth.models import Role, User
from fellowship.cohorts import roster
from fellowship.cohorts.models import (
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    MembershipStatus,
)
from fellowship.db import db, utcnow

IMPORT_DIR = "imports"
STALE_AFTER = timedelta(days=1)
# Invitations for imports larger than this are sent by `flask outbox deliver` (cron) rather
# than right after the response, so a big import does not keep a worker busy mailing.
DELIVER_NOW_LIMIT = 100
_STORED_NAME = re.compile(r"^[0-9a-f]{32}\.(csv|zip)$")


class RosterImportError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# The stored upload --------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredUpload:
    name: str
    sha256: str


def imports_dir(*, create: bool = False) -> Path:
    directory = Path(current_app.config["UPLOAD_DIR"]) / IMPORT_DIR
    if create:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def purge_stale_uploads(*, older_than: timedelta = STALE_AFTER) -> int:
    """Remove uploads (and half-written temporary files) older than a day."""
    cutoff = (utcnow() - older_than).timestamp()
    removed = 0
    directory = imports_dir()
    if not directory.is_dir():
        return 0
    for path in directory.iterdir():
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


def store_upload(data: bytes, kind: str) -> StoredUpload:
    """Write the upload under a new random name: a temporary file first, then renamed."""
    purge_stale_uploads()
    directory = imports_dir(create=True)
    name = f"{uuid.uuid4().hex}.{'zip' if kind == roster.ONEROSTER else 'csv'}"
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, directory / name)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    return StoredUpload(name=name, sha256=hashlib.sha256(data).hexdigest())


def read_upload(name: str, sha256: str) -> bytes:
    gone = _("This import has already been applied or has expired. Upload the file again.")
    if not isinstance(name, str) or not _STORED_NAME.fullmatch(name):
        raise RosterImportError(gone)
    try:
        data = (imports_dir() / name).read_bytes()
    except FileNotFoundError as error:
        raise RosterImportError(gone) from error
    if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), str(sha256)):
        raise RosterImportError(_("The stored file has changed. Upload the file again."))
    return data


def delete_upload(name: str) -> None:
    if isinstance(name, str) and _STORED_NAME.fullmatch(name):
        (imports_dir() / name).unlink(missing_ok=True)


# Planning -----------------------------------------------------------------------------------


def plan_import(
    cohort: Cohort,
    data: bytes,
    *,
    kind: str = roster.AUTO,
    file_label: str = "roster.csv",
    class_id: str = "",
    may_grant_staff: bool,
    default_locale: str = "en",
) -> roster.Plan:
    """Read the file and compare it with the cohort (reads only; raises RosterFileError)."""
    reading = roster.read_roster(
        data,
        kind=kind,
        file_label=file_label,
        class_id=class_id,
        max_uncompressed=10 * int(current_app.config["ROSTER_MAX_BYTES"]),
    )
    state = roster.load_state(cohort.id, (entry.email for entry in reading.entries))
    return roster.plan_roster(
        reading,
        state,
        may_grant_staff=may_grant_staff,
        default_locale=default_locale,
        locales=current_app.config["LANGUAGES"],
    )


# Applying -----------------------------------------------------------------------------------


def _chunks(values: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _end_current(cohort_id: int, column: Any, ids: list[int]) -> None:
    """End today the current coach assignments of these fellows (or of these coaches)."""
    today = utcnow().date()
    for chunk in _chunks(sorted(set(ids))):
        db.session.execute(
            sa.update(CoachAssignment)
            .where(
                CoachAssignment.cohort_id == cohort_id,
                CoachAssignment.ends_on.is_(None),
                column.in_(chunk),
            )
            .values(ends_on=today)
            .execution_options(synchronize_session=False)
        )


def apply_plan(
    actor: User, cohort: Cohort, plan: roster.Plan, *, file_label: str = "", kind: str = ""
) -> dict[str, int]:
    """Apply a plan without errors in a few bulk statements; flushes and audits, never commits.

    The same rules as one-by-one changes: new people are invited (one email each, through
    the outbox); a fellow who stops being an active fellow, or a coach who stops being an
    active coach, has their current coaching ended today; a new coach for a fellow ends the
    current assignment and starts a new one, so the history is kept.
    """
    if not plan.ok:
        raise RosterImportError(_("The file has errors: nothing was imported."))
    today = utcnow().date()
    new_ids = accounts.invite_many(
        actor,
        [
            accounts.Invitee(
                email=person.email,
                name=person.name,
                role=Role.STAFF if person.staff else Role.MEMBER,
                locale=person.locale,
            )
            for person in plan.people_to_create
        ],
        deliver_now=len(plan.people_to_create) <= DELIVER_NOW_LIMIT,
    )

    def user_id(email: str, known: int | None) -> int:
        return known if known is not None else new_ids[email]

    if plan.memberships_to_add:
        db.session.execute(
            sa.insert(CohortMembership),
            [
                {
                    "cohort_id": cohort.id,
                    "user_id": user_id(add.email, add.user_id),
                    "role": add.role,
                    "status": add.status,
                    "joined_on": today,
                }
                for add in plan.memberships_to_add
            ],
        )

    if plan.changes:
        active = MembershipStatus.ACTIVE
        _end_current(
            cohort.id,
            CoachAssignment.fellow_id,
            [
                change.user_id
                for change in plan.changes
                if change.role_from == CohortRole.FELLOW
                and (change.role_to, change.status_to) != (CohortRole.FELLOW, active)
            ],
        )
        _end_current(
            cohort.id,
            CoachAssignment.coach_id,
            [
                change.user_id
                for change in plan.changes
                if change.role_from == CohortRole.COACH
                and (change.role_to, change.status_to) != (CohortRole.COACH, active)
            ],
        )
        db.session.execute(
            sa.update(CohortMembership),
            [
                {"id": change.membership_id, "role": change.role_to, "status": change.status_to}
                for change in plan.changes
            ],
        )

    if plan.coach_changes:
        _end_current(
            cohort.id,
            CoachAssignment.fellow_id,
            [change.fellow_id for change in plan.coach_changes if change.fellow_id is not None],
        )
        db.session.execute(
            sa.insert(CoachAssignment),
            [
                {
                    "cohort_id": cohort.id,
                    "fellow_id": user_id(change.fellow_email, change.fellow_id),
                    "coach_id": user_id(change.coach_email, change.coach_id),
                    "starts_on": today,
                    "ends_on": None,
                    "assigned_by_id": actor.id,
                }
                for change in plan.coach_changes
            ],
        )

    counts = plan.counts()
    del counts["errors"]
    audit.record(
        actor,
        "roster_imported",
        cohort,
        details={**counts, "kind": kind, "file": file_label[:120]},
    )
    db.session.flush()
    return counts

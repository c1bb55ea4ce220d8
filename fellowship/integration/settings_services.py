"""The district's integration settings: which groups count as "minority" and the small-cell
threshold N. One row (id 1) holds them; while it does not exist, the defaults apply.

Two admins may edit the settings at once: the form carries the row's version (0 while there
is no row), and a save over someone else's change is refused with `StaleSettings`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit
from fellowship.auth.models import User
from fellowship.db import db, utcnow
from fellowship.integration.models import (
    DEFAULT_MINORITY,
    DEFAULT_THRESHOLD,
    MINORITY_CHOICES,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
    Group,
    IntegrationSettings,
)

SETTINGS_ID = 1

MINORITY_NEEDED = _l("Choose at least one group to count as minority.")
WHITE_NEVER = _l(
    "White students are never counted as minority: every figure compares the minority groups "
    "with white students."
)
UNKNOWN_NEVER = _l(
    "Students whose race or ethnicity is unknown are left out of every share, so they cannot "
    "be counted as minority."
)
GROUP_UNKNOWN = _l("Choose only groups from the list.")
THRESHOLD_NEEDED = _l("Enter the small-cell threshold N, a whole number such as 10.")
THRESHOLD_NOT_NUMBER = _l("Enter N as a whole number, such as 10.")
THRESHOLD_RANGE = _l("N must be from %(low)d to %(high)d.", low=THRESHOLD_MIN, high=THRESHOLD_MAX)
STALE_SETTINGS = _l(
    "Someone changed the settings while you were editing them. Nothing was saved. The saved "
    "settings are shown below, and the form still has what you chose: save again to put "
    "yours in place."
)


class SettingsError(Exception):
    """A rule refused the settings; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleSettings(SettingsError):
    """The settings changed after the form was opened."""


@dataclass
class SettingsData:
    """What the settings form says, as typed."""

    minority: Sequence[str]
    threshold: str
    version: int | None  # the row's version when the form was opened; 0 for "no row yet"


@dataclass(frozen=True)
class Saved:
    """The settings as they are: the row's values, or the defaults while there is no row."""

    minority: tuple[Group, ...]
    threshold: int
    version: int  # 0 while there is no row
    updated_at: Any = None
    updated_by: str | None = None


def settings_row() -> IntegrationSettings | None:
    return db.session.get(IntegrationSettings, SETTINGS_ID)


def saved() -> Saved:
    """The settings as they are now (two queries at most)."""
    row = settings_row()
    if row is None:
        return Saved(DEFAULT_MINORITY, DEFAULT_THRESHOLD, 0)
    by = db.session.get(User, row.updated_by_id) if row.updated_by_id else None
    return Saved(
        row.minority,
        row.suppression_threshold,
        row.version,
        row.updated_at,
        by.name if by is not None else None,
    )


def parse_threshold(text: str) -> int:
    cleaned = (text or "").strip()
    if not cleaned:
        raise SettingsError("threshold", str(THRESHOLD_NEEDED))
    if len(cleaned) > 6 or not (cleaned.isascii() and cleaned.isdigit()):
        raise SettingsError("threshold", str(THRESHOLD_NOT_NUMBER))
    value = int(cleaned)
    if not THRESHOLD_MIN <= value <= THRESHOLD_MAX:
        raise SettingsError("threshold", str(THRESHOLD_RANGE))
    return value


def parse_minority(values: Sequence[str]) -> tuple[Group, ...]:
    """The chosen groups, in the fixed order of `MINORITY_CHOICES`."""
    chosen = {str(value) for value in values}
    if Group.WHITE.value in chosen:
        raise SettingsError("minority", str(WHITE_NEVER))
    if Group.UNKNOWN.value in chosen:
        raise SettingsError("minority", str(UNKNOWN_NEVER))
    if chosen - {g.value for g in MINORITY_CHOICES}:
        raise SettingsError("minority", str(GROUP_UNKNOWN))
    if not chosen:
        raise SettingsError("minority", str(MINORITY_NEEDED))
    return tuple(g for g in MINORITY_CHOICES if g.value in chosen)


def _described(minority: Sequence[Group], threshold: int) -> dict[str, Any]:
    return {"minority_groups": [g.value for g in minority], "threshold": threshold}


def save_settings(actor: User, data: SettingsData) -> bool:
    """Save the settings made on the form opened at `data.version`: True when anything
    changed. Creates the row on the first save. Flushes and audits
    (`integration.settings_changed`, with before and after), never commits."""
    row = settings_row()
    current_version = row.version if row is not None else 0
    if data.version != current_version:
        raise StaleSettings(None, str(STALE_SETTINGS))
    minority = parse_minority(data.minority)
    threshold = parse_threshold(data.threshold)
    if row is None:
        before = _described(DEFAULT_MINORITY, DEFAULT_THRESHOLD)
    else:
        before = _described(row.minority, row.suppression_threshold)
    after = _described(minority, threshold)
    if before == after:
        return False
    text = ",".join(g.value for g in minority)
    if row is None:
        row = IntegrationSettings(
            id=SETTINGS_ID,
            minority_groups=text,
            suppression_threshold=threshold,
            updated_by_id=actor.id,
        )
        try:
            with db.session.begin_nested():  # another admin created it a moment ago
                db.session.add(row)
        except sa.exc.IntegrityError as error:
            raise StaleSettings(None, str(STALE_SETTINGS)) from error
    else:
        row.minority_groups = text
        row.suppression_threshold = threshold
        row.updated_by_id = actor.id
        row.updated_at = utcnow()
        try:
            db.session.flush()
        except StaleDataError as error:  # a save committed between our read and our write
            raise StaleSettings(None, str(STALE_SETTINGS)) from error
    audit.record(
        actor, "integration.settings_changed", row, details={"before": before, "after": after}
    )
    return True

"""Magnet schools' integration objectives: set one from a school year on, and read a school's
history of them.

An objective counts from its `effective_from` year until a later one replaces it. Setting an
objective from a year that already has one changes that one; an objective from another year
is never touched, so the history stays. Two people may set a school's objective at the same
time: the form carries the school's objectives as they were when it was opened (`revision`),
and a save over someone else's change is refused with `StaleObjectives`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from fellowship import audit
from fellowship.auth.models import User
from fellowship.cycles.models import School
from fellowship.db import db
from fellowship.integration.models import DEFAULT_BAND_K, IntegrationObjective, ObjectiveKind
from fellowship.integration.objective_forms import KIND_NEEDED, MAX_NOTE, NOTE_TOO_LONG, YEAR_NEEDED
from fellowship.school_years import SchoolYear

# k is typed in percentage points ("15" is 0.15), above 0 and at most 50, one decimal at most
# (the column keeps three decimals of a share).
BAND_K_MAX_POINTS = Decimal(50)
BAND_K_NEEDED = _l("Enter the band width k in percentage points, for example 15.")
BAND_K_NOT_NUMBER = _l(
    "Enter k as a number of percentage points, like 15 or 12.5 (no percent sign needed)."
)
BAND_K_RANGE = _l("k must be more than 0 and at most 50 percentage points.")
BAND_K_PLACES = _l("Give k with at most one decimal, like 12.5.")
NOT_MAGNET = _l(
    "Objectives are set for magnet schools only, and this school is not a magnet school."
)
STALE_OBJECTIVE = _l(
    "Someone changed this school's objectives while you were editing. Nothing was saved. "
    "The objectives as they are now are shown below, and the form still has what you typed: "
    "save again to put yours in place."
)


class ObjectiveError(Exception):
    """A rule refused the objective; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleObjectives(ObjectiveError):
    """The school's objectives changed after the form was opened."""


@dataclass
class ObjectiveData:
    """What the objective form says, as typed."""

    kind: str
    band_k: str  # percentage points, as typed ("15")
    year_id: int | None
    note: str = ""
    revision: str = ""  # `revision(school_id)` when the form was opened


@dataclass(frozen=True)
class HistoryEntry:
    objective: IntegrationObjective
    year_label: str
    year_starts_on: date
    set_by: str | None  # the person's name; None when unknown (account removed, demo data)


# Reading -------------------------------------------------------------------------------------


def history(school_id: int) -> list[HistoryEntry]:
    """The school's objectives, the latest school year first (one query)."""
    rows = db.session.execute(
        sa.select(IntegrationObjective, SchoolYear.label, SchoolYear.starts_on, User.name)
        .join(SchoolYear, SchoolYear.id == IntegrationObjective.effective_from_year_id)
        .outerjoin(User, User.id == IntegrationObjective.set_by_id)
        .where(IntegrationObjective.school_id == school_id)
        .order_by(SchoolYear.starts_on.desc())
    ).all()
    return [HistoryEntry(*row) for row in rows]


def _fingerprint(rows: list[tuple[Any, ...]]) -> str:
    return hashlib.sha256(repr(sorted(rows)).encode()).hexdigest()[:32]


def revision(school_id: int) -> str:
    """A short fingerprint of the school's objectives: it changes whenever one is added or
    changed, so a form opened before that is known to be stale."""
    rows = db.session.execute(
        sa.select(
            IntegrationObjective.id,
            IntegrationObjective.effective_from_year_id,
            IntegrationObjective.kind,
            IntegrationObjective.band_k,
            IntegrationObjective.note,
            IntegrationObjective.updated_at,
        ).where(IntegrationObjective.school_id == school_id)
    ).all()
    return _fingerprint([_stable(row) for row in rows])


def _stable(row: Any) -> tuple[Any, ...]:
    ident, year_id, kind, band_k, note, updated_at = row
    stamp = updated_at.replace(tzinfo=None).isoformat() if isinstance(updated_at, datetime) else ""
    return (ident, year_id, str(kind), points(band_k), note, stamp)


def points(band_k: Decimal | float | None) -> str:
    """k as the percentage points people type and read: Decimal("0.150") -> "15"."""
    if band_k is None:
        return ""
    value = (Decimal(str(band_k)) * 100).quantize(Decimal("0.1"))
    return format(value.normalize(), "f")


# Checking ------------------------------------------------------------------------------------


def parse_band_k(text: str) -> Decimal:
    """Percentage points as typed ("15", "12.5", "15 %", "15,5") -> a share (Decimal("0.150"));
    ObjectiveError on the band_k field otherwise."""
    cleaned = (text or "").strip().removesuffix("%").strip().replace(",", ".")
    if not cleaned:
        raise ObjectiveError("band_k", str(BAND_K_NEEDED))
    if len(cleaned) > 8 or not all(
        ch.isascii() and (ch.isdigit() or ch in ".-+") for ch in cleaned
    ):
        raise ObjectiveError("band_k", str(BAND_K_NOT_NUMBER))
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:
        raise ObjectiveError("band_k", str(BAND_K_NOT_NUMBER)) from error
    if not value.is_finite():
        raise ObjectiveError("band_k", str(BAND_K_NOT_NUMBER))
    if not Decimal(0) < value <= BAND_K_MAX_POINTS:
        raise ObjectiveError("band_k", str(BAND_K_RANGE))
    if value != value.quantize(Decimal("0.1")):
        raise ObjectiveError("band_k", str(BAND_K_PLACES))
    return (value / 100).quantize(Decimal("0.001"))


@dataclass(frozen=True)
class _Clean:
    kind: ObjectiveKind
    band_k: Decimal
    year: SchoolYear
    note: str


def _clean(data: ObjectiveData) -> _Clean:
    try:
        kind = ObjectiveKind(data.kind)
    except ValueError as error:
        raise ObjectiveError("kind", str(KIND_NEEDED)) from error
    # k only means something for the relative band; the other kinds keep the default.
    band_k = parse_band_k(data.band_k) if kind == ObjectiveKind.RELATIVE_BAND else DEFAULT_BAND_K
    year = db.session.get(SchoolYear, data.year_id) if data.year_id is not None else None
    if year is None:
        raise ObjectiveError("year", str(YEAR_NEEDED))
    note = (data.note or "").strip()
    if len(note) > MAX_NOTE:
        raise ObjectiveError("note", str(NOTE_TOO_LONG))
    return _Clean(kind, band_k, year, note)


# Saving --------------------------------------------------------------------------------------


def _described(objective: IntegrationObjective) -> dict[str, Any]:
    return {
        "kind": str(objective.kind),
        "band_k": points(objective.band_k)
        if objective.kind == ObjectiveKind.RELATIVE_BAND
        else None,
        "note": objective.note,
    }


def set_objective(
    actor: User, school: School, data: ObjectiveData
) -> tuple[IntegrationObjective, bool]:
    """Set the school's objective from the chosen year on: (the objective, whether anything
    changed). Flushes and audits (`integration.objective_set`), never commits."""
    if not school.is_magnet:
        raise ObjectiveError(None, str(NOT_MAGNET))
    # One person at a time sets a school's objectives (PostgreSQL; SQLite writes one at a
    # time anyway): the second waits here, then sees the first one's change as stale.
    db.session.execute(sa.select(School.id).where(School.id == school.id).with_for_update())
    if data.revision != revision(school.id):
        raise StaleObjectives(None, str(STALE_OBJECTIVE))
    clean = _clean(data)
    objective = db.session.scalar(
        sa.select(IntegrationObjective).where(
            IntegrationObjective.school_id == school.id,
            IntegrationObjective.effective_from_year_id == clean.year.id,
        )
    )
    before = _described(objective) if objective is not None else None
    if objective is None:
        objective = IntegrationObjective(school_id=school.id, effective_from_year_id=clean.year.id)
        db.session.add(objective)
    objective.kind = clean.kind
    objective.band_k = clean.band_k
    objective.note = clean.note
    after = _described(objective)
    if before == after:
        return objective, False
    objective.set_by_id = actor.id
    db.session.flush()
    audit.record(
        actor,
        "integration.objective_set",
        objective,
        details={
            "school_id": school.id,
            "school_code": school.code,
            "year": clean.year.label,
            "before": before,
            "after": after,
        },
    )
    return objective, True

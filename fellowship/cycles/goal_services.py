"""Goal rules: goals (add, change, remove), a status set by hand, and measurements.

Services flush and audit; the view commits once. Goals carry a version (optimistic lock):
an edit, an override or clearing one made on a form opened at an older version is refused
with `StaleGoal` and changes nothing. Recording or removing a measurement does not touch the
goal row, so it never makes somebody's open goal form stale.

Numbers people type go through `parse_number`: a point or a comma as the decimal separator
("18.5", "18,5"), thousands grouped with the other one ("1,234.5", "1.234,5"), never NaN or
infinity, and never beyond ±1e12.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from fellowship import audit, uploads
from fellowship.auth.models import User
from fellowship.curriculum.services import url_problem
from fellowship.cycles.models import Goal, GoalCategory, GoalDirection, GoalStatus, Measurement
from fellowship.cycles.queries import CycleContext
from fellowship.db import db, utcnow
from fellowship.forms import EARLIEST_DATE
from fellowship.web import format_number

MAX_TITLE = 200
MAX_METRIC = 300
MAX_UNIT = 40
MAX_NOTE = 5000
MAX_REASON = 2000
MAX_NUMBER = 1e12
MAX_NUMBER_TEXT = 40
# A measurement may be dated up to this long after today (time zones, a late-evening entry).
FUTURE_SLACK = timedelta(days=1)

ENTER_NUMBER = _l("Enter a number, like 18.5 (a comma works too: 18,5).")
NUMBER_OUT_OF_RANGE = _l(
    "Enter a number between -1,000,000,000,000 and 1,000,000,000,000 (a trillion)."
)
NUMBER_AMBIGUOUS = _l(
    "“%(text)s” can be read two ways. Write it without the comma for a whole number "
    "(%(whole)s), or with a point for a decimal (%(decimal)s)."
)
TITLE_NEEDED = _l("Enter a title for the goal.")
TITLE_TOO_LONG = _l("Keep the title to 200 characters or fewer.")
METRIC_NEEDED = _l("Say what is measured, and how.")
METRIC_TOO_LONG = _l("Keep the metric to 300 characters or fewer.")
UNIT_TOO_LONG = _l("Keep the unit to 40 characters or fewer.")
CATEGORY_NEEDED = _l("Choose a category.")
DIRECTION_NEEDED = _l("Choose whether the goal is to raise, lower or hold the value.")
BASELINE_NEEDED = _l("Enter the baseline value.")
BASELINE_DATE_NEEDED = _l("Enter the date of the baseline, like 2026-09-15.")
TARGET_NEEDED = _l("Enter the target value.")
RAISE_NEEDS_HIGHER = _l(
    "To raise the value, the target must be above the baseline (%(baseline)s). Choose "
    "“Lower” if the goal is to bring it down."
)
LOWER_NEEDS_LOWER = _l(
    "To lower the value, the target must be below the baseline (%(baseline)s). Choose "
    "“Raise” if the goal is to bring it up."
)
DUE_OUT_OF_RANGE = _l(
    "Choose a due date from %(first)s to %(last)s: within this cycle’s school year, or up "
    "to a year after it ends."
)
DUE_NOT_AFTER_BASELINE = _l("The due date must be after the baseline date.")
BASELINE_AFTER_YEAR = _l(
    "The baseline date must be before the goal is due: the end of the school year "
    "(%(day)s), or the due date you give."
)
DATE_TOO_EARLY = _l("Enter a date in 1950 or later.")
MEASURED_IN_FUTURE = _l("A measurement cannot be dated later than tomorrow (%(day)s).")
MEASURED_ON_NEEDED = _l("Enter the date of the measurement, like 2026-09-15.")
VALUE_NEEDED = _l("Enter the value measured.")
NOTE_TOO_LONG = _l("Keep the note to 5,000 characters or fewer.")
FILE_OR_LINK = _l("Give either a file or a link as evidence, not both.")
STATUS_NEEDED = _l("Choose the status to show.")
REASON_NEEDED = _l("Say why the status is set by hand.")
REASON_TOO_LONG = _l("Keep the reason to 2,000 characters or fewer.")
STALE_GOAL = _l(
    "Someone changed this goal while you were editing it. Your changes were not saved. "
    "The form below still has what you typed, and the saved goal is shown above it. Save "
    "again to replace it with yours."
)
GONE = _l("This goal was changed or removed by someone else in the meantime.")
STORE_FAILED = _l("The file could not be saved just now. Please try again.")


class GoalError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleGoal(GoalError):
    """Someone saved the goal after this form was opened."""


# Numbers ------------------------------------------------------------------------------------

_DIGITS = re.compile(r"[0-9]+")
_EXPONENT = re.compile(r"[+-]?[0-9]{1,4}")


class NumberProblem(ValueError):
    """Text that is not a number we accept; the message says what to type."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _grouped(whole: str, separator: str) -> str | None:
    """ "1,234,567" → "1234567" when grouped in threes by `separator`, else None."""
    parts = whole.split(separator)
    if not (1 <= len(parts[0]) <= 3 and all(len(part) == 3 for part in parts[1:])):
        return None
    if not all(_DIGITS.fullmatch(part) for part in parts):
        return None
    return "".join(parts)


def _plain(text: str) -> str:
    """The number with a point as decimal separator and no grouping; NumberProblem if
    it is not one."""
    sign = ""
    if text[0] in "+-":
        sign, text = text[0], text[1:]
    body, marker, exponent = text.lower().partition("e")
    if marker and not _EXPONENT.fullmatch(exponent):
        raise NumberProblem(str(ENTER_NUMBER))
    whole, fraction = body, ""
    if "." in body and "," in body:
        decimal = "." if body.rfind(".") > body.rfind(",") else ","
        group = "," if decimal == "." else "."
        head, _, fraction = body.rpartition(decimal)
        grouped = _grouped(head, group)
        if grouped is None:
            raise NumberProblem(str(ENTER_NUMBER))
        whole = grouped
    elif body.count(",") + body.count(".") == 1:
        separator = "," if "," in body else "."
        whole, _, fraction = body.partition(separator)
        if (
            separator == ","
            and len(fraction) == 3
            and re.fullmatch(r"[1-9][0-9]{0,2}", whole)
            and not marker
        ):
            raise NumberProblem(
                str(NUMBER_AMBIGUOUS)
                % {
                    "text": sign + body,
                    "whole": sign + whole + fraction,
                    "decimal": f"{sign}{whole}.{fraction}",
                }
            )
    elif body.count(",") > 1 or body.count(".") > 1:
        separator = "," if "," in body else "."
        grouped = _grouped(body, separator)
        if grouped is None or marker:
            raise NumberProblem(str(ENTER_NUMBER))
        whole = grouped
    if not (whole or fraction) or any(
        part and not _DIGITS.fullmatch(part) for part in (whole, fraction)
    ):
        raise NumberProblem(str(ENTER_NUMBER))
    return f"{sign}{whole or '0'}.{fraction or '0'}" + (f"e{exponent}" if marker else "")


def parse_number(text: str | None) -> float:
    """A number typed by a person (see the module docstring), or NumberProblem."""
    cleaned = "".join((text or "").split()).replace("\u2212", "-")  # any spaces; a real minus
    if not cleaned:
        raise NumberProblem(str(ENTER_NUMBER))
    if len(cleaned) > MAX_NUMBER_TEXT:
        raise NumberProblem(str(NUMBER_OUT_OF_RANGE))
    try:
        value = float(Decimal(_plain(cleaned)))
    except (InvalidOperation, OverflowError) as error:
        raise NumberProblem(str(NUMBER_OUT_OF_RANGE)) from error
    check_number(value)
    # Nine decimals at most: a measure never needs more, and a value like 5e-324 would make a
    # chart's scale collapse and an edit form unable to show the number back.
    return round(value, 9) + 0.0  # no negative zero


def check_number(value: float) -> None:
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise NumberProblem(str(NUMBER_OUT_OF_RANGE))


def plain_number(value: float | None) -> str:
    """A stored number as a form shows it for editing: "18.5", "1000000", never "1e+06"."""
    if value is None:
        return ""
    text = format(Decimal(repr(float(value))).normalize(), "f")
    return "0" if text in ("-0", "") else text


def _number(field: str, value: float | None, missing: Any) -> float:
    if value is None:
        raise GoalError(field, str(missing))
    try:
        check_number(value)
    except NumberProblem as problem:
        raise GoalError(field, problem.message) from problem
    return float(value)


# Goals --------------------------------------------------------------------------------------


@dataclass
class GoalData:
    title: str
    category: str | None
    metric: str
    unit: str
    baseline_value: float | None
    baseline_on: date | None
    target_value: float | None
    direction: str | None
    due_on: date | None = None


@dataclass(frozen=True)
class CleanGoal:
    title: str
    category: GoalCategory
    metric: str
    unit: str
    baseline_value: float
    baseline_on: date
    target_value: float
    direction: GoalDirection
    due_on: date | None


def due_range(ctx: CycleContext) -> tuple[date, date]:
    """The due dates a goal of this cycle may have: its school year, and a year after."""
    last = ctx.year.ends_on
    try:
        last = last.replace(year=last.year + 1)
    except ValueError:  # 29 February
        last = last + timedelta(days=365)
    return ctx.year.starts_on, last


def due_on_problem(
    due_on: date, baseline_on: date | None, allowed: tuple[date, date]
) -> str | None:
    """Why a goal cannot be due on this day (after its baseline, within `allowed`), or None."""
    if baseline_on is not None and due_on <= baseline_on:
        return str(DUE_NOT_AFTER_BASELINE)
    first, last = allowed
    if not first <= due_on <= last:
        return str(DUE_OUT_OF_RANGE) % {
            "first": format_date(first, "long"),
            "last": format_date(last, "long"),
        }
    return None


def direction_problem(direction: GoalDirection, baseline: float, target: float) -> str | None:
    """Why the target cannot be reached in this direction from the baseline, or None."""
    shown = format_number(baseline, 4)
    if direction == GoalDirection.RAISE and not target > baseline:
        return str(RAISE_NEEDS_HIGHER) % {"baseline": shown}
    if direction == GoalDirection.LOWER and not target < baseline:
        return str(LOWER_NEEDS_LOWER) % {"baseline": shown}
    return None


def _text(field: str, value: str | None, limit: int, *, needed: Any, too_long: Any) -> str:
    value = (value or "").strip()
    if needed is not None and not value:
        raise GoalError(field, str(needed))
    if len(value) > limit:
        raise GoalError(field, str(too_long))
    return value


def _enum(enum: Any, field: str, value: str | None, message: Any) -> Any:
    try:
        return enum(value)
    except ValueError as error:
        raise GoalError(field, str(message)) from error


def check_goal(ctx: CycleContext, data: GoalData) -> CleanGoal:
    """The goal's fields cleaned, or GoalError naming the first field in error."""
    title = _text("title", data.title, MAX_TITLE, needed=TITLE_NEEDED, too_long=TITLE_TOO_LONG)
    category = _enum(GoalCategory, "category", data.category, CATEGORY_NEEDED)
    metric = _text(
        "metric", data.metric, MAX_METRIC, needed=METRIC_NEEDED, too_long=METRIC_TOO_LONG
    )
    unit = _text("unit", data.unit, MAX_UNIT, needed=None, too_long=UNIT_TOO_LONG)
    baseline = _number("baseline_value", data.baseline_value, BASELINE_NEEDED)
    if data.baseline_on is None:
        raise GoalError("baseline_on", str(BASELINE_DATE_NEEDED))
    if data.baseline_on < EARLIEST_DATE:
        raise GoalError("baseline_on", str(DATE_TOO_EARLY))
    target = _number("target_value", data.target_value, TARGET_NEEDED)
    direction = _enum(GoalDirection, "direction", data.direction, DIRECTION_NEEDED)
    problem = direction_problem(direction, baseline, target)
    if problem:
        raise GoalError("target_value", problem)
    if data.due_on is None:
        if data.baseline_on >= ctx.year.ends_on:
            raise GoalError(
                "baseline_on",
                str(BASELINE_AFTER_YEAR) % {"day": format_date(ctx.year.ends_on, "long")},
            )
    else:
        problem = due_on_problem(data.due_on, data.baseline_on, due_range(ctx))
        if problem:
            raise GoalError("due_on", problem)
    return CleanGoal(
        title=title,
        category=category,
        metric=metric,
        unit=unit,
        baseline_value=baseline,
        baseline_on=data.baseline_on,
        target_value=target,
        direction=direction,
        due_on=data.due_on,
    )


_GOAL_FIELDS = (
    "title",
    "category",
    "metric",
    "unit",
    "baseline_value",
    "baseline_on",
    "target_value",
    "direction",
    "due_on",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return getattr(value, "value", value)


def _goal_details(goal: Goal) -> dict[str, Any]:
    return {name: _jsonable(getattr(goal, name)) for name in _GOAL_FIELDS}


def _apply(goal: Goal, clean: CleanGoal) -> dict[str, list[Any]]:
    """Copy the cleaned fields onto the goal; {field: [old, new]} for what changed."""
    changes: dict[str, list[Any]] = {}
    for name in _GOAL_FIELDS:
        old, new = getattr(goal, name), getattr(clean, name)
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(goal, name, new)
    return changes


def create_goal(actor: User, ctx: CycleContext, data: GoalData) -> Goal:
    """A new goal after the cycle's others."""
    clean = check_goal(ctx, data)
    last = db.session.scalar(
        sa.select(sa.func.max(Goal.position)).where(Goal.cycle_id == ctx.cycle.id)
    )
    goal = Goal(cycle_id=ctx.cycle.id, position=(last + 1) if last is not None else 0)
    _apply(goal, clean)
    db.session.add(goal)
    db.session.flush()
    audit.record(actor, "cycle.goal_created", goal, details=_goal_details(goal))
    return goal


def _flush_goal(goal: Goal) -> None:
    goal.updated_at = utcnow()  # always an UPDATE, so the version moves on
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleGoal(None, str(STALE_GOAL)) from error


def _check_version(goal: Goal, version: int | None) -> None:
    if version != goal.version:
        raise StaleGoal(None, str(STALE_GOAL))


def update_goal(
    actor: User, ctx: CycleContext, goal: Goal, data: GoalData, *, version: int | None
) -> Goal:
    """Save an edit made on the form opened at `version`; StaleGoal when someone saved since."""
    _check_version(goal, version)
    clean = check_goal(ctx, data)
    changes = _apply(goal, clean)
    _flush_goal(goal)
    audit.record(actor, "cycle.goal_updated", goal, details={"changes": changes})
    return goal


def delete_goal(actor: User, goal: Goal) -> None:
    """Remove the goal with its measurements (and their evidence files). Support entries
    linked to it keep their hours, unlinked; a signed review keeps its snapshot."""
    measurements = list(
        db.session.scalars(sa.select(Measurement).where(Measurement.goal_id == goal.id))
    )
    files = {m.evidence_file_id for m in measurements if m.evidence_file_id is not None}
    audit.record(
        actor,
        "cycle.goal_deleted",
        goal,
        details={
            **_goal_details(goal),
            "cycle_id": goal.cycle_id,
            "measurements": len(measurements),
        },
    )
    for measurement in measurements:
        db.session.delete(measurement)
    db.session.flush()  # before the goal: its row would cascade to them in the database
    db.session.delete(goal)
    try:
        db.session.flush()
    except StaleDataError as error:
        raise GoalError(None, str(GONE)) from error
    _forget_files(files)


def set_override(
    actor: User, goal: Goal, status: str | None, reason: str | None, *, version: int | None
) -> Goal:
    """Show `status` instead of the rule's answer, with the reason, who and when."""
    _check_version(goal, version)
    chosen = _enum(GoalStatus, "status", status, STATUS_NEEDED)
    why = _text("reason", reason, MAX_REASON, needed=REASON_NEEDED, too_long=REASON_TOO_LONG)
    before, actor_id = goal.status_override, actor.id  # read before any change (autoflush)
    goal.status_override = chosen
    goal.override_reason = why
    goal.override_by_id = actor_id
    goal.override_at = utcnow()
    _flush_goal(goal)
    audit.record(
        actor,
        "cycle.goal_status_overridden",
        goal,
        details={"from": _jsonable(before), "to": chosen.value, "reason": why},
    )
    return goal


def clear_override(actor: User, goal: Goal, *, version: int | None) -> Goal:
    """Go back to the status the rule gives."""
    _check_version(goal, version)
    before, reason = goal.status_override, goal.override_reason
    goal.status_override = None
    goal.override_reason = ""
    goal.override_by_id = None
    goal.override_at = None
    _flush_goal(goal)
    audit.record(
        actor,
        "cycle.goal_override_cleared",
        goal,
        details={"was": _jsonable(before), "reason": reason},
    )
    return goal


# Measurements -------------------------------------------------------------------------------


@dataclass
class MeasurementData:
    measured_on: date | None
    value: float | None
    note: str = ""
    evidence_url: str = ""
    upload: FileStorage | None = None


def _has_file(upload: FileStorage | None) -> bool:
    return upload is not None and bool(upload.filename)


def latest_measured_on(today: date) -> date:
    """The latest date a measurement recorded today may have."""
    return today + FUTURE_SLACK


def measured_on_problem(day: date, latest: date) -> str | None:
    """Why a measurement cannot have this date (1950 to `latest`), or None."""
    if day < EARLIEST_DATE:
        return str(DATE_TOO_EARLY)
    if day > latest:
        return str(MEASURED_IN_FUTURE) % {"day": format_date(latest, "long")}
    return None


def check_measurement(data: MeasurementData, today: date) -> tuple[date, float, str, str]:
    """(date, value, note, link) cleaned, or GoalError. The file is checked when stored."""
    if data.measured_on is None:
        raise GoalError("measured_on", str(MEASURED_ON_NEEDED))
    problem = measured_on_problem(data.measured_on, latest_measured_on(today))
    if problem:
        raise GoalError("measured_on", problem)
    value = _number("value", data.value, VALUE_NEEDED)
    note = _text("note", data.note, MAX_NOTE, needed=None, too_long=NOTE_TOO_LONG)
    link = (data.evidence_url or "").strip()
    if link:
        problem = url_problem(link)
        if problem:
            raise GoalError("evidence_url", problem)
        if _has_file(data.upload):
            raise GoalError("evidence_url", str(FILE_OR_LINK))
    return data.measured_on, value, note, link


def record_measurement(
    actor: User, goal: Goal, data: MeasurementData, *, today: date | None = None
) -> Measurement:
    """A new measurement of the goal; a file given as evidence is stored (UploadRefused when
    it is not accepted: nothing is saved then). The goal row itself is not touched."""
    measured_on, value, note, link = check_measurement(data, today or utcnow().date())
    measurement = Measurement(
        goal_id=goal.id,
        measured_on=measured_on,
        value=value,
        note=note,
        evidence_url=link,
        recorded_by_id=actor.id,
    )
    if _has_file(data.upload):
        assert data.upload is not None
        try:
            stored = uploads.store_file(data.upload, actor.id, uploads.DOCUMENTS_AND_IMAGES)
        except OSError as error:  # the disk is full or the store unwritable: keep the form
            raise GoalError("evidence_file", str(STORE_FAILED)) from error
        measurement.evidence_file_id = stored.id
    db.session.add(measurement)
    db.session.flush()
    audit.record(
        actor,
        "cycle.measurement_recorded",
        measurement,
        details={
            "goal_id": goal.id,
            "measured_on": measured_on.isoformat(),
            "value": value,
            "evidence_file_id": measurement.evidence_file_id,
            "evidence_url": link,
        },
    )
    return measurement


def delete_measurement(actor: User, measurement: Measurement) -> None:
    """Remove a measurement and its evidence file."""
    audit.record(
        actor,
        "cycle.measurement_deleted",
        measurement,
        details={
            "goal_id": measurement.goal_id,
            "measured_on": measurement.measured_on.isoformat(),
            "value": measurement.value,
            "recorded_by_id": measurement.recorded_by_id,
        },
    )
    file_id = measurement.evidence_file_id
    db.session.delete(measurement)
    db.session.flush()
    _forget_files({file_id} if file_id is not None else set())


def _forget_files(file_ids: set[int]) -> None:
    """Delete the rows of evidence files no measurement uses any more; `flask uploads sweep`
    then removes the bytes."""
    if not file_ids:
        return
    used = set(
        db.session.scalars(
            sa.select(Measurement.evidence_file_id).where(
                Measurement.evidence_file_id.in_(file_ids)
            )
        )
    )
    for file_id in file_ids - used:
        stored = db.session.get(uploads.StoredFile, file_id)
        if stored is None:
            continue
        try:  # a stored file another record still points at stays
            with db.session.begin_nested():
                db.session.delete(stored)
        except sa.exc.IntegrityError:
            pass

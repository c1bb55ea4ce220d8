"""The plan of a cycle: the initiative's text, the driver diagram, the stage, improvement
tests (PDSA) and the stakeholder engagement log.

Services check the rules, change state, flush and audit; the view commits. A refusal raises
`PlanError(field, message)` before anything is written, so nothing changes.

Two things are written with plain UPDATEs that do not move a row's version, so they never
make somebody's open edit form "stale": the positions of drivers among their siblings, and
the cycle's stage (moving the stage is a compare-and-set on the stage the mover saw).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from fellowship import audit
from fellowship.auth.models import User
from fellowship.cycles import plan_queries
from fellowship.cycles.models import (
    Cycle,
    CycleStage,
    Driver,
    DriverKind,
    EngagementGroup,
    EngagementSession,
    ImprovementTest,
    PdsaDecision,
)
from fellowship.db import db, utcnow
from fellowship.forms import EARLIEST_DATE, LATEST_DATE

MAX_TITLE = 200
MAX_TEXT = 20_000
MAX_DRIVER_TEXT = 500
MAX_PARTICIPANTS = 100_000

FORWARD = "forward"
BACK = "back"
UP = "up"
DOWN = "down"

STAGES: tuple[CycleStage, ...] = (
    CycleStage.PLANNING,
    CycleStage.IMPLEMENTING,
    CycleStage.YEARLY_REVIEW,
    CycleStage.CLOSED,
)

# Which kinds of driver may sit under which: the diagram reads aim → primary drivers →
# secondary drivers → change ideas, and a primary driver may hold change ideas directly.
CHILD_KINDS: dict[DriverKind | None, tuple[DriverKind, ...]] = {
    None: (DriverKind.PRIMARY,),
    DriverKind.PRIMARY: (DriverKind.SECONDARY, DriverKind.CHANGE_IDEA),
    DriverKind.SECONDARY: (DriverKind.CHANGE_IDEA,),
    DriverKind.CHANGE_IDEA: (),
}

TITLE_TOO_LONG = _l("Keep the title to 200 characters or fewer.")
TEXT_TOO_LONG = _l("Keep this to 20,000 characters or fewer.")
TEST_TITLE_NEEDED = _l("Enter a title for the test.")
DRIVER_TEXT_NEEDED = _l("Write the driver.")
DRIVER_TEXT_TOO_LONG = _l("Keep the driver to 500 characters or fewer.")
KIND_NEEDED = _l("Choose what kind of driver this is.")
NO_CHILDREN = _l("A change idea is the end of its branch: nothing can be added under it.")
CHANGE_IDEA_NEEDED = _l("Choose one of this cycle's change ideas, or none.")
END_BEFORE_START = _l("The end date cannot be before the start date.")
DECISION_NEEDED = _l(
    "The test has ended: choose adopt, adapt or abandon. Leave the end date empty while "
    "the test is still running."
)
DECISION_UNKNOWN = _l("Choose adopt, adapt or abandon.")
DATE_NEEDED = _l("Enter the date of the session, like 2026-09-15.")
DATE_OUT_OF_RANGE = _l("Enter a date between 1950 and 2200.")
DATE_IN_FUTURE = _l("The session cannot be later than tomorrow: log it once it has happened.")
GROUP_NEEDED = _l("Choose who the session was with.")
PARTICIPANTS_RANGE = _l("Enter the number of participants, a whole number from 0 to 100,000.")
HEARD_NEEDED = _l("Write what you heard.")
STALE_INITIATIVE = _l(
    "Someone changed this initiative while you were editing it. Your changes were not saved. "
    "The form below still has what you typed, and the saved initiative is shown above it. "
    "Save again to replace it with yours."
)
STALE_TEST = _l(
    "Someone changed this improvement test while you were editing it. Your changes were not "
    "saved. The form below still has what you typed, and the saved test is shown above it. "
    "Save again to replace it with yours."
)
STAGE_UNKNOWN = _l("Choose to move the cycle forward or back.")
STAGE_AT_END = _l("The cycle is closed: there is no later stage.")
STAGE_AT_START = _l("The cycle is in planning: there is no earlier stage.")
STAGE_MOVED = _l(
    "Someone moved this cycle to another stage in the meantime, so yours was not moved. "
    "Check the stage below and try again if it still needs to change."
)


class PlanError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleEdit(PlanError):
    """Someone saved the initiative or the test after this form was opened."""


# Checks -------------------------------------------------------------------------------------


def _text(field: str, value: str | None, *, required: Any = None, limit: int = MAX_TEXT) -> str:
    cleaned = (value or "").strip()
    if required is not None and not cleaned:
        raise PlanError(field, str(required))
    if len(cleaned) > limit:
        raise PlanError(field, str(TEXT_TOO_LONG))
    return cleaned


def _title(field: str, value: str | None, *, required: Any = None) -> str:
    cleaned = (value or "").strip()
    if required is not None and not cleaned:
        raise PlanError(field, str(required))
    if len(cleaned) > MAX_TITLE:
        raise PlanError(field, str(TITLE_TOO_LONG))
    return cleaned


def _in_range(day: date | None, field: str) -> None:
    if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
        raise PlanError(field, str(DATE_OUT_OF_RANGE))


def _lock_cycle(cycle_id: int) -> None:
    """Hold the cycle row until commit (PostgreSQL), so two people adding or moving drivers
    at once take turns instead of both numbering from the same list."""
    db.session.execute(sa.select(Cycle.id).where(Cycle.id == cycle_id).with_for_update())


# The initiative ----------------------------------------------------------------------------


@dataclass
class InitiativeData:
    title: str = ""
    equity_challenge_md: str = ""
    root_causes_md: str = ""
    aim_md: str = ""


INITIATIVE_FIELDS = {
    "title": "initiative_title",
    "equity_challenge": "equity_challenge_md",
    "root_causes": "root_causes_md",
    "aim": "aim_md",
}


def update_initiative(
    actor: User, cycle: Cycle, data: InitiativeData, *, version: int | None
) -> Cycle:
    """Save the initiative's text edited on a form opened at `version` (StaleEdit when
    someone saved since)."""
    if version != cycle.version:
        raise StaleEdit(None, str(STALE_INITIATIVE))
    values = {
        "initiative_title": _title("title", data.title),
        "equity_challenge_md": _text("equity_challenge", data.equity_challenge_md),
        "root_causes_md": _text("root_causes", data.root_causes_md),
        "aim_md": _text("aim", data.aim_md),
    }
    changed = sorted(
        form_field
        for form_field, column in INITIATIVE_FIELDS.items()
        if getattr(cycle, column) != values[column]
    )
    for column, value in values.items():
        setattr(cycle, column, value)
    cycle.updated_at = utcnow()  # always an UPDATE, so the version moves on
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None, str(STALE_INITIATIVE)) from error
    audit.record(actor, "cycle.initiative_updated", cycle, details={"changed": changed})
    return cycle


# The stage ---------------------------------------------------------------------------------


def next_stage(stage: CycleStage, direction: str) -> CycleStage | None:
    """The stage one step forward or back, or None past either end."""
    index = STAGES.index(stage)
    target = index + 1 if direction == FORWARD else index - 1
    return STAGES[target] if 0 <= target < len(STAGES) else None


def change_stage(
    actor: User, cycle: Cycle, direction: str, *, seen: CycleStage | None = None
) -> CycleStage:
    """Move the cycle one stage forward or back and return the new stage. `seen` is the
    stage the person saw when they pressed the button: if it moved since, nothing changes.
    Who may (only staff reopen a closed cycle) is `policy.can_change_stage`."""
    if direction not in (FORWARD, BACK):
        raise PlanError(None, str(STAGE_UNKNOWN))
    current = cycle.stage
    if seen is not None and seen != current:
        raise PlanError(None, str(STAGE_MOVED))
    target = next_stage(current, direction)
    if target is None:
        raise PlanError(None, str(STAGE_AT_END if direction == FORWARD else STAGE_AT_START))
    result = db.session.execute(
        sa.update(Cycle)
        .where(Cycle.id == cycle.id, Cycle.stage == current)
        .values(stage=target, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    if getattr(result, "rowcount", 1) != 1:
        raise PlanError(None, str(STAGE_MOVED))
    set_committed_value(cycle, "stage", target)
    audit.record(
        actor,
        "cycle.stage_changed",
        cycle,
        details={"from": current.value, "to": target.value, "direction": direction},
    )
    return target


# The driver diagram ------------------------------------------------------------------------


@dataclass
class DriverData:
    text: str
    kind: DriverKind | None = None  # a new driver's kind; None when its place allows one only


def child_kinds(parent: Driver | None) -> tuple[DriverKind, ...]:
    """The kinds of driver that may be added under `parent` (None: at the top level)."""
    return CHILD_KINDS[parent.kind if parent is not None else None]


def _driver_text(value: str | None) -> str:
    text = " ".join((value or "").split())  # one line: the picture wraps it
    if not text:
        raise PlanError("text", str(DRIVER_TEXT_NEEDED))
    if len(text) > MAX_DRIVER_TEXT:
        raise PlanError("text", str(DRIVER_TEXT_TOO_LONG))
    return text


def _siblings(cycle_id: int, parent_id: int | None, *, lock: bool = False) -> list[Driver]:
    if lock:
        _lock_cycle(cycle_id)
    parent = Driver.parent_id.is_(None) if parent_id is None else Driver.parent_id == parent_id
    query = sa.select(Driver).where(Driver.cycle_id == cycle_id, parent)
    if lock:
        query = query.with_for_update()
    return list(db.session.scalars(query.order_by(Driver.position, Driver.id)))


def _renumber(rows: Sequence[Driver]) -> None:
    """Give `rows` the positions 0..n-1 in their list order."""
    for position, row in enumerate(rows):
        if row.position != position:
            db.session.execute(
                sa.update(Driver).where(Driver.id == row.id).values(position=position),
                execution_options={"synchronize_session": False},
            )
            set_committed_value(row, "position", position)


def add_driver(actor: User, cycle: Cycle, parent: Driver | None, data: DriverData) -> Driver:
    """A new driver at the end of its siblings: a primary driver at the top level, a
    secondary driver or change idea under a primary one, a change idea under a secondary."""
    if parent is not None and parent.cycle_id != cycle.id:
        raise PlanError(None, str(NO_CHILDREN))
    allowed = child_kinds(parent)
    if not allowed:
        raise PlanError(None, str(NO_CHILDREN))
    kind = data.kind if data.kind is not None else (allowed[0] if len(allowed) == 1 else None)
    if kind not in allowed:
        raise PlanError("kind", str(KIND_NEEDED))
    text = _driver_text(data.text)
    siblings = _siblings(cycle.id, parent.id if parent else None, lock=True)
    _renumber(siblings)
    driver = Driver(
        cycle_id=cycle.id,
        parent_id=parent.id if parent else None,
        kind=kind,
        text=text,
        position=len(siblings),
    )
    db.session.add(driver)
    db.session.flush()
    audit.record(
        actor,
        "cycle.driver_added",
        driver,
        details={"cycle_id": cycle.id, "parent_id": driver.parent_id, "kind": kind.value},
    )
    return driver


def update_driver(actor: User, driver: Driver, data: DriverData) -> Driver:
    text = _driver_text(data.text)
    before = driver.text
    driver.text = text
    db.session.flush()
    audit.record(
        actor,
        "cycle.driver_updated",
        driver,
        details={"cycle_id": driver.cycle_id, "before": before[:200]},
    )
    return driver


def move_driver(actor: User, driver: Driver, direction: str) -> bool:
    """Swap the driver with its neighbour above or below among its siblings; False (and
    nothing changed) when it is already at that end."""
    rows = _siblings(driver.cycle_id, driver.parent_id, lock=True)
    index = next(i for i, row in enumerate(rows) if row.id == driver.id)
    other = index - 1 if direction == UP else index + 1
    if direction not in (UP, DOWN) or not 0 <= other < len(rows):
        return False
    rows[index], rows[other] = rows[other], rows[index]
    _renumber(rows)
    db.session.flush()
    audit.record(
        actor,
        "cycle.driver_moved",
        driver,
        details={"cycle_id": driver.cycle_id, "direction": direction, "position": other},
    )
    return True


@dataclass(frozen=True)
class DeletedDrivers:
    drivers: int  # the driver and everything under it
    unlinked_tests: int  # improvement tests that now have no change idea


def delete_driver(actor: User, driver: Driver) -> DeletedDrivers:
    """Delete the driver and everything under it. Improvement tests of a deleted change idea
    stay, with no change idea."""
    cycle_id = driver.cycle_id
    _lock_cycle(cycle_id)
    ids = plan_queries.subtree_ids(plan_queries.drivers_of(cycle_id), driver.id)
    unlinked = db.session.execute(
        sa.update(ImprovementTest).where(ImprovementTest.driver_id.in_(ids)).values(driver_id=None),
        execution_options={"synchronize_session": False},
    )
    unlinked_count = int(getattr(unlinked, "rowcount", 0) or 0)
    audit.record(
        actor,
        "cycle.driver_deleted",
        driver,
        details={
            "cycle_id": cycle_id,
            "kind": driver.kind.value,
            "text": driver.text[:200],
            "drivers": len(ids),
            "unlinked_tests": unlinked_count,
        },
    )
    parent_id = driver.parent_id
    db.session.execute(
        sa.delete(Driver).where(Driver.id.in_(ids)),
        execution_options={"synchronize_session": False},
    )
    db.session.expunge(driver)
    _renumber(_siblings(cycle_id, parent_id))
    db.session.flush()
    return DeletedDrivers(drivers=len(ids), unlinked_tests=unlinked_count)


# Improvement tests (PDSA) --------------------------------------------------------------------


@dataclass
class PdsaData:
    title: str
    driver_id: int | None = None
    started_on: date | None = None
    ended_on: date | None = None
    plan_md: str = ""
    prediction_md: str = ""
    do_md: str = ""
    study_md: str = ""
    decision: PdsaDecision | None = None


def _check_test(cycle: Cycle, data: PdsaData, today: date) -> dict[str, Any]:
    title = _title("title", data.title, required=TEST_TITLE_NEEDED)
    if data.driver_id is not None:
        ideas = {driver_id for driver_id, _text in plan_queries.change_ideas(cycle.id)}
        if data.driver_id not in ideas:
            raise PlanError("driver", str(CHANGE_IDEA_NEEDED))
    _in_range(data.started_on, "started_on")
    _in_range(data.ended_on, "ended_on")
    if data.started_on and data.ended_on and data.ended_on < data.started_on:
        raise PlanError("ended_on", str(END_BEFORE_START))
    if data.decision is not None and not isinstance(data.decision, PdsaDecision):
        raise PlanError("decision", str(DECISION_UNKNOWN))
    if data.decision is None and data.ended_on is not None and data.ended_on <= today:
        raise PlanError("decision", str(DECISION_NEEDED))
    return {
        "title": title,
        "driver_id": data.driver_id,
        "started_on": data.started_on,
        "ended_on": data.ended_on,
        "plan_md": _text("plan", data.plan_md),
        "prediction_md": _text("prediction", data.prediction_md),
        "do_md": _text("do", data.do_md),
        "study_md": _text("study", data.study_md),
        "decision": data.decision,
    }


def create_test(actor: User, cycle: Cycle, data: PdsaData, today: date) -> ImprovementTest:
    values = _check_test(cycle, data, today)
    test = ImprovementTest(cycle_id=cycle.id, created_by_id=actor.id, **values)
    db.session.add(test)
    db.session.flush()
    audit.record(
        actor,
        "cycle.pdsa_created",
        test,
        details={"cycle_id": cycle.id, "driver_id": test.driver_id},
    )
    return test


def update_test(
    actor: User,
    cycle: Cycle,
    test: ImprovementTest,
    data: PdsaData,
    today: date,
    *,
    version: int | None,
) -> ImprovementTest:
    """Save an edit made on the form opened at `version`; StaleEdit when someone saved since."""
    if version != test.version:
        raise StaleEdit(None, str(STALE_TEST))
    values = _check_test(cycle, data, today)
    before = test.decision
    for name, value in values.items():
        setattr(test, name, value)
    test.updated_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None, str(STALE_TEST)) from error
    audit.record(
        actor,
        "cycle.pdsa_updated",
        test,
        details={
            "cycle_id": cycle.id,
            "decision": test.decision.value if test.decision else None,
            "decision_before": before.value if before else None,
        },
    )
    return test


# Stakeholder engagement ----------------------------------------------------------------------


@dataclass
class EngagementData:
    held_on: date | None
    group: EngagementGroup | None
    participants: int | None
    heard_md: str = ""
    changed_md: str = ""


def _check_engagement(data: EngagementData, today: date) -> dict[str, Any]:
    if data.held_on is None:
        raise PlanError("held_on", str(DATE_NEEDED))
    _in_range(data.held_on, "held_on")
    if data.held_on > today + timedelta(days=1):
        raise PlanError("held_on", str(DATE_IN_FUTURE))
    if not isinstance(data.group, EngagementGroup):
        raise PlanError("group", str(GROUP_NEEDED))
    participants = data.participants
    if (
        participants is None
        or isinstance(participants, bool)
        or not isinstance(participants, int)
        or not 0 <= participants <= MAX_PARTICIPANTS
    ):
        raise PlanError("participants", str(PARTICIPANTS_RANGE))
    return {
        "held_on": data.held_on,
        "group": data.group,
        "participants": participants,
        "heard_md": _text("heard", data.heard_md, required=HEARD_NEEDED),
        "changed_md": _text("changed", data.changed_md),
    }


def log_engagement(
    actor: User, cycle: Cycle, data: EngagementData, today: date
) -> EngagementSession:
    values = _check_engagement(data, today)
    session = EngagementSession(cycle_id=cycle.id, recorded_by_id=actor.id, **values)
    db.session.add(session)
    db.session.flush()
    audit.record(
        actor,
        "cycle.engagement_logged",
        session,
        details={"cycle_id": cycle.id, "group": session.group.value},
    )
    return session


def update_engagement(
    actor: User, session: EngagementSession, data: EngagementData, today: date
) -> EngagementSession:
    values = _check_engagement(data, today)
    for name, value in values.items():
        setattr(session, name, value)
    db.session.flush()
    audit.record(
        actor,
        "cycle.engagement_updated",
        session,
        details={"cycle_id": session.cycle_id, "group": session.group.value},
    )
    return session


def delete_engagement(actor: User, session: EngagementSession) -> None:
    audit.record(
        actor,
        "cycle.engagement_deleted",
        session,
        details={
            "cycle_id": session.cycle_id,
            "held_on": session.held_on.isoformat(),
            "group": session.group.value,
            "participants": session.participants,
        },
    )
    db.session.delete(session)
    db.session.flush()

"""Read-only curriculum selectors, and the one rule that turns item progress into a
module's state for a fellow.

The rule (also in the help text of "My learning"):

- Its **required items** are the items marked required; a module with none counts every
  item. It is **complete** when every required item is done (a reflection is done once
  submitted). A module with no items is never complete. Complete is decided first: finished
  work never locks again (say a prerequisite gains an item later, or a date moves).
- Otherwise it is **locked** before its release date, or while a prerequisite module is not
  complete.
- Otherwise it is **overdue** once its due date (or the fellow's extension) has passed,
  **in progress** when any item has been started (done, or a reflection draft saved), and
  **not started** otherwise.

Every function runs a fixed number of queries, whatever the number of fellows and modules.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa

from fellowship.curriculum.models import (
    DueDateExtension,
    ItemProgress,
    Module,
    ModuleItem,
    ModulePrerequisite,
)
from fellowship.db import db


class State(enum.StrEnum):
    LOCKED = "locked"
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    COMPLETE = "complete"
    OVERDUE = "overdue"


class LockReason(enum.StrEnum):
    NOT_RELEASED = "not_released"
    PREREQUISITE = "prerequisite"


@dataclass
class ModuleStatus:
    """Where one fellow stands on one module."""

    module: Module
    state: State
    required_total: int
    required_done: int
    due_on: date | None  # the fellow's due date: their extension, or the module's
    extended: bool = False
    lock: LockReason | None = None
    waiting_for: list[Module] = field(default_factory=list)  # incomplete prerequisites

    @property
    def percent(self) -> int:
        if not self.required_total:
            return 0
        return round(100 * self.required_done / self.required_total)

    @property
    def is_complete(self) -> bool:
        return self.state == State.COMPLETE


def local_today(timezone: str | None) -> date:
    """Today in a person's timezone (release and due dates are calendar days)."""
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).date()


# Modules and items ------------------------------------------------------------------------


def modules_for(cohort_id: int) -> list[Module]:
    """The cohort's modules in order."""
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.cohort_id == cohort_id)
            .order_by(Module.position, Module.id)
        )
    )


def items_for(module_ids: Iterable[int]) -> dict[int, list[ModuleItem]]:
    """{module_id: items in order} for the given modules (one query)."""
    ids = list(module_ids)
    result: dict[int, list[ModuleItem]] = {module_id: [] for module_id in ids}
    if not ids:
        return result
    rows = db.session.scalars(
        sa.select(ModuleItem)
        .where(ModuleItem.module_id.in_(ids))
        .order_by(ModuleItem.module_id, ModuleItem.position, ModuleItem.id)
    )
    for item in rows:
        result[item.module_id].append(item)
    return result


def prerequisites_for(module_ids: Iterable[int]) -> dict[int, list[int]]:
    """{module_id: ids of the modules it requires} (one query)."""
    ids = list(module_ids)
    result: dict[int, list[int]] = {module_id: [] for module_id in ids}
    if not ids:
        return result
    rows = db.session.execute(
        sa.select(ModulePrerequisite.module_id, ModulePrerequisite.requires_module_id).where(
            ModulePrerequisite.module_id.in_(ids)
        )
    )
    for module_id, requires_id in rows:
        result[module_id].append(requires_id)
    return result


def _required_counts(module_ids: list[int]) -> dict[int, tuple[int, int]]:
    """{module_id: (required items, all items)} (one query)."""
    if not module_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            ModuleItem.module_id,
            sa.func.sum(sa.case((ModuleItem.required.is_(True), 1), else_=0)),
            sa.func.count(ModuleItem.id),
        )
        .where(ModuleItem.module_id.in_(module_ids))
        .group_by(ModuleItem.module_id)
    )
    return {module_id: (int(required or 0), int(total)) for module_id, required, total in rows}


def _done_counts(
    module_ids: list[int], fellow_ids: list[int]
) -> dict[tuple[int, int], tuple[int, int, int]]:
    """{(module_id, fellow_id): (required items done, items done, items started)}."""
    if not module_ids or not fellow_ids:
        return {}
    done = ItemProgress.completed_at.is_not(None)
    started = sa.or_(done, ItemProgress.response_md != "")
    rows = db.session.execute(
        sa.select(
            ModuleItem.module_id,
            ItemProgress.fellow_id,
            sa.func.sum(sa.case((sa.and_(done, ModuleItem.required.is_(True)), 1), else_=0)),
            sa.func.sum(sa.case((done, 1), else_=0)),
            sa.func.sum(sa.case((started, 1), else_=0)),
        )
        .join(ModuleItem, ModuleItem.id == ItemProgress.item_id)
        .where(ModuleItem.module_id.in_(module_ids), ItemProgress.fellow_id.in_(fellow_ids))
        .group_by(ModuleItem.module_id, ItemProgress.fellow_id)
    )
    return {
        (module_id, fellow_id): (int(req or 0), int(all_done or 0), int(begun or 0))
        for module_id, fellow_id, req, all_done, begun in rows
    }


def extensions_for(
    module_ids: Iterable[int], fellow_ids: Iterable[int] | None = None
) -> dict[tuple[int, int], DueDateExtension]:
    """{(module_id, fellow_id): extension} (one query; all fellows when none are named)."""
    ids = list(module_ids)
    if not ids:
        return {}
    query = sa.select(DueDateExtension).where(DueDateExtension.module_id.in_(ids))
    if fellow_ids is not None:
        query = query.where(DueDateExtension.fellow_id.in_(list(fellow_ids)))
    return {(ext.module_id, ext.fellow_id): ext for ext in db.session.scalars(query)}


# States -----------------------------------------------------------------------------------


def effective_due_on(module: Module, extension: DueDateExtension | None) -> date | None:
    """A fellow's due date: the module's, moved later by their extension - never earlier
    (the module's date may have moved past it since), and none when the module has none."""
    if module.due_on is None:
        return None
    if extension is None or extension.due_on <= module.due_on:
        return module.due_on
    return extension.due_on


def _completion(
    counts: dict[int, tuple[int, int]],
    done: dict[tuple[int, int], tuple[int, int, int]],
    module_id: int,
    fellow_id: int,
) -> tuple[int, int, bool, int]:
    """(items to do, items done of those, complete?, items started) for one fellow."""
    required, total = counts.get(module_id, (0, 0))
    req_done, all_done, started = done.get((module_id, fellow_id), (0, 0, 0))
    target, achieved = (required, req_done) if required else (total, all_done)
    return target, achieved, bool(target) and achieved >= target, started


def module_states(
    modules: Sequence[Module], fellow_ids: Sequence[int], today: date
) -> dict[tuple[int, int], ModuleStatus]:
    """{(fellow_id, module_id): status} for every fellow × module, in four queries."""
    module_ids = [module.id for module in modules]
    fellows = list(dict.fromkeys(fellow_ids))
    counts = _required_counts(module_ids)
    done = _done_counts(module_ids, fellows)
    prerequisites = prerequisites_for(module_ids)
    extensions = extensions_for(module_ids, fellows)
    by_id = {module.id: module for module in modules}

    result: dict[tuple[int, int], ModuleStatus] = {}
    for fellow_id in fellows:
        completions = {m.id: _completion(counts, done, m.id, fellow_id) for m in modules}
        complete = {module_id: c[2] for module_id, c in completions.items()}
        for module in modules:
            target, achieved, is_complete, started = completions[module.id]
            due_on = effective_due_on(module, extensions.get((module.id, fellow_id)))
            status = ModuleStatus(
                module=module,
                state=State.NOT_STARTED,
                required_total=target,
                required_done=min(achieved, target),
                due_on=due_on,
                extended=due_on != module.due_on,
            )
            waiting = [
                by_id[required_id]
                for required_id in prerequisites.get(module.id, [])
                if required_id in by_id and not complete.get(required_id, False)
            ]
            if is_complete:
                status.state = State.COMPLETE
            elif module.release_on is not None and module.release_on > today:
                status.state, status.lock = State.LOCKED, LockReason.NOT_RELEASED
            elif waiting:
                status.state, status.lock = State.LOCKED, LockReason.PREREQUISITE
                status.waiting_for = sorted(waiting, key=lambda m: (m.position, m.id))
            elif due_on is not None and due_on < today:
                status.state = State.OVERDUE
            elif started:
                status.state = State.IN_PROGRESS
            result[(fellow_id, module.id)] = status
    return result


def states_for_fellow(cohort_id: int, fellow_id: int, today: date) -> list[ModuleStatus]:
    """One fellow's statuses for every module of the cohort, in order (five queries)."""
    modules = modules_for(cohort_id)
    states = module_states(modules, [fellow_id], today)
    return [states[(fellow_id, module.id)] for module in modules]


def missing_prerequisites(module: Module, fellow_id: int) -> list[Module]:
    """The prerequisites of `module` that the fellow has not completed yet, in order (one
    query when the module has none, three otherwise)."""
    required = list(
        db.session.scalars(
            sa.select(Module)
            .join(ModulePrerequisite, ModulePrerequisite.requires_module_id == Module.id)
            .where(
                ModulePrerequisite.module_id == module.id,
                Module.cohort_id == module.cohort_id,
            )
            .order_by(Module.position, Module.id)
        )
    )
    if not required:
        return []
    ids = [m.id for m in required]
    counts = _required_counts(ids)
    done = _done_counts(ids, [fellow_id])
    return [m for m in required if not _completion(counts, done, m.id, fellow_id)[2]]


def completed_module_ids(cohort_id: int, fellow_id: int) -> set[int]:
    """The ids of the cohort's modules the fellow has completed (three queries)."""
    ids = list(db.session.scalars(sa.select(Module.id).where(Module.cohort_id == cohort_id)))
    counts = _required_counts(ids)
    done = _done_counts(ids, [fellow_id])
    return {module_id for module_id in ids if _completion(counts, done, module_id, fellow_id)[2]}


def progress_for(item_ids: Iterable[int], fellow_id: int) -> dict[int, ItemProgress]:
    """{item_id: the fellow's progress row} for the given items (one query)."""
    ids = list(item_ids)
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(ItemProgress).where(
            ItemProgress.item_id.in_(ids), ItemProgress.fellow_id == fellow_id
        )
    )
    return {row.item_id: row for row in rows}


def state_counts(statuses: Iterable[ModuleStatus]) -> dict[State, int]:
    counts: dict[State, int] = defaultdict(int)
    for status in statuses:
        counts[status.state] += 1
    return {state: counts[state] for state in State}

"""Read-only selectors for facilitators: the feedback queue, the progress grid, one fellow's
progress, and the extensions of a module. Each runs a fixed number of queries, whatever the
number of fellows, modules or reflections.

Who counts as a fellow of the cohort here: a fellow membership that is active or completed
(alumni keep their record). A withdrawn fellow's reflections leave the queue and their row
leaves the grid; their data stays, and staff can still open it by address.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from fellowship.auth.models import User
from fellowship.cohorts.models import CohortMembership, CohortRole, MembershipStatus
from fellowship.curriculum import queries
from fellowship.curriculum.models import (
    DueDateExtension,
    ItemKind,
    ItemProgress,
    Module,
    ModuleItem,
)
from fellowship.curriculum.queries import ModuleStatus, State
from fellowship.db import Page, db, paginate

# Memberships whose reflections and progress facilitators follow.
FOLLOWED = (MembershipStatus.ACTIVE, MembershipStatus.COMPLETED)


def local_date(moment: datetime, zone: str | None) -> date:
    """The calendar day of an instant where the viewer is (UTC when the zone is unknown)."""
    try:
        return moment.astimezone(ZoneInfo(zone or "UTC")).date()
    except (ZoneInfoNotFoundError, ValueError):
        return moment.date()


def _followed_fellow(cohort_id: int, fellow_column: Any) -> sa.Exists:
    return (
        sa.select(CohortMembership.id)
        .where(
            CohortMembership.cohort_id == cohort_id,
            CohortMembership.user_id == fellow_column,
            CohortMembership.role == CohortRole.FELLOW,
            CohortMembership.status.in_(FOLLOWED),
        )
        .exists()
    )


# The feedback queue -----------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    progress_id: int
    fellow_id: int
    fellow_name: str
    module_id: int
    module_title: str
    item_id: int
    item_title: str
    submitted_at: datetime
    waiting_days: int


def _submitted_reflections(
    cohort_id: int,
) -> sa.Select[tuple[ItemProgress, ModuleItem, Module, str]]:
    """Submitted reflections of the cohort's followed fellows (the columns of a row)."""
    return (
        sa.select(ItemProgress, ModuleItem, Module, User.name)
        .join(ModuleItem, ModuleItem.id == ItemProgress.item_id)
        .join(Module, Module.id == ModuleItem.module_id)
        .join(User, User.id == ItemProgress.fellow_id)
        .where(
            Module.cohort_id == cohort_id,
            ModuleItem.kind == ItemKind.REFLECTION,
            ItemProgress.submitted_at.is_not(None),
            _followed_fellow(cohort_id, ItemProgress.fellow_id),
        )
    )


def _waiting_query(cohort_id: int) -> sa.Select[tuple[ItemProgress, ModuleItem, Module, str]]:
    return (
        _submitted_reflections(cohort_id)
        .where(ItemProgress.feedback_at.is_(None))
        .order_by(ItemProgress.submitted_at, ItemProgress.id)
    )


def waiting(
    cohort_id: int, *, today: date, zone: str | None, page: int, per_page: int
) -> Page[QueueRow]:
    """Submitted reflections with no feedback yet, the longest waiting first (two queries)."""
    found = paginate(_waiting_query(cohort_id), page, per_page)
    rows = [
        QueueRow(
            progress_id=progress.id,
            fellow_id=progress.fellow_id,
            fellow_name=name,
            module_id=module.id,
            module_title=module.title,
            item_id=item.id,
            item_title=item.title,
            submitted_at=progress.submitted_at,
            waiting_days=max(0, (today - local_date(progress.submitted_at, zone)).days),
        )
        for progress, item, module, name in found.items
    ]
    return Page(rows, found.page, found.per_page, found.total)


def next_waiting(cohort_id: int, *, other_than: int) -> int | None:
    """The id of the reflection that has waited longest, apart from `other_than` (one query)."""
    query = _waiting_query(cohort_id).where(ItemProgress.id != other_than).limit(1)
    row = db.session.execute(query).first()
    return None if row is None else int(row[0].id)


@dataclass(frozen=True)
class GivenRow:
    progress_id: int
    fellow_name: str
    module_title: str
    item_title: str
    feedback_at: datetime
    given_by: str | None  # None: the account was removed


def recent_feedback(cohort_id: int, *, since: datetime, limit: int) -> list[GivenRow]:
    """Feedback given since `since`, the latest first, at most `limit` rows (one query)."""
    giver = aliased(User)
    query = (
        _submitted_reflections(cohort_id)
        .add_columns(giver.name)
        .outerjoin(giver, giver.id == ItemProgress.feedback_by_id)
        .where(ItemProgress.feedback_at >= since)
        .order_by(ItemProgress.feedback_at.desc(), ItemProgress.id.desc())
        .limit(limit)
    )
    return [
        GivenRow(
            progress_id=progress.id,
            fellow_name=name,
            module_title=module.title,
            item_title=item.title,
            feedback_at=progress.feedback_at,
            given_by=given_by,
        )
        for progress, item, module, name, given_by in db.session.execute(query)
    ]


def names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """{user_id: name} (one query; none without ids)."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows = db.session.execute(sa.select(User.id, User.name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}


# Fellows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fellow:
    id: int
    name: str
    status: MembershipStatus


def fellows_of(cohort_id: int, statuses: Sequence[MembershipStatus] = FOLLOWED) -> list[Fellow]:
    """The cohort's fellows with these membership statuses, by name (one query)."""
    rows = db.session.execute(
        sa.select(User.id, User.name, CohortMembership.status)
        .join(CohortMembership, CohortMembership.user_id == User.id)
        .where(
            CohortMembership.cohort_id == cohort_id,
            CohortMembership.role == CohortRole.FELLOW,
            CohortMembership.status.in_(list(statuses)),
        )
        .order_by(sa.func.lower(User.name), User.id)
    )
    return [Fellow(user_id, name, status) for user_id, name, status in rows]


def fellow_membership(cohort_id: int, fellow_id: int) -> CohortMembership | None:
    """The person's fellow membership of the cohort, whatever its status (one query)."""
    return db.session.scalar(
        sa.select(CohortMembership).where(
            CohortMembership.cohort_id == cohort_id,
            CohortMembership.user_id == fellow_id,
            CohortMembership.role == CohortRole.FELLOW,
        )
    )


# Progress summaries (the grid's last column, the caseload) ---------------------------------


@dataclass(frozen=True)
class Summary:
    """Where one fellow stands across a set of modules."""

    complete: int
    total: int
    overdue: int


def summaries(
    statuses: dict[tuple[int, int], ModuleStatus],
    modules: Sequence[Module],
    fellow_ids: Iterable[int],
) -> dict[int, Summary]:
    """{fellow_id: summary} over `modules`, from `queries.module_states` (no query)."""
    result = {}
    for fellow_id in fellow_ids:
        states = [statuses[(fellow_id, module.id)].state for module in modules]
        result[fellow_id] = Summary(
            complete=states.count(State.COMPLETE),
            total=len(states),
            overdue=states.count(State.OVERDUE),
        )
    return result


def module_summaries(cohort_id: int, fellow_ids: Sequence[int], today: date) -> dict[int, Summary]:
    """{fellow_id: modules complete and overdue} for the cohort's modules (five queries)."""
    modules = queries.modules_for(cohort_id)
    states = queries.module_states(modules, fellow_ids, today)
    return summaries(states, modules, fellow_ids)


# The progress grid ------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleTotals:
    complete: int
    overdue: int


@dataclass
class Grid:
    modules: list[Module]  # the columns, in order (one strand's when filtered)
    fellows: list[Fellow]  # the rows, by name
    states: dict[tuple[int, int], ModuleStatus]
    per_fellow: dict[int, Summary] = field(default_factory=dict)
    per_module: dict[int, ModuleTotals] = field(default_factory=dict)

    def status(self, fellow_id: int, module_id: int) -> ModuleStatus:
        return self.states[(fellow_id, module_id)]

    def rows(self) -> list[tuple[Fellow, list[ModuleStatus], Summary]]:
        """Each fellow with their statuses in column order and their totals."""
        return [
            (
                fellow,
                [self.states[(fellow.id, module.id)] for module in self.modules],
                self.per_fellow[fellow.id],
            )
            for fellow in self.fellows
        ]

    @property
    def cells(self) -> int:
        return len(self.modules) * len(self.fellows)

    @property
    def complete_cells(self) -> int:
        return sum(totals.complete for totals in self.per_module.values())


def progress_grid(cohort_id: int, today: date, *, strand_id: int | None = None) -> Grid:
    """Fellows (active and completed) × modules with totals, in six queries.

    Every module's state is worked out, so that a prerequisite in another strand still locks
    the modules shown; only the columns are filtered by `strand_id`.
    """
    modules = queries.modules_for(cohort_id)
    fellows = fellows_of(cohort_id)
    fellow_ids = [fellow.id for fellow in fellows]
    states = queries.module_states(modules, fellow_ids, today)
    shown = [m for m in modules if strand_id is None or m.strand_id == strand_id]
    per_module = {}
    for module in shown:
        column = [states[(fellow_id, module.id)].state for fellow_id in fellow_ids]
        per_module[module.id] = ModuleTotals(
            complete=column.count(State.COMPLETE), overdue=column.count(State.OVERDUE)
        )
    return Grid(
        modules=shown,
        fellows=fellows,
        states=states,
        per_fellow=summaries(states, shown, fellow_ids),
        per_module=per_module,
    )


# One fellow's progress --------------------------------------------------------------------


@dataclass
class Reflection:
    item: ModuleItem
    progress: ItemProgress | None

    @property
    def submitted(self) -> bool:
        return self.progress is not None and self.progress.submitted_at is not None


@dataclass
class ModuleProgress:
    status: ModuleStatus
    reflections: list[Reflection]

    @property
    def module(self) -> Module:
        return self.status.module


@dataclass
class FellowProgress:
    modules: list[ModuleProgress]
    feedback_by: dict[int, str]  # {user_id: name} of those who gave feedback

    @property
    def summary(self) -> Summary:
        states = [entry.status.state for entry in self.modules]
        return Summary(states.count(State.COMPLETE), len(states), states.count(State.OVERDUE))


def fellow_progress(cohort_id: int, fellow_id: int, today: date) -> FellowProgress:
    """Every module's status for one fellow, with their reflections (eight queries).

    The reflections' progress rows are loaded whole; pages show a reflection's text only
    once it is submitted (drafts belong to the fellow, on the module page).
    """
    statuses = queries.states_for_fellow(cohort_id, fellow_id, today)
    items = queries.items_for(status.module.id for status in statuses)
    reflection_items = [
        item
        for module_items in items.values()
        for item in module_items
        if item.kind == ItemKind.REFLECTION
    ]
    progress = queries.progress_for((item.id for item in reflection_items), fellow_id)
    entries = [
        ModuleProgress(
            status=status,
            reflections=[
                Reflection(item, progress.get(item.id))
                for item in items[status.module.id]
                if item.kind == ItemKind.REFLECTION
            ],
        )
        for status in statuses
    ]
    return FellowProgress(entries, names(row.feedback_by_id for row in progress.values()))


# Extensions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExtensionRow:
    fellow_id: int
    fellow_name: str
    status: MembershipStatus
    extension: DueDateExtension | None
    granted_by: str | None


def extension_rows(module: Module) -> list[ExtensionRow]:
    """The module's active fellows, and anyone else with an extension on it, by name, with
    their extension and who granted it (one query)."""
    granter = aliased(User)
    rows = db.session.execute(
        sa.select(User.id, User.name, CohortMembership.status, DueDateExtension, granter.name)
        .join(CohortMembership, CohortMembership.user_id == User.id)
        .outerjoin(
            DueDateExtension,
            sa.and_(DueDateExtension.module_id == module.id, DueDateExtension.fellow_id == User.id),
        )
        .outerjoin(granter, granter.id == DueDateExtension.granted_by_id)
        .where(
            CohortMembership.cohort_id == module.cohort_id,
            CohortMembership.role == CohortRole.FELLOW,
            sa.or_(
                CohortMembership.status == MembershipStatus.ACTIVE,
                DueDateExtension.id.is_not(None),
            ),
        )
        .order_by(sa.func.lower(User.name), User.id)
    )
    return [
        ExtensionRow(user_id, name, status, extension, granted_by)
        for user_id, name, status, extension, granted_by in rows
    ]

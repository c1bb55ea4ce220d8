"""Read-only selectors for a fellow's learning: "My learning", the module page, the
"Your learning" section of the fellow's home and module due dates in the calendar feed.

Module states always come from `queries.module_states` (the one rule). Every function here
runs a fixed number of queries, whatever the number of cohorts, modules and items; the
module page loads only the viewer's own progress, never another fellow's.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort, CohortMembership, CohortRole, MembershipStatus
from fellowship.curriculum import queries as curriculum
from fellowship.curriculum.models import DueDateExtension, ItemProgress, Module, ModuleItem
from fellowship.curriculum.queries import LockReason, ModuleStatus, State, effective_due_on
from fellowship.db import db
from fellowship.uploads import StoredFile

if TYPE_CHECKING:
    from fellowship.calendar.queries import CalendarEvent

DUE_SOON_DAYS = 7
NEW_FEEDBACK_DAYS = 14
NEW_FEEDBACK_SHOWN = 10


# My learning --------------------------------------------------------------------------------


@dataclass
class CohortLearning:
    """One cohort of a fellow's learning: its modules in order, with where they stand."""

    cohort: Cohort
    membership: CohortMembership
    statuses: list[ModuleStatus]

    @property
    def alumni(self) -> bool:
        return self.membership.status == MembershipStatus.COMPLETED

    @property
    def complete(self) -> int:
        return sum(1 for status in self.statuses if status.state == State.COMPLETE)

    def strand_name(self, strand_id: int | None) -> str | None:
        for strand in self.cohort.strands:
            if strand.id == strand_id:
                return strand.name
        return None


def fellow_memberships(
    user_id: int, *, alumni: bool = True
) -> list[tuple[CohortMembership, Cohort]]:
    """The cohorts where the person is a fellow (active, and completed unless `alumni` is
    False), newest first (one query, plus one for the cohorts' strands)."""
    statuses = [MembershipStatus.ACTIVE] + ([MembershipStatus.COMPLETED] if alumni else [])
    return list(
        db.session.execute(
            sa.select(CohortMembership, Cohort)
            .join(Cohort, Cohort.id == CohortMembership.cohort_id)
            .where(
                CohortMembership.user_id == user_id,
                CohortMembership.role == CohortRole.FELLOW,
                CohortMembership.status.in_(statuses),
            )
            .order_by(Cohort.starts_on.desc(), Cohort.id.desc())
        ).tuples()
    )


def _modules_of(cohort_ids: Sequence[int]) -> list[Module]:
    if not cohort_ids:
        return []
    return list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.cohort_id.in_(list(cohort_ids)))
            .order_by(Module.cohort_id, Module.position, Module.id)
        )
    )


def learning_of(
    fellow_id: int, memberships: Sequence[tuple[CohortMembership, Cohort]], today: date
) -> list[CohortLearning]:
    """Each cohort's modules with the fellow's statuses, in the order of `memberships`
    (five queries for any number of cohorts and modules)."""
    cohort_ids = [cohort.id for _membership, cohort in memberships]
    modules = _modules_of(cohort_ids)
    states = curriculum.module_states(modules, [fellow_id], today) if modules else {}
    by_cohort: dict[int, list[ModuleStatus]] = {cohort_id: [] for cohort_id in cohort_ids}
    for module in modules:
        by_cohort[module.cohort_id].append(states[(fellow_id, module.id)])
    return [
        CohortLearning(cohort=cohort, membership=membership, statuses=by_cohort[cohort.id])
        for membership, cohort in memberships
    ]


# The module page ---------------------------------------------------------------------------


@dataclass
class ItemView:
    """One item of the module page, with the viewer's own progress (fellows only)."""

    item: ModuleItem
    progress: ItemProgress | None = None
    stored_file: StoredFile | None = None
    feedback_by: str | None = None

    @property
    def done(self) -> bool:
        return self.progress is not None and self.progress.completed_at is not None

    @property
    def submitted(self) -> bool:
        return self.progress is not None and self.progress.submitted_at is not None

    @property
    def has_feedback(self) -> bool:
        return self.progress is not None and self.progress.feedback_at is not None

    @property
    def draft(self) -> bool:
        return (
            self.progress is not None
            and not self.submitted
            and bool((self.progress.response_md or "").strip())
        )


def module_items(module_id: int, viewer_id: int | None) -> list[ItemView]:
    """The module's items in order with their files, and - when `viewer_id` is a fellow's
    id - that fellow's own progress and who gave feedback (one query)."""
    author = aliased(User)
    progress_on = sa.and_(
        ItemProgress.item_id == ModuleItem.id,
        ItemProgress.fellow_id == viewer_id if viewer_id is not None else sa.false(),
    )
    rows = db.session.execute(
        sa.select(ModuleItem, ItemProgress, StoredFile, author.name)
        .select_from(ModuleItem)
        .outerjoin(ItemProgress, progress_on)
        .outerjoin(StoredFile, StoredFile.id == ModuleItem.stored_file_id)
        .outerjoin(author, author.id == ItemProgress.feedback_by_id)
        .where(ModuleItem.module_id == module_id)
        .order_by(ModuleItem.position, ModuleItem.id)
    ).tuples()
    return [
        ItemView(item=item, progress=progress, stored_file=stored, feedback_by=author_name)
        for item, progress, stored, author_name in rows
    ]


def fellow_status(module: Module, fellow_id: int, today: date) -> ModuleStatus:
    """Where the fellow stands on one module, prerequisites included (five queries)."""
    for status in curriculum.states_for_fellow(module.cohort_id, fellow_id, today):
        if status.module.id == module.id:
            return status
    raise LookupError(module.id)  # pragma: no cover - the module is in its cohort


# The fellow's home ---------------------------------------------------------------------------


@dataclass
class DueModule:
    """A module due within the week (or overdue), with the items still to do."""

    status: ModuleStatus
    cohort: Cohort
    remaining: list[ModuleItem] = field(default_factory=list)


@dataclass
class NewFeedback:
    progress: ItemProgress
    item: ModuleItem
    module: Module
    author: str | None


@dataclass
class HomeLearning:
    next_up: ModuleStatus | None
    next_cohort: Cohort | None
    due_soon: list[DueModule]
    feedback: list[NewFeedback]
    several_cohorts: bool


def _remaining_items(module_ids: list[int], fellow_id: int) -> dict[int, list[ModuleItem]]:
    """{module_id: the items that count for completion and are not done yet} (one query).

    The items that count are the same as in the rule: the required ones, or every item of
    a module that marks none as required.
    """
    if not module_ids:
        return {}
    rows = db.session.execute(
        sa.select(ModuleItem, ItemProgress.completed_at)
        .select_from(ModuleItem)
        .outerjoin(
            ItemProgress,
            sa.and_(ItemProgress.item_id == ModuleItem.id, ItemProgress.fellow_id == fellow_id),
        )
        .where(ModuleItem.module_id.in_(module_ids))
        .order_by(ModuleItem.module_id, ModuleItem.position, ModuleItem.id)
    ).tuples()
    items: dict[int, list[tuple[ModuleItem, bool]]] = {module_id: [] for module_id in module_ids}
    for item, completed_at in rows:
        items[item.module_id].append((item, completed_at is not None))
    result = {}
    for module_id, entries in items.items():
        counted = [entry for entry in entries if entry[0].required] or entries
        result[module_id] = [item for item, done in counted if not done]
    return result


def _new_feedback(fellow_id: int, cohort_ids: list[int], since: datetime) -> list[NewFeedback]:
    if not cohort_ids:
        return []
    author = aliased(User)
    rows = db.session.execute(
        sa.select(ItemProgress, ModuleItem, Module, author.name)
        .join(ModuleItem, ModuleItem.id == ItemProgress.item_id)
        .join(Module, Module.id == ModuleItem.module_id)
        .outerjoin(author, author.id == ItemProgress.feedback_by_id)
        .where(
            ItemProgress.fellow_id == fellow_id,
            ItemProgress.feedback_at.is_not(None),
            ItemProgress.feedback_at >= since,
            Module.cohort_id.in_(cohort_ids),
        )
        .order_by(ItemProgress.feedback_at.desc(), ItemProgress.id.desc())
        .limit(NEW_FEEDBACK_SHOWN)
    ).tuples()
    return [NewFeedback(progress, item, module, name) for progress, item, module, name in rows]


def home_learning(
    fellow_id: int,
    memberships: Iterable[tuple[CohortMembership, Cohort]],
    today: date,
    now: datetime,
) -> HomeLearning | None:
    """The "Your learning" section for a person who is an active fellow somewhere (None
    otherwise). `memberships` are the person's, already loaded for the home page; this adds
    at most seven queries, whatever the number of modules."""
    active = [
        (membership, cohort)
        for membership, cohort in memberships
        if membership.role == CohortRole.FELLOW and membership.status == MembershipStatus.ACTIVE
    ]
    if not active:
        return None
    learning = learning_of(fellow_id, active, today)
    next_up: tuple[ModuleStatus, Cohort] | None = None
    due: list[DueModule] = []
    horizon = today + timedelta(days=DUE_SOON_DAYS)
    for entry in learning:
        for status in entry.statuses:
            if status.state == State.COMPLETE or status.lock == LockReason.NOT_RELEASED:
                continue
            if next_up is None and status.state != State.LOCKED:
                next_up = (status, entry.cohort)
            if status.due_on is not None and status.due_on <= horizon:
                due.append(DueModule(status=status, cohort=entry.cohort))
    due.sort(key=lambda d: (d.status.due_on or today, d.status.module.position))
    remaining = _remaining_items([d.status.module.id for d in due], fellow_id)
    for entry_due in due:
        entry_due.remaining = remaining.get(entry_due.status.module.id, [])
    feedback = _new_feedback(
        fellow_id,
        [cohort.id for _membership, cohort in active],
        now - timedelta(days=NEW_FEEDBACK_DAYS),
    )
    return HomeLearning(
        next_up=next_up[0] if next_up else None,
        next_cohort=next_up[1] if next_up else None,
        due_soon=due,
        feedback=feedback,
        several_cohorts=len(active) > 1,
    )


# Calendar ----------------------------------------------------------------------------------


def module_due_events_for_user(user: User, now: datetime) -> list[CalendarEvent]:
    """An all-day event on the fellow's due date (their extension when they have one) of
    each released module of the cohorts where they are an active fellow (one query).

    Nothing of the module's content goes into the event: its title, cohort and link.
    """
    from fellowship.calendar.queries import HISTORY, CalendarEvent, absolute_url

    today = curriculum.local_today(user.timezone)
    rows = db.session.execute(
        sa.select(Module, Cohort.name, DueDateExtension)
        .join(Cohort, Cohort.id == Module.cohort_id)
        .join(
            CohortMembership,
            sa.and_(
                CohortMembership.cohort_id == Module.cohort_id,
                CohortMembership.user_id == user.id,
                CohortMembership.role == CohortRole.FELLOW,
                CohortMembership.status == MembershipStatus.ACTIVE,
            ),
        )
        .outerjoin(
            DueDateExtension,
            sa.and_(
                DueDateExtension.module_id == Module.id,
                DueDateExtension.fellow_id == user.id,
            ),
        )
        .where(sa.or_(Module.release_on.is_(None), Module.release_on <= today))
        .order_by(Module.cohort_id, Module.position, Module.id)
    ).tuples()
    oldest = (now - HISTORY).date()
    events = []
    for module, cohort_name, extension in rows:
        due_on = effective_due_on(module, extension)
        if due_on is None or due_on < oldest or due_on >= date.max:
            continue
        page = absolute_url("curriculum.module", module_id=module.id)
        parts = [_("A module of %(cohort)s.", cohort=cohort_name)]
        if module.due_on is not None and due_on != module.due_on:
            parts.append(
                _(
                    "Your due date was extended (the module is due on %(date)s for others).",
                    date=module.due_on.isoformat(),
                )
            )
        parts.append(_("In Fellowship: %(url)s", url=page))
        stamp = module.updated_at
        if extension is not None and extension.created_at > stamp:
            stamp = extension.created_at
        events.append(
            CalendarEvent(
                uid=f"module-{module.id}-due-{user.id}@fellowship",
                title=_("Due: %(title)s", title=module.title),
                starts=due_on,
                ends=due_on + timedelta(days=1),
                stamp=stamp,
                sequence=max(module.version - 1, 0),
                url=page,
                description="\n\n".join(parts),
                categories=(_("Learning"),),
            )
        )
    return events

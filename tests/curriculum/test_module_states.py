"""The state rule (`queries.module_states`), one row per case of the rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from fellowship.curriculum import queries
from fellowship.curriculum.models import ItemKind
from fellowship.curriculum.queries import LockReason, State
from fellowship.db import utcnow
from tests.curriculum.helpers import (
    ExtensionFactory,
    ItemFactory,
    ModuleFactory,
    ProgressFactory,
    require_module,
)
from tests.factories import CohortFactory, UserFactory

TODAY = date(2026, 10, 15)
REQ, OPT = True, False  # required, optional
READ, REFLECT = ItemKind.READING, ItemKind.REFLECTION


@dataclass(frozen=True)
class Case:
    expected: State
    items: tuple[tuple[ItemKind, bool], ...] = ((READ, REQ), (READ, REQ))
    done: tuple[int, ...] = ()  # indexes of items the fellow has done
    drafts: tuple[int, ...] = ()  # reflections with a saved draft
    release_on: date | None = date(2026, 9, 1)
    due_on: date | None = date(2026, 10, 31)
    extension: date | None = None  # the fellow's
    others_extension: date | None = None  # another fellow's
    prerequisite: str | None = None  # "incomplete" | "complete"
    lock: LockReason | None = None
    counts: tuple[int, int] | None = None  # (required done, required total)
    due: date | None = None  # the fellow's due date when it is not the module's


CASES = {
    "not released yet": Case(
        State.LOCKED, release_on=date(2026, 10, 20), lock=LockReason.NOT_RELEASED
    ),
    "released today": Case(State.NOT_STARTED, release_on=TODAY),
    "no release date means open from the start": Case(State.NOT_STARTED, release_on=None),
    "a prerequisite is missing": Case(
        State.LOCKED, prerequisite="incomplete", lock=LockReason.PREREQUISITE
    ),
    "the prerequisite is done": Case(State.NOT_STARTED, prerequisite="complete"),
    "not released wins over a missing prerequisite": Case(
        State.LOCKED,
        prerequisite="incomplete",
        release_on=date(2026, 10, 20),
        lock=LockReason.NOT_RELEASED,
    ),
    "complete when every required item is done": Case(
        State.COMPLETE, items=((READ, REQ), (READ, REQ), (READ, OPT)), done=(0, 1), counts=(2, 2)
    ),
    "optional items are not needed": Case(
        State.COMPLETE, items=((READ, REQ), (READ, OPT), (READ, OPT)), done=(0,), counts=(1, 1)
    ),
    "optional items done do not complete it": Case(
        State.IN_PROGRESS, items=((READ, REQ), (READ, OPT)), done=(1,), counts=(0, 1)
    ),
    "no required items: every item counts (some done)": Case(
        State.IN_PROGRESS, items=((READ, OPT), (READ, OPT)), done=(0,), counts=(1, 2)
    ),
    "no required items: every item counts (all done)": Case(
        State.COMPLETE, items=((READ, OPT), (READ, OPT)), done=(0, 1), counts=(2, 2)
    ),
    "an empty module is never complete": Case(State.NOT_STARTED, items=(), counts=(0, 0)),
    "an empty module past its due date is overdue": Case(
        State.OVERDUE, items=(), due_on=date(2026, 10, 1)
    ),
    "overdue once the due date has passed": Case(State.OVERDUE, due_on=date(2026, 10, 14)),
    "not overdue on the due date itself": Case(State.NOT_STARTED, due_on=TODAY),
    "overdue but extended": Case(
        State.NOT_STARTED,
        due_on=date(2026, 10, 1),
        extension=date(2026, 10, 30),
        due=date(2026, 10, 30),
    ),
    "the extension has passed too": Case(
        State.OVERDUE,
        due_on=date(2026, 9, 20),
        extension=date(2026, 10, 10),
        due=date(2026, 10, 10),
    ),
    "extension not yet passed, work started": Case(
        State.IN_PROGRESS,
        done=(0,),
        due_on=date(2026, 10, 1),
        extension=TODAY,
        due=TODAY,
    ),
    "another fellow's extension is not used": Case(
        State.OVERDUE, due_on=date(2026, 10, 1), others_extension=date(2026, 12, 1)
    ),
    "in progress by a reflection draft": Case(
        State.IN_PROGRESS, items=((REFLECT, REQ), (READ, REQ)), drafts=(0,), counts=(0, 2)
    ),
    "a submitted reflection is done": Case(
        State.IN_PROGRESS, items=((REFLECT, REQ), (READ, REQ)), done=(0,), counts=(1, 2)
    ),
    "in progress by one item done": Case(State.IN_PROGRESS, done=(0,), counts=(1, 2)),
    "complete even if the due date has passed": Case(
        State.COMPLETE, done=(0, 1), due_on=date(2026, 10, 1)
    ),
    "overdue wins over in progress": Case(State.OVERDUE, done=(0,), due_on=date(2026, 10, 1)),
    # The code checks completion first: finished work stays complete even if a prerequisite
    # is no longer complete (an item added to it later). See the report to the lead.
    "complete stays complete when a prerequisite is no longer complete": Case(
        State.COMPLETE, done=(0, 1), prerequisite="incomplete"
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_a_modules_state_follows_the_rule(ctx, case: Case):
    cohort = CohortFactory()
    fellow, other = UserFactory(), UserFactory()
    module = ModuleFactory(cohort_id=cohort.id, release_on=case.release_on, due_on=case.due_on)
    items = [
        ItemFactory(module_id=module.id, kind=kind, required=required)
        for kind, required in case.items
    ]
    for index in case.done:
        now = utcnow()
        submitted = now if items[index].kind == REFLECT else None
        ProgressFactory(
            item_id=items[index].id,
            fellow_id=fellow.id,
            completed_at=now,
            submitted_at=submitted,
            response_md="Done." if submitted else "",
        )
    for index in case.drafts:
        ProgressFactory(item_id=items[index].id, fellow_id=fellow.id, response_md="A start.")
    if case.extension:
        ExtensionFactory(module_id=module.id, fellow_id=fellow.id, due_on=case.extension)
    if case.others_extension:
        ExtensionFactory(module_id=module.id, fellow_id=other.id, due_on=case.others_extension)
    modules = [module]
    first = None
    if case.prerequisite:
        first = ModuleFactory(cohort_id=cohort.id, title="Foundations", position=-1)
        first_item = ItemFactory(module_id=first.id)
        if case.prerequisite == "complete":
            ProgressFactory(item_id=first_item.id, fellow_id=fellow.id, completed_at=utcnow())
        require_module(module, first)
        modules = [first, module]

    status = queries.module_states(modules, [fellow.id, other.id], TODAY)[(fellow.id, module.id)]

    assert status.state == case.expected
    assert status.lock == case.lock
    if case.lock == LockReason.PREREQUISITE:
        assert [m.id for m in status.waiting_for] == [first.id]
    else:
        assert status.waiting_for == []
    if case.counts is not None:
        assert (status.required_done, status.required_total) == case.counts
    assert status.due_on == (case.due or case.due_on)
    assert status.extended == (case.extension is not None)
    assert status.is_complete == (case.expected == State.COMPLETE)


def test_two_fellows_on_the_same_module_have_their_own_states(ctx):
    cohort = CohortFactory()
    ahead, behind = UserFactory(), UserFactory()
    module = ModuleFactory(cohort_id=cohort.id, release_on=date(2026, 9, 1), due_on=None)
    first, second = ItemFactory(module_id=module.id), ItemFactory(module_id=module.id)
    for item in (first, second):
        ProgressFactory(item_id=item.id, fellow_id=ahead.id, completed_at=utcnow())
    states = queries.module_states([module], [ahead.id, behind.id], TODAY)
    assert states[(ahead.id, module.id)].state == State.COMPLETE
    assert states[(ahead.id, module.id)].percent == 100
    assert states[(behind.id, module.id)].state == State.NOT_STARTED
    assert states[(behind.id, module.id)].percent == 0


def test_the_rule_takes_four_queries_for_any_grid(ctx, count_queries):
    counts = {}
    for size in (2, 20):
        cohort = CohortFactory()
        fellows = [UserFactory().id for _ in range(size)]
        modules = [ModuleFactory(cohort_id=cohort.id) for _ in range(size)]
        for module in modules:
            item = ItemFactory(module_id=module.id)
            ProgressFactory(item_id=item.id, fellow_id=fellows[0], completed_at=utcnow())
        modules = queries.modules_for(cohort.id)  # loaded before counting
        with count_queries() as counter:
            states = queries.module_states(modules, fellows, TODAY)
        assert len(states) == size * size
        counts[size] = counter.count
    assert counts[2] == counts[20] == 4

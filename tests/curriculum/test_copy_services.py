"""Copying a curriculum: dates shifted by the difference of the start dates, strands mapped
by place, items and prerequisites copied, files shared, the copy added after the target's
own modules and audited."""

from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from fellowship import uploads
from fellowship.audit import AuditEvent
from fellowship.cohorts.models import Strand
from fellowship.curriculum import queries
from fellowship.curriculum import services as authoring
from fellowship.curriculum.models import ItemKind, Module, ModuleItem
from fellowship.extensions import db
from fellowship.uploads import StoredFile
from tests.curriculum.authoring_helpers import items, modules, order, world
from tests.curriculum.helpers import ItemFactory, ModuleFactory, require_module
from tests.factories import CohortFactory, StaffFactory
from tests.upload_attacks import valid_pdf


def d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


# (source start, target start, release, due) → (shift, new release, new due)
SHIFTS = [
    ("2025-08-01", "2026-08-01", "2025-09-01", "2025-09-30", 365, "2026-09-01", "2026-09-30"),
    ("2026-08-01", "2026-08-01", "2026-09-01", "2026-09-30", 0, "2026-09-01", "2026-09-30"),
    ("2026-08-10", "2026-08-01", "2026-09-01", "2026-09-30", -9, "2026-08-23", "2026-09-21"),
    ("2024-01-15", "2024-02-15", "2024-02-10", None, 31, "2024-03-12", None),  # leap year
    ("2025-08-01", "2026-08-03", None, "2025-10-01", 367, None, "2026-10-03"),
    ("2025-08-01", "2026-08-01", None, None, 365, None, None),
]


@pytest.mark.parametrize(
    ("source_start", "target_start", "release", "due", "shift", "new_release", "new_due"),
    SHIFTS,
)
def test_dates_move_by_the_difference_between_the_start_dates(
    ctx, source_start, target_start, release, due, shift, new_release, new_due
):
    source = CohortFactory(starts_on=d(source_start))
    target = CohortFactory(starts_on=d(target_start))
    ModuleFactory(cohort_id=source.id, position=0, release_on=d(release), due_on=d(due))
    plan = authoring.plan_copy(source, target)
    assert plan.shift_days == shift
    assert (plan.modules[0].release_on, plan.modules[0].due_on) == (d(new_release), d(new_due))
    (copied,) = authoring.apply_copy(StaffFactory(), source, target)
    assert (copied.release_on, copied.due_on) == (d(new_release), d(new_due))


def test_the_copy_goes_after_the_targets_own_modules_with_items_in_order(ctx):
    source = world(starts_on=date(2025, 8, 1)).cohort
    target = world().cohort
    modules(target, ["Ours 1", "Ours 2"])
    first, _second = modules(source, ["Theirs 1", "Theirs 2"])
    items(first, ["Read", "Watch", "Reflect"])
    plan = authoring.plan_copy(source, target)
    assert plan.first_position == 2
    assert [p.items for p in plan.modules] == [3, 0]
    assert plan.item_count == 3
    authoring.apply_copy(StaffFactory(), source, target)
    db.session.commit()
    assert order(target.id) == list(enumerate(["Ours 1", "Ours 2", "Theirs 1", "Theirs 2"]))
    copied = queries.modules_for(target.id)[2]
    assert [i.title for i in queries.items_for([copied.id])[copied.id]] == [
        "Read",
        "Watch",
        "Reflect",
    ]
    # The source is untouched.
    assert order(source.id) == [(0, "Theirs 1"), (1, "Theirs 2")]
    assert len(queries.items_for([first.id])[first.id]) == 3


def test_prerequisites_are_remapped_to_the_copied_modules(ctx):
    source = CohortFactory(starts_on=date(2025, 8, 1))
    target = CohortFactory()
    a, b, c = modules(source, ["A", "B", "C"])
    require_module(b, a)
    require_module(c, a)
    require_module(c, b)
    copied = authoring.apply_copy(StaffFactory(), source, target)
    db.session.commit()
    new = {m.title: m.id for m in copied}
    needs = queries.prerequisites_for(new.values())
    assert needs[new["A"]] == []
    assert needs[new["B"]] == [new["A"]]
    assert sorted(needs[new["C"]]) == sorted([new["A"], new["B"]])
    old_ids = {a.id, b.id, c.id}
    assert not any(set(ids) & old_ids for ids in needs.values())


def test_a_file_item_shares_the_stored_file_instead_of_duplicating_it(ctx):
    source = CohortFactory(starts_on=date(2025, 8, 1))
    target = CohortFactory()
    staff = StaffFactory()
    (module,) = modules(source, ["Slides"])
    stored = uploads.store_file(
        FileStorage(io.BytesIO(valid_pdf()), filename="deck.pdf"), staff.id, uploads.DOCUMENTS
    )
    ItemFactory(
        module_id=module.id, position=0, kind=ItemKind.FILE, body_md="", stored_file_id=stored.id
    )
    db.session.commit()
    files_before = db.session.scalar(sa.select(sa.func.count(StoredFile.id)))
    (copied,) = authoring.apply_copy(staff, source, target)
    db.session.commit()
    (item,) = queries.items_for([copied.id])[copied.id]
    assert item.kind == ItemKind.FILE
    assert item.stored_file_id == stored.id
    assert db.session.scalar(sa.select(sa.func.count(StoredFile.id))) == files_before


def test_a_shared_file_is_let_go_only_when_its_last_item_is_deleted(ctx):
    source, target = CohortFactory(starts_on=date(2025, 8, 1)), CohortFactory()
    staff = StaffFactory()
    (module,) = modules(source, ["Slides"])
    stored = uploads.store_file(
        FileStorage(io.BytesIO(valid_pdf()), filename="deck.pdf"), staff.id, uploads.DOCUMENTS
    )
    original = ItemFactory(module_id=module.id, kind=ItemKind.FILE, stored_file_id=stored.id)
    (copied,) = authoring.apply_copy(staff, source, target)
    db.session.commit()
    authoring.delete_item(staff, original)
    db.session.commit()
    assert db.session.get(StoredFile, stored.id) is not None  # the copy still uses it
    authoring.delete_module(staff, copied)
    db.session.commit()
    assert db.session.get(StoredFile, stored.id) is None


def test_strands_map_by_place_and_fall_back_to_the_first(ctx):
    source = CohortFactory(
        starts_on=date(2025, 8, 1),
        strands=[Strand(name=n, position=i) for i, n in enumerate(["S1", "S2", "S3"])],
    )
    target = CohortFactory(strands=[Strand(name=n, position=i) for i, n in enumerate(["T1", "T2"])])
    for position, strand in enumerate([*source.strands, None]):
        ModuleFactory(
            cohort_id=source.id,
            position=position,
            title=f"M{position}",
            strand_id=strand.id if strand else None,
        )
    plan = authoring.plan_copy(source, target)
    mapped = [(p.strand.name, p.strand_fallback) for p in plan.modules]
    assert mapped == [("T1", False), ("T2", False), ("T1", True), ("T1", True)]
    assert plan.any_fallback
    copied = authoring.apply_copy(StaffFactory(), source, target)
    names = {s.id: s.name for s in target.strands}
    assert [names[m.strand_id] for m in copied] == ["T1", "T2", "T1", "T1"]


def test_copying_is_audited_with_the_source_and_the_count(ctx):
    source = CohortFactory(starts_on=date(2025, 8, 1), name="Cohort 2025")
    target = CohortFactory()
    first, _second = modules(source, ["A", "B"])
    items(first, ["One", "Two"])
    staff = StaffFactory()
    authoring.apply_copy(staff, source, target)
    db.session.commit()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "curriculum_copied"))
    assert event.actor_id == staff.id
    assert (event.target_type, event.target_id) == ("Cohort", target.id)
    assert event.details["source_cohort_id"] == source.id
    assert event.details["modules"] == 2
    assert event.details["items"] == 2
    assert event.details["shift_days"] == 365


def test_nothing_is_copied_from_a_cohort_without_modules_or_from_itself(ctx):
    source = CohortFactory()
    target = CohortFactory()
    with pytest.raises(authoring.CurriculumError):
        authoring.apply_copy(StaffFactory(), source, target)
    with pytest.raises(authoring.CurriculumError):
        authoring.plan_copy(target, target)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Module.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(ModuleItem.id))) == 0

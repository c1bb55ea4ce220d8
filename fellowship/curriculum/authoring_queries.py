"""Read-only selectors for the authoring pages (builder, items, delete, copy).

Each runs a fixed number of queries, whatever the number of modules and items.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from fellowship import policy
from fellowship.cohorts.models import Cohort, Strand
from fellowship.curriculum import queries
from fellowship.curriculum.models import (
    DueDateExtension,
    ItemProgress,
    Module,
    ModuleItem,
)
from fellowship.db import db
from fellowship.uploads import StoredFile


@dataclass
class BuilderRow:
    module: Module
    strand: Strand | None
    required_items: int
    items: int
    prerequisites: list[Module] = field(default_factory=list)


def item_counts(module_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """{module_id: (required items, all items)} (one query; modules without items absent)."""
    ids = list(module_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(
            ModuleItem.module_id,
            sa.func.sum(sa.case((ModuleItem.required.is_(True), 1), else_=0)),
            sa.func.count(ModuleItem.id),
        )
        .where(ModuleItem.module_id.in_(ids))
        .group_by(ModuleItem.module_id)
    )
    return {module_id: (int(required or 0), int(total)) for module_id, required, total in rows}


def builder_rows(cohort: Cohort) -> list[BuilderRow]:
    """Every module of the cohort in order, with its strand, item counts and prerequisites
    (three queries; the cohort's strands are loaded with the cohort)."""
    modules = queries.modules_for(cohort.id)
    ids = [module.id for module in modules]
    counts = item_counts(ids)
    prerequisites = queries.prerequisites_for(ids)
    by_id = {module.id: module for module in modules}
    strands = {strand.id: strand for strand in cohort.strands}
    rows = []
    for module in modules:
        required, total = counts.get(module.id, (0, 0))
        needs = sorted(
            (by_id[i] for i in prerequisites[module.id] if i in by_id),
            key=lambda m: (m.position, m.id),
        )
        rows.append(
            BuilderRow(
                module=module,
                strand=strands.get(module.strand_id) if module.strand_id else None,
                required_items=required,
                items=total,
                prerequisites=needs,
            )
        )
    return rows


@dataclass
class DeleteSummary:
    """What deleting a module takes with it."""

    items: int
    fellows: int  # fellows with any progress on its items
    reflections: int  # reflections written (drafts and submitted)
    extensions: int


def delete_summary(module: Module) -> DeleteSummary:
    items = db.session.scalar(
        sa.select(sa.func.count(ModuleItem.id)).where(ModuleItem.module_id == module.id)
    )
    fellows, reflections = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(ItemProgress.fellow_id)),
            sa.func.sum(sa.case((ItemProgress.response_md != "", 1), else_=0)),
        )
        .join(ModuleItem, ModuleItem.id == ItemProgress.item_id)
        .where(ModuleItem.module_id == module.id)
    ).one()
    extensions = db.session.scalar(
        sa.select(sa.func.count(DueDateExtension.id)).where(DueDateExtension.module_id == module.id)
    )
    return DeleteSummary(
        items=int(items or 0),
        fellows=int(fellows or 0),
        reflections=int(reflections or 0),
        extensions=int(extensions or 0),
    )


def item_progress_summary(item: ModuleItem) -> tuple[int, int]:
    """(fellows with progress on the item, reflections written on it)."""
    fellows, reflections = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(ItemProgress.fellow_id)),
            sa.func.sum(sa.case((ItemProgress.response_md != "", 1), else_=0)),
        ).where(ItemProgress.item_id == item.id)
    ).one()
    return int(fellows or 0), int(reflections or 0)


def stored_files(ids: Iterable[int | None]) -> dict[int, StoredFile]:
    """{id: stored file} for the file items of a page (one query)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.session.scalars(sa.select(StoredFile).where(StoredFile.id.in_(wanted)))
    return {row.id: row for row in rows}


def copy_sources(user: Any, target: Cohort) -> list[tuple[Cohort, int]]:
    """Cohorts `user` may copy a curriculum from into `target`, with their module counts:
    not `target`, only cohorts with modules (newest first)."""
    counts = (
        sa.select(Module.cohort_id, sa.func.count(Module.id).label("modules"))
        .group_by(Module.cohort_id)
        .subquery()
    )
    visible = policy.cohorts_visible_to(user).subquery()
    rows = db.session.execute(
        sa.select(Cohort, counts.c.modules)
        .join(counts, counts.c.cohort_id == Cohort.id)
        .where(Cohort.id.in_(sa.select(visible.c.id)), Cohort.id != target.id)
        .order_by(Cohort.starts_on.desc(), Cohort.name)
    )
    return [
        (cohort, int(modules))
        for cohort, modules in rows
        if policy.can_copy_curriculum(user, target, cohort)
    ]

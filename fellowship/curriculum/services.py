"""Authoring rules: modules and items (create, edit, move, delete) and copying a curriculum.

Services flush and audit; the view commits. Positions of a cohort's modules (and of a
module's items) are kept 0..n-1 with no gaps. They are written with plain UPDATEs that do
not move the rows' version, so moving a module never makes somebody's open edit form
"stale": the edit form does not carry the position.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.datastructures import FileStorage

from fellowship import audit, uploads
from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort, Strand
from fellowship.curriculum import authoring_queries, queries
from fellowship.curriculum.models import ItemKind, Module, ModuleItem, ModulePrerequisite
from fellowship.db import db, utcnow

MAX_TITLE = 200
MAX_TEXT = 50_000
MAX_URL = 2000
MIN_MINUTES = 1
MAX_MINUTES = 6000
URL_SCHEMES = ("http", "https")

UP = "up"
DOWN = "down"

TITLE_NEEDED = _l("Enter a title.")
TITLE_TOO_LONG = _l("Keep the title to 200 characters or fewer.")
STRAND_NEEDED = _l("Choose the strand this module belongs to.")
DUE_BEFORE_RELEASE = _l("The due date cannot be before the release date.")
MINUTES_RANGE = _l("Enter the estimated time in minutes, from 1 to 6000.")
ENTER_DATE = _l("Enter the date, like 2026-09-15.")
URL_NEEDED = _l("Enter the web address, starting with https://.")
URL_HTTP_ONLY = _l(
    "Only web addresses starting with https:// or http:// can be used here; an address "
    "starting with “%(scheme)s:” is refused."
)
URL_INCOMPLETE = _l("Enter a whole web address, like https://example.org/page.")
URL_TOO_LONG = _l("Keep the web address to 2000 characters or fewer.")
BODY_NEEDED = {
    ItemKind.READING: _l("Write the reading."),
    ItemKind.REFLECTION: _l("Write the prompt fellows answer."),
}
FILE_NEEDED = _l("Choose a file to upload.")
STALE_MODULE = _l(
    "Someone changed this module while you were editing it. Your changes were not saved. "
    "The form below still has what you typed, and the saved module is shown above it. Save "
    "again to replace it with yours."
)
STALE_ITEM = _l(
    "Someone changed this item while you were editing it. Your changes were not saved. "
    "The form below still has what you typed, and the saved item is shown above it. Save "
    "again to replace it with yours."
)
GONE = _l("This module was changed or deleted by someone else in the meantime.")


class CurriculumError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class StaleEdit(CurriculumError):
    """Someone saved the module or item after this form was opened."""


@dataclass
class ModuleData:
    title: str
    strand_id: int | None
    summary: str = ""
    outcomes_md: str = ""
    release_on: date | None = None
    due_on: date | None = None
    estimated_minutes: int | None = None
    prerequisite_ids: list[int] = field(default_factory=list)


@dataclass
class ItemData:
    """What the item form says. `body_md` is the reading, the link or video note, or the
    reflection prompt; `upload` is a new file (None on an edit keeps the current one)."""

    title: str
    body_md: str = ""
    url: str | None = None
    upload: FileStorage | None = None
    required: bool = True


# Checks -----------------------------------------------------------------------------------


def url_problem(value: str | None) -> str | None:
    """Why a link or video address cannot be used, or None when it is a web address."""
    value = (value or "").strip()
    if not value:
        return str(URL_NEEDED)
    if len(value) > MAX_URL:
        return str(URL_TOO_LONG)
    if any(ord(char) < 32 or char.isspace() for char in value):
        return str(URL_INCOMPLETE)
    try:
        parts = urlsplit(value)
    except ValueError:
        return str(URL_INCOMPLETE)
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        if scheme:
            return str(URL_HTTP_ONLY) % {"scheme": parts.scheme}
        return str(URL_INCOMPLETE)
    if not parts.hostname:
        return str(URL_INCOMPLETE)
    return None


def due_problem(release_on: date | None, due_on: date | None) -> str | None:
    if release_on is not None and due_on is not None and due_on < release_on:
        return str(DUE_BEFORE_RELEASE)
    return None


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise CurriculumError("title", str(TITLE_NEEDED))
    if len(title) > MAX_TITLE:
        raise CurriculumError("title", str(TITLE_TOO_LONG))
    return title


def _check_text(name: str, value: str) -> str:
    value = (value or "").strip()
    if len(value) > MAX_TEXT:
        raise CurriculumError(name, str(_l("Keep this to 50,000 characters or fewer.")))
    return value


def _cohort_modules(cohort_id: int, *, lock: bool = False) -> list[Module]:
    """The cohort's modules in order; `lock` holds their rows until commit (PostgreSQL), so
    two people reordering at once take turns instead of both numbering from the same list."""
    query = sa.select(Module).where(Module.cohort_id == cohort_id)
    if lock:
        # The cohort row first: FOR UPDATE on the modules alone would not stop a concurrent
        # insert into an empty (or growing) list from taking the same position.
        db.session.execute(sa.select(Cohort.id).where(Cohort.id == cohort_id).with_for_update())
        query = query.with_for_update()
    return list(db.session.scalars(query.order_by(Module.position, Module.id)))


def _prerequisite_graph(cohort_id: int) -> dict[int, set[int]]:
    """{module_id: ids it requires} for every module of the cohort (one query)."""
    rows = db.session.execute(
        sa.select(ModulePrerequisite.module_id, ModulePrerequisite.requires_module_id)
        .join(Module, Module.id == ModulePrerequisite.module_id)
        .where(Module.cohort_id == cohort_id)
    )
    graph: dict[int, set[int]] = defaultdict(set)
    for module_id, requires_id in rows:
        graph[module_id].add(requires_id)
    return graph


def _requires(graph: dict[int, set[int]], start: int, target: int) -> bool:
    """Whether `start` requires `target`, directly or through other modules."""
    seen: set[int] = set()
    stack = [start]
    while stack:
        current = stack.pop()
        for next_id in graph.get(current, ()):
            if next_id == target:
                return True
            if next_id not in seen:
                seen.add(next_id)
                stack.append(next_id)
    return False


def _check_module(
    cohort: Cohort, data: ModuleData, module: Module | None
) -> tuple[ModuleData, list[Module]]:
    """The cleaned data and the prerequisite modules, or CurriculumError."""
    title = _check_title(data.title)
    strands = {strand.id for strand in cohort.strands}
    if strands and data.strand_id not in strands:
        raise CurriculumError("strand", str(STRAND_NEEDED))
    if not strands and data.strand_id is not None:
        raise CurriculumError("strand", str(STRAND_NEEDED))
    problem = due_problem(data.release_on, data.due_on)
    if problem:
        raise CurriculumError("due_on", problem)
    minutes = data.estimated_minutes
    if minutes is not None and not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise CurriculumError("estimated_minutes", str(MINUTES_RANGE))
    others = {m.id: m for m in _cohort_modules(cohort.id)}
    wanted = list(dict.fromkeys(data.prerequisite_ids))
    if module is not None and module.id in wanted:
        raise CurriculumError(
            "prerequisites", str(_l("A module cannot be a prerequisite of itself."))
        )
    if any(module_id not in others for module_id in wanted):
        raise CurriculumError(
            "prerequisites", str(_l("Choose prerequisites among this cohort's modules."))
        )
    if module is not None:
        graph = _prerequisite_graph(cohort.id)
        graph.pop(module.id, None)  # its own requirements are being replaced
        for required_id in wanted:
            if _requires(graph, required_id, module.id):
                raise CurriculumError(
                    "prerequisites",
                    str(
                        _l(
                            "“%(other)s” cannot be a prerequisite of this module: it already "
                            "requires “%(this)s”, directly or through other modules, so "
                            "neither could ever be opened.",
                            other=others[required_id].title,
                            this=module.title,
                        )
                    ),
                )
    cleaned = ModuleData(
        title=title,
        strand_id=data.strand_id,
        summary=_check_text("summary", data.summary),
        outcomes_md=_check_text("outcomes_md", data.outcomes_md),
        release_on=data.release_on,
        due_on=data.due_on,
        estimated_minutes=minutes,
        prerequisite_ids=wanted,
    )
    return cleaned, [others[module_id] for module_id in wanted]


def _apply_module(module: Module, data: ModuleData) -> None:
    module.title = data.title
    module.strand_id = data.strand_id
    module.summary = data.summary
    module.outcomes_md = data.outcomes_md
    module.release_on = data.release_on
    module.due_on = data.due_on
    module.estimated_minutes = data.estimated_minutes


def _set_prerequisites(module: Module, wanted: list[int]) -> None:
    current = set(queries.prerequisites_for([module.id])[module.id])
    gone = current - set(wanted)
    if gone:
        db.session.execute(
            sa.delete(ModulePrerequisite).where(
                ModulePrerequisite.module_id == module.id,
                ModulePrerequisite.requires_module_id.in_(gone),
            )
        )
    for required_id in wanted:
        if required_id not in current:
            db.session.add(ModulePrerequisite(module_id=module.id, requires_module_id=required_id))


def _renumber(model: Any, rows: Sequence[Any]) -> None:
    """Give `rows` the positions 0..n-1 in their list order, without moving versions."""
    for position, row in enumerate(rows):
        if row.position != position:
            db.session.execute(
                sa.update(model).where(model.id == row.id).values(position=position),
                execution_options={"synchronize_session": False},
            )
            set_committed_value(row, "position", position)


def _swap(model: Any, rows: list[Any], row: Any, direction: str) -> bool:
    index = next(i for i, other in enumerate(rows) if other.id == row.id)
    other_index = index - 1 if direction == UP else index + 1
    if direction not in (UP, DOWN) or not 0 <= other_index < len(rows):
        _renumber(model, rows)
        return False
    rows[index], rows[other_index] = rows[other_index], rows[index]
    _renumber(model, rows)
    return True


# Modules ----------------------------------------------------------------------------------


def create_module(actor: User, cohort: Cohort, data: ModuleData) -> Module:
    """A new module at the end of the cohort's curriculum."""
    cleaned, _required = _check_module(cohort, data, None)
    existing = _cohort_modules(cohort.id, lock=True)
    _renumber(Module, existing)
    module = Module(cohort_id=cohort.id, position=len(existing))
    _apply_module(module, cleaned)
    db.session.add(module)
    db.session.flush()
    _set_prerequisites(module, cleaned.prerequisite_ids)
    db.session.flush()
    return module


def update_module(actor: User, module: Module, data: ModuleData, *, version: int | None) -> Module:
    """Save an edit made on the form opened at `version`; StaleEdit when someone saved since."""
    if version != module.version:
        raise StaleEdit(None, str(STALE_MODULE))
    cohort = db.session.get(Cohort, module.cohort_id)
    assert cohort is not None
    cleaned, _required = _check_module(cohort, data, module)
    _apply_module(module, cleaned)
    module.updated_at = utcnow()  # always an UPDATE, so the version moves on
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None, str(STALE_MODULE)) from error
    _set_prerequisites(module, cleaned.prerequisite_ids)
    db.session.flush()
    return module


def delete_module(actor: User, module: Module) -> None:
    """Delete the module with its items, fellows' progress and extensions (audited)."""
    summary = authoring_queries.delete_summary(module)
    cohort_id = module.cohort_id
    audit.record(
        actor,
        "module_deleted",
        module,
        details={
            "cohort_id": cohort_id,
            "title": module.title,
            "items": summary.items,
            "fellows_with_progress": summary.fellows,
            "reflections": summary.reflections,
        },
    )
    files = set(
        db.session.scalars(
            sa.select(ModuleItem.stored_file_id).where(
                ModuleItem.module_id == module.id, ModuleItem.stored_file_id.is_not(None)
            )
        )
    )
    db.session.delete(module)
    try:
        db.session.flush()
    except StaleDataError as error:
        raise CurriculumError(None, str(GONE)) from error
    _renumber(Module, _cohort_modules(cohort_id, lock=True))
    _forget_unused_files(files)
    db.session.flush()


def _forget_unused_files(stored_file_ids: set[int | None]) -> None:
    """Delete the rows of stored files no item uses any more (a copied curriculum shares its
    files, so only the last user lets go). `flask uploads sweep` then removes the bytes."""
    ids = {file_id for file_id in stored_file_ids if file_id is not None}
    if not ids:
        return
    used = set(
        db.session.scalars(
            sa.select(ModuleItem.stored_file_id).where(ModuleItem.stored_file_id.in_(ids))
        )
    )
    for file_id in ids - used:
        stored = db.session.get(uploads.StoredFile, file_id)
        if stored is not None:
            db.session.delete(stored)
    db.session.flush()


def move_module(actor: User, module: Module, direction: str) -> bool:
    """Swap the module with its neighbour above or below; False when it cannot move."""
    rows = _cohort_modules(module.cohort_id, lock=True)
    moved = _swap(Module, rows, module, direction)
    db.session.flush()
    return moved


# Items ------------------------------------------------------------------------------------


def _module_items(module_id: int, *, lock: bool = False) -> list[ModuleItem]:
    query = sa.select(ModuleItem).where(ModuleItem.module_id == module_id)
    if lock:
        db.session.execute(sa.select(Module.id).where(Module.id == module_id).with_for_update())
        query = query.with_for_update()
    return list(db.session.scalars(query.order_by(ModuleItem.position, ModuleItem.id)))


def _check_item(kind: ItemKind, data: ItemData, *, needs_file: bool) -> tuple[str, str, str | None]:
    """(title, body, url) cleaned, or CurriculumError. The file is checked when stored."""
    title = _check_title(data.title)
    body = _check_text("body", data.body_md)
    url: str | None = None
    if kind in (ItemKind.READING, ItemKind.REFLECTION) and not body:
        raise CurriculumError("body", str(BODY_NEEDED[kind]))
    if kind in (ItemKind.LINK, ItemKind.VIDEO):
        problem = url_problem(data.url)
        if problem:
            raise CurriculumError("url", problem)
        url = (data.url or "").strip()
    if kind == ItemKind.FILE and needs_file and not _has_file(data.upload):
        raise CurriculumError("file", str(FILE_NEEDED))
    return title, body, url


def _has_file(upload: FileStorage | None) -> bool:
    return upload is not None and bool(upload.filename)


def _store(actor: User, upload: FileStorage) -> uploads.StoredFile:
    try:
        return uploads.store_file(upload, actor.id, uploads.DOCUMENTS)
    except OSError as error:  # the disk is full or the store unwritable: say so, keep the form
        raise CurriculumError(
            "file", str(_l("The file could not be saved just now. Please try again."))
        ) from error


def create_item(actor: User, module: Module, kind: ItemKind, data: ItemData) -> ModuleItem:
    """A new item at the end of the module. A file item stores its upload (UploadRefused
    when the file is not accepted; nothing is saved then)."""
    title, body, url = _check_item(kind, data, needs_file=True)
    existing = _module_items(module.id, lock=True)
    _renumber(ModuleItem, existing)
    item = ModuleItem(
        module_id=module.id,
        position=len(existing),
        kind=kind,
        title=title,
        body_md=body,
        url=url,
        required=bool(data.required),
    )
    if kind == ItemKind.FILE:
        assert data.upload is not None
        item.stored_file_id = _store(actor, data.upload).id
    db.session.add(item)
    db.session.flush()
    return item


def update_item(
    actor: User, item: ModuleItem, data: ItemData, *, version: int | None
) -> ModuleItem:
    """Save an edit; a file item keeps its file unless a new one is uploaded."""
    if version != item.version:
        raise StaleEdit(None, str(STALE_ITEM))
    title, body, url = _check_item(item.kind, data, needs_file=False)
    # Store a new file before touching the item: storing flushes, and the item's own
    # flush (which may find it stale) must happen inside the try below.
    replaced = None
    if item.kind == ItemKind.FILE and _has_file(data.upload):
        assert data.upload is not None
        new_file_id = _store(actor, data.upload).id
        replaced, item.stored_file_id = item.stored_file_id, new_file_id
    item.title = title
    item.body_md = body
    item.url = url
    item.required = bool(data.required)
    item.updated_at = utcnow()
    try:
        db.session.flush()
    except StaleDataError as error:
        raise StaleEdit(None, str(STALE_ITEM)) from error
    _forget_unused_files({replaced})
    return item


def delete_item(actor: User, item: ModuleItem) -> None:
    """Delete the item and fellows' progress on it. Its stored file goes too unless another
    item (a copied curriculum) still uses it."""
    module_id, stored_file_id = item.module_id, item.stored_file_id
    db.session.delete(item)
    try:
        db.session.flush()
    except StaleDataError as error:
        raise CurriculumError(None, str(GONE)) from error
    _renumber(ModuleItem, _module_items(module_id, lock=True))
    _forget_unused_files({stored_file_id})
    db.session.flush()


def move_item(actor: User, item: ModuleItem, direction: str) -> bool:
    rows = _module_items(item.module_id, lock=True)
    moved = _swap(ModuleItem, rows, item, direction)
    db.session.flush()
    return moved


# Copying a curriculum ---------------------------------------------------------------------


@dataclass
class PlannedModule:
    """One module of the source as it will be in the target."""

    source: Module
    release_on: date | None
    due_on: date | None
    strand: Strand | None
    source_strand: Strand | None
    strand_fallback: bool  # no strand at the same place: the target's first strand
    items: int
    required_items: int
    prerequisite_titles: list[str]


@dataclass
class CopyPlan:
    source: Cohort
    target: Cohort
    shift_days: int
    first_position: int
    modules: list[PlannedModule]

    @property
    def item_count(self) -> int:
        return sum(planned.items for planned in self.modules)

    @property
    def any_fallback(self) -> bool:
        return any(planned.strand_fallback for planned in self.modules)


def _shift(day: date | None, delta: timedelta) -> date | None:
    if day is None:
        return None
    try:
        return day + delta
    except OverflowError as error:
        raise CurriculumError(
            "source", str(_l("The dates of that curriculum cannot be moved that far."))
        ) from error


def _strand_for(
    source: Cohort, target: Cohort, strand_id: int | None
) -> tuple[Strand | None, Strand | None, bool]:
    """(target strand, source strand, fell back?): the strand at the same place among the
    target's strands, or the target's first strand."""
    source_strand = next((s for s in source.strands if s.id == strand_id), None)
    index = source.strands.index(source_strand) if source_strand is not None else None
    if not target.strands:
        return None, source_strand, False
    if index is not None and index < len(target.strands):
        return target.strands[index], source_strand, False
    return target.strands[0], source_strand, True


def plan_copy(source: Cohort, target: Cohort) -> CopyPlan:
    """What copying `source`'s curriculum into `target` would add (nothing is written)."""
    if source.id == target.id:
        raise CurriculumError("source", str(_l("Choose another cohort to copy from.")))
    delta = target.starts_on - source.starts_on
    modules = _cohort_modules(source.id)
    items = queries.items_for([m.id for m in modules])
    prerequisites = queries.prerequisites_for([m.id for m in modules])
    titles = {m.id: m.title for m in modules}
    first_position = db.session.scalar(
        sa.select(sa.func.count(Module.id)).where(Module.cohort_id == target.id)
    )
    planned = []
    for module in modules:
        strand, source_strand, fallback = _strand_for(source, target, module.strand_id)
        module_items = items[module.id]
        planned.append(
            PlannedModule(
                source=module,
                release_on=_shift(module.release_on, delta),
                due_on=_shift(module.due_on, delta),
                strand=strand,
                source_strand=source_strand,
                strand_fallback=fallback,
                items=len(module_items),
                required_items=sum(1 for item in module_items if item.required),
                prerequisite_titles=[titles[i] for i in prerequisites[module.id] if i in titles],
            )
        )
    return CopyPlan(
        source=source,
        target=target,
        shift_days=delta.days,
        first_position=int(first_position or 0),
        modules=planned,
    )


def apply_copy(
    actor: User, source: Cohort, target: Cohort, expected_existing: int | None = None
) -> list[Module]:
    """Copy every module of `source` (with items and prerequisites) after `target`'s own,
    with dates shifted by the difference of the two start dates. File items share the
    stored file (nothing is duplicated on disk). `expected_existing` is how many modules the
    target had when the preview was shown: a confirmation sent twice copies once."""
    plan = plan_copy(source, target)
    if not plan.modules:
        raise CurriculumError("source", str(_l("That cohort has no modules to copy.")))
    existing = _cohort_modules(target.id, lock=True)
    if expected_existing is not None and len(existing) != expected_existing:
        raise CurriculumError(
            "source",
            str(
                _l(
                    "This cohort's curriculum changed after the preview was shown (it may "
                    "have been copied already). Nothing was copied; check the preview again."
                )
            ),
        )
    _renumber(Module, existing)
    items = queries.items_for([planned.source.id for planned in plan.modules])
    prerequisites = queries.prerequisites_for([planned.source.id for planned in plan.modules])
    new_ids: dict[int, Module] = {}
    for offset, planned in enumerate(plan.modules):
        old = planned.source
        module = Module(
            cohort_id=target.id,
            position=len(existing) + offset,
            strand_id=planned.strand.id if planned.strand else None,
            title=old.title,
            summary=old.summary,
            outcomes_md=old.outcomes_md,
            release_on=planned.release_on,
            due_on=planned.due_on,
            estimated_minutes=old.estimated_minutes,
        )
        db.session.add(module)
        new_ids[old.id] = module
    db.session.flush()
    item_count = 0
    for old_id, module in new_ids.items():
        for position, item in enumerate(items[old_id]):
            db.session.add(
                ModuleItem(
                    module_id=module.id,
                    position=position,
                    kind=item.kind,
                    title=item.title,
                    body_md=item.body_md,
                    url=item.url,
                    stored_file_id=item.stored_file_id,
                    required=item.required,
                )
            )
            item_count += 1
        for required_id in prerequisites[old_id]:
            if required_id in new_ids:
                db.session.add(
                    ModulePrerequisite(
                        module_id=module.id, requires_module_id=new_ids[required_id].id
                    )
                )
    db.session.flush()
    audit.record(
        actor,
        "curriculum_copied",
        target,
        details={
            "source_cohort_id": source.id,
            "source_cohort": source.name,
            "modules": len(new_ids),
            "items": item_count,
            "shift_days": plan.shift_days,
        },
    )
    return list(new_ids.values())

"""The demo curriculum: eight modules over the four strands and fellows at every point."""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.auth.services import find_user_by_email
from fellowship.cohorts.models import Cohort, CohortMembership, CohortRole
from fellowship.curriculum import facilitation_queries, queries
from fellowship.curriculum.demo import (
    COALITION_MAP,
    ENROLLMENT_WORKSHEET,
    load_demo_curriculum,
    module_dates,
    render_pdf,
)
from fellowship.curriculum.models import (
    DueDateExtension,
    ItemKind,
    ItemProgress,
    Module,
    ModuleItem,
    ModulePrerequisite,
)
from fellowship.curriculum.queries import State
from fellowship.db import utcnow
from fellowship.demo import DEMO_COHORT_NAME, load_demo
from fellowship.extensions import db
from fellowship.uploads import StoredFile, stored_path
from tests.conftest import rows_for_module
from tests.factories import CohortFactory, MembershipFactory, UserFactory

STRANDS = {
    "The school model",
    "Foundational leadership skills",
    "Coalition building",
    "Personal development",
}


@dataclass
class Demo:
    cohort: Cohort
    modules: list[Module]
    fellows: list[User]
    states: dict[tuple[int, int], queries.ModuleStatus]
    today: date

    def row(self, fellow: User) -> list[queries.ModuleStatus]:
        return [self.states[(fellow.id, m.id)] for m in self.modules]


def _fellows(cohort: Cohort) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .join(CohortMembership, CohortMembership.user_id == User.id)
            .where(
                CohortMembership.cohort_id == cohort.id,
                CohortMembership.role == CohortRole.FELLOW,
            )
            .order_by(CohortMembership.id)
        )
    )


def _states(cohort: Cohort, today: date) -> Demo:
    modules = queries.modules_for(cohort.id)
    fellows = _fellows(cohort)
    states = queries.module_states(modules, [f.id for f in fellows], today)
    return Demo(cohort, modules, fellows, states, today)


demo_rows = rows_for_module(load_demo)


def _load() -> Demo:
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == DEMO_COHORT_NAME))
    assert cohort is not None
    return _states(cohort, utcnow().date())


def _counts() -> dict[str, int]:
    models = (Module, ModuleItem, ModulePrerequisite, ItemProgress, DueDateExtension, StoredFile)
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        for model in models
    }


def _released(demo: Demo) -> list[Module]:
    return [m for m in demo.modules if m.release_on is None or m.release_on <= demo.today]


def _waiting(cohort: Cohort, today: date) -> list[facilitation_queries.QueueRow]:
    page = facilitation_queries.waiting(cohort.id, today=today, zone=None, page=1, per_page=100)
    return list(page.items)


# The real demo (today) --------------------------------------------------------------------


def test_the_demo_has_eight_modules_two_per_strand_each_with_a_reflection_prompt(demo_rows, ctx):
    demo = _load()
    assert len(demo.modules) == 8
    strands = {strand.id: strand.name for strand in demo.cohort.strands}
    per_strand: dict[str, int] = {}
    for module in demo.modules:
        name = strands[module.strand_id]
        per_strand[name] = per_strand.get(name, 0) + 1
    assert per_strand == dict.fromkeys(STRANDS, 2)
    items = queries.items_for(m.id for m in demo.modules)
    for module in demo.modules:
        kinds = [item.kind for item in items[module.id]]
        assert 3 <= len(kinds) <= 5
        assert kinds.count(ItemKind.REFLECTION) == 1
        assert ItemKind.READING in kinds
        assert module.summary
        assert 2 <= module.outcomes_md.count("\n- ") + 1 <= 4
        assert module.outcomes_md.startswith("- ")
        assert module.estimated_minutes
    all_items = [item for module_items in items.values() for item in module_items]
    assert {item.kind for item in all_items} == set(ItemKind)
    assert 1 <= sum(not item.required for item in all_items) <= 2
    assert all(item.required for item in all_items if item.kind == ItemKind.REFLECTION)


def test_demo_content_is_markdown_with_headings_lists_and_a_table_and_links_stay_local(
    demo_rows, ctx
):
    demo = _load()
    items = [i for group in queries.items_for(m.id for m in demo.modules).values() for i in group]
    readings = [item.body_md for item in items if item.kind == ItemKind.READING]
    assert all(re.search(r"^## ", body, re.M) for body in readings)
    assert all(re.search(r"^(- |1\. )", body, re.M) for body in readings)
    assert any(re.search(r"^\|---", body, re.M) for body in readings)
    assert not any(re.search(r"<[a-z]", body) for body in readings)  # never raw HTML
    for item in items:
        if item.kind in (ItemKind.LINK, ItemKind.VIDEO):
            assert item.url
            assert item.url.startswith("https://example.org/")
        else:
            assert item.url is None
        assert (item.stored_file_id is not None) == (item.kind == ItemKind.FILE)


def test_prerequisites_chain_the_two_modules_of_a_strand(demo_rows, ctx):
    demo = _load()
    pairs = db.session.execute(
        sa.select(ModulePrerequisite.module_id, ModulePrerequisite.requires_module_id)
    ).all()
    positions = {m.id: m.position for m in demo.modules}
    assert sorted((positions[a], positions[b]) for a, b in pairs) == [(1, 0), (5, 4)]


def test_the_demo_fellow_is_midway_with_a_draft_and_feedback(demo_rows, ctx):
    demo = _load()
    fellow = find_user_by_email("fellow@example.org")
    facilitator = find_user_by_email("facilitator@example.org")
    assert fellow is not None
    assert facilitator is not None
    states = {status.state for status in demo.row(fellow)}
    assert {State.COMPLETE, State.IN_PROGRESS} <= states
    assert State.OVERDUE not in states
    rows = db.session.scalars(
        sa.select(ItemProgress)
        .join(ModuleItem, ModuleItem.id == ItemProgress.item_id)
        .where(ItemProgress.fellow_id == fellow.id, ModuleItem.kind == ItemKind.REFLECTION)
    ).all()
    drafts = [r for r in rows if r.submitted_at is None]
    assert len(drafts) == 1
    assert drafts[0].response_md
    assert drafts[0].completed_at is None
    with_feedback = [r for r in rows if r.feedback_at is not None]
    assert with_feedback
    assert {r.feedback_by_id for r in with_feedback} == {facilitator.id}
    assert [r for r in rows if r.submitted_at is not None and r.feedback_at is None]


def test_some_fellow_has_every_released_module_complete(demo_rows, ctx):
    demo = _load()
    released = {m.id for m in _released(demo)}
    assert released
    assert any(
        all(s.state == State.COMPLETE for s in demo.row(f) if s.module.id in released)
        for f in demo.fellows
    )


def test_some_fellow_is_overdue_and_others_are_behind_a_prerequisite(demo_rows, ctx):
    demo = _load()
    overdue = [f for f in demo.fellows if State.OVERDUE in {s.state for s in demo.row(f)}]
    assert 1 <= len(overdue) <= len(demo.fellows) // 2  # a few behind, most on track
    locks = [s.lock for f in demo.fellows for s in demo.row(f)]
    assert queries.LockReason.PREREQUISITE in locks
    assert queries.LockReason.NOT_RELEASED in locks


def test_an_extension_from_the_demo_facilitator_keeps_a_fellow_from_being_overdue(demo_rows, ctx):
    demo = _load()
    extensions = db.session.scalars(sa.select(DueDateExtension)).all()
    assert len(extensions) == 1
    extension = extensions[0]
    facilitator = find_user_by_email("facilitator@example.org")
    assert facilitator is not None
    assert extension.granted_by_id == facilitator.id
    assert extension.reason
    status = demo.states[(extension.fellow_id, extension.module_id)]
    assert status.module.due_on is not None
    assert status.module.due_on < demo.today < extension.due_on
    assert status.extended
    assert status.state == State.IN_PROGRESS


def test_the_facilitators_queue_has_reflections_waiting_for_feedback(demo_rows, ctx):
    demo = _load()
    waiting = _waiting(demo.cohort, demo.today)
    assert 1 <= len(waiting) < len(demo.fellows)
    fellow = find_user_by_email("fellow@example.org")
    assert fellow is not None
    assert fellow.id in {row.fellow_id for row in waiting}


def test_reflections_and_feedback_read_differently_for_each_fellow(demo_rows, ctx):
    _load()
    rows = db.session.execute(
        sa.select(ModuleItem.module_id, ItemProgress.response_md, ItemProgress.feedback_md)
        .join(ModuleItem, ModuleItem.id == ItemProgress.item_id)
        .where(ItemProgress.submitted_at.is_not(None))
    ).all()
    assert len(rows) > 20
    by_module: dict[int, list[str]] = {}
    for module_id, response, _feedback in rows:
        by_module.setdefault(module_id, []).append(response)
    for responses in by_module.values():
        assert len(set(responses)) == len(responses)
    for _module_id, response, feedback in rows:
        sentences = len(re.findall(r"[.?!](\s|$)", response))
        assert 2 <= sentences <= 6
        if feedback:
            assert 2 <= len(re.findall(r"[.?!](\s|$)", feedback)) <= 4


def test_progress_lies_between_release_and_now_and_feedback_follows_submission(demo_rows, ctx):
    demo = _load()
    released = {m.id: m.release_on for m in demo.modules}
    now = utcnow()
    rows = db.session.execute(
        sa.select(ItemProgress, ModuleItem.module_id).join(
            ModuleItem, ModuleItem.id == ItemProgress.item_id
        )
    ).all()
    assert rows
    for progress, module_id in rows:
        release = released[module_id]
        assert release is not None
        stamps = [progress.completed_at, progress.response_saved_at, progress.submitted_at]
        for stamp in filter(None, stamps):
            assert release <= stamp.date()
            assert stamp <= now
        if progress.feedback_at is not None:
            assert progress.submitted_at is not None
            assert progress.submitted_at < progress.feedback_at <= now
            assert progress.feedback_md
            assert progress.feedback_by_id
        if progress.submitted_at is not None:
            assert progress.completed_at == progress.submitted_at


def test_loading_the_demo_twice_creates_nothing_new(demo_rows, ctx):
    demo = _load()
    before = _counts()
    assert before["Module"] == 8
    load_demo()
    db.session.commit()
    assert load_demo_curriculum(demo.cohort, [], demo.fellows) == []
    assert _counts() == before


def test_the_demo_pdfs_are_stored_with_the_sha256_of_their_bytes_on_disk(demo_rows, ctx):
    _load()
    files = db.session.scalars(
        sa.select(StoredFile)
        .join(ModuleItem, ModuleItem.stored_file_id == StoredFile.id)
        .order_by(StoredFile.id)
    ).all()
    assert {f.original_name for f in files} == {
        "Coalition map template.pdf",
        "Enrollment data worksheet.pdf",
    }
    for stored in files:
        data = stored_path(stored).read_bytes()
        assert hashlib.sha256(data).hexdigest() == stored.sha256
        assert len(data) == stored.size
        assert stored.content_type == "application/pdf"
        assert data.startswith(b"%PDF-1.4")


@pytest.mark.parametrize("pdf", [COALITION_MAP, ENROLLMENT_WORKSHEET], ids=lambda p: p.title)
def test_a_demo_pdf_is_well_formed_with_a_cross_reference_table_that_points_at_its_objects(
    pdf,
):
    data = render_pdf(pdf)
    assert data.startswith(b"%PDF-1.4\n")
    assert data.endswith(b"%%EOF\n")
    startxref = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert data[startxref:].startswith(b"xref\n0 8\n")
    entries = data[startxref:].split(b"\n")[3:10]
    for number, entry in enumerate(entries, start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(b"%d 0 obj\n" % number)
    stream = re.search(rb"/Length (\d+) >>\nstream\n", data)
    assert stream is not None
    start = stream.end()
    assert data[start + int(stream[1]) :].startswith(b"\nendstream")
    assert pdf.title.encode() in data


# Any day of the year -----------------------------------------------------------------------

STARTS, ENDS = date(2026, 8, 15), date(2027, 6, 15)
DAYS = [
    pytest.param(date(2026, 7, 1), id="before-the-cohort-starts"),
    pytest.param(STARTS + timedelta(days=3), id="first-week"),
    pytest.param(STARTS + timedelta(days=30), id="first-month"),
    pytest.param(STARTS + timedelta(days=45), id="six-weeks-in"),
    pytest.param(STARTS + timedelta(days=70), id="ten-weeks-in"),
    pytest.param(date(2026, 11, 29), id="late-november"),
    pytest.param(date(2027, 2, 10), id="february"),
    pytest.param(ENDS - timedelta(days=60), id="two-months-left"),
    pytest.param(ENDS - timedelta(days=10), id="last-weeks"),
    pytest.param(ENDS + timedelta(days=10), id="after-the-cohort-ends"),
]


def _factory_cohort(today: date) -> Demo:
    cohort = CohortFactory(starts_on=STARTS, ends_on=ENDS)
    facilitators = [UserFactory(), UserFactory()]
    for person in facilitators:
        MembershipFactory(cohort=cohort, user=person, role=CohortRole.FACILITATOR)
    fellows = [UserFactory() for _ in range(12)]
    for person in fellows:
        MembershipFactory(cohort=cohort, user=person, role=CohortRole.FELLOW)
    assert load_demo_curriculum(cohort, facilitators, fellows, today=today)
    db.session.commit()
    return _states(cohort, today)


@pytest.mark.parametrize("today", DAYS)
def test_the_demo_tells_the_same_story_on_any_day_of_the_school_year(ctx, today):
    demo = _factory_cohort(today)
    released = _released(demo)
    assert 3 <= len(released) <= 8
    midway, ahead, *_ = demo.fellows
    assert all(s.state == State.COMPLETE for s in demo.row(ahead) if s.module in released)
    assert State.COMPLETE in {s.state for s in demo.row(midway)}
    assert any(State.OVERDUE in {s.state for s in demo.row(f)} for f in demo.fellows)
    extended = [s for f in demo.fellows for s in demo.row(f) if s.extended]
    assert len(extended) == 1
    assert extended[0].state == State.IN_PROGRESS
    assert _waiting(demo.cohort, today)
    for module in demo.modules:
        assert module.release_on is not None
        assert module.due_on is not None
        # Never within a day of today, so every US time zone sees the same states.
        assert abs((module.release_on - today).days) > 1
        assert abs((module.due_on - today).days) > 1


@pytest.mark.parametrize("today", DAYS)
def test_the_schedule_keeps_a_rhythm_and_stays_inside_a_cohort_a_month_and_more_old(today):
    dates = module_dates(STARTS, ENDS, today)
    releases = [release for release, _ in dates]
    assert releases == sorted(releases)
    assert all(release < due for release, due in dates)
    gaps = {(b - a).days for a, b in itertools.pairwise(releases)}
    assert min(gaps) >= 3
    if STARTS + timedelta(days=40) <= today <= ENDS - timedelta(days=2):
        assert all(release >= STARTS and due <= ENDS for release, due in dates)
        unreleased = [release for release in releases if release > today]
        if today <= ENDS - timedelta(days=120):
            assert 2 <= len(unreleased) <= 3

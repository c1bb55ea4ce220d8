"""Authoring rules: module and item checks, prerequisites without cycles, positions kept
0..n-1 through create, move and delete, optimistic locking, audit of deletions."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.curriculum import queries
from fellowship.curriculum import services as authoring
from fellowship.curriculum.models import ItemKind, ItemProgress, Module, ModuleItem
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import rows_for_module
from tests.curriculum.authoring_helpers import item_order, items, modules, order, world
from tests.curriculum.helpers import ExtensionFactory, ProgressFactory, require_module
from tests.factories import CohortFactory

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


def data(cohort, **overrides) -> authoring.ModuleData:
    values = {
        "title": "Coalition mapping",
        "strand_id": cohort.strands[0].id,
        "summary": "Who is with you.",
        "outcomes_md": "- Draw a map",
        "release_on": date(2026, 9, 1),
        "due_on": date(2026, 9, 30),
        "estimated_minutes": 90,
        "prerequisite_ids": [],
    }
    values.update(overrides)
    return authoring.ModuleData(**values)


def error_of(call, *args, **kwargs) -> authoring.CurriculumError:
    with pytest.raises(authoring.CurriculumError) as caught:
        call(*args, **kwargs)
    db.session.rollback()
    return caught.value


# Module checks ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("release_on", "due_on", "ok"),
    [
        (None, None, True),
        (date(2026, 9, 1), None, True),
        (None, date(2026, 9, 1), True),
        (date(2026, 9, 1), date(2026, 9, 1), True),
        (date(2026, 9, 1), date(2026, 9, 2), True),
        (date(2026, 9, 2), date(2026, 9, 1), False),
    ],
)
def test_the_due_date_is_never_before_the_release_date(w, ctx, release_on, due_on, ok):
    change = data(w.cohort, release_on=release_on, due_on=due_on)
    if ok:
        module = authoring.create_module(w.staff, w.cohort, change)
        assert (module.release_on, module.due_on) == (release_on, due_on)
    else:
        error = error_of(authoring.create_module, w.staff, w.cohort, change)
        assert error.field == "due_on"
        assert "cannot be before the release date" in error.message
        assert db.session.scalar(sa.select(sa.func.count(Module.id))) == 0


@pytest.mark.parametrize(
    ("minutes", "ok"),
    [(None, True), (1, True), (6000, True), (0, False), (6001, False), (-5, False)],
)
def test_the_estimated_time_is_from_1_to_6000_minutes(w, ctx, minutes, ok):
    change = data(w.cohort, estimated_minutes=minutes)
    if ok:
        assert authoring.create_module(w.staff, w.cohort, change).estimated_minutes == minutes
    else:
        assert error_of(authoring.create_module, w.staff, w.cohort, change).field == (
            "estimated_minutes"
        )


@pytest.mark.parametrize(
    ("title", "field_ok"),
    [("", False), ("   ", False), ("x" * 200, True), ("x" * 201, False), ("  Trimmed  ", True)],
)
def test_a_module_needs_a_title_of_at_most_200_characters(w, ctx, title, field_ok):
    if field_ok:
        module = authoring.create_module(w.staff, w.cohort, data(w.cohort, title=title))
        assert module.title == title.strip()
    else:
        error = error_of(authoring.create_module, w.staff, w.cohort, data(w.cohort, title=title))
        assert error.field == "title"


def test_a_module_belongs_to_a_strand_of_its_own_cohort(w, ctx):
    other = CohortFactory()
    for strand_id in (None, other.strands[0].id):
        error = error_of(
            authoring.create_module, w.staff, w.cohort, data(w.cohort, strand_id=strand_id)
        )
        assert error.field == "strand"


def test_prerequisites_are_modules_of_the_same_cohort(w, ctx):
    other = CohortFactory()
    (foreign,) = modules(other, ["Elsewhere"])
    error = error_of(
        authoring.create_module,
        w.staff,
        w.cohort,
        data(w.cohort, prerequisite_ids=[foreign.id]),
    )
    assert error.field == "prerequisites"


# Prerequisite cycles: the existing edges (module → what it requires), the module being
# edited and its new prerequisites, and the module named in the refusal (None = allowed).
CYCLES = [
    ("direct: B cannot require A when A requires B", [("A", "B")], "B", ["A"], "A"),
    (
        "through another: C cannot require A when A requires B requires C",
        [("A", "B"), ("B", "C")],
        "C",
        ["A"],
        "A",
    ),
    (
        "long chain",
        [("A", "B"), ("B", "C"), ("C", "D")],
        "D",
        ["B", "C"],
        "B",
    ),
    ("itself", [], "A", ["A"], "itself"),
    ("siblings may share a prerequisite", [("A", "C")], "B", ["C"], None),
    ("a chain in the same direction", [("A", "B")], "B", ["C"], None),
    ("replacing its own requirements", [("A", "B"), ("B", "C")], "A", ["C"], None),
    ("a diamond", [("A", "B"), ("A", "C"), ("B", "D")], "C", ["D"], None),
]


@pytest.mark.parametrize(
    ("edges", "edited", "requires", "named"),
    [case[1:] for case in CYCLES],
    ids=[case[0] for case in CYCLES],
)
def test_prerequisites_never_form_a_cycle(w, ctx, edges, edited, requires, named):
    by_title = {m.title: m for m in modules(w.cohort, ["A", "B", "C", "D"])}
    for module, needed in edges:
        require_module(by_title[module], by_title[needed])
    module = by_title[edited]
    change = data(w.cohort, title=edited, prerequisite_ids=[by_title[t].id for t in requires])
    if named is None:
        authoring.update_module(w.staff, module, change, version=module.version)
        assert sorted(queries.prerequisites_for([module.id])[module.id]) == sorted(
            by_title[t].id for t in requires
        )
        return
    error = error_of(authoring.update_module, w.staff, module, change, version=module.version)
    assert error.field == "prerequisites"
    if named == "itself":
        assert "itself" in error.message
    else:
        assert f"“{named}” cannot be a prerequisite" in error.message
        assert f"“{edited}”" in error.message
    db.session.expire_all()
    stored = sorted(queries.prerequisites_for([module.id])[module.id])
    assert stored == sorted(by_title[b].id for a, b in edges if a == edited)


def test_an_edit_saved_from_an_old_form_is_refused_as_stale(w, ctx):
    (module,) = modules(w.cohort, ["Coalition mapping"])
    opened_at = module.version
    authoring.update_module(w.staff, module, data(w.cohort, title="First save"), version=opened_at)
    db.session.commit()
    error = error_of(
        authoring.update_module, w.staff, module, data(w.cohort, title="Second"), version=opened_at
    )
    assert isinstance(error, authoring.StaleEdit)
    assert error.message.startswith("Someone changed this module while you were editing")
    assert db.session.get(Module, module.id).title == "First save"


# Positions --------------------------------------------------------------------------------


def test_a_new_module_goes_to_the_end_even_after_a_gap(w, ctx):
    _a, b = modules(w.cohort, ["A", "B"])
    b.position = 7  # an old gap, as from a crash mid-way
    db.session.commit()
    authoring.create_module(w.staff, w.cohort, data(w.cohort, title="C"))
    assert order(w.cohort.id) == [(0, "A"), (1, "B"), (2, "C")]


MOVES = [
    ("A", "down", ["B", "A", "C", "D"], True),
    ("B", "up", ["B", "A", "C", "D"], True),
    ("D", "up", ["A", "B", "D", "C"], True),
    ("C", "down", ["A", "B", "D", "C"], True),
    ("A", "up", ["A", "B", "C", "D"], False),
    ("D", "down", ["A", "B", "C", "D"], False),
    ("B", "sideways", ["A", "B", "C", "D"], False),
]


@pytest.mark.parametrize(("title", "direction", "expected", "moved"), MOVES)
def test_moving_a_module_swaps_it_with_its_neighbour(w, ctx, title, direction, expected, moved):
    by_title = {m.title: m for m in modules(w.cohort, ["A", "B", "C", "D"])}
    versions = {m.id: m.version for m in by_title.values()}
    assert authoring.move_module(w.staff, by_title[title], direction) is moved
    db.session.commit()
    assert order(w.cohort.id) == list(enumerate(expected))
    # Moving is not an edit: an edit form open elsewhere is not made stale by it.
    assert {m.id: db.session.get(Module, m.id).version for m in by_title.values()} == versions


@pytest.mark.parametrize(
    ("deleted", "expected"),
    [("A", ["B", "C", "D"]), ("B", ["A", "C", "D"]), ("D", ["A", "B", "C"])],
)
def test_positions_stay_in_order_after_a_module_is_deleted(w, ctx, deleted, expected):
    by_title = {m.title: m for m in modules(w.cohort, ["A", "B", "C", "D"])}
    authoring.delete_module(w.staff, by_title[deleted])
    db.session.commit()
    assert order(w.cohort.id) == list(enumerate(expected))


def test_deleting_a_module_takes_its_items_progress_extensions_and_prerequisites(w, ctx):
    a, b = modules(w.cohort, ["A", "B"])
    require_module(b, a)
    reading, reflection = items(a, ["Read", "Reflect"])
    ProgressFactory(item_id=reading.id, fellow_id=w.fellow.id, completed_at=utcnow())
    ProgressFactory(item_id=reflection.id, fellow_id=w.fellow.id, response_md="My answer")
    ExtensionFactory(module_id=a.id, fellow_id=w.fellow.id)
    authoring.delete_module(w.staff, a)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(ModuleItem.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(ItemProgress.id))) == 0
    assert queries.prerequisites_for([b.id])[b.id] == []
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "module_deleted"))
    assert event.actor_id == w.staff.id
    assert event.target_id == a.id
    assert event.details["title"] == "A"
    assert event.details["items"] == 2
    assert event.details["fellows_with_progress"] == 1
    assert event.details["reflections"] == 1
    assert event.details["cohort_id"] == w.cohort.id


@pytest.mark.parametrize(
    ("title", "direction", "expected"),
    [
        ("One", "down", ["Two", "One", "Three"]),
        ("Three", "up", ["One", "Three", "Two"]),
        ("One", "up", ["One", "Two", "Three"]),
        ("Three", "down", ["One", "Two", "Three"]),
    ],
)
def test_moving_an_item_swaps_it_with_its_neighbour(w, ctx, title, direction, expected):
    (module,) = modules(w.cohort, ["A"])
    by_title = {i.title: i for i in items(module, ["One", "Two", "Three"])}
    authoring.move_item(w.staff, by_title[title], direction)
    db.session.commit()
    assert item_order(module.id) == list(enumerate(expected))


def test_items_are_added_at_the_end_and_renumbered_after_a_delete(w, ctx):
    (module,) = modules(w.cohort, ["A"])
    one, _two = items(module, ["One", "Two"])
    authoring.create_item(
        w.staff, module, ItemKind.READING, authoring.ItemData(title="Three", body_md="Text")
    )
    authoring.delete_item(w.staff, one)
    db.session.commit()
    assert item_order(module.id) == [(0, "Two"), (1, "Three")]


# Items ------------------------------------------------------------------------------------

URLS = [
    ("https://example.org/video", None),
    ("http://example.org", None),
    ("HTTPS://EXAMPLE.ORG/Page?x=1#top", None),
    ("javascript:alert(1)", "“javascript:” is refused"),
    ("JavaScript:alert(document.cookie)", "“javascript:” is refused"),
    ("data:text/html,<script>alert(1)</script>", "“data:” is refused"),
    ("vbscript:msgbox", "“vbscript:” is refused"),
    ("ftp://example.org/file", "“ftp:” is refused"),
    ("file:///etc/passwd", "“file:” is refused"),
    ("mailto:someone@example.org", "“mailto:” is refused"),
    ("example.org/page", "Enter a whole web address"),
    ("//evil.example/x", "Enter a whole web address"),
    ("https://", "Enter a whole web address"),
    ("https://exa mple.org", "Enter a whole web address"),
    ("java\tscript:alert(1)", "Enter a whole web address"),
    ("", "Enter the web address"),
    ("https://example.org/" + "a" * 2000, "2000 characters"),
]


@pytest.mark.parametrize(("url", "problem"), URLS)
@pytest.mark.parametrize("kind", [ItemKind.LINK, ItemKind.VIDEO])
def test_links_and_videos_accept_only_http_and_https_addresses(w, ctx, kind, url, problem):
    (module,) = modules(w.cohort, ["A"])
    change = authoring.ItemData(title="Watch this", url=url, body_md="About 10 minutes.")
    if problem is None:
        item = authoring.create_item(w.staff, module, kind, change)
        assert item.url == url
        assert item.body_md == "About 10 minutes."
    else:
        error = error_of(authoring.create_item, w.staff, module, kind, change)
        assert error.field == "url"
        assert problem in error.message
        assert db.session.scalar(sa.select(sa.func.count(ModuleItem.id))) == 0


@pytest.mark.parametrize(
    ("kind", "change", "field"),
    [
        (ItemKind.READING, {"title": "Read", "body_md": "  "}, "body"),
        (ItemKind.REFLECTION, {"title": "Reflect", "body_md": ""}, "body"),
        (ItemKind.READING, {"title": " ", "body_md": "Text"}, "title"),
        (ItemKind.FILE, {"title": "Slides"}, "file"),
        (ItemKind.LINK, {"title": "Site", "url": None}, "url"),
    ],
)
def test_each_kind_of_item_needs_its_content(w, ctx, kind, change, field):
    (module,) = modules(w.cohort, ["A"])
    error = error_of(authoring.create_item, w.staff, module, kind, authoring.ItemData(**change))
    assert error.field == field


def test_an_item_edit_saved_from_an_old_form_is_refused_as_stale(w, ctx):
    (module,) = modules(w.cohort, ["A"])
    (item,) = items(module, ["Read"])
    opened_at = item.version
    authoring.update_item(
        w.staff, item, authoring.ItemData(title="New", body_md="Text"), version=opened_at
    )
    db.session.commit()
    error = error_of(
        authoring.update_item,
        w.staff,
        item,
        authoring.ItemData(title="Newer", body_md="Text"),
        version=opened_at,
    )
    assert isinstance(error, authoring.StaleEdit)
    assert db.session.get(ModuleItem, item.id).title == "New"


def test_an_optional_item_stays_optional(w, ctx):
    (module,) = modules(w.cohort, ["A"])
    item = authoring.create_item(
        w.staff,
        module,
        ItemKind.REFLECTION,
        authoring.ItemData(title="Extra", body_md="What else?", required=False),
    )
    assert item.required is False
    assert item.kind == ItemKind.REFLECTION

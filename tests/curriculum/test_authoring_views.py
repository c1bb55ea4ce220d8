"""Authoring screens: the builder, the module form, moving and deleting modules, the items
page and the item forms; who may use them; bad input, stale forms, query counts."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cohorts.models import CohortMembership, CohortRole, CohortStatus, MembershipStatus
from fellowship.curriculum import queries
from fellowship.curriculum.models import ItemKind, Module, ModuleItem
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.curriculum.authoring_helpers import (
    item_order,
    items,
    module_form,
    modules,
    order,
    snapshot,
    world,
)
from tests.curriculum.helpers import ItemFactory, ProgressFactory, require_module
from tests.factories import CohortFactory, MembershipFactory

shared_world = rows_for_module(world)


@pytest.fixture
def w(shared_world, request):
    """The world most tests here read, built once for the module."""
    return shared_world.thaw_for(request)


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def builder_path(cohort) -> str:
    return f"/cohorts/{cohort.id}/curriculum"


def text_of(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# The builder ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["staff", "facilitator"])
def test_the_builder_lists_every_module_in_order_with_its_details(w, client, who):
    a, b, c = modules(w.cohort, ["Coalition mapping", "The school model", "Budget basics"])
    b.strand_id = w.cohort.strands[1].id
    b.release_on, b.due_on, b.estimated_minutes = date(2026, 10, 5), date(2026, 10, 30), 45
    c.release_on = None
    db.session.commit()
    items(a, ["Read", "Watch"])
    ItemFactory(module_id=a.id, position=2, title="Extra", required=False)
    require_module(c, a)
    require_module(c, b)
    sign_in(client, getattr(w, who))
    html = page(client, builder_path(w.cohort))
    assert html.count("<h1") == 1
    assert f"Curriculum of {w.cohort.name}" in html
    text = text_of(html)
    assert (
        text.index("Coalition mapping")
        < text.index("The school model")
        < text.index("Budget basics")
    )
    assert w.cohort.strands[1].name in html
    assert "Oct 5, 2026" in html
    assert "Oct 30, 2026" in html
    assert "45 minutes" in html
    assert "2 required of 3" in html
    assert "No items yet" in html  # b and c have none
    assert "Coalition mapping; The school model" in text
    assert "Released from the start" in html
    assert f'href="/modules/{a.id}/items"' in html
    assert f'id="module-{a.id}"' in html
    assert "<caption>3 modules</caption>" in html
    assert 'scope="row"' in html
    # Links to the rest of the curriculum.
    assert f'href="/cohorts/{w.cohort.id}/curriculum/modules/new"' in html
    assert f'href="/cohorts/{w.cohort.id}/curriculum/copy"' in html
    assert f'href="/cohorts/{w.cohort.id}/curriculum/progress"' in html
    assert f'href="/cohorts/{w.cohort.id}/curriculum/feedback"' in html
    assert f'href="/modules/{a.id}"' in html  # preview as a fellow


def test_move_buttons_name_the_module_and_the_ends_have_only_one(w, client):
    _a, b, _c = modules(w.cohort, ["First", "Middle", "Last"])
    sign_in(client, w.staff)
    html = page(client, builder_path(w.cohort))
    assert 'Move up<span class="usa-sr-only"> “Middle”</span>' in html
    assert 'Move down<span class="usa-sr-only"> “Middle”</span>' in html
    assert 'Move down<span class="usa-sr-only"> “First”</span>' in html
    assert 'Move up<span class="usa-sr-only"> “First”</span>' not in html
    assert 'Move up<span class="usa-sr-only"> “Last”</span>' in html
    assert 'Move down<span class="usa-sr-only"> “Last”</span>' not in html
    # Real buttons in POST forms.
    assert f'<form method="post" action="/modules/{b.id}/move"' in html
    assert 'type="submit" name="direction" value="up"' in html


def test_an_empty_curriculum_says_what_to_do(w, client):
    sign_in(client, w.facilitator)
    html = page(client, builder_path(w.cohort))
    assert "No modules yet" in html
    assert "Add a module" in html
    assert "Copy a curriculum from another cohort" in html
    assert "<table" not in html


def test_the_builder_runs_the_same_number_of_queries_for_2_and_20_modules(client, count_queries):
    counts = []
    for size in (2, 20):
        w = world()
        made = modules(w.cohort, [f"Module {n}" for n in range(size)])
        for module in made:
            items(module, ["Read", "Reflect"])
        for earlier, later in itertools.pairwise(made):
            require_module(later, earlier)
        sign_in(client, w.facilitator)
        db.session.expire_all()
        with count_queries() as counter:
            html = page(client, builder_path(w.cohort))
        assert html.count('<tr id="module-') == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 15


# Permissions ------------------------------------------------------------------------------


def _requests(w, module, item, source):
    """Every authoring request: (name, method, path, form fields)."""
    c = w.cohort.id
    strand = str(w.cohort.strands[0].id)
    edit = {"title": "Changed", "strand": strand, "version": str(module.version)}
    return [
        ("builder", "GET", f"/cohorts/{c}/curriculum", {}),
        ("new module form", "GET", f"/cohorts/{c}/curriculum/modules/new", {}),
        ("new module", "POST", f"/cohorts/{c}/curriculum/modules/new", {**edit, "version": ""}),
        ("edit module form", "GET", f"/modules/{module.id}/edit", {}),
        ("edit module", "POST", f"/modules/{module.id}/edit", edit),
        ("move module", "POST", f"/modules/{module.id}/move", {"direction": "down"}),
        ("delete module page", "GET", f"/modules/{module.id}/delete", {}),
        ("delete module", "POST", f"/modules/{module.id}/delete", {}),
        ("items page", "GET", f"/modules/{module.id}/items", {}),
        ("new item form", "GET", f"/modules/{module.id}/items/new?kind=reading", {}),
        (
            "new item",
            "POST",
            f"/modules/{module.id}/items/new?kind=reading",
            {"title": "New", "body": "Text", "required": "y"},
        ),
        ("edit item form", "GET", f"/items/{item.id}/edit", {}),
        (
            "edit item",
            "POST",
            f"/items/{item.id}/edit",
            {"title": "Changed", "body": "Text", "version": str(item.version)},
        ),
        ("move item", "POST", f"/items/{item.id}/move", {"direction": "down"}),
        ("delete item page", "GET", f"/items/{item.id}/delete", {}),
        ("delete item", "POST", f"/items/{item.id}/delete", {}),
        ("copy page", "GET", f"/cohorts/{c}/curriculum/copy", {}),
        ("copy preview", "POST", f"/cohorts/{c}/curriculum/copy", {"source": str(source.id)}),
        ("copy", "POST", f"/cohorts/{c}/curriculum/copy/apply", {"source": str(source.id)}),
    ]


REQUEST_NAMES = [
    "builder",
    "new module form",
    "new module",
    "edit module form",
    "edit module",
    "move module",
    "delete module page",
    "delete module",
    "items page",
    "new item form",
    "new item",
    "edit item form",
    "edit item",
    "move item",
    "delete item page",
    "delete item",
    "copy page",
    "copy preview",
    "copy",
]
READS = {"builder", "items page"}


def _setup():
    w = world()
    first, _second = modules(w.cohort, ["First", "Second"])
    item, _other = items(first, ["One", "Two"])
    source = CohortFactory(starts_on=date(2025, 8, 1))
    modules(source, ["Old module"])
    MembershipFactory(cohort=source, user=w.facilitator, role=CohortRole.FACILITATOR)
    return w, first, item, source


def _send(client, method, path, fields):
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": csrf_token(client), **fields})


@pytest.mark.parametrize("name", REQUEST_NAMES)
@pytest.mark.parametrize("who", ["fellow", "coach", "reviewer", "outsider"])
def test_only_staff_and_facilitators_reach_the_authoring_pages(client, who, name):
    w, module, item, source = _setup()
    request = next(r for r in _requests(w, module, item, source) if r[0] == name)
    sign_in(client, getattr(w, who))
    before = snapshot()
    events = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    response = _send(client, *request[1:])
    assert response.status_code == 403, (name, response.status_code)
    assert snapshot() == before
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events


@pytest.mark.parametrize("name", REQUEST_NAMES)
@pytest.mark.parametrize("who", ["staff", "facilitator"])
def test_staff_and_facilitators_use_every_authoring_page(client, who, name):
    w, module, item, source = _setup()
    request = next(r for r in _requests(w, module, item, source) if r[0] == name)
    sign_in(client, getattr(w, who))
    response = _send(client, *request[1:])
    assert response.status_code in {200, 302}, (name, response.status_code)
    assert "/login" not in response.headers.get("Location", "")
    if request[1] == "POST" and name != "copy preview":
        assert response.status_code == 302, name


@pytest.mark.parametrize("name", REQUEST_NAMES)
@pytest.mark.parametrize("who", ["staff", "facilitator"])
def test_an_archived_cohorts_curriculum_can_be_read_but_not_changed(client, who, name):
    w, module, item, source = _setup()
    w.cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    request = next(r for r in _requests(w, module, item, source) if r[0] == name)
    sign_in(client, getattr(w, who))
    before = snapshot()
    response = _send(client, *request[1:])
    if name in READS:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "/move" not in html
        assert "/edit" not in html
        assert "/delete" not in html
        assert "items/new" not in html
        assert "/curriculum/copy" not in html
    else:
        assert response.status_code == 403, (name, response.status_code)
    assert snapshot() == before


def test_a_facilitator_alumnus_reads_the_builder_but_cannot_change_it(client):
    w, _module, _item, _source = _setup()
    membership = db.session.scalar(
        sa.select(CohortMembership).where(CohortMembership.user_id == w.facilitator.id)
    )
    membership.status = MembershipStatus.COMPLETED
    db.session.commit()
    sign_in(client, w.facilitator)
    html = page(client, builder_path(w.cohort))
    assert "Add a module" not in html
    page(client, f"/cohorts/{w.cohort.id}/curriculum/modules/new", status=403)


def test_someone_signed_out_is_sent_to_sign_in(w, client):
    response = client.get(builder_path(w.cohort))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


# The module form --------------------------------------------------------------------------


def test_the_module_form_is_labelled_and_hints_at_the_release_date(w, client):
    modules(w.cohort, ["Earlier"])
    sign_in(client, w.facilitator)
    html = page(client, f"/cohorts/{w.cohort.id}/curriculum/modules/new")
    assert html.count("<h1") == 1
    for label in (
        "Title",
        "Strand",
        "Summary",
        "Learning outcomes",
        "Release date",
        "Due date",
        "Estimated time in minutes",
        "Prerequisites",
    ):
        assert f">{label}" in html, label
    assert "Fellows do not see the module before this date" in html
    assert 'name="prerequisites"' in html
    assert ">Earlier</label>" in html
    for strand in w.cohort.strands:
        assert strand.name in html
    assert 'aria-describedby="release_on-hint"' in html


def test_a_new_module_is_added_at_the_end_and_opens_its_items_page(w, client):
    (earlier,) = modules(w.cohort, ["Earlier"])
    sign_in(client, w.facilitator)
    path = f"/cohorts/{w.cohort.id}/curriculum/modules/new"
    response = client.post(
        path,
        data=module_form(
            client,
            path,
            strand=str(w.cohort.strands[2].id),
            prerequisites=[str(earlier.id)],
        ),
    )
    assert response.status_code == 302
    created = db.session.scalar(sa.select(Module).where(Module.title == "Coalition mapping"))
    assert response.headers["Location"].endswith(f"/modules/{created.id}/items")
    assert order(w.cohort.id) == [(0, "Earlier"), (1, "Coalition mapping")]
    assert created.strand_id == w.cohort.strands[2].id
    assert (created.release_on, created.due_on) == (date(2026, 9, 1), date(2026, 9, 30))
    assert created.estimated_minutes == 90
    assert created.summary == "Who is with you, who is against, who is undecided."
    assert queries.prerequisites_for([created.id])[created.id] == [earlier.id]
    assert "has been added" in page(client, response.headers["Location"])


BAD_MODULES = [
    ({"title": ""}, "title", "Enter a title."),
    ({"title": "x" * 201}, "title", "200 characters"),
    ({"strand": ""}, "strand", "Choose the strand"),
    ({"strand": "999999"}, "strand", "Choose the strand"),
    ({"strand": "abc"}, "strand", "Choose the strand"),
    ({"release_on": "2026-10-01", "due_on": "2026-09-01"}, "due_on", "before the release date"),
    ({"release_on": "next week"}, "release_on", "Enter the date, like 2026-09-15."),
    ({"due_on": "9999-12-31"}, "due_on", "Enter a date between 1950 and 2200."),
    ({"release_on": "0001-01-01"}, "release_on", "Enter a date between 1950 and 2200."),
    ({"estimated_minutes": "0"}, "estimated_minutes", "from 1 to 6000"),
    ({"estimated_minutes": "6001"}, "estimated_minutes", "from 1 to 6000"),
    ({"estimated_minutes": "ninety"}, "estimated_minutes", "from 1 to 6000"),
    ({"prerequisites": ["999999"]}, "prerequisites", "Choose prerequisites among this cohort"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_MODULES)
def test_bad_module_input_is_explained_next_to_the_field_and_kept(
    w, client, change, field, message
):
    sign_in(client, w.staff)
    path = f"/cohorts/{w.cohort.id}/curriculum/modules/new"
    fields = {"strand": str(w.cohort.strands[1].id), "summary": "Typed summary stays", **change}
    response = client.post(path, data=module_form(client, path, **fields))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert "Please correct the following" in html
    assert "Typed summary stays" in html
    if field != "title":
        assert 'value="Coalition mapping"' in html
    if field != "strand":
        assert f'<option selected value="{w.cohort.strands[1].id}">' in html
    assert db.session.scalar(sa.select(sa.func.count(Module.id))) == 0


def test_a_prerequisite_cycle_is_refused_with_a_message_naming_the_module(w, client):
    a, b = modules(w.cohort, ["Coalition mapping", "Budget basics"])
    require_module(a, b)
    sign_in(client, w.facilitator)
    path = f"/modules/{b.id}/edit"
    response = client.post(
        path,
        data=module_form(
            client,
            path,
            title="Budget basics (typed)",
            strand=str(w.cohort.strands[0].id),
            prerequisites=[str(a.id)],
            version=str(b.version),
        ),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "“Coalition mapping” cannot be a prerequisite of this module" in html
    assert 'id="prerequisites-error"' in html
    assert 'value="Budget basics (typed)"' in html
    db.session.expire_all()
    assert db.session.get(Module, b.id).title == "Budget basics"
    assert queries.prerequisites_for([b.id])[b.id] == []


def test_the_edit_form_offers_only_the_other_modules_as_prerequisites(w, client):
    a, b = modules(w.cohort, ["Coalition mapping", "Budget basics"])
    require_module(b, a)
    sign_in(client, w.staff)
    html = page(client, f"/modules/{b.id}/edit")
    assert f'value="{a.id}" checked' in html
    assert f'id="prerequisites-{b.id}"' not in html
    assert 'value="Budget basics"' in html


def test_an_edit_from_a_stale_form_is_refused_and_keeps_what_was_typed(w, client):
    (module,) = modules(w.cohort, ["Coalition mapping"])
    sign_in(client, w.facilitator)
    path = f"/modules/{module.id}/edit"
    opened_at = str(module.version)
    token = csrf_token(client)
    strand = str(w.cohort.strands[0].id)
    first = client.post(
        path,
        data={"csrf_token": token, "title": "Saved first", "strand": strand, "version": opened_at},
    )
    assert first.status_code == 302
    assert first.headers["Location"].endswith(
        f"/cohorts/{w.cohort.id}/curriculum#module-{module.id}"
    )
    second = client.post(
        path,
        data={
            "csrf_token": token,
            "title": "Typed second",
            "strand": strand,
            "summary": "My typed summary",
            "version": opened_at,
        },
    )
    assert second.status_code == 200
    html = second.get_data(as_text=True)
    assert "Someone changed this module while you were editing" in html
    assert 'value="Typed second"' in html
    assert "My typed summary" in html
    assert "Saved first" in html  # the saved module is shown
    db.session.expire_all()
    saved = db.session.get(Module, module.id)
    assert saved.title == "Saved first"
    # The form now carries the new version: saving again is a deliberate overwrite.
    assert f'name="version" type="hidden" value="{saved.version}"' in html


# Moving and deleting ------------------------------------------------------------------------


def test_moving_a_module_comes_back_to_its_row(w, client):
    a, _b, c = modules(w.cohort, ["A", "B", "C"])
    sign_in(client, w.facilitator)
    token = csrf_token(client)
    response = client.post(f"/modules/{c.id}/move", data={"csrf_token": token, "direction": "up"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cohorts/{w.cohort.id}/curriculum#module-{c.id}")
    assert order(w.cohort.id) == [(0, "A"), (1, "C"), (2, "B")]
    assert "“C” is now module 2." in page(client, builder_path(w.cohort))
    # A crafted move past the top changes nothing.
    client.post(f"/modules/{a.id}/move", data={"csrf_token": token, "direction": "up"})
    client.post(f"/modules/{a.id}/move", data={"csrf_token": token, "direction": "left"})
    assert order(w.cohort.id) == [(0, "A"), (1, "C"), (2, "B")]


def test_the_move_buttons_post_what_the_browser_sends(w, client):
    """Every field of the rendered form, plus the pressed button: as a browser posts it."""
    a, _b = modules(w.cohort, ["A", "B"])
    sign_in(client, w.staff)
    html = page(client, builder_path(w.cohort))
    form = re.search(rf'<form method="post" action="/modules/{a.id}/move".*?</form>', html, re.S)
    fields = re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form.group(0))
    data: dict[str, list[str]] = {}
    for name, value in [*fields, ("direction", "down")]:
        data.setdefault(name, []).append(value)
    client.post(f"/modules/{a.id}/move", data=data)
    assert order(w.cohort.id) == [(0, "B"), (1, "A")]


def test_a_move_without_the_csrf_token_changes_nothing(w, client):
    a, _b = modules(w.cohort, ["A", "B"])
    sign_in(client, w.staff)
    response = client.post(f"/modules/{a.id}/move", data={"direction": "down"})
    assert response.status_code == 400
    assert order(w.cohort.id) == [(0, "A"), (1, "B")]


def test_the_delete_page_says_what_is_lost_and_deleting_renumbers_the_rest(w, client):
    _a, b, _c = modules(w.cohort, ["A", "B", "C"])
    read, reflect, _extra = items(b, ["Read", "Reflect", "Extra"])
    ProgressFactory(item_id=read.id, fellow_id=w.fellow.id, completed_at=utcnow())
    other = MembershipFactory(cohort=w.cohort, role=CohortRole.FELLOW).user_id
    ProgressFactory(item_id=reflect.id, fellow_id=other, response_md="Draft answer")
    sign_in(client, w.facilitator)
    html = page(client, f"/modules/{b.id}/delete")
    text = text_of(html)
    assert "Its 3 items will be deleted." in text
    assert "The progress of 2 fellows on it will be deleted" in text
    assert "including 1 written reflection" in text
    token = csrf_token(client)
    response = client.post(f"/modules/{b.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert order(w.cohort.id) == [(0, "A"), (1, "C")]
    assert db.session.scalar(sa.select(sa.func.count(ModuleItem.id))) == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "module_deleted")
        )
        == 1
    )
    assert "The module “B” has been deleted." in page(client, builder_path(w.cohort))


# Items ------------------------------------------------------------------------------------


def test_the_items_page_lists_items_in_order_with_their_controls(w, client):
    (module,) = modules(w.cohort, ["Coalition mapping"])
    ItemFactory(module_id=module.id, position=0, title="Read the guide")
    ItemFactory(
        module_id=module.id,
        position=1,
        title="Watch the talk",
        kind=ItemKind.VIDEO,
        url="https://video.example/talk",
        required=False,
    )
    ItemFactory(module_id=module.id, position=2, title="Your map", kind=ItemKind.REFLECTION)
    sign_in(client, w.facilitator)
    html = page(client, f"/modules/{module.id}/items")
    assert html.count("<h1") == 1
    text = text_of(html)
    assert text.index("Read the guide") < text.index("Watch the talk") < text.index("Your map")
    assert "Optional" in html
    assert "Required" in html
    assert "Reflection prompt" in html
    assert "Video" in html
    assert 'href="https://video.example/talk"' in html
    for label, kind in [
        ("Add a reading", "reading"),
        ("Add a link", "link"),
        ("Add a file", "file"),
        ("Add a video", "video"),
        ("Add a reflection prompt", "reflection"),
    ]:
        assert f'href="/modules/{module.id}/items/new?kind={kind}">{label}</a>' in html
    assert 'Move up<span class="usa-sr-only"> “Watch the talk”</span>' in html
    assert 'Move up<span class="usa-sr-only"> “Read the guide”</span>' not in html
    assert 'Move down<span class="usa-sr-only"> “Your map”</span>' not in html


def test_moving_an_item_comes_back_to_its_row(w, client):
    (module,) = modules(w.cohort, ["A"])
    one, _two = items(module, ["One", "Two"])
    sign_in(client, w.staff)
    token = csrf_token(client)
    response = client.post(f"/items/{one.id}/move", data={"csrf_token": token, "direction": "down"})
    assert response.headers["Location"].endswith(f"/modules/{module.id}/items#item-{one.id}")
    assert item_order(module.id) == [(0, "Two"), (1, "One")]


def test_an_unknown_kind_of_item_is_not_found(w, client):
    (module,) = modules(w.cohort, ["A"])
    sign_in(client, w.staff)
    for kind in ("", "podcast", "READING"):
        page(client, f"/modules/{module.id}/items/new?kind={kind}", status=404)


def test_the_reading_form_says_what_markdown_can_do(w, client):
    (module,) = modules(w.cohort, ["A"])
    sign_in(client, w.staff)
    html = page(client, f"/modules/{module.id}/items/new?kind=reading")
    assert "<h1>Add a reading</h1>" in html
    for hint in ("heading", "list", "table", "link", "image", "Raw HTML is not shown"):
        assert hint in html, hint
    assert 'checked class="usa-checkbox__input" id="required"' in html  # required by default


@pytest.mark.parametrize(
    ("kind", "fields", "check"),
    [
        ("reading", {"body": "## Plan\n\n- one"}, lambda i: i.body_md == "## Plan\n\n- one"),
        (
            "link",
            {"url": "https://example.org/guide", "body": "Section 2"},
            lambda i: (i.url, i.body_md) == ("https://example.org/guide", "Section 2"),
        ),
        ("video", {"url": "http://video.example/1"}, lambda i: i.url == "http://video.example/1"),
        ("reflection", {"body": "What did you learn?"}, lambda i: i.body_md.startswith("What")),
    ],
)
def test_each_kind_of_item_is_added_from_its_form(w, client, kind, fields, check):
    (module,) = modules(w.cohort, ["A"])
    items(module, ["Existing"])
    sign_in(client, w.facilitator)
    path = f"/modules/{module.id}/items/new?kind={kind}"
    token = csrf_token(client)
    response = client.post(
        path, data={"csrf_token": token, "title": "New item", "required": "y", **fields}
    )
    assert response.status_code == 302
    item = db.session.scalar(sa.select(ModuleItem).where(ModuleItem.title == "New item"))
    assert response.headers["Location"].endswith(f"/modules/{module.id}/items#item-{item.id}")
    assert item.kind.value == kind
    assert item.position == 1
    assert item.required is True
    assert check(item)


def test_an_unticked_required_box_makes_an_optional_item(w, client):
    (module,) = modules(w.cohort, ["A"])
    sign_in(client, w.staff)
    path = f"/modules/{module.id}/items/new?kind=reading"
    client.post(path, data={"csrf_token": csrf_token(client), "title": "Extra", "body": "x"})
    assert db.session.scalar(sa.select(ModuleItem.required)) is False


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("javascript:alert(document.cookie)", "“javascript:” is refused"),
        ("data:text/html;base64,PHNjcmlwdD4=", "“data:” is refused"),
        ("www.example.org", "Enter a whole web address"),
        ("", "Enter the web address"),
    ],
)
def test_a_link_to_anything_but_a_web_address_is_refused_and_kept(w, client, url, message):
    (module,) = modules(w.cohort, ["A"])
    sign_in(client, w.staff)
    path = f"/modules/{module.id}/items/new?kind=link"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            "title": "Typed title",
            "url": url,
            "body": "Typed note",
        },
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert 'id="url-error"' in html
    assert 'value="Typed title"' in html
    assert "Typed note" in html
    assert db.session.scalar(sa.select(sa.func.count(ModuleItem.id))) == 0


def test_an_item_edit_from_a_stale_form_is_refused_and_keeps_what_was_typed(w, client):
    (module,) = modules(w.cohort, ["A"])
    (item,) = items(module, ["Read"])
    sign_in(client, w.staff)
    path = f"/items/{item.id}/edit"
    token = csrf_token(client)
    opened_at = str(item.version)
    client.post(
        path, data={"csrf_token": token, "title": "Saved", "body": "x", "version": opened_at}
    )
    response = client.post(
        path, data={"csrf_token": token, "title": "Mine", "body": "Typed", "version": opened_at}
    )
    html = response.get_data(as_text=True)
    assert "Someone changed this item while you were editing" in html
    assert 'value="Mine"' in html
    assert "Typed" in html
    db.session.expire_all()
    assert db.session.get(ModuleItem, item.id).title == "Saved"


def test_deleting_an_item_says_what_is_lost_and_renumbers(w, client):
    (module,) = modules(w.cohort, ["A"])
    one, _two, _three = items(module, ["One", "Two", "Three"])
    ProgressFactory(item_id=one.id, fellow_id=w.fellow.id, response_md="An answer")
    sign_in(client, w.staff)
    text = text_of(page(client, f"/items/{one.id}/delete"))
    assert "The progress of 1 fellow on it will be deleted" in text
    token = csrf_token(client)
    response = client.post(f"/items/{one.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert item_order(module.id) == [(0, "Two"), (1, "Three")]

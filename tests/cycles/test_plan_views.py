"""The cycle overview, the initiative form, the driver diagram's forms and buttons, and the
stage: what each role may do, bad input, stale forms, other cycles' ids, query counts."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from fellowship.cycles.models import (
    Cycle,
    CycleStage,
    Driver,
    DriverKind,
    GoalStatus,
    ImprovementTest,
    PdsaDecision,
)
from fellowship.extensions import db
from tests.conftest import main_of, rows_for_module, sign_in
from tests.cycles.helpers import (
    DriverFactory,
    EngagementFactory,
    GoalFactory,
    ImprovementTestFactory,
    MeasurementFactory,
    SupportFactory,
)
from tests.cycles.plan_helpers import (
    actions,
    diagram,
    page,
    post,
    siblings,
    snapshot,
    text_of,
    world,
)

shared_world = rows_for_module(world)


@pytest.fixture
def w(shared_world, request):
    """The world most tests here read, built once for the module."""
    return shared_world.thaw_for(request)


def overview(cycle) -> str:
    return f"/cycles/{cycle.id}"


# The overview -----------------------------------------------------------------------------------


def test_the_overview_shows_the_initiative_the_outline_the_picture_and_the_stage(w, client):
    cycle = w.cycle
    cycle.equity_challenge_md = "Our enrollment is **82%** one group."
    cycle.aim_md = "By June 2027, *no group* is more than half of the class."
    db.session.commit()
    made = diagram(cycle, primaries=2, secondaries=1, ideas=2)
    idea = made.ideas[0]
    direct = DriverFactory(
        cycle_id=cycle.id,
        parent_id=made.primaries[1].id,
        kind=DriverKind.CHANGE_IDEA,
        text="Idea straight under primary 2",
        position=5,
    )
    ImprovementTestFactory(
        cycle_id=cycle.id,
        driver_id=idea.id,
        title="Library open house",
        decision=PdsaDecision.ADAPT,
    )
    ImprovementTestFactory(cycle_id=cycle.id, driver_id=None, title="Loose test")
    sign_in(client, w.team.partner)
    html = page(client, overview(cycle))
    assert html.count("<h1") == 1
    assert "Every family chooses us</h1>" in html
    assert "<strong>82%</strong>" in html
    assert "<em>no group</em>" in html
    text = text_of(html)
    # The outline names each kind in words, nested aim → primary → secondary → change idea.
    assert "Aim: By June 2027, no group is more than half of the class." in text
    assert "Primary driver: Primary 1" in text
    assert "Secondary driver: Secondary 1.1" in text
    assert "Change idea: Idea 1.1.1" in text
    assert "Change idea: Idea straight under primary 2" in text
    assert "Improvement test: Library open house Adapt" in text
    outline = html[html.index('class="plan-outline"') :]
    nesting = re.findall(r"<ul class=\"plan-outline__list\">|<li id=\"driver-(\d+)\"", outline)
    assert nesting.index(str(made.primaries[0].id)) < nesting.index(str(idea.id))
    assert f'id="driver-{direct.id}"' in html
    # Tests whose change idea is gone (or never set) are listed too.
    assert "Improvement tests not linked to a change idea" in html
    assert "Loose test" in html
    # The picture.
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="plan-diagram-svg"' in html
    assert 'role="img"' in html
    assert "The outline above has the same content." in html
    assert 'class="plan-diagram" tabindex="0"' in html
    # The stage: shown, but a partner cannot move it or edit anything.
    assert "Implementing" in text
    assert 'aria-current="step"' in html
    assert f'action="/cycles/{cycle.id}/stage"' not in html
    assert f"/cycles/{cycle.id}/initiative" not in html
    assert "/drivers/new" not in html
    assert "/move" not in html
    assert "/tests/new" not in html


def test_the_overview_gives_editors_every_control_with_named_buttons(w, client):
    made = diagram(w.cycle, primaries=3, secondaries=1, ideas=1)
    sign_in(client, w.team.lead)
    html = page(client, overview(w.cycle))
    c = w.cycle.id
    assert f'href="/cycles/{c}/initiative"' in html
    assert f'href="/cycles/{c}/drivers/new"' in html
    first, middle, _last = made.primaries
    assert 'Move up<span class="usa-sr-only"> “Primary 2”</span>' in html
    assert 'Move down<span class="usa-sr-only"> “Primary 2”</span>' in html
    assert 'Move up<span class="usa-sr-only"> “Primary 1”</span>' not in html
    assert 'Move down<span class="usa-sr-only"> “Primary 3”</span>' not in html
    assert f'<form method="post" action="/cycles/{c}/drivers/{middle.id}/move"' in html
    assert 'type="submit" name="direction" value="up"' in html
    # Only child: no move buttons.
    assert 'Move up<span class="usa-sr-only"> “Secondary 1.1”</span>' not in html
    assert f'href="/cycles/{c}/drivers/new?parent={first.id}&amp;kind=secondary"' in html
    assert f'href="/cycles/{c}/drivers/new?parent={first.id}&amp;kind=change_idea"' in html
    secondary = made.secondaries[0]
    assert f'href="/cycles/{c}/drivers/new?parent={secondary.id}&amp;kind=change_idea"' in html
    assert f"parent={made.ideas[0].id}" not in html  # nothing goes under a change idea
    assert f'href="/cycles/{c}/tests/new?driver={made.ideas[0].id}"' in html
    assert f'href="/cycles/{c}/drivers/{first.id}/edit"' in html
    assert "Move forward to “Yearly review”" in html
    assert "Move back to “Planning”" in html


def test_the_overview_shows_the_figures_at_a_glance_with_links_to_their_tabs(w, client):
    cycle = w.cycle
    met = GoalFactory(cycle_id=cycle.id, baseline_value=18, target_value=30)
    MeasurementFactory(goal_id=met.id, measured_on=date(2026, 10, 1), value=31)
    GoalFactory(cycle_id=cycle.id)  # no measurement: no data
    GoalFactory(cycle_id=cycle.id, status_override=GoalStatus.AT_RISK, override_reason="Late")
    ImprovementTestFactory(cycle_id=cycle.id)
    ImprovementTestFactory(cycle_id=cycle.id, decision=PdsaDecision.ADOPT)
    EngagementFactory(cycle_id=cycle.id)
    SupportFactory(cycle_id=cycle.id, hours=2.5)
    SupportFactory(cycle_id=cycle.id, hours=1.75)
    SupportFactory(cycle_id=w.other.id, hours=100)
    sign_in(client, w.team.member)
    html = page(client, overview(cycle))
    glance = text_of(html[html.index('id="glance"') : html.index('id="initiative"')])
    assert "3 goals" in glance
    assert "1 met" in glance
    assert "1 at risk" in glance
    assert "1 no data" in glance
    assert "1 open improvement test" in glance
    assert "1 engagement session" in glance
    assert "4.2 support hours" in glance or "4.3 support hours" in glance
    for tab in ("goals", "tests", "engagement", "support"):
        assert f'href="/cycles/{cycle.id}/{tab}"' in html


def test_an_empty_cycle_says_what_is_missing(client):
    w = world(equity_challenge_md="", root_causes_md="", aim_md="", initiative_title="")
    sign_in(client, w.team.lead)
    html = page(client, overview(w.cycle))
    assert "Improvement cycle</h1>" in html
    assert "Not written yet." in html
    assert "No drivers yet." in html
    assert "Add a primary driver" in html
    assert "<svg" not in main_of(html)


HOSTILE = [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('"><svg onload=alert(1)>', "&#34;&gt;&lt;svg onload=alert(1)&gt;"),
]


@pytest.mark.parametrize(("hostile", "escaped"), HOSTILE)
def test_hostile_driver_text_appears_only_escaped_on_the_overview(client, hostile, escaped):
    w = world(initiative_title=hostile, aim_md=hostile)
    top = DriverFactory(cycle_id=w.cycle.id, kind=DriverKind.PRIMARY, text=hostile)
    DriverFactory(cycle_id=w.cycle.id, parent_id=top.id, kind=DriverKind.CHANGE_IDEA, text=hostile)
    sign_in(client, w.team.lead)
    html = main_of(page(client, overview(w.cycle)))
    assert "<script>alert" not in html
    assert "<svg onload" not in html
    assert html.count("<svg") == 1
    picture = html[html.index("<svg") : html.index("</svg>")]
    assert picture.count(escaped) == 3  # the aim and both drivers, each escaped
    outline = html[html.index('class="plan-outline"') : html.index("<svg")]
    assert outline.count(escaped) >= 2


def test_the_overview_runs_the_same_number_of_queries_for_2_and_20_drivers(client, count_queries):
    counts = []
    for primaries in (1, 10):
        w = world()
        for n in range(primaries):
            top = DriverFactory(cycle_id=w.cycle.id, kind=DriverKind.PRIMARY, position=n)
            idea = DriverFactory(cycle_id=w.cycle.id, parent_id=top.id, kind=DriverKind.CHANGE_IDEA)
            ImprovementTestFactory(cycle_id=w.cycle.id, driver_id=idea.id)
        goal = GoalFactory(cycle_id=w.cycle.id)
        MeasurementFactory(goal_id=goal.id)
        sign_in(client, w.team.lead)
        db.session.expire_all()
        with count_queries() as counter:
            html = page(client, overview(w.cycle))
        assert html.count('<li id="driver-') == 2 * primaries
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 15, counts


# Who may do what ----------------------------------------------------------------------------------


def _requests(w):
    """Every plan request on the cycle's overview side: (name, method, path, fields)."""
    c = w.cycle.id
    made = diagram(w.cycle, primaries=2, secondaries=1, ideas=1)
    top, secondary, idea = made.primaries[0], made.secondaries[0], made.ideas[0]
    return {
        "overview": ("GET", f"/cycles/{c}", {}),
        "initiative form": ("GET", f"/cycles/{c}/initiative", {}),
        "initiative": (
            "POST",
            f"/cycles/{c}/initiative",
            {"title": "Changed", "aim": "New aim", "version": str(w.cycle.version)},
        ),
        "new driver form": ("GET", f"/cycles/{c}/drivers/new?parent={top.id}", {}),
        "new driver": (
            "POST",
            f"/cycles/{c}/drivers/new?parent={secondary.id}",
            {"text": "A new change idea"},
        ),
        "edit driver form": ("GET", f"/cycles/{c}/drivers/{idea.id}/edit", {}),
        "edit driver": ("POST", f"/cycles/{c}/drivers/{idea.id}/edit", {"text": "Changed"}),
        "move driver": ("POST", f"/cycles/{c}/drivers/{top.id}/move", {"direction": "down"}),
        "delete driver": ("POST", f"/cycles/{c}/drivers/{top.id}/delete", {}),
        "stage": ("POST", f"/cycles/{c}/stage", {"direction": "forward", "seen": "implementing"}),
    }


NAMES = [
    "overview",
    "initiative form",
    "initiative",
    "new driver form",
    "new driver",
    "edit driver form",
    "edit driver",
    "move driver",
    "delete driver",
    "stage",
]
READERS = {"lead teacher", "team member", "partner", "staff liaison", "staff"}
PLANNERS = {"lead teacher", "team member", "staff liaison", "staff"}
STAGE_MOVERS = {"lead teacher", "staff"}
PEOPLE = [
    "lead teacher",
    "team member",
    "partner",
    "staff liaison",
    "other school's lead teacher",
    "staff",
    "fellow",
]


def _allowed(name: str) -> set[str]:
    if name == "overview":
        return READERS
    if name == "stage":
        return STAGE_MOVERS
    return PLANNERS


def _send(client, method, path, fields):
    if method == "GET":
        return client.get(path)
    return post(client, path, **fields)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("who", PEOPLE)
def test_each_role_reaches_exactly_the_plan_requests_it_may(w, client, who, name):
    method, path, fields = _requests(w)[name]
    sign_in(client, w.person(who))
    before = snapshot()
    response = _send(client, method, path, fields)
    if who in _allowed(name):
        assert response.status_code == (200 if method == "GET" else 302), response.status_code
        assert "/login" not in response.headers.get("Location", "")
        if method == "POST":
            assert snapshot() != before
    else:
        assert response.status_code == 403, (who, name, response.status_code)
        assert snapshot() == before


@pytest.mark.parametrize("name", [n for n in NAMES if n != "overview"])
def test_nobody_but_staff_changes_a_closed_cycle(client, name):
    w = world(stage=CycleStage.CLOSED)
    method, path, fields = _requests(w)[name]
    if name == "stage":
        fields = {"direction": "back", "seen": "closed"}
    for who in ("lead teacher", "team member", "staff liaison"):
        sign_in(client, w.person(who))
        before = snapshot()
        assert _send(client, method, path, fields).status_code == 403, (who, name)
        assert snapshot() == before


def test_a_closed_cycles_overview_has_no_controls_for_its_team(client):
    w = world(stage=CycleStage.CLOSED)
    diagram(w.cycle, primaries=2, secondaries=1, ideas=1)
    sign_in(client, w.team.lead)
    html = page(client, overview(w.cycle))
    assert "A closed cycle is a record: only staff can reopen it." in html
    assert "/stage" not in html
    assert "/move" not in html
    assert "/edit" not in html


def test_someone_signed_out_is_sent_to_sign_in(w, client):
    response = client.get(overview(w.cycle))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/cycles/2000000000",
        "/cycles/999999999",
        "/cycles/99999999999",
        "/cycles/{cycle}/drivers/{foreign}/edit",
        "/cycles/{cycle}/drivers/999999999/edit",
        "/cycles/{cycle}/drivers/new?parent={foreign}",
        "/cycles/{cycle}/drivers/new?parent=abc",
        "/cycles/{cycle}/drivers/new?parent=99999999999",
        "/cycles/{cycle}/drivers/new?parent={idea}",
    ],
)
def test_ids_of_other_cycles_and_nonsense_are_not_found(w, client, path):
    made = diagram(w.cycle, primaries=1, secondaries=1, ideas=1)
    sign_in(client, w.staff)
    url = path.format(
        cycle=w.cycle.id,
        foreign=w.other_driver.id,
        idea=made.ideas[0].id,
    )
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("action", ["edit", "move", "delete", "new"])
def test_posting_to_another_cycles_driver_is_not_found_and_changes_nothing(w, client, action):
    sign_in(client, w.team.lead)
    before = snapshot()
    if action == "new":
        path = f"/cycles/{w.cycle.id}/drivers/new?parent={w.other_driver.id}"
    else:
        path = f"/cycles/{w.cycle.id}/drivers/{w.other_driver.id}/{action}"
    response = post(client, path, text="Hijack", direction="up")
    assert response.status_code == 404
    assert snapshot() == before


# The initiative -----------------------------------------------------------------------------------


def _initiative_path(w) -> str:
    return f"/cycles/{w.cycle.id}/initiative"


def test_the_initiative_form_is_filled_labelled_and_saves(w, client):
    sign_in(client, w.team.member)
    html = page(client, _initiative_path(w))
    assert html.count("<h1") == 1
    for label in ("Initiative title", "The equity challenge", "Root causes", "Aim statement"):
        assert f">{label}" in html, label
    assert "Every family chooses us" in html
    assert f'name="version" type="hidden" value="{w.cycle.version}"' in html
    response = post(
        client,
        _initiative_path(w),
        title="  Families choose us  ",
        equity_challenge="Who is left out",
        root_causes="Why",
        aim="**By June**",
        version=str(w.cycle.version),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/cycles/{w.cycle.id}#initiative")
    db.session.expire_all()
    cycle = db.session.get(Cycle, w.cycle.id)
    assert (cycle.initiative_title, cycle.aim_md) == ("Families choose us", "**By June**")
    assert actions()[-1] == "cycle.initiative_updated"
    html = page(client, response.headers["Location"])
    assert "The initiative has been saved." in html
    assert "<strong>By June</strong>" in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "t" * 201, "200 characters"),
        ("equity_challenge", "e" * 20_001, "20,000 characters"),
        ("root_causes", "r" * 20_001, "20,000 characters"),
        ("aim", "a" * 20_001, "20,000 characters"),
    ],
)
def test_bad_initiative_input_is_explained_next_to_the_field_and_kept(
    w, client, field, value, message
):
    sign_in(client, w.team.lead)
    fields = {
        "title": "Typed title",
        "equity_challenge": "Typed challenge stays",
        "root_causes": "",
        "aim": "",
        "version": str(w.cycle.version),
        field: value,
    }
    before = snapshot()
    response = post(client, _initiative_path(w), **fields)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert "Please correct the following" in html
    if field != "equity_challenge":
        assert "Typed challenge stays" in html
    assert snapshot() == before


def test_a_stale_initiative_form_keeps_what_was_typed_and_shows_the_saved_text(w, client):
    old = w.cycle.version
    sign_in(client, w.team.lead)
    post(client, _initiative_path(w), title="Saved by the lead", aim="Saved aim", version=str(old))
    sign_in(client, w.team.member)
    before = snapshot()
    response = post(
        client, _initiative_path(w), title="Typed by the member", aim="Typed aim", version=str(old)
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Someone changed this initiative while you were editing it." in html
    assert "The saved initiative now" in html
    assert "Saved by the lead" in html
    assert "Saved aim" in html
    assert 'value="Typed by the member"' in html
    assert "Typed aim" in html
    assert f'name="version" type="hidden" value="{old + 1}"' in html
    assert snapshot() == before
    # Saving again after seeing the saved text is a deliberate choice, and it works.
    response = post(client, _initiative_path(w), title="Typed by the member", version=str(old + 1))
    assert response.status_code == 302


@pytest.mark.parametrize("version", ["", "abc", "-1", "99999999999"])
def test_an_initiative_form_with_a_missing_or_odd_version_is_treated_as_stale(w, client, version):
    sign_in(client, w.team.lead)
    before = snapshot()
    response = post(client, _initiative_path(w), title="X", version=version)
    assert response.status_code == 200
    assert "Someone changed this initiative" in response.get_data(as_text=True)
    assert snapshot() == before


# Drivers ------------------------------------------------------------------------------------------


def test_a_primary_driver_is_added_at_the_top_level(w, client):
    DriverFactory(cycle_id=w.cycle.id, kind=DriverKind.PRIMARY, text="Existing", position=0)
    sign_in(client, w.team.member)
    path = f"/cycles/{w.cycle.id}/drivers/new"
    html = page(client, path)
    assert "Add a primary driver</h1>" in html
    assert 'type="radio"' not in html  # nothing to choose at the top level
    response = post(client, path, text="Families across the district know us")
    assert response.status_code == 302
    driver = db.session.scalar(sa.select(Driver).where(Driver.text.like("Families across%")))
    assert driver.kind == DriverKind.PRIMARY
    assert response.headers["Location"].endswith(f"#driver-{driver.id}")
    assert siblings(w.cycle.id, None)[-1] == (1, "Families across the district know us")
    assert "Added the primary driver" in page(client, response.headers["Location"])


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("secondary", DriverKind.SECONDARY), ("change_idea", DriverKind.CHANGE_IDEA)],
)
def test_under_a_primary_driver_the_person_chooses_secondary_or_change_idea(
    w, client, kind, expected
):
    top = DriverFactory(cycle_id=w.cycle.id, kind=DriverKind.PRIMARY, text="Top")
    sign_in(client, w.team.lead)
    path = f"/cycles/{w.cycle.id}/drivers/new?parent={top.id}"
    html = page(client, path + f"&kind={kind}")
    assert "Add a driver under “Top”" in html
    assert f'value="{kind}" checked' in html
    assert html.count('type="radio"') == 2
    response = post(client, path, text="Under the top", kind=kind)
    assert response.status_code == 302
    driver = db.session.scalar(sa.select(Driver).where(Driver.text == "Under the top"))
    assert (driver.kind, driver.parent_id) == (expected, top.id)


@pytest.mark.parametrize(
    ("parent", "fields", "field", "message"),
    [
        ("primary", {"text": "x"}, "kind", "Choose what kind of driver this is."),
        ("primary", {"text": "x", "kind": "primary"}, "kind", "Choose what kind"),
        ("primary", {"text": "x", "kind": "banana"}, "kind", "Choose what kind"),
        ("secondary", {"text": "x", "kind": "secondary"}, "kind", "Choose what kind"),
        (None, {"text": "x", "kind": "change_idea"}, "kind", "Choose what kind"),
        (None, {"text": ""}, "text", "Write the driver."),
        (None, {"text": "   "}, "text", "Write the driver."),
        (None, {"text": "x" * 501}, "text", "500 characters or fewer"),
    ],
)
def test_bad_drivers_are_refused_next_to_the_field(w, client, parent, fields, field, message):
    top = DriverFactory(cycle_id=w.cycle.id, kind=DriverKind.PRIMARY, text="Top")
    middle = DriverFactory(
        cycle_id=w.cycle.id, parent_id=top.id, kind=DriverKind.SECONDARY, text="Middle"
    )
    parent_id = {"primary": top.id, "secondary": middle.id, None: None}[parent]
    path = f"/cycles/{w.cycle.id}/drivers/new" + (f"?parent={parent_id}" if parent_id else "")
    sign_in(client, w.team.lead)
    before = snapshot()
    response = post(client, path, **fields)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert message in html
    assert f'id="{field}-error"' in html or field == "kind"
    if fields["text"].strip():
        assert fields["text"][:50] in html
    assert snapshot() == before


def test_a_driver_is_edited_and_its_page_says_what_deleting_takes_with_it(w, client):
    made = diagram(w.cycle, primaries=1, secondaries=2, ideas=2)
    ImprovementTestFactory(cycle_id=w.cycle.id, driver_id=made.ideas[0].id)
    top = made.primaries[0]
    sign_in(client, w.team.liaison)
    path = f"/cycles/{w.cycle.id}/drivers/{top.id}/edit"
    html = page(client, path)
    assert "Edit the primary driver</h1>" in html
    assert "Primary 1</textarea>" in html
    assert "The 6 drivers and change ideas under it are deleted with it." in html
    assert "1 improvement test of a deleted change idea is kept, with no change idea." in html
    assert "Delete it and the 6 items under it" in html
    response = post(client, path, text="Primary one, renamed")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Driver, top.id).text == "Primary one, renamed"
    assert actions()[-1] == "cycle.driver_updated"
    response = post(client, path, text="x" * 501)
    assert response.status_code == 200
    assert "500 characters or fewer" in response.get_data(as_text=True)


def test_deleting_a_driver_deletes_its_subtree_and_says_so(w, client):
    made = diagram(w.cycle, primaries=2, secondaries=1, ideas=2)
    test = ImprovementTestFactory(cycle_id=w.cycle.id, driver_id=made.ideas[0].id, title="Kept")
    sign_in(client, w.team.lead)
    response = post(client, f"/cycles/{w.cycle.id}/drivers/{made.primaries[0].id}/delete")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#diagram")
    db.session.expire_all()
    assert [text for _, text in siblings(w.cycle.id, None)] == ["Primary 2"]
    assert (
        db.session.scalar(sa.select(sa.func.count(Driver.id)).where(Driver.cycle_id == w.cycle.id))
        == 4
    )
    assert db.session.get(ImprovementTest, test.id).driver_id is None
    html = page(client, response.headers["Location"])
    assert "Deleted the primary driver “Primary 1”." in html
    assert "3 drivers and change ideas under it went with it." in html
    assert "1 improvement test is kept, with no change idea." in html
    assert "Improvement tests not linked to a change idea" in html


@pytest.mark.parametrize(
    ("index", "direction", "order"),
    [
        (0, "down", ["Primary 2", "Primary 1", "Primary 3"]),
        (2, "up", ["Primary 1", "Primary 3", "Primary 2"]),
        (0, "up", ["Primary 1", "Primary 2", "Primary 3"]),
        (2, "down", ["Primary 1", "Primary 2", "Primary 3"]),
        (1, "sideways", ["Primary 1", "Primary 2", "Primary 3"]),
    ],
)
def test_the_move_buttons_reorder_siblings_and_do_nothing_at_the_ends(
    w, client, index, direction, order
):
    made = diagram(w.cycle, primaries=3, secondaries=0, ideas=0)
    sign_in(client, w.team.member)
    events = len(actions())
    driver = made.primaries[index]
    response = post(client, f"/cycles/{w.cycle.id}/drivers/{driver.id}/move", direction=direction)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#driver-{driver.id}")
    assert [text for _, text in siblings(w.cycle.id, None)] == order
    moved = order != ["Primary 1", "Primary 2", "Primary 3"]
    assert len(actions()) == events + (1 if moved else 0)


# The stage ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "start", "direction", "end", "message"),
    [
        ("lead teacher", "planning", "forward", "implementing", "now in the stage “Implementing”"),
        ("lead teacher", "implementing", "back", "planning", "now in the stage “Planning”"),
        ("lead teacher", "yearly_review", "forward", "closed", "now in the stage “Closed”"),
        ("lead teacher", "planning", "back", "planning", "no earlier stage"),
        ("staff", "closed", "back", "yearly_review", "now in the stage “Yearly review”"),
        ("staff", "closed", "forward", "closed", "no later stage"),
    ],
)
def test_the_stage_moves_forward_and_back_and_staff_reopen_a_closed_cycle(
    client, who, start, direction, end, message
):
    w = world(stage=CycleStage(start))
    sign_in(client, w.person(who))
    response = post(client, f"/cycles/{w.cycle.id}/stage", direction=direction, seen=start)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#stage")
    db.session.expire_all()
    assert db.session.get(Cycle, w.cycle.id).stage.value == end
    assert message in page(client, response.headers["Location"])
    assert ("cycle.stage_changed" in actions()) is (start != end)


def test_the_overview_offers_staff_the_reopen_button_on_a_closed_cycle(client):
    w = world(stage=CycleStage.CLOSED)
    sign_in(client, w.staff)
    html = page(client, overview(w.cycle))
    assert "Reopen the cycle (back to “Yearly review”)" in html
    assert 'value="forward"' not in html
    assert 'name="seen" type="hidden" value="closed"' in html


def test_a_stage_button_pressed_on_an_old_page_changes_nothing(client):
    w = world(stage=CycleStage.IMPLEMENTING)
    sign_in(client, w.team.lead)
    before = snapshot()
    for seen in ("planning", "nonsense"):
        response = post(client, f"/cycles/{w.cycle.id}/stage", direction="forward", seen=seen)
        assert response.status_code == 302
        assert "moved this cycle to another stage" in page(client, response.headers["Location"])
    assert snapshot() == before

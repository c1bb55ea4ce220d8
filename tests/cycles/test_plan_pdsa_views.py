"""Improvement tests (PDSA): the list, the form, the page; who may use them; bad input,
stale forms, other cycles' ids, query counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fellowship.curriculum.queries import local_today
from fellowship.cycles.models import CycleStage, DriverKind, ImprovementTest, PdsaDecision
from fellowship.extensions import db
from tests.conftest import rows_for_module, sign_in
from tests.cycles.helpers import DriverFactory, ImprovementTestFactory
from tests.cycles.plan_helpers import (
    actions,
    diagram,
    page,
    post,
    snapshot,
    text_of,
    world,
)

shared_world = rows_for_module(world)


@pytest.fixture
def w(shared_world, request):
    """The world most tests here read, built once for the module."""
    return shared_world.thaw_for(request)


def _fields(**changes: str) -> dict[str, str]:
    fields = {
        "title": "Open house in Spanish",
        "driver": "",
        "started_on": "2026-10-01",
        "ended_on": "",
        "plan": "One open house at the library, with a translator.",
        "prediction": "Twenty families come; eight apply.",
        "do": "",
        "study": "",
        "decision": "",
    }
    fields.update(changes)
    return fields


# The list -----------------------------------------------------------------------------------------


def test_the_list_shows_open_tests_first_with_their_change_idea_and_dates(w, client):
    made = diagram(w.cycle, primaries=1, secondaries=1, ideas=1)
    ImprovementTestFactory(
        cycle_id=w.cycle.id,
        title="Decided long ago",
        decision=PdsaDecision.ABANDON,
        started_on=date(2026, 9, 1),
        ended_on=date(2026, 9, 20),
    )
    ImprovementTestFactory(
        cycle_id=w.cycle.id,
        title="Still running",
        driver_id=made.ideas[0].id,
        started_on=date(2026, 10, 1),
    )
    ImprovementTestFactory(cycle_id=w.cycle.id, title="Not started", started_on=None)
    ImprovementTestFactory(cycle_id=w.other.id, title="Another school's test")
    sign_in(client, w.team.partner)
    html = page(client, f"/cycles/{w.cycle.id}/tests")
    assert html.count("<h1") == 1
    assert "Improvement tests</h1>" in html
    assert 'aria-current="page"' in html
    text = text_of(html)
    assert text.index("Not started") < text.index("Still running") < text.index("Decided long ago")
    assert "Another school" not in html
    assert "Idea 1.1.1" in text
    assert "Since Oct 1, 2026" in text
    assert "Sep 1, 2026 to Sep 20, 2026" in text
    assert "Abandon" in text
    assert "Not decided yet" in text
    assert "3 tests, 2 still open" in text
    assert '<th scope="col">' in html
    assert '<th scope="row">' in html
    assert "/tests/new" not in html  # a partner reads only


def test_the_list_runs_the_same_number_of_queries_for_2_and_20_tests(client, count_queries):
    counts = []
    for size in (2, 20):
        w = world()
        made = diagram(w.cycle, primaries=1, secondaries=1, ideas=2)
        for n in range(size):
            ImprovementTestFactory(cycle_id=w.cycle.id, driver_id=made.ideas[n % 2].id)
        sign_in(client, w.team.lead)
        db.session.expire_all()
        with count_queries() as counter:
            html = page(client, f"/cycles/{w.cycle.id}/tests")
        assert html.count('<tr id="test-') == size
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[0] <= 15


def test_an_empty_list_explains_what_a_test_is(w, client):
    sign_in(client, w.team.member)
    html = page(client, f"/cycles/{w.cycle.id}/tests")
    assert "No improvement tests yet" in html
    assert f'href="/cycles/{w.cycle.id}/tests/new"' in html


# The form -----------------------------------------------------------------------------------------


def test_a_new_test_can_start_from_a_change_idea_and_is_saved(w, client):
    made = diagram(w.cycle, primaries=1, secondaries=1, ideas=2)
    idea = made.ideas[1]
    sign_in(client, w.team.member)
    path = f"/cycles/{w.cycle.id}/tests/new"
    html = page(client, f"{path}?driver={idea.id}")
    assert html.count("<h1") == 1
    assert f'<option selected value="{idea.id}">Idea 1.1.2</option>' in html
    for label in (
        "Title",
        "Change idea tested",
        "Started on",
        "Ended on",
        "Plan",
        "Prediction",
        "Do: what was done",
        "Study: what was learned",
        "Act: the decision",
    ):
        assert f">{label}" in html, label
    # Secondary drivers are not change ideas and are not offered.
    assert "Secondary 1.1</option>" not in html
    response = post(client, f"{path}?driver={idea.id}", **_fields(driver=str(idea.id)))
    assert response.status_code == 302
    test = db.session.scalar(
        sa.select(ImprovementTest).where(ImprovementTest.cycle_id == w.cycle.id)
    )
    assert response.headers["Location"].endswith(f"/cycles/{w.cycle.id}/tests/{test.id}")
    assert (test.driver_id, test.started_on, test.created_by_id) == (
        idea.id,
        date(2026, 10, 1),
        w.team.member.id,
    )
    assert actions()[-1] == "cycle.pdsa_created"
    assert "has been added" in page(client, response.headers["Location"])


@pytest.mark.parametrize("driver", ["{other}", "{secondary}", "abc", "99999999999"])
def test_a_preselected_driver_that_is_not_this_cycles_change_idea_is_ignored(w, client, driver):
    made = diagram(w.cycle, primaries=1, secondaries=1, ideas=1)
    sign_in(client, w.team.lead)
    value = driver.format(other=w.other_driver.id, secondary=made.secondaries[0].id)
    html = page(client, f"/cycles/{w.cycle.id}/tests/new?driver={value}")
    assert '<option selected value="">None</option>' in html


BAD = [
    ({"title": ""}, "title", "Enter a title for the test."),
    ({"title": "t" * 201}, "title", "200 characters"),
    ({"driver": "{other}"}, "driver", "Choose one of this cycle&#39;s change ideas, or none."),
    ({"driver": "{secondary}"}, "driver", "change ideas, or none"),
    ({"driver": "abc"}, "driver", "change ideas, or none"),
    ({"driver": "99999999999"}, "driver", "change ideas, or none"),
    ({"started_on": "next week"}, "started_on", "Enter the date, like 2026-09-15."),
    ({"started_on": "0001-01-01"}, "started_on", "between 1950 and 2200"),
    ({"ended_on": "9999-12-31"}, "ended_on", "between 1950 and 2200"),
    ({"ended_on": "2026-09-30"}, "ended_on", "cannot be before the start date"),
    ({"ended_on": "2026-10-15"}, "decision", "The test has ended"),
    ({"decision": "maybe"}, "decision", "Choose adopt, adapt or abandon."),
    ({"plan": "p" * 20_001}, "plan", "20,000 characters"),
    ({"do": "d" * 20_001}, "do", "20,000 characters"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD)
def test_bad_test_input_is_explained_next_to_the_field_and_kept(w, client, change, field, message):
    made = diagram(w.cycle, primaries=1, secondaries=1, ideas=1)
    change = {
        key: value.format(other=w.other_driver.id, secondary=made.secondaries[0].id)
        for key, value in change.items()
    }
    sign_in(client, w.team.lead)
    before = snapshot()
    response = post(
        client,
        f"/cycles/{w.cycle.id}/tests/new",
        **_fields(study="Typed study stays", **change),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html
    assert message in html
    assert "Please correct the following" in html
    if field != "study":
        assert "Typed study stays" in html
    if field != "title":
        assert 'value="Open house in Spanish"' in html
    assert snapshot() == before


def test_the_test_page_shows_the_four_pdsa_parts(w, client):
    made = diagram(w.cycle, primaries=1, secondaries=1, ideas=1)
    test = ImprovementTestFactory(
        cycle_id=w.cycle.id,
        driver_id=made.ideas[0].id,
        title="Bus stop flyers",
        plan_md="Post flyers at **two** stops.",
        prediction_md="Five calls.",
        do_md="Posted at three stops.",
        study_md="Nine calls, mostly in Spanish.",
        decision=PdsaDecision.ADOPT,
        started_on=date(2026, 10, 1),
        ended_on=date(2026, 10, 30),
    )
    sign_in(client, w.team.partner)
    html = page(client, f"/cycles/{w.cycle.id}/tests/{test.id}")
    assert html.count("<h1") == 1
    assert "Bus stop flyers</h1>" in html
    text = text_of(html)
    for part in ("Plan", "Do", "Study", "Act"):
        assert f'<h2 id="pdsa-{part.lower()}"' in html, part
    assert "<strong>two</strong>" in html
    assert "Five calls." in text
    assert "Posted at three stops." in text
    assert "Nine calls, mostly in Spanish." in text
    assert "Adopt : It worked" in text or "Adopt: It worked" in text
    assert "Idea 1.1.1" in text
    assert f'href="/cycles/{w.cycle.id}#driver-{made.ideas[0].id}"' in html
    assert "/edit" not in html  # a partner reads only


def test_a_test_is_edited_and_decided(w, client):
    test = ImprovementTestFactory(cycle_id=w.cycle.id, title="Before")
    sign_in(client, w.team.liaison)
    path = f"/cycles/{w.cycle.id}/tests/{test.id}/edit"
    html = page(client, path)
    assert 'value="Before"' in html
    assert f'name="version" type="hidden" value="{test.version}"' in html
    today = local_today(w.team.liaison.timezone)
    response = post(
        client,
        path,
        **_fields(
            title="After",
            started_on=(today - timedelta(days=10)).isoformat(),
            ended_on=today.isoformat(),
            study="It worked.",
            decision="adopt",
            version=str(test.version),
        ),
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(ImprovementTest, test.id)
    assert (saved.title, saved.decision, saved.ended_on) == ("After", PdsaDecision.ADOPT, today)
    assert actions()[-1] == "cycle.pdsa_updated"


def test_a_stale_test_form_keeps_what_was_typed_and_shows_the_saved_test(w, client):
    test = ImprovementTestFactory(cycle_id=w.cycle.id, title="Before")
    old = test.version
    path = f"/cycles/{w.cycle.id}/tests/{test.id}/edit"
    sign_in(client, w.team.lead)
    post(client, path, **_fields(title="Saved by the lead", version=str(old)))
    sign_in(client, w.team.member)
    before = snapshot()
    response = post(
        client, path, **_fields(title="Typed by the member", study="Typed study", version=str(old))
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Someone changed this improvement test while you were editing it." in html
    assert "The saved test now" in html
    assert "Saved by the lead" in html
    assert 'value="Typed by the member"' in html
    assert "Typed study" in html
    assert f'name="version" type="hidden" value="{old + 1}"' in html
    assert snapshot() == before


# Who may do what ----------------------------------------------------------------------------------

READERS = {"lead teacher", "team member", "partner", "staff liaison", "staff"}
WRITERS = {"lead teacher", "team member", "staff liaison", "staff"}
PEOPLE = [
    "lead teacher",
    "team member",
    "partner",
    "staff liaison",
    "other school's lead teacher",
    "staff",
    "fellow",
]


def _requests(w, test):
    c = w.cycle.id
    return {
        "list": ("GET", f"/cycles/{c}/tests", {}),
        "page": ("GET", f"/cycles/{c}/tests/{test.id}", {}),
        "new form": ("GET", f"/cycles/{c}/tests/new", {}),
        "new": ("POST", f"/cycles/{c}/tests/new", _fields()),
        "edit form": ("GET", f"/cycles/{c}/tests/{test.id}/edit", {}),
        "edit": (
            "POST",
            f"/cycles/{c}/tests/{test.id}/edit",
            _fields(title="Changed", version=str(test.version)),
        ),
    }


@pytest.mark.parametrize("name", ["list", "page", "new form", "new", "edit form", "edit"])
@pytest.mark.parametrize("who", PEOPLE)
def test_each_role_reaches_exactly_the_test_pages_it_may(w, client, who, name):
    test = ImprovementTestFactory(cycle_id=w.cycle.id)
    method, path, fields = _requests(w, test)[name]
    sign_in(client, w.person(who))
    before = snapshot()
    response = client.get(path) if method == "GET" else post(client, path, **fields)
    allowed = READERS if name in ("list", "page") else WRITERS
    if who in allowed:
        assert response.status_code == (200 if method == "GET" else 302)
    else:
        assert response.status_code == 403, (who, name)
        assert snapshot() == before


@pytest.mark.parametrize("name", ["new form", "new", "edit form", "edit"])
def test_tests_of_a_closed_cycle_cannot_be_changed_by_its_team(client, name):
    w = world(stage=CycleStage.CLOSED)
    test = ImprovementTestFactory(cycle_id=w.cycle.id)
    method, path, fields = _requests(w, test)[name]
    sign_in(client, w.team.lead)
    before = snapshot()
    response = client.get(path) if method == "GET" else post(client, path, **fields)
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("suffix", ["", "/edit"])
def test_another_cycles_test_is_not_found(w, client, suffix):
    sign_in(client, w.staff)
    path = f"/cycles/{w.cycle.id}/tests/{w.other_test.id}{suffix}"
    assert client.get(path).status_code == 404
    before = snapshot()
    if suffix:
        response = post(client, path, **_fields(version=str(w.other_test.version)))
        assert response.status_code == 404
        assert snapshot() == before
    assert client.get(f"/cycles/{w.cycle.id}/tests/99999999999").status_code == 404


def test_a_change_idea_deleted_later_leaves_its_tests_readable(w, client):
    top = DriverFactory(cycle_id=w.cycle.id, kind=DriverKind.PRIMARY)
    idea = DriverFactory(cycle_id=w.cycle.id, parent_id=top.id, kind=DriverKind.CHANGE_IDEA)
    test = ImprovementTestFactory(cycle_id=w.cycle.id, driver_id=idea.id, title="Survivor")
    sign_in(client, w.team.lead)
    post(client, f"/cycles/{w.cycle.id}/drivers/{top.id}/delete")
    html = page(client, f"/cycles/{w.cycle.id}/tests/{test.id}")
    assert "Survivor</h1>" in html
    assert "Change idea tested" in html
    assert "None" in text_of(html)

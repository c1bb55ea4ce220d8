"""The fellow's home ("Your learning") and module due dates in the personal calendar feed."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa

from fellowship.cohorts.models import CohortMembership, CohortRole, MembershipStatus
from fellowship.curriculum.models import ItemKind
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import sign_in
from tests.curriculum.helpers import ExtensionFactory, require_module
from tests.curriculum.learning_helpers import (
    days,
    done,
    item,
    learning_world,
    member,
    open_module,
    submitted,
)
from tests.factories import CohortFactory


def home(client) -> str:
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(html: str, heading: str) -> str:
    """The part of the home page under one h3 of "Your learning", up to the next h3."""
    start = html.index(f">{heading}</h3>")
    end = html.find("<h3", start)
    return html[start : end if end != -1 else len(html)]


@pytest.fixture
def plan(client):
    world = learning_world()
    finished = open_module(world.cohort, title="Orientation", position=1, due_on=days(-20))
    done(item(finished, title="Welcome"), world.fellow)
    current = open_module(world.cohort, title="Coalition mapping", position=2, due_on=days(3))
    reading = item(current, title="Read the case")
    item(current, title="Map your allies")
    item(current, title="Extra listening", required=False)
    done(reading, world.fellow)
    later = open_module(world.cohort, title="Budget advocacy", position=3, due_on=days(30))
    item(later, title="Budget basics")
    require_module(later, current)
    unreleased = open_module(
        world.cohort, title="Board meetings", position=4, release_on=days(2), due_on=days(5)
    )
    item(unreleased)
    return world, finished, current, later, unreleased


def test_the_home_shows_the_next_module_to_work_on(client, plan):
    world, _finished, current, *_rest = plan
    sign_in(client, world.fellow)
    html = home(client)
    assert ">Your learning</h2>" in html
    next_up = section(html, "Next module")
    assert f'href="/modules/{current.id}">Coalition mapping</a>' in next_up
    assert "In progress" in next_up
    assert "1 of 2 required items done" in next_up
    assert "Orientation" not in next_up  # complete
    assert html.count("<h1") == 1


def test_due_this_week_lists_the_modules_due_soon_with_their_remaining_items(client, plan):
    world = plan[0]
    overdue = open_module(world.cohort, title="Late module", position=5, due_on=days(-4))
    left = item(overdue, title="Still to read")
    sign_in(client, world.fellow)
    due = section(home(client), "Due this week")
    assert "Coalition mapping" in due
    assert "Late module" in due
    assert "Overdue" in due
    assert due.index("Late module") < due.index("Coalition mapping")  # soonest first
    assert "Map your allies" in due
    assert "Read the case" not in due  # done already
    assert "Extra listening" not in due  # optional
    assert f'href="/modules/{overdue.id}#item-{left.id}">Still to read</a>' in due
    assert "Budget advocacy" not in due  # due in a month
    assert "Board meetings" not in due  # not released yet
    assert "Orientation" not in due  # complete, even if its date has passed


def test_an_extension_moves_a_module_out_of_this_week(client, plan):
    world, _finished, current, *_rest = plan
    ExtensionFactory(module_id=current.id, fellow_id=world.fellow.id, due_on=days(20))
    sign_in(client, world.fellow)
    due = section(home(client), "Due this week")
    assert "Coalition mapping" not in due
    assert "Nothing is due in the next seven days." in due
    sign_in(client, world.other_fellow)
    assert "Coalition mapping" in section(home(client), "Due this week")


def test_new_feedback_links_to_the_item_for_two_weeks(client, plan):
    world, _finished, current, *_rest = plan
    fresh = item(current, ItemKind.REFLECTION, title="Who are your allies?")
    old = item(current, ItemKind.REFLECTION, title="An old question")
    submitted(
        fresh,
        world.fellow,
        "Answer",
        feedback_md="Good.",
        feedback_at=utcnow() - timedelta(days=2),
        feedback_by_id=world.facilitator.id,
    )
    submitted(
        old,
        world.fellow,
        "Answer",
        feedback_md="Fine.",
        feedback_at=utcnow() - timedelta(days=20),
        feedback_by_id=world.facilitator.id,
    )
    others = item(current, ItemKind.REFLECTION, title="Someone else's question")
    submitted(
        others,
        world.other_fellow,
        "Theirs",
        feedback_md="Theirs.",
        feedback_at=utcnow(),
        feedback_by_id=world.facilitator.id,
    )
    sign_in(client, world.fellow)
    feedback = section(home(client), "New feedback")
    assert f'href="/modules/{current.id}#item-{fresh.id}">Who are your allies?</a>' in feedback
    assert "from Farah Facilitator" in feedback
    assert "An old question" not in feedback
    assert "Someone else" not in feedback


@pytest.mark.parametrize("who", ["coach", "facilitator", "staff", "alumni", "withdrawn"])
def test_people_who_are_not_active_fellows_have_no_learning_section(client, plan, who):
    world = plan[0]
    if who == "alumni":
        person = member(world.cohort, CohortRole.FELLOW, status=MembershipStatus.COMPLETED)
    elif who == "withdrawn":
        person = member(world.cohort, CohortRole.FELLOW, status=MembershipStatus.WITHDRAWN)
    else:
        person = getattr(world, who)
    sign_in(client, person)
    assert "Your learning" not in home(client)


def test_with_nothing_left_the_home_says_so(client):
    world = learning_world()
    module = open_module(world.cohort, title="Only module")
    done(item(module), world.fellow)
    sign_in(client, world.fellow)
    html = home(client)
    assert "every open module is complete" in html
    assert "No new feedback in the last two weeks." in html


def test_the_home_takes_the_same_queries_for_2_and_20_modules(client, count_queries):
    counts = {}
    for size in (2, 20):
        world = learning_world()
        modules = [open_module(world.cohort, position=n, due_on=days(n % 9)) for n in range(size)]
        for n, module in enumerate(modules):
            first = item(module)
            reflection = item(module, ItemKind.REFLECTION)
            item(module, required=False)
            if n % 3 == 0:
                done(first, world.fellow)
            if n % 4 == 0:
                submitted(
                    reflection,
                    world.fellow,
                    "Answer",
                    feedback_md="Good",
                    feedback_at=utcnow(),
                    feedback_by_id=world.facilitator.id,
                )
        sign_in(client, world.fellow)
        client.get("/")
        with count_queries() as counter:
            html = home(client)
        assert ">Due this week</h3>" in html
        counts[size] = counter.count
    assert counts[2] == counts[20] <= 15


# The calendar feed ------------------------------------------------------------------------


def feed_events(client, app, user) -> dict[str, icalendar.Event]:
    sign_in(client, user)
    page = client.get("/calendar/").get_data(as_text=True)
    url = re.search(r'id="feed-url" type="text" readonly value="([^"]+)"', page).group(1)
    response = app.test_client().get(url.removeprefix("http://localhost"))
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.data)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_the_feed_has_the_fellows_due_dates_with_their_own_extension(app, client, plan):
    world, finished, current, later, unreleased = plan
    ExtensionFactory(module_id=later.id, fellow_id=world.fellow.id, due_on=days(40))
    ExtensionFactory(module_id=current.id, fellow_id=world.other_fellow.id, due_on=days(50))
    events = feed_events(client, app, world.fellow)
    uid = f"module-{current.id}-due-{world.fellow.id}@fellowship"
    assert uid in events
    event = events[uid]
    assert str(event["SUMMARY"]) == "Due: Coalition mapping"
    assert event.decoded("DTSTART") == days(3)  # not the other fellow's extension
    assert event.decoded("DTEND") == days(4)
    assert str(event["URL"]) == f"http://localhost/modules/{current.id}"
    extended = events[f"module-{later.id}-due-{world.fellow.id}@fellowship"]
    assert extended.decoded("DTSTART") == days(40)
    assert "extended" in str(extended["DESCRIPTION"])
    assert f"module-{unreleased.id}-due-{world.fellow.id}@fellowship" not in events
    assert f"module-{finished.id}-due-{world.fellow.id}@fellowship" in events


def test_the_feed_is_stable_between_fetches_and_per_fellow(app, client, plan):
    world, _finished, current, *_rest = plan
    first = feed_events(client, app, world.fellow)
    second = feed_events(client, app, world.fellow)
    assert {uid: e.to_ical() for uid, e in first.items()} == {
        uid: e.to_ical() for uid, e in second.items()
    }
    theirs = feed_events(client, app, world.other_fellow)
    assert f"module-{current.id}-due-{world.other_fellow.id}@fellowship" in theirs
    assert not any(uid.endswith(f"-due-{world.fellow.id}@fellowship") for uid in theirs)


@pytest.mark.parametrize("who", ["coach", "facilitator", "alumni"])
def test_only_active_fellows_get_module_due_dates(app, client, plan, who):
    world = plan[0]
    if who == "alumni":
        person = member(world.cohort, CohortRole.FELLOW, status=MembershipStatus.COMPLETED)
    else:
        person = getattr(world, who)
    events = feed_events(client, app, person)
    assert not any(uid.startswith("module-") for uid in events)


def test_a_fellow_of_two_cohorts_gets_the_due_dates_of_both(app, client, plan):
    world = plan[0]
    second = CohortFactory()
    db.session.add(
        CohortMembership(cohort_id=second.id, user_id=world.fellow.id, role=CohortRole.FELLOW)
    )
    db.session.commit()
    other = open_module(second, title="Second cohort module", due_on=days(12))
    events = feed_events(client, app, world.fellow)
    assert f"module-{other.id}-due-{world.fellow.id}@fellowship" in events
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CohortMembership)) >= 2


def test_the_due_date_provider_takes_one_query(app, plan, count_queries):
    from fellowship.curriculum.learning_queries import module_due_events_for_user

    world = plan[0]
    with app.test_request_context():
        fellow_id = world.fellow.id
        from fellowship.auth.models import User

        fellow = db.session.get(User, fellow_id)
        with count_queries() as counter:
            events = module_due_events_for_user(fellow, utcnow())
    assert len(events) == 3
    assert counter.count == 1

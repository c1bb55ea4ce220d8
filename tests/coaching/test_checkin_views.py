"""Check-in screens: log, draft, share, read, reply, mark done, conflicts, reassignment."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
import sqlalchemy as sa

from fellowship.calendar import services as calendar_services
from fellowship.coaching import queries
from fellowship.coaching.models import ActionItem, CheckIn, CheckInReply
from fellowship.cohorts.models import CohortRole
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from tests.coaching.helpers import (
    action_item,
    checkin,
    coaching_pair,
    focus,
    form_data,
    member,
    private_note,
    reassign,
    yesterday,
)
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.factories import StaffFactory

shared_pair = rows_for_module(coaching_pair)


@pytest.fixture
def pair(shared_pair, request):
    """What most tests here start from, built once for the module."""
    return shared_pair.thaw_for(request)


NOTE = "She is weighing a job offer elsewhere."


def new_path(pair) -> str:
    return f"/cohorts/{pair.cohort.id}/fellows/{pair.fellow.id}/checkins/new"


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


# Logging -------------------------------------------------------------------------------


def test_the_check_in_form_is_labelled_grouped_and_prefilled_for_a_phone(pair, client):
    sign_in(client, pair.coach)
    html = page(client, new_path(pair))
    assert html.count("<h1") == 1
    assert "Log a check-in with Felix Fellow" in html
    today = utcnow().date()
    assert re.search(
        rf'name="held_on" type="date" value="({today}|{today - timedelta(days=1)})"', html
    ) or ('type="date"' in html)
    assert 'inputmode="numeric"' in html
    for legend in ("When and how", "How you met", "Focus areas", "Action items", "Only for you"):
        assert f">{legend}" in html, legend
    for strand in pair.cohort.strands:
        assert strand.name in html
    assert html.count('name="items-') >= 12  # three blank rows of four fields
    assert '<label class="usa-label" for="items-0-description">' in html
    assert "Save as draft" in html
    assert "Save and share with Felix Fellow" in html
    # The next check-in is proposed from the cohort's rhythm.
    assert 'name="next_checkin_on"' in html


def test_a_coach_saves_a_draft_that_only_they_can_see(pair, client):
    sign_in(client, pair.coach)
    path = new_path(pair)
    response = client.post(
        path,
        data=form_data(
            client,
            path,
            private_notes=NOTE,
            focus=[pair.cohort.strands[1].id],
        ),
    )
    assert response.status_code == 302
    saved = db.session.scalar(sa.select(CheckIn))
    assert response.headers["Location"].endswith(f"/checkins/{saved.id}")
    assert saved.shared_at is None
    assert saved.duration_minutes == 45
    assert queries.private_notes_for(saved.id, pair.coach.id) == NOTE
    assert count(OutboxMessage) == 0
    html = page(client, f"/checkins/{saved.id}")
    assert "Draft" in html
    assert NOTE in html
    assert "Draft the memo to the board" in html
    assert pair.cohort.strands[1].name in html

    sign_in(client, pair.fellow)
    page(client, f"/checkins/{saved.id}", status=403)
    mine = page(client, f"/cohorts/{pair.cohort.id}/my-checkins")
    assert "Draft the memo to the board" not in mine
    assert "has not shared a check-in with you yet" in mine


def test_sharing_a_draft_tells_the_fellow_once_and_shows_them_the_shared_parts(pair, client):
    sign_in(client, pair.coach)
    path = new_path(pair)
    client.post(path, data=form_data(client, path, private_notes=NOTE))
    saved = db.session.scalar(sa.select(CheckIn))
    share = f"/checkins/{saved.id}/share"
    token = csrf_token(client)
    assert client.post(share, data={"csrf_token": token}).status_code == 302
    assert client.post(share, data={"csrf_token": token}).status_code == 302
    messages = list(db.session.scalars(sa.select(OutboxMessage)))
    assert len(messages) == 1
    assert messages[0].to == pair.fellow.email
    assert NOTE not in messages[0].text + (messages[0].html or "")

    sign_in(client, pair.fellow)
    html = page(client, f"/checkins/{saved.id}")
    assert "allies" in html
    assert "Meet the PTA chair" in html
    assert "Draft the memo to the board" in html
    assert NOTE not in html
    assert "Your private notes" not in html
    assert "Edit" not in re.sub(r"<[^>]+>", " ", html).split()  # no edit button for the fellow


def test_save_and_share_shares_at_once(pair, client):
    sign_in(client, pair.coach)
    path = new_path(pair)
    response = client.post(path, data=form_data(client, path, save=None, share="Save and share"))
    assert response.status_code == 302
    saved = db.session.scalar(sa.select(CheckIn))
    assert saved.shared_at is not None
    assert count(OutboxMessage) == 1


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"held_on": "2099-01-01"}, "held_on", "cannot be more than a day ahead"),
        ({"held_on": "not a date"}, "held_on", "Enter the date, like 2026-09-15."),
        ({"duration_minutes": "2"}, "duration_minutes", "from 5 to 600"),
        ({"duration_minutes": "forty"}, "duration_minutes", "from 5 to 600"),
        ({"mode": None}, "mode", "Choose how you met."),
        ({"items-0-description": ""}, "items-0-description", "Describe the action item"),
        ({"items-0-due_on": "31/31/2026"}, "items-0-due_on", "Enter the date"),
    ],
    ids=["future", "unreadable date", "too short", "not a number", "no mode", "item", "due"],
)
def test_bad_input_is_explained_next_to_the_field_keeps_what_was_typed_and_saves_nothing(
    pair, client, overrides, field_id, message
):
    sign_in(client, pair.coach)
    path = new_path(pair)
    response = client.post(
        path,
        data=form_data(client, path, shared_summary="Typed with care", **overrides),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="{field_id}-error"' in html
    assert message in html
    assert f'href="#{field_id}"' in html  # the summary links to the field
    assert "Typed with care" in html
    assert count(CheckIn) == 0
    assert count(ActionItem) == 0


def test_a_coach_cannot_log_a_check_in_with_a_fellow_they_do_not_coach(pair, client):
    other = coaching_pair()
    sign_in(client, pair.coach)
    path = f"/cohorts/{other.cohort.id}/fellows/{other.fellow.id}/checkins/new"
    assert client.get(path).status_code == 403
    data = form_data(client, new_path(pair))
    assert client.post(path, data=data).status_code == 403
    assert count(CheckIn) == 0


# Editing -------------------------------------------------------------------------------


def test_the_edit_form_shows_the_saved_check_in_and_saves_changes(pair, client):
    saved = checkin(pair, shared_at=None)
    private_note(saved, NOTE)
    memo = action_item(saved, pair.fellow, "Draft the memo")
    focus(saved, pair.cohort, 0)
    sign_in(client, pair.coach)
    path = f"/checkins/{saved.id}/edit"
    html = page(client, path)
    assert NOTE in html
    assert 'value="Draft the memo"' in html
    assert f'name="items-0-id" type="hidden" value="{memo.id}"' in html
    assert 'name="version" type="hidden" value="1"' in html
    data = form_data(
        client,
        path,
        version="1",
        private_notes="Changed my mind.",
        **{"items-0-id": str(memo.id), "items-0-description": "Draft the memo, v2"},
    )
    response = client.post(path, data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CheckIn, saved.id).version == 2
    assert db.session.get(ActionItem, memo.id).description == "Draft the memo, v2"
    assert queries.private_notes_for(saved.id, pair.coach.id) == "Changed my mind."


def test_clearing_an_items_description_removes_it(pair, client):
    saved = checkin(pair)
    memo = action_item(saved, pair.fellow, "Draft the memo")
    sign_in(client, pair.coach)
    path = f"/checkins/{saved.id}/edit"
    data = form_data(
        client,
        path,
        version="1",
        **{
            "items-0-id": str(memo.id),
            "items-0-description": "",
            "items-0-due_on": "",
            "items-1-description": "",
        },
    )
    assert client.post(path, data=data).status_code == 302
    assert count(ActionItem) == 0


def test_an_edit_from_a_stale_tab_is_refused_with_a_clear_message_and_nothing_lost(pair, client):
    saved = checkin(pair, duration_minutes=30)
    sign_in(client, pair.coach)
    path = f"/checkins/{saved.id}/edit"
    first_tab = form_data(client, path, version="1", duration_minutes="50")
    second_tab = form_data(
        client, path, version="1", duration_minutes="90", shared_summary="Second tab words"
    )
    assert client.post(path, data=first_tab).status_code == 302
    response = client.post(path, data=second_tab)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "changed in another tab or window" in html
    assert "Not saved" in html
    assert "Second tab words" in html  # what they typed is still in the form
    assert 'name="version" type="hidden" value="2"' in html
    db.session.expire_all()
    assert db.session.get(CheckIn, saved.id).duration_minutes == 50
    # Saving again after seeing the conflict is a deliberate overwrite.
    again = dict(second_tab, version="2")
    assert client.post(path, data=again).status_code == 302
    db.session.expire_all()
    assert db.session.get(CheckIn, saved.id).duration_minutes == 90


def test_only_the_writing_coach_edits_or_shares(pair, client):
    saved = checkin(pair, shared_at=None)
    other_coach = member(pair.cohort, CohortRole.COACH)
    for person in (pair.fellow, other_coach, StaffFactory()):
        sign_in(client, person)
        assert client.get(f"/checkins/{saved.id}/edit").status_code == 403
        token = csrf_token(client)
        assert (
            client.post(f"/checkins/{saved.id}/share", data={"csrf_token": token}).status_code
            == 403
        )
    db.session.expire_all()
    assert db.session.get(CheckIn, saved.id).shared_at is None


# The fellow ----------------------------------------------------------------------------


def test_a_fellow_sees_their_history_and_their_items_across_check_ins(pair, client):
    first = checkin(pair, held_on=yesterday() - timedelta(days=30), shared_summary_md="First talk")
    second = checkin(pair, held_on=yesterday(), shared_summary_md="Second talk")
    draft = checkin(pair, shared_at=None, shared_summary_md="Unshared draft text")
    action_item(first, pair.fellow, "Read chapter 3", due_on=yesterday())
    action_item(second, pair.fellow, "Call the union rep")
    action_item(second, pair.coach, "Book the room")
    action_item(draft, pair.fellow, "Hidden draft item")
    sign_in(client, pair.fellow)
    html = page(client, f"/cohorts/{pair.cohort.id}/my-checkins")
    assert html.count("<h1") == 1
    assert "First talk" in html
    assert "Second talk" in html
    assert html.index("Second talk") < html.index("First talk")  # newest first
    assert "Unshared draft text" not in html
    assert "Hidden draft item" not in html
    my_items = html.split('id="my-items-heading"')[1].split('id="history-heading"')[0]
    assert "Read chapter 3" in my_items
    assert "Call the union rep" in my_items
    assert "Book the room" not in my_items
    assert 'scope="col"' in my_items
    assert 'scope="row"' in my_items


def test_a_fellow_marks_their_own_item_done_and_open_again(pair, client):
    saved = checkin(pair)
    item = action_item(saved, pair.fellow, "Read chapter 3")
    coach_item = action_item(saved, pair.coach, "Book the room")
    sign_in(client, pair.fellow)
    back = f"/cohorts/{pair.cohort.id}/my-checkins"
    token = csrf_token(client)
    response = client.post(
        f"/action-items/{item.id}/done", data={"csrf_token": token, "next": back}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(back)
    db.session.expire_all()
    assert db.session.get(ActionItem, item.id).done_by_id == pair.fellow.id
    assert "Mark as not done" in page(client, back)
    client.post(f"/action-items/{item.id}/done", data={"csrf_token": token, "next": back})
    db.session.expire_all()
    assert db.session.get(ActionItem, item.id).done_at is None
    # The coach's item is not the fellow's to tick.
    response = client.post(f"/action-items/{coach_item.id}/done", data={"csrf_token": token})
    assert response.status_code == 403


def test_marking_done_never_redirects_to_another_site(pair, client):
    item = action_item(checkin(pair), pair.fellow, "Read chapter 3")
    sign_in(client, pair.fellow)
    token = csrf_token(client)
    for evil in ("https://evil.example", "//evil.example", "/\\evil.example"):
        response = client.post(
            f"/action-items/{item.id}/done", data={"csrf_token": token, "next": evil}
        )
        assert response.headers["Location"].endswith(f"/checkins/{item.checkin_id}")


def test_a_fellow_replies_to_a_shared_summary_and_the_coach_reads_it(pair, client):
    saved = checkin(pair)
    sign_in(client, pair.fellow)
    path = f"/checkins/{saved.id}"
    response = client.post(
        f"{path}/replies",
        data={"csrf_token": csrf_token(client), "body": "Thanks — **done** by Friday."},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{path}#replies")
    sign_in(client, pair.coach)
    html = page(client, path)
    assert "<strong>done</strong> by Friday." in html
    assert "Felix Fellow" in html


def test_an_empty_reply_is_explained_and_saves_nothing(pair, client):
    saved = checkin(pair)
    sign_in(client, pair.fellow)
    path = f"/checkins/{saved.id}"
    response = client.post(f"{path}/replies", data={"csrf_token": csrf_token(client), "body": "  "})
    assert response.status_code == 200
    assert "Write a reply before sending it." in response.get_data(as_text=True)
    assert count(CheckInReply) == 0


def test_nobody_replies_to_a_draft(pair, client):
    saved = checkin(pair, shared_at=None)
    sign_in(client, pair.coach)
    path = f"/checkins/{saved.id}"
    response = client.post(f"{path}/replies", data={"csrf_token": csrf_token(client), "body": "Hi"})
    assert response.status_code == 403
    assert count(CheckInReply) == 0


# Staff, other coaches, reassignment ----------------------------------------------------


def test_staff_see_that_a_check_in_happened_but_not_what_was_said(pair, client):
    saved = checkin(pair, shared_summary_md="Confidential summary", duration_minutes=55)
    focus(saved, pair.cohort, 2)
    action_item(saved, pair.fellow, "Secret-ish item")
    draft = checkin(pair, shared_at=None)
    sign_in(client, StaffFactory())
    html = page(client, f"/checkins/{saved.id}")
    assert "55 minutes" in html
    assert pair.cohort.strands[2].name in html
    assert "Confidential summary" not in html
    assert "Secret-ish item" not in html
    page(client, f"/checkins/{draft.id}", status=403)
    history = page(client, f"/cohorts/{pair.cohort.id}/fellows/{pair.fellow.id}/checkins")
    assert "55 minutes" in history
    assert "Confidential summary" not in history
    assert f"/checkins/{draft.id}" not in history


def test_another_coach_in_the_cohort_sees_nothing_of_the_check_in(pair, client):
    saved = checkin(pair)
    sign_in(client, member(pair.cohort, CohortRole.COACH))
    page(client, f"/checkins/{saved.id}", status=403)
    page(client, f"/cohorts/{pair.cohort.id}/fellows/{pair.fellow.id}/checkins", status=403)


def test_after_reassignment_the_new_coach_sees_the_shared_history_but_not_the_old_notes(
    pair, client
):
    shared = checkin(pair, shared_summary_md="Old coach's shared summary")
    private_note(shared, NOTE)
    old_draft = checkin(pair, shared_at=None, shared_summary_md="Old coach's draft")
    private_note(old_draft, "Draft note of the old coach")
    new_coach = member(pair.cohort, CohortRole.COACH, name="Nia Newcoach")
    reassign(pair, new_coach)
    sign_in(client, new_coach)
    history = page(client, f"/cohorts/{pair.cohort.id}/fellows/{pair.fellow.id}/checkins")
    assert "Old coach's shared summary" in history
    assert "Cora Coach" in history
    assert "Old coach's draft" not in history
    assert NOTE not in history
    detail = page(client, f"/checkins/{shared.id}")
    assert "Old coach's shared summary" in detail
    assert NOTE not in detail
    assert "Your private notes" not in detail
    page(client, f"/checkins/{old_draft.id}", status=403)
    page(client, f"/checkins/{shared.id}/edit", status=403)
    assert (
        client.get(f"/cohorts/{pair.cohort.id}/fellows/{pair.fellow.id}/checkins/new").status_code
        == 200
    )
    # The old coach keeps their own check-in and its notes, but logs no new ones.
    sign_in(client, pair.coach)
    assert NOTE in page(client, f"/checkins/{shared.id}")
    page(client, f"/cohorts/{pair.cohort.id}/fellows/{pair.fellow.id}/checkins/new", status=403)


def test_the_cohort_page_links_coaches_and_fellows_to_their_check_ins(pair, client):
    sign_in(client, pair.coach)
    html = page(client, f"/cohorts/{pair.cohort.id}")
    assert f'href="{new_path(pair)}"' in html
    assert f'href="/cohorts/{pair.cohort.id}/fellows/{pair.fellow.id}/checkins"' in html
    assert "My check-ins" not in html
    sign_in(client, pair.fellow)
    html = page(client, f"/cohorts/{pair.cohort.id}")
    assert f'href="/cohorts/{pair.cohort.id}/my-checkins"' in html
    assert "Log a check-in" not in html


# Calendar ------------------------------------------------------------------------------


def feed_events(app, user) -> dict[str, icalendar.Event]:
    with app.test_request_context():
        token = calendar_services.current_token(user)
    response = app.test_client().get(f"/calendar/{token}.ics")
    assert response.status_code == 200
    calendar = icalendar.Calendar.from_ical(response.data)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_the_next_planned_check_in_is_in_both_calendars_without_any_notes(pair, app):
    planned = yesterday() + timedelta(days=13)
    older = checkin(pair, held_on=yesterday() - timedelta(days=20), next_checkin_on=yesterday())
    latest = checkin(
        pair, held_on=yesterday(), next_checkin_on=planned, shared_summary_md="Summary text"
    )
    private_note(latest, NOTE)
    uid = f"checkin-next-{latest.id}@fellowship"
    for person, other in ((pair.coach, "Felix Fellow"), (pair.fellow, "Cora Coach")):
        events = feed_events(app, person)
        assert uid in events
        assert f"checkin-next-{older.id}@fellowship" not in events
        event = events[uid]
        assert event.decoded("dtstart") == planned
        assert str(event["SUMMARY"]) == f"Coaching check-in with {other}"
        assert NOTE not in event.to_ical().decode()
        assert "Summary text" not in event.to_ical().decode()


def test_a_drafts_planned_date_is_in_the_coachs_calendar_only(pair, app):
    draft = checkin(pair, shared_at=None, next_checkin_on=yesterday() + timedelta(days=5))
    uid = f"checkin-next-{draft.id}@fellowship"
    assert uid in feed_events(app, pair.coach)
    assert uid not in feed_events(app, pair.fellow)


def test_after_reassignment_the_old_coachs_plan_leaves_both_calendars(pair, app):
    saved = checkin(pair, next_checkin_on=yesterday() + timedelta(days=5))
    reassign(pair, member(pair.cohort, CohortRole.COACH))
    uid = f"checkin-next-{saved.id}@fellowship"
    assert uid not in feed_events(app, pair.coach)
    assert uid not in feed_events(app, pair.fellow)


# Query counts --------------------------------------------------------------------------


def fellow_history_with(n: int):
    pair = coaching_pair()
    for i in range(n):
        row = checkin(pair, held_on=yesterday() - timedelta(days=i))
        focus(row, pair.cohort, i % 4)
        action_item(row, pair.fellow, f"Item {i}")
        db.session.add(CheckInReply(checkin_id=row.id, author_id=pair.fellow.id, body_md="ok"))
    db.session.commit()
    return pair


@pytest.mark.parametrize("path", ["my-checkins", "coach-history", "checkin"])
def test_check_in_pages_run_the_same_number_of_queries_for_3_or_30_check_ins(
    client, count_queries, path
):
    counts = []
    for n in (3, 30):
        pair = fellow_history_with(n)
        viewer = pair.fellow if path == "my-checkins" else pair.coach
        sign_in(client, viewer)
        url = {
            "my-checkins": f"/cohorts/{pair.cohort.id}/my-checkins",
            "coach-history": f"/cohorts/{pair.cohort.id}/fellows/{pair.fellow.id}/checkins",
            "checkin": f"/checkins/{db.session.scalar(sa.select(sa.func.max(CheckIn.id)))}",
        }[path]
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 15, counts


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "//evil.example",
        "https://evil.example/",
        "/\\evil.example",
        "/\n/evil.example",
    ],
)
def test_going_back_after_ticking_an_item_never_leaves_the_site(target):
    from fellowship.web import safe_local_path

    assert safe_local_path(target) is None
    assert safe_local_path("/cohorts/1/my-checkins") == "/cohorts/1/my-checkins"


def test_a_next_check_in_centuries_away_is_refused(ctx):
    from datetime import date

    from fellowship.coaching import services

    assert services.TOO_FAR_AHEAD
    data = services.CheckInData(
        held_on=date(2026, 11, 20),
        duration_minutes=45,
        mode=services.CheckInMode.VIDEO,
        next_checkin_on=date(9999, 12, 31),
    )
    with pytest.raises(services.CheckInError, match="within the next two years"):
        services._check(data, None, 1, 2)

"""The notifications page and the bell: a person's own notifications, newest first, unread
ones marked in words, each opened (and marked read) by a POST that goes to its page; mark
one or all read; another person's notification is "not found" and stays as it was."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.notifications.models import Notification
from fellowship.notifications.views import when
from tests.conftest import csrf_token, sign_in
from tests.factories import UserFactory
from tests.notifications.inbox_helpers import add_many, add_notification

URL = "/notifications/"


def read_at(notification_id: int) -> datetime | None:
    return db.session.scalar(
        sa.select(Notification.read_at).where(Notification.id == notification_id)
    )


def unread_ids(user_id: int) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(Notification.id).where(
                Notification.user_id == user_id, Notification.read_at.is_(None)
            )
        )
    )


# The list ------------------------------------------------------------------------------------


def test_the_page_lists_the_persons_notifications_newest_first(client, login_as):
    me = UserFactory()
    add_notification(me, "Older one", ago=timedelta(days=2), read=True)
    add_notification(me, "Newest one", ago=timedelta(hours=3))
    add_notification(UserFactory(), "Someone else's")
    login_as(me)
    html = client.get(URL).get_data(as_text=True)
    assert html.index("Newest one") < html.index("Older one")
    assert "Someone else&#39;s" not in html
    assert "Someone else's" not in html
    assert "3 hours ago" in html
    assert "2 days ago" in html
    assert "1 unread" in html


def test_unread_notifications_are_marked_in_words_not_only_in_colour(client, login_as):
    me = UserFactory()
    unread = add_notification(me, "Not seen yet")
    seen = add_notification(me, "Seen already", read=True)
    login_as(me)
    html = client.get(URL).get_data(as_text=True)
    item = re.search(rf'<li[^>]*id="notification-{unread.id}".*?</li>', html, re.S)
    assert item
    assert "Unread" in item.group(0)
    assert "Mark as read" in item.group(0)
    assert "notification--unread" in item.group(0)
    other = re.search(rf'<li[^>]*id="notification-{seen.id}".*?</li>', html, re.S)
    assert other
    assert "Unread" not in other.group(0)
    assert "Mark as read" not in other.group(0)


def test_a_person_without_notifications_is_told_so(client, login_as):
    login_as(UserFactory())
    html = client.get(URL).get_data(as_text=True)
    assert "You have no notifications yet." in html
    assert "Mark all as read" not in html
    assert 'href="/notifications/preferences"' in html


def test_the_page_shows_50_notifications_a_page(client, login_as):
    me = UserFactory()
    add_many(me, 60)
    login_as(me)
    first = client.get(URL).get_data(as_text=True)
    second = client.get(URL + "?page=2").get_data(as_text=True)
    assert first.count('<li class="notification') == 50
    assert "Notification number 60<" in first
    assert "Notification number 11<" in first
    assert "Notification number 10<" in second
    assert "Notification number 1<" in second
    assert "Showing 51–60 of 60 notifications." in second
    assert client.get(URL + "?page=abc").status_code == 200


def test_the_page_takes_the_same_number_of_queries_whatever_the_count(app, count_queries):
    counts = {}
    for count in (3, 60):
        me = UserFactory()
        add_many(me, count)
        client = app.test_client()
        sign_in(client, me)
        client.get(URL)  # warm up (the first request of a session loads more)
        with count_queries() as counter:
            response = client.get(URL)
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('<li class="notification') == min(count, 50)
        counts[count] = counter.count
    # The person (with the unread count), what the header's menu needs, the total and one
    # page of notifications: the same for 3 and for 60.
    assert counts[3] == counts[60] <= 6, counts


#  age of the notification        shown as
WHEN = [
    (timedelta(seconds=20), "just now"),
    (timedelta(minutes=5), "5 minutes ago"),
    (timedelta(hours=3), "3 hours ago"),
    (timedelta(hours=30), "1 day ago"),
    (timedelta(days=6), "6 days ago"),
]


@pytest.mark.parametrize(("age", "shown"), WHEN)
def test_recent_notifications_say_how_long_ago_they_came(ctx, age, shown):
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    assert when(now - age, now) == shown


def test_older_notifications_show_their_date_in_the_persons_timezone(client, login_as):
    me = UserFactory(timezone="America/Los_Angeles")
    # 03:00 UTC on 10 January is still 9 January in Los Angeles.
    add_notification(me, "From January", at=datetime(2026, 1, 10, 3, 0, tzinfo=UTC))
    login_as(me)
    html = client.get(URL).get_data(as_text=True)
    assert "Jan 9, 2026" in html


def test_the_relative_time_is_in_the_persons_language(ctx):
    now = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
    with force_locale("es"):
        assert when(now - timedelta(hours=3), now) == "hace 3 horas"


# Opening one -------------------------------------------------------------------------------


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(client, login_as):
    me = UserFactory()
    mine = add_notification(me, link="/coaching/checkins/12#items")
    login_as(me)
    token = csrf_token(client)
    response = client.post(f"/notifications/{mine.id}/open", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == "/coaching/checkins/12#items"
    assert read_at(mine.id) is not None


#  a stored link that could leave the site
UNSAFE_LINKS = ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]


@pytest.mark.parametrize("link", UNSAFE_LINKS)
def test_a_notification_never_sends_the_person_off_the_site(client, login_as, link):
    me = UserFactory()
    mine = add_notification(me, link=link)
    login_as(me)
    token = csrf_token(client)
    response = client.post(f"/notifications/{mine.id}/open", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == URL


def test_opening_needs_a_post_with_the_form_token(client, login_as):
    me = UserFactory()
    mine = add_notification(me)
    login_as(me)
    assert client.get(f"/notifications/{mine.id}/open").status_code == 405
    assert client.post(f"/notifications/{mine.id}/open").status_code == 400
    assert read_at(mine.id) is None


#  action                 path after the id
ACTIONS = ["open", "read"]


@pytest.mark.parametrize("action", ACTIONS)
def test_another_persons_notification_is_not_found_and_stays_unread(client, login_as, action):
    theirs = add_notification(UserFactory())
    login_as(UserFactory())
    token = csrf_token(client)
    response = client.post(f"/notifications/{theirs.id}/{action}", data={"csrf_token": token})
    assert response.status_code == 404
    db.session.expire_all()
    assert read_at(theirs.id) is None


@pytest.mark.parametrize("action", ACTIONS)
def test_a_notification_that_does_not_exist_is_not_found(client, login_as, action):
    login_as(UserFactory())
    token = csrf_token(client)
    for number in (999_999, 2**40):
        response = client.post(f"/notifications/{number}/{action}", data={"csrf_token": token})
        assert response.status_code == 404


# Marking read ------------------------------------------------------------------------------


def test_mark_as_read_marks_that_one_and_returns_to_the_same_page(client, login_as):
    me = UserFactory()
    first, second = add_notification(me, "First"), add_notification(me, "Second")
    login_as(me)
    token = csrf_token(client)
    response = client.post(
        f"/notifications/{first.id}/read", data={"csrf_token": token, "page": "2"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == URL + "?page=2"
    assert unread_ids(me.id) == {second.id}
    page = client.get(URL).get_data(as_text=True)
    assert "Marked as read: “First”." in page


def test_marking_a_read_one_again_changes_nothing(client, login_as):
    me = UserFactory()
    done = add_notification(me, read=True)
    before = read_at(done.id)
    login_as(me)
    token = csrf_token(client)
    assert (
        client.post(f"/notifications/{done.id}/read", data={"csrf_token": token}).status_code == 302
    )
    db.session.expire_all()
    assert read_at(done.id) == before


def test_mark_all_as_read_marks_only_the_persons_own(client, login_as):
    me, other = UserFactory(), UserFactory()
    add_many(me, 6)
    theirs = add_notification(other)
    login_as(me)
    token = csrf_token(client)
    response = client.post("/notifications/read-all", data={"csrf_token": token})
    assert response.status_code == 302
    assert unread_ids(me.id) == set()
    assert unread_ids(other.id) == {theirs.id}
    page = client.get(URL).get_data(as_text=True)
    assert "3 notifications marked as read." in page
    assert "All read" in page


# The bell ------------------------------------------------------------------------------------


def _bell(html: str) -> str:
    match = re.search(r'<a class="notification-bell[^"]*".*?</a>', html, re.S)
    assert match, "no bell in the header"
    return match.group(0)


def test_the_bell_shows_the_unread_count_with_a_name_that_says_it(client, login_as):
    me = UserFactory()
    for _ in range(3):
        add_notification(me)
    add_notification(me, read=True)
    login_as(me)
    bell = _bell(client.get("/").get_data(as_text=True))
    assert 'aria-label="Notifications, 3 unread"' in bell
    assert 'href="/notifications/"' in bell
    assert re.search(r'<svg[^>]*aria-hidden="true"', bell)
    assert re.search(r'notification-bell__count" aria-hidden="true">3<', bell)


def test_the_bell_without_unread_notifications_has_no_badge(client, login_as):
    login_as(UserFactory())
    bell = _bell(client.get("/").get_data(as_text=True))
    assert 'aria-label="Notifications, none unread"' in bell
    assert "notification-bell__count" not in bell


def test_the_bell_counts_at_most_99_on_its_badge(client, login_as):
    me = UserFactory()
    for n in range(120):
        add_notification(me, f"n{n}", commit=False)
    db.session.commit()
    login_as(me)
    bell = _bell(client.get(URL).get_data(as_text=True))
    assert 'aria-label="Notifications, 120 unread"' in bell
    assert ">99+<" in bell
    assert 'aria-current="page"' in bell


def test_signed_out_visitors_see_no_bell(client):
    assert "notification-bell" not in client.get("/login").get_data(as_text=True)


def test_a_notification_read_elsewhere_is_no_longer_counted(client, login_as):
    me = UserFactory()
    one = add_notification(me)
    login_as(me)
    assert "Notifications, 1 unread" in client.get("/").get_data(as_text=True)
    one.read_at = utcnow()
    db.session.commit()
    assert "Notifications, none unread" in client.get("/").get_data(as_text=True)

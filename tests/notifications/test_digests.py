"""Digests (`flask digests run`) against a frozen clock (an explicit `now`) and the real SMTP
server: one email per person and period listing exactly the notifications since their last
digest, never before DIGEST_HOUR on the person's own clock, the weekly one once per ISO week,
nothing for a category that is off, and one digest when two runs go at once."""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship.auth.models import User
from fellowship.db import db
from fellowship.mail import OutboxMessage, deliver_outbox
from fellowship.notifications import services
from fellowship.notifications.digests import (
    Due,
    Item,
    digest_context,
    pending_people,
    period_due,
    run_digests,
    send_batch,
)
from fellowship.notifications.models import (
    Category,
    DigestFrequency,
    EmailState,
    Frequency,
    Notification,
    NotificationDigest,
)
from tests.conftest import TEST_DATABASE_URL, body_of, database_url_from, make_app
from tests.factories import UserFactory
from tests.notifications.snapshots import assert_matches_snapshot

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=NEW_YORK)  # ISO week 2026-W49
_keys = iter(range(1_000_000))


def pending(user: User, subject: str, at: datetime, category: Category = Category.COACHING) -> int:
    """A notification waiting for the person's digest, created at `at`."""
    row = Notification(
        user_id=user.id,
        kind="coaching/checkin_shared",
        category=category,
        subject=subject,
        link=f"/coaching/checkins/{next(_keys)}",
        dedupe_key=f"digest-test:{user.id}:{subject}:{next(_keys)}",
        email=EmailState.PENDING,
        created_at=at,
    )
    db.session.add(row)
    db.session.commit()
    return row.id


def person(
    frequency: Frequency = Frequency.DAILY, timezone: str = "America/New_York", **fields: Any
) -> User:
    user = UserFactory(timezone=timezone, **fields)
    services.set_preferences(user, dict.fromkeys(Category, frequency))
    db.session.commit()
    return user


def digests_of(user: User) -> list[NotificationDigest]:
    return list(
        db.session.scalars(
            sa.select(NotificationDigest)
            .where(NotificationDigest.user_id == user.id)
            .order_by(NotificationDigest.id)
        )
    )


def state_of(notification_id: int) -> tuple[EmailState, int | None]:
    row = db.session.execute(
        sa.select(Notification.email, Notification.digest_id).where(
            Notification.id == notification_id
        )
    ).one()
    return row[0], row[1]


def mails_to(smtp_server: Any, user: User) -> list[Any]:
    return [m for m in smtp_server.messages if m["X-Envelope-To"] == user.email]


# When a digest is due -----------------------------------------------------------------------

#  frequency     the person's local time (any timezone: only its clock counts)   due: period or None
TIMING = [
    (DigestFrequency.DAILY, datetime(2026, 12, 1, 6, 59, tzinfo=TOKYO), None),
    (DigestFrequency.DAILY, datetime(2026, 12, 1, 7, 0, tzinfo=TOKYO), "2026-12-01"),
    (DigestFrequency.DAILY, datetime(2026, 12, 1, 23, 59, tzinfo=TOKYO), "2026-12-01"),
    (DigestFrequency.DAILY, datetime(2026, 12, 2, 0, 30, tzinfo=TOKYO), None),
    (
        DigestFrequency.WEEKLY,
        datetime(2026, 11, 30, 6, 59, tzinfo=TOKYO),
        None,
    ),  # Monday before the hour
    (DigestFrequency.WEEKLY, datetime(2026, 11, 30, 7, 0, tzinfo=TOKYO), "2026-W49"),
    (
        DigestFrequency.WEEKLY,
        datetime(2026, 12, 2, 3, 0, tzinfo=TOKYO),
        "2026-W49",
    ),  # a missed Monday
    (DigestFrequency.WEEKLY, datetime(2026, 12, 6, 23, 0, tzinfo=TOKYO), "2026-W49"),  # Sunday
    (
        DigestFrequency.WEEKLY,
        datetime(2026, 12, 7, 6, 0, tzinfo=TOKYO),
        None,
    ),  # next Monday, too early
    (DigestFrequency.WEEKLY, datetime(2027, 1, 4, 9, 0, tzinfo=TOKYO), "2027-W01"),
]


@pytest.mark.parametrize(("frequency", "local", "due"), TIMING)
def test_a_digest_is_due_from_the_digest_hour_of_its_day_or_week(frequency, local, due):
    assert period_due(frequency, local, 7) == due


def test_nothing_is_sent_before_the_digest_hour_on_the_persons_own_clock(ctx, app):
    assert app.config["DIGEST_HOUR"] == 7
    tokyo = person(timezone="Asia/Tokyo")
    new_york = person(timezone="America/New_York")
    first = pending(tokyo, "For Tokyo", MONDAY - timedelta(days=1))
    second = pending(new_york, "For New York", MONDAY - timedelta(days=1))
    # 06:30 in Tokyo is 16:30 the day before in New York: only New York's digest is due.
    moment = datetime(2026, 12, 1, 6, 30, tzinfo=TOKYO)
    counts = run_digests(moment)
    assert counts["daily"] == 1
    assert state_of(first)[0] == EmailState.PENDING
    assert state_of(second)[0] == EmailState.DIGESTED
    run_digests(datetime(2026, 12, 1, 7, 0, tzinfo=TOKYO))
    assert state_of(first)[0] == EmailState.DIGESTED
    assert [d.period for d in digests_of(tokyo)] == ["2026-12-01"]


def test_an_unknown_timezone_counts_as_utc(ctx):
    user = person(timezone="Mars/Olympus_Mons")
    pending(user, "Hello", MONDAY - timedelta(days=1))
    assert run_digests(datetime(2026, 12, 1, 6, 59, tzinfo=ZoneInfo("UTC")))["daily"] == 0
    assert run_digests(datetime(2026, 12, 1, 7, 0, tzinfo=ZoneInfo("UTC")))["daily"] == 1


# What a digest contains ---------------------------------------------------------------------


def test_a_digest_lists_exactly_the_notifications_since_the_last_digest(ctx, smtp_server):
    user = person(Frequency.DAILY)
    first = [
        pending(user, "Check-in of 24 November shared", MONDAY - timedelta(hours=20)),
        pending(user, "Two action items assigned", MONDAY - timedelta(hours=3)),
    ]
    assert run_digests(MONDAY)["daily"] == 1
    # Later the same day: a new one waits for tomorrow's digest; today's is not sent again.
    late = pending(user, "Module “Equity audits” due in 3 days", MONDAY + timedelta(hours=2))
    assert run_digests(MONDAY + timedelta(hours=3))["daily"] == 0
    assert state_of(late) == (EmailState.PENDING, None)
    assert run_digests(MONDAY + timedelta(days=1))["daily"] == 1

    one, two = digests_of(user)
    assert (one.period, one.notification_count) == ("2026-11-30", 2)
    assert (two.period, two.notification_count) == ("2026-12-01", 1)
    assert [state_of(i) for i in first] == [(EmailState.DIGESTED, one.id)] * 2
    assert state_of(late) == (EmailState.DIGESTED, two.id)

    assert deliver_outbox()["sent"] == 2
    mails = mails_to(smtp_server, user)
    assert len(mails) == 2
    first_text, second_text = body_of(mails[0]), body_of(mails[1])
    assert "Check-in of 24 November shared" in first_text
    assert "Two action items assigned" in first_text
    assert "Equity audits" not in first_text
    assert "Equity audits" in body_of(mails[1], "html")
    assert "Check-in of 24 November" not in second_text
    assert "Two action items" not in second_text
    assert mails[0]["Subject"] == "Your daily Fellowship digest: 2 notifications"
    assert mails[1]["Subject"] == "Your daily Fellowship digest: 1 notification"
    assert mails[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_digest_comes_at_its_hour_not_when_the_days_first_notification_arrives(ctx):
    """Nothing pending at 7:00; one at 14:00 waits for tomorrow's 7:00 digest instead of
    going out alone at the next hourly run. The same for a week: Wednesday's waits for
    Monday."""
    daily = person(Frequency.DAILY)
    afternoon = pending(daily, "Shared at two", MONDAY + timedelta(hours=6))
    assert run_digests(MONDAY + timedelta(hours=7))["daily"] == 0
    assert state_of(afternoon) == (EmailState.PENDING, None)
    assert run_digests(MONDAY + timedelta(days=1))["daily"] == 1
    weekly = person(Frequency.WEEKLY)
    wednesday = pending(weekly, "Wednesday news", MONDAY + timedelta(days=2))
    assert run_digests(MONDAY + timedelta(days=2, hours=2))["weekly"] == 0
    assert run_digests(MONDAY + timedelta(days=7))["weekly"] == 1
    assert state_of(wednesday)[0] == EmailState.DIGESTED


def test_the_weekly_digest_goes_out_once_per_iso_week(ctx):
    user = person(Frequency.WEEKLY)
    before = pending(user, "Last week", MONDAY - timedelta(days=3))
    assert run_digests(MONDAY - timedelta(hours=2))["weekly"] == 0  # Monday 06:00
    assert run_digests(MONDAY)["weekly"] == 1
    during = pending(user, "This week", MONDAY + timedelta(days=1))
    for later in (timedelta(days=1), timedelta(days=3), timedelta(days=6, hours=15)):
        assert run_digests(MONDAY + later)["weekly"] == 0
    assert state_of(during) == (EmailState.PENDING, None)
    assert run_digests(MONDAY + timedelta(days=7))["weekly"] == 1
    one, two = digests_of(user)
    assert [(d.frequency, d.period) for d in (one, two)] == [
        (DigestFrequency.WEEKLY, "2026-W49"),
        (DigestFrequency.WEEKLY, "2026-W50"),
    ]
    assert state_of(before) == (EmailState.DIGESTED, one.id)
    assert state_of(during) == (EmailState.DIGESTED, two.id)


def test_daily_and_weekly_categories_go_into_their_own_digests(ctx):
    user = person(Frequency.DAILY)
    services.set_preferences(user, {Category.ANNOUNCEMENTS: Frequency.WEEKLY})
    db.session.commit()
    daily = pending(user, "Shared check-in", MONDAY - timedelta(hours=1))
    weekly = pending(user, "Holiday schedule", MONDAY - timedelta(hours=1), Category.ANNOUNCEMENTS)
    counts = run_digests(MONDAY)
    assert (counts["daily"], counts["weekly"], counts["notifications"]) == (1, 1, 2)
    by_frequency = {d.frequency: d.id for d in digests_of(user)}
    assert state_of(daily) == (EmailState.DIGESTED, by_frequency[DigestFrequency.DAILY])
    assert state_of(weekly) == (EmailState.DIGESTED, by_frequency[DigestFrequency.WEEKLY])


#  the category's frequency now      what becomes of a pending notification at Monday 08:00
NOW_SET_TO = [
    (Frequency.OFF, EmailState.NONE, None),
    (Frequency.IMMEDIATELY, EmailState.DIGESTED, DigestFrequency.DAILY),
    (Frequency.DAILY, EmailState.DIGESTED, DigestFrequency.DAILY),
    (Frequency.WEEKLY, EmailState.DIGESTED, DigestFrequency.WEEKLY),
]


@pytest.mark.parametrize(("now_set_to", "becomes", "digest"), NOW_SET_TO)
def test_a_pending_notification_follows_its_categorys_frequency_now(
    ctx, smtp_server, now_set_to, becomes, digest
):
    user = person(Frequency.DAILY)
    waiting = pending(user, "Waiting", MONDAY - timedelta(hours=5))
    services.set_preferences(user, {Category.COACHING: now_set_to})
    db.session.commit()
    run_digests(MONDAY)
    assert state_of(waiting)[0] == becomes
    assert [d.frequency for d in digests_of(user)] == ([digest] if digest else [])
    deliver_outbox()
    assert len(mails_to(smtp_server, user)) == (1 if digest else 0)


def test_a_deactivated_person_gets_no_digest(ctx):
    user = person(Frequency.DAILY)
    waiting = pending(user, "Waiting", MONDAY - timedelta(hours=5))
    user.is_active = False
    db.session.commit()
    counts = run_digests(MONDAY)
    assert (counts["daily"], counts["turned_off"]) == (0, 1)
    assert state_of(waiting) == (EmailState.NONE, None)


def test_the_digests_unsubscribe_link_turns_off_all_its_categories(ctx, client, smtp_server):
    user = person(Frequency.DAILY)
    services.set_preferences(user, {Category.CAPSTONES: Frequency.WEEKLY})
    db.session.commit()
    pending(user, "Shared", MONDAY - timedelta(hours=1), Category.COACHING)
    pending(user, "Feedback", MONDAY - timedelta(hours=1), Category.CURRICULUM)
    run_digests(MONDAY + timedelta(days=1))  # Tuesday: the weekly one has nothing to send
    deliver_outbox()
    (mail,) = mails_to(smtp_server, user)
    link = str(make_header(decode_header(mail["List-Unsubscribe"]))).strip("<>")
    assert link in body_of(mail)
    path = link.removeprefix("http://localhost")
    assert client.post(path).status_code == 200
    db.session.expire_all()
    preferences = services.preferences_of(db.session.get(User, user.id))
    daily = {Category.COACHING, Category.CURRICULUM, Category.CONVENINGS, Category.CYCLES}
    assert {c for c, f in preferences.items() if f == Frequency.OFF} == daily | {
        Category.ANNOUNCEMENTS
    }
    assert preferences[Category.CAPSTONES] == Frequency.WEEKLY


def test_a_digest_is_written_in_the_persons_language_and_timezone(ctx, smtp_server):
    user = person(Frequency.DAILY, timezone="Asia/Tokyo", locale="es")
    pending(user, "Hola", datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("UTC")))
    run_digests(datetime(2026, 12, 2, 8, 0, tzinfo=TOKYO))
    deliver_outbox()
    (mail,) = mails_to(smtp_server, user)
    assert "8:30" in body_of(mail)  # 23:30 UTC is 08:30 the next morning in Tokyo


def _due_now(user: User, frequency: DigestFrequency, period: str) -> Due:
    """What a run loaded for this person, before anything below changes it."""
    (loaded,) = [p for p in pending_people() if p.id == user.id]
    return Due(loaded, frequency, period, loaded.pending[frequency])


def _listed(digest: NotificationDigest) -> set[int]:
    return set(
        db.session.scalars(sa.select(Notification.id).where(Notification.digest_id == digest.id))
    )


def test_a_digest_never_lists_what_another_run_mailed_after_this_one_loaded_it(ctx):
    user = person(Frequency.DAILY)
    first = pending(user, "First", MONDAY - timedelta(hours=2))
    second = pending(user, "Second", MONDAY - timedelta(hours=1))
    due = _due_now(user, DigestFrequency.DAILY, "2026-11-30")
    # Meanwhile another run (which saw the category set to weekly) mailed the first one.
    db.session.execute(
        sa.update(Notification).where(Notification.id == first).values(email=EmailState.DIGESTED)
    )
    counts = dict.fromkeys(["daily", "weekly", "notifications", "already_sent"], 0)
    send_batch([due], counts)
    db.session.commit()
    (digest,) = digests_of(user)
    assert digest.notification_count == 1
    assert _listed(digest) == {second}
    (text,) = db.session.scalars(
        sa.select(OutboxMessage.text).where(OutboxMessage.dedupe_key == f"digest-{digest.id}")
    )
    assert "Second" in text
    assert "First" not in text


def test_a_digest_with_nothing_left_to_list_is_not_kept_and_its_day_stays_free(ctx):
    user = person(Frequency.DAILY)
    only = pending(user, "Only", MONDAY - timedelta(hours=2))
    due = _due_now(user, DigestFrequency.DAILY, "2026-11-30")
    db.session.execute(
        sa.update(Notification).where(Notification.id == only).values(email=EmailState.DIGESTED)
    )
    counts = dict.fromkeys(["daily", "weekly", "notifications", "already_sent"], 0)
    send_batch([due], counts)
    db.session.commit()
    assert digests_of(user) == []
    assert counts["daily"] == 0
    later = pending(user, "Later", MONDAY - timedelta(hours=1))  # before today's 7:00
    assert run_digests(MONDAY + timedelta(hours=2))["daily"] == 1
    assert state_of(later)[0] == EmailState.DIGESTED


# Work per run -------------------------------------------------------------------------------


def _statements_for(count_queries: Any, people: int) -> list[str]:
    for _ in range(people):
        user = person(Frequency.DAILY)
        pending(user, "One", MONDAY - timedelta(hours=2))
        pending(user, "Two", MONDAY - timedelta(hours=1))
    with count_queries() as counter:
        counts = run_digests(MONDAY)
    assert counts["daily"] == people
    return [s.lstrip().split()[0].upper() for s in counter.statements]


def test_a_run_takes_the_same_statements_for_3_people_as_for_100(ctx, count_queries):
    few = _statements_for(count_queries, 3)
    db.session.execute(sa.delete(Notification))
    db.session.commit()
    many = _statements_for(count_queries, 100)
    assert few == many
    # Everybody's pending notifications with their people, their preferences; then per
    # batch of digests: the claims, the marks, the emails.
    assert few.count("SELECT") == 2
    assert len(few) <= 10, few


def test_the_cli_runs_the_digests_at_the_given_moment(app, ctx):
    user = person(Frequency.DAILY)
    waiting = pending(user, "Waiting", MONDAY - timedelta(hours=5))
    runner = app.test_cli_runner()
    early = runner.invoke(args=["digests", "run", "--now", "2026-11-30T11:00"])  # 06:00 NY
    assert early.exit_code == 0, early.output
    assert state_of(waiting)[0] == EmailState.PENDING
    result = runner.invoke(args=["digests", "run", "--now", "2026-11-30T08:00-05:00"])
    assert result.exit_code == 0, result.output
    assert "daily 1" in result.output
    assert state_of(waiting)[0] == EmailState.DIGESTED
    bad = runner.invoke(args=["digests", "run", "--now", "Monday"])
    assert bad.exit_code != 0


# The email ----------------------------------------------------------------------------------

SNAPSHOT_ITEMS = [
    Item(1, Category.COACHING, "Dana Coach shared your check-in of 24 November 2026",
         "/coaching/checkins/7", datetime(2026, 11, 29, 15, 5, tzinfo=ZoneInfo("UTC"))),
    Item(2, Category.CURRICULUM, "“Equity audits” is due on 3 December 2026",
         "/curriculum/modules/12", datetime(2026, 11, 30, 12, 0, tzinfo=ZoneInfo("UTC"))),
    Item(3, Category.COACHING, "2 action items for you", "/coaching/checkins/7#items",
         datetime(2026, 11, 30, 1, 40, tzinfo=ZoneInfo("UTC"))),
]  # fmt: skip


@pytest.mark.parametrize("locale", ["en", "es"])
@pytest.mark.parametrize("frequency", list(DigestFrequency))
def test_the_digest_email_matches_its_snapshot(app, ctx, locale, frequency):
    from fellowship.mail import force_recipient, split_subject

    categories = [Category.COACHING, Category.CURRICULUM]
    url = "http://localhost/notifications/unsubscribe/TOKEN"
    with force_recipient(locale, "America/Chicago"):
        values = digest_context(
            "Ana Fellow", locale, "America/Chicago", frequency, SNAPSHOT_ITEMS, categories
        )
        values["unsubscribe_url"] = url
        shared: dict[str, Any] = {}
        app.update_template_context(shared)
        env = app.jinja_env
        rendered = env.get_template("emails/notifications/digest.txt").render(shared | values)
        html = env.get_template("emails/notifications/digest.html").render(shared | values)
    subject, text = split_subject(rendered, "notifications/digest")
    name = f"digest_{frequency.value}.{locale}"
    assert_matches_snapshot(f"{name}.txt", f"Subject: {subject}\n\n{text}")
    assert_matches_snapshot(f"{name}.html", html)
    assert "Equity audits" in text
    assert text.index("Dana Coach") < text.index("2 action items") < text.index("Equity audits")


# Two runs at once ---------------------------------------------------------------------------


def _race_databases() -> list[str]:
    return ["sqlite"] + (["postgresql"] if TEST_DATABASE_URL else [])


@pytest.fixture(params=_race_databases())
def race_app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    """A scratch database of its own, where two runs use two real connections and commit for
    real (the usual fixtures wrap every test in one rolled-back transaction)."""
    if request.param == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="digest-race-"))
        url = f"sqlite:///{directory / 'race.db'}"
        admin = None
        name = ""
    else:
        assert TEST_DATABASE_URL
        base = sa.engine.make_url(database_url_from(TEST_DATABASE_URL))
        name = f"{base.database}_digest_race"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = base.set(database=name).render_as_string(hide_password=False)
    application = make_app(url, UPLOAD_DIR=tempfile.mkdtemp(prefix="digest-race-uploads-"))
    original = db.session
    with application.app_context():
        flask_migrate.upgrade()
        db.session.remove()
    try:
        yield application
    finally:
        with application.app_context():
            db.session.remove()
            db.engine.dispose()
        db.session = original
        if admin is not None:
            with admin.connect() as connection:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()


def test_two_runs_at_once_send_one_digest_per_person(race_app):
    people = 40
    with race_app.app_context():
        for index in range(people):
            user = UserFactory(email=f"race{index}@example.org")
            services.set_preferences(user, dict.fromkeys(Category, Frequency.DAILY))
            for n in range(3):
                pending(user, f"Item {n}", MONDAY - timedelta(hours=n + 1))
        db.session.commit()
        db.session.remove()

    start = threading.Barrier(2)
    results: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        with race_app.app_context():
            try:
                start.wait(10)
                results.append(run_digests(MONDAY))
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert len(results) == 2

    with race_app.app_context():
        per_person = db.session.execute(
            sa.select(NotificationDigest.user_id, sa.func.count()).group_by(
                NotificationDigest.user_id
            )
        ).all()
        assert len(per_person) == people
        assert {count for _, count in per_person} == {1}
        assert sum(r["daily"] for r in results) == people
        states = db.session.execute(
            sa.select(Notification.email, sa.func.count()).group_by(Notification.email)
        ).all()
        assert dict(states) == {EmailState.DIGESTED: people * 3}
        mails = db.session.scalars(
            sa.select(OutboxMessage.text).where(OutboxMessage.template == "notifications/digest")
        ).all()
        assert len(mails) == people
        assert all(len(re.findall(r"^- Item", text, re.M)) == 3 for text in mails)
        db.session.remove()

"""Announcements: who an audience reaches, what sending writes, a double send that sends
once, the email (snapshots), and 2,400 recipients in a few seconds."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import Role, User
from fellowship.auth.services import hash_password
from fellowship.cohorts.models import CohortMembership, CohortRole, MembershipStatus
from fellowship.cycles.models import CycleRole
from fellowship.extensions import db
from fellowship.mail import _PENDING_KEY, OutboxMessage, OutboxStatus
from fellowship.notifications import announcement_queries as queries
from fellowship.notifications import announcement_services as services
from fellowship.notifications.models import (
    Announcement,
    Audience,
    Category,
    Frequency,
    Notification,
    NotificationPreference,
)
from fellowship.notifications.services import Entry, preview
from tests.cycles.helpers import CycleFactory, CycleMemberFactory
from tests.factories import (
    CohortFactory,
    MembershipFactory,
    SchoolYearFactory,
    StaffFactory,
    UserFactory,
)
from tests.notifications.snapshots import assert_matches_snapshot

# Who a cohort announcement reaches: its active members of every role, if their account is.
COHORT_RULES = [
    ("an active fellow", CohortRole.FELLOW, MembershipStatus.ACTIVE, True, True),
    ("an active coach", CohortRole.COACH, MembershipStatus.ACTIVE, True, True),
    ("an active facilitator", CohortRole.FACILITATOR, MembershipStatus.ACTIVE, True, True),
    ("an active reviewer", CohortRole.REVIEWER, MembershipStatus.ACTIVE, True, True),
    ("a withdrawn fellow", CohortRole.FELLOW, MembershipStatus.WITHDRAWN, True, False),
    ("an alumnus", CohortRole.FELLOW, MembershipStatus.COMPLETED, True, False),
    ("a deactivated fellow", CohortRole.FELLOW, MembershipStatus.ACTIVE, False, False),
]


@pytest.mark.parametrize(
    ("who", "role", "status", "account_active", "reached"),
    COHORT_RULES,
    ids=[row[0] for row in COHORT_RULES],
)
def test_a_cohort_announcement_reaches_the_cohorts_active_members(
    app, who, role, status, account_active, reached
):
    cohort = CohortFactory()
    person = UserFactory(is_active=account_active)
    MembershipFactory(cohort=cohort, user=person, role=role, status=status)
    MembershipFactory(cohort=CohortFactory())  # someone in another cohort: never
    found = [user.id for user in queries.recipients(Audience.COHORT, cohort.id)]
    assert found == ([person.id] if reached else [])
    assert queries.recipient_count(Audience.COHORT, cohort.id) == len(found)


def test_a_cycles_announcement_reaches_each_member_of_the_years_cycles_once(app):
    year = SchoolYearFactory()
    other_year = SchoolYearFactory(
        label="2025-26", starts_on=date(2025, 7, 1), ends_on=date(2026, 6, 30)
    )
    first, second = CycleFactory(school_year_id=year.id), CycleFactory(school_year_id=year.id)
    lead = CycleMemberFactory(cycle_id=first.id).user_id
    partner = CycleMemberFactory(cycle_id=second.id, role=CycleRole.PARTNER).user_id
    in_both = UserFactory().id
    CycleMemberFactory(cycle_id=first.id, user_id=in_both, role=CycleRole.TEAM_MEMBER)
    CycleMemberFactory(cycle_id=second.id, user_id=in_both, role=CycleRole.STAFF_LIAISON)
    gone = UserFactory(is_active=False).id
    CycleMemberFactory(cycle_id=first.id, user_id=gone)
    CycleMemberFactory(cycle_id=CycleFactory(school_year_id=other_year.id).id)  # last year's
    found = [user.id for user in queries.recipients(Audience.CYCLES, year.id)]
    assert found == sorted([lead, partner, in_both])
    assert queries.recipient_count(Audience.CYCLES, year.id) == 3


def cohort_of(size: int, **cohort_fields):
    cohort = CohortFactory(**cohort_fields)
    people = [MembershipFactory(cohort=cohort).user_id for _ in range(size)]
    return cohort, [db.session.get(User, person) for person in people]


def send(author, cohort, key="a-one-time-key-0001", **fields):
    return services.send_announcement(
        author,
        audience=Audience.COHORT,
        target_id=cohort.id,
        subject=fields.get("subject", "Convening moved to Friday"),
        body_md=fields.get("body_md", "The **March convening** is on *Friday* now."),
        send_key=key,
    )


def test_sending_writes_the_announcement_a_notification_each_and_an_audit_row(ctx):
    author = StaffFactory(name="Sam Staff")
    cohort, people = cohort_of(3)
    sent = send(author, cohort)
    db.session.commit()
    announcement = sent.announcement
    assert not sent.again
    assert (announcement.audience, announcement.cohort_id, announcement.school_year_id) == (
        Audience.COHORT,
        cohort.id,
        None,
    )
    assert announcement.recipient_count == 3
    rows = db.session.execute(
        sa.select(Notification.user_id, Notification.dedupe_key, Notification.link)
        .where(Notification.kind == "notifications/announcement")
        .order_by(Notification.user_id)
    ).all()
    link = f"/notifications/announcements/{announcement.id}"
    assert rows == [
        (p.id, f"notifications/announcement:{announcement.id}:user={p.id}", link) for p in people
    ]
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "announcement_sent"))
    assert (event.actor_id, event.target_id) == (author.id, announcement.id)
    assert event.details == {
        "audience": "cohort",
        "cohort_id": cohort.id,
        "recipients": 3,
        "send_key": "a-one-time-key-0001",
    }


def test_the_same_send_key_twice_sends_once(ctx):
    author = StaffFactory()
    cohort, _ = cohort_of(2)
    first = send(author, cohort)
    db.session.commit()
    second = send(author, cohort)
    db.session.commit()
    assert second.again
    assert second.announcement.id == first.announcement.id
    assert db.session.scalar(sa.select(sa.func.count(Announcement.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == 2
    third = send(author, cohort, key="another-one-time-key")  # a new preview, a new send
    db.session.commit()
    assert not third.again
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 4


@pytest.mark.parametrize(
    ("frequency", "emailed"),
    [(Frequency.IMMEDIATELY, True), (Frequency.DAILY, False), (Frequency.OFF, False)],
)
def test_each_recipient_gets_the_email_as_their_announcement_setting_says(ctx, frequency, emailed):
    cohort, [person] = cohort_of(1)
    db.session.add(
        NotificationPreference(
            user_id=person.id, category=Category.ANNOUNCEMENTS, frequency=frequency
        )
    )
    db.session.commit()
    send(StaffFactory(), cohort)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == int(emailed)


@pytest.mark.parametrize(("size", "delivered_now"), [(50, True), (51, False)])
def test_a_big_announcement_leaves_its_emails_to_the_outbox_cron(ctx, size, delivered_now):
    cohort, _ = cohort_of(size)
    db.session.info.pop(_PENDING_KEY, None)
    send(StaffFactory(), cohort)
    pending = db.session.info.pop(_PENDING_KEY, [])
    assert len(pending) == (size if delivered_now else 0)
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) == size
    db.session.rollback()


def add_people(count: int, cohort_id: int) -> None:
    """`count` active fellows of a cohort, inserted in bulk."""
    password = hash_password("a long and unusual test passphrase")
    users = [
        {
            "email": f"bulk{n}@example.org",
            "name": f"Fellow {n}",
            "password_hash": password,
            "role": Role.MEMBER,
            "is_active": True,
            "locale": "es" if n % 3 == 0 else "en",
            "timezone": "America/Chicago" if n % 2 else "America/New_York",
        }
        for n in range(count)
    ]
    ids = list(db.session.execute(sa.insert(User).returning(User.id), users).scalars())
    db.session.execute(
        sa.insert(CohortMembership),
        [
            {
                "cohort_id": cohort_id,
                "user_id": user_id,
                "role": CohortRole.FELLOW,
                "status": MembershipStatus.ACTIVE,
                "joined_on": date(2026, 8, 1),
            }
            for user_id in ids
        ],
    )
    db.session.commit()


@pytest.mark.timing
def test_an_announcement_to_2400_people_is_queued_in_a_few_seconds(ctx, capsys):
    cohort = CohortFactory()
    add_people(2400, cohort.id)
    author = StaffFactory()
    started = time.perf_counter()
    sent = send(
        author,
        cohort,
        body_md="# Welcome\n\n" + "A paragraph with a [link](https://example.org).\n\n" * 20,
    )
    db.session.commit()
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nannouncement to 2,400 people: {elapsed:.2f} s ({2400 / elapsed:.0f} per second)")
    assert sent.announcement.recipient_count == 2400
    assert db.session.scalar(sa.select(sa.func.count(Notification.id))) == 2400
    queued = db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(
            OutboxMessage.status == OutboxStatus.QUEUED
        )
    )
    assert queued == 2400
    spanish = db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(OutboxMessage.unsubscribe_url.is_not(None))
    )
    assert spanish == 2400  # every one a notification email with its unsubscribe header
    assert elapsed < 15


# The email ----------------------------------------------------------------------------

BODY = (
    "## Friday's convening\n\n"
    "We meet at **Lincoln High**, room 204, from 9:00 to 12:00. Bring:\n\n"
    "- your coalition map\n"
    "- one question for the panel\n\n"
    "Directions: [the school's page](https://example.org/lincoln).\n\n"
    "<script>alert('x')</script>"
)


@pytest.mark.parametrize("audience", ["cohort", "cycles"])
@pytest.mark.parametrize("locale", ["en", "es"])
def test_the_announcement_email_matches_its_snapshot(ctx, locale, audience):
    person = User(
        id=7,
        name="Maria Lopez",
        email="maria@example.org",
        locale=locale,
        timezone="America/New_York",
    )
    context = services.email_context(
        subject="Convening moved to Friday",
        body_md=BODY,
        author="Sam Staff",
        cohort="Cohort 2026" if audience == "cohort" else None,
        school_year="2026-27" if audience == "cycles" else None,
    )
    entry = Entry(
        person, "notifications/announcement:1:user=7", "/notifications/announcements/1", context
    )
    subject, text, html = preview("notifications/announcement", entry)
    assert subject == "Convening moved to Friday"
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "/notifications/unsubscribe/" in text  # the footer with the unsubscribe link
    name = f"notifications_announcement.{audience}.{locale}"
    assert_matches_snapshot(f"{name}.txt", f"Subject: {subject}\n\n{text}")
    assert_matches_snapshot(f"{name}.html", html)


def test_the_email_context_renders_the_markdown_once_and_safely(app):
    context = services.email_context(
        subject="S", body_md=BODY, author="A", cohort="C", school_year=None
    )
    assert "<strong>Lincoln High</strong>" in context["body_html"]
    assert "<script>" not in context["body_html"]
    assert "- your coalition map" in context["body_text"]
    assert "the school's page (https://example.org/lincoln)" in context["body_text"]


def test_a_sent_announcement_is_listed_with_names(ctx):
    author = StaffFactory(name="Sam Staff")
    cohort, _ = cohort_of(1, name="Cohort Alpha")
    sent = send(author, cohort)
    db.session.commit()
    row = queries.announcement_row(sent.announcement.id)
    assert (row.author, row.cohort, row.school_year) == ("Sam Staff", "Cohort Alpha", None)
    page = queries.sent_announcements()
    assert [r.announcement.id for r in page.items] == [sent.announcement.id]


def test_the_created_dates_are_kept_in_utc(ctx):
    cohort, _ = cohort_of(1)
    sent = send(StaffFactory(), cohort)
    assert sent.announcement.created_at.tzinfo is not None
    assert sent.announcement.created_at <= datetime.now(UTC)

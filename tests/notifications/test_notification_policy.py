"""Who may read a notification, announce, and manage the outbox: a notification is its
recipient's alone; staff announce; admins run the outbox."""

from __future__ import annotations

import pytest

from fellowship import policy
from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole
from fellowship.extensions import db
from fellowship.notifications.announcement_queries import notification_key
from fellowship.notifications.models import Announcement, Audience, Category, Notification
from tests.conftest import rows_for_module
from tests.factories import (
    AdminFactory,
    CohortFactory,
    MembershipFactory,
    StaffFactory,
    UserFactory,
)

PEOPLE = ["recipient", "fellow", "coach", "member", "staff", "admin"]
STAFF = {"staff", "admin"}

#  decision                  object               who may
TABLE = [
    ("can_read_notification", "own notification", {"recipient"}),
    ("can_read_notification", "a staff member's notification", {"staff"}),
    ("can_send_announcements", "nothing", STAFF),
    ("can_manage_outbox", "nothing", {"admin"}),
    ("can_read_announcement", "an announcement sent to the recipient", {"recipient"} | STAFF),
    ("can_read_announcement", "an announcement sent to others", STAFF),
]
DECISIONS = {row[0] for row in TABLE}


def _notification(user_id: int, key: str) -> Notification:
    row = Notification(
        user_id=user_id,
        kind="notifications/announcement",
        category=Category.ANNOUNCEMENTS,
        subject="Hello",
        link="/",
        dedupe_key=key,
    )
    db.session.add(row)
    db.session.flush()
    return row


def _announcement(to: list[int]) -> Announcement:
    """An announcement whose notifications went to the people `to`."""
    row = Announcement(
        audience=Audience.COHORT,
        cohort_id=CohortFactory().id,
        subject="Hello",
        body_md="Hello",
        recipient_count=len(to),
    )
    db.session.add(row)
    db.session.flush()
    for user_id in to:
        _notification(user_id, notification_key(row.id, user_id))
    return row


def build_world():
    ids = {
        "recipient": UserFactory().id,
        "fellow": MembershipFactory(role=CohortRole.FELLOW).user_id,
        "coach": MembershipFactory(role=CohortRole.COACH).user_id,
        "member": UserFactory().id,
        "staff": StaffFactory().id,
        "admin": AdminFactory().id,
    }
    objects = {
        "nothing": (),
        "own notification": (_notification(ids["recipient"], "policy-own"),),
        "a staff member's notification": (_notification(ids["staff"], "policy-staff"),),
        "an announcement sent to the recipient": (_announcement([ids["recipient"]]),),
        "an announcement sent to others": (_announcement([ids["staff"]]),),
    }
    people = {name: db.session.get(User, user_id) for name, user_id in ids.items()}
    return people, objects


built_world = rows_for_module(build_world)


@pytest.fixture
def world(ctx, built_world):
    return built_world.thaw()


@pytest.mark.parametrize(
    ("decision", "target", "allowed"),
    TABLE,
    ids=[f"{decision}-{target}" for decision, target, _ in TABLE],
)
def test_the_notification_access_table_holds(world, decision, target, allowed):
    people, objects = world
    decide = getattr(policy, decision)
    for name in PEOPLE:
        assert decide(people[name], *objects[target]) is (name in allowed), (decision, name)


@pytest.mark.parametrize("decision", sorted(DECISIONS))
def test_nobody_signed_out_gets_anything(world, decision):
    from flask_login import AnonymousUserMixin

    _, objects = world
    target = next(row[1] for row in TABLE if row[0] == decision)
    assert getattr(policy, decision)(AnonymousUserMixin(), *objects[target]) is False

"""The goals review page's "Send the packet to …" button: shown to whoever may record the
review (the lead teacher, staff), naming the other party; it tells them once per packet and
says how many were told, or that nothing changed since it was last sent."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from fellowship.cycles.models import CycleRole, ReviewStatus
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.notifications.models import Notification
from tests.conftest import sign_in
from tests.cycles.helpers import CycleMemberFactory, MeasurementFactory, ReviewFactory
from tests.cycles.review_helpers import (
    audit_actions,
    post,
    review_url,
    text_of,
    world,
)


def packet_notifications() -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Notification)
            .where(Notification.kind == "cycles/packet_ready")
            .order_by(Notification.id)
        )
    )


@pytest.mark.parametrize(
    ("who", "button"),
    [
        ("lead teacher", "Send the packet to Sam Staff"),
        ("staff", "Send the packet to Luis Lead"),
        ("admin", "Send the packet to Luis Lead"),
        ("team member", None),
        ("partner", None),
        ("staff liaison", None),
        ("other school's lead", None),
    ],
)
def test_the_button_names_the_other_party_for_those_who_may_record_the_review(client, who, button):
    w = world()
    sign_in(client, w.person(who))
    page = text_of(client.get(review_url(w.review)).get_data(as_text=True))
    if button:
        assert button in page
    else:
        assert "Send the packet" not in page


def test_sending_tells_the_other_party_once_per_packet(client):
    w = world()
    sign_in(client, w.lead)
    url = review_url(w.review, "/send-packet")
    first = post(client, url, follow_redirects=True)
    assert first.status_code == 200
    assert "The packet is sent: 1 person was told it is ready to read." in text_of(
        first.get_data(as_text=True)
    )
    [made] = packet_notifications()
    assert made.user_id == w.staff.id
    assert made.link == f"/cycles/{w.cycle.id}/reviews/{w.review.id}#packet"

    again = post(client, url, follow_redirects=True)
    assert "Already sent; nothing changed since." in text_of(again.get_data(as_text=True))
    assert len(packet_notifications()) == 1

    MeasurementFactory(goal_id=w.goals[1].id, measured_on=date(2027, 4, 2), value=27.0)
    changed = post(client, url, follow_redirects=True)
    assert "1 person was told" in text_of(changed.get_data(as_text=True))
    assert len(packet_notifications()) == 2
    assert audit_actions().count("cycle.review_packet_sent") == 2


def test_staff_send_it_to_every_lead_teacher_of_the_cycle(client):
    w = world()
    second = CycleMemberFactory(cycle_id=w.cycle.id, role=CycleRole.LEAD_TEACHER).user_id
    sign_in(client, w.staff)
    response = post(client, review_url(w.review, "/send-packet"), follow_redirects=True)
    assert "2 people were told" in text_of(response.get_data(as_text=True))
    assert {n.user_id for n in packet_notifications()} == {w.lead.id, second}


def test_without_anyone_on_the_other_side_nobody_is_told_and_the_page_says_so(client):
    w = world()
    w.review.scheduled_by_id = None
    db.session.commit()
    sign_in(client, w.lead)
    assert "Send the packet" not in text_of(client.get(review_url(w.review)).get_data(as_text=True))
    response = post(client, review_url(w.review, "/send-packet"), follow_redirects=True)
    assert "Nobody was told" in text_of(response.get_data(as_text=True))
    assert packet_notifications() == []


@pytest.mark.parametrize("who", ["team member", "partner", "staff liaison", "fellow"])
def test_people_who_may_not_record_the_review_cannot_send_it(client, who):
    w = world()
    sign_in(client, w.person(who))
    before = audit_actions()
    response = post(client, review_url(w.review, "/send-packet"))
    assert response.status_code == 403
    assert packet_notifications() == []
    assert audit_actions() == before


def test_a_signed_review_has_no_packet_to_send(client):
    w = world()
    signed = ReviewFactory(
        cycle_id=w.cycle.id,
        status=ReviewStatus.SIGNED,
        lead_signed_by_id=w.lead.id,
        lead_signed_at=utcnow(),
        staff_signed_by_id=w.staff.id,
        staff_signed_at=utcnow(),
        frozen_at=utcnow(),
        snapshot={"packet": {}},
    )
    sign_in(client, w.staff)
    assert post(client, review_url(signed, "/send-packet")).status_code == 403
    assert packet_notifications() == []

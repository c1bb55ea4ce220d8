"""Events become notifications: each tells the right people, once per key, links to the page
it is about, and is written in its recipient's language and time zone (a Spanish speaker in
Los Angeles reads Spanish dates and Pacific time). The email goes to the outbox in the same
transaction, since "immediately" is everyone's default."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_date, format_time

from fellowship.auth.models import User
from fellowship.capstones import review_services as capstone_reviews
from fellowship.capstones import staff_services
from fellowship.capstones.models import Recommendation, Review
from fellowship.coaching import queries as coaching_queries
from fellowship.coaching import services as coaching
from fellowship.coaching.models import CheckInMode
from fellowship.cohorts.models import CohortMembership, CohortRole, CohortStatus, MembershipStatus
from fellowship.curriculum import facilitation_services
from fellowship.cycles import review_services as reviews
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from fellowship.notifications.models import Category, EmailState, Frequency, Notification
from fellowship.notifications.services import set_preferences
from tests.capstones import test_review_helpers as capstone_world
from tests.capstones import test_staff_helpers as staff_world
from tests.coaching.helpers import coaching_pair, yesterday
from tests.curriculum import facilitation_helpers as curriculum_world
from tests.cycles import review_helpers as cycle_world
from tests.cycles.helpers import MeasurementFactory
from tests.factories import StaffFactory

PACIFIC = {"locale": "es", "timezone": "America/Los_Angeles"}
LA = ZoneInfo("America/Los_Angeles")


def notifications(kind: str) -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        )
    )


def mails(kind: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.template == kind)
            .order_by(OutboxMessage.id)
        )
    )


def speak_spanish_in_los_angeles(*people: User) -> None:
    for person in people:
        person.locale = PACIFIC["locale"]
        person.timezone = PACIFIC["timezone"]
    db.session.commit()


# Every event: who, how often, where to --------------------------------------------------------


@dataclass
class Happened:
    kind: str
    recipients: list[User]
    link: str
    again: Callable[[], object]  # the same event once more: must tell nobody


def refused(error: type[Exception], action: Callable[[], object]) -> Callable[[], None]:
    """The event asked for once more, which the rules refuse (so nobody is told again)."""

    def again() -> None:
        with pytest.raises(error):
            action()

    return again


def checkin_shared() -> Happened:
    pair = coaching_pair()
    speak_spanish_in_los_angeles(pair.fellow)
    data = coaching.CheckInData(
        held_on=yesterday(),
        duration_minutes=45,
        mode=CheckInMode.PHONE,
        items=[coaching.ItemData(None, pair.fellow.id, "Draft the memo", yesterday())],
    )
    checkin = coaching.log_checkin(pair.coach, pair.cohort, pair.fellow, data, share=False)
    coaching.share_checkin(pair.coach, checkin)
    db.session.commit()
    return Happened(
        "coaching/checkin_shared",
        [pair.fellow],
        f"/checkins/{checkin.id}",
        lambda: coaching.share_checkin(pair.coach, checkin),
    )


def action_items_assigned() -> Happened:
    pair = coaching_pair()
    speak_spanish_in_los_angeles(pair.fellow)
    blank = coaching.CheckInData(held_on=yesterday(), duration_minutes=45, mode=CheckInMode.PHONE)
    checkin = coaching.log_checkin(pair.coach, pair.cohort, pair.fellow, blank, share=True)
    db.session.commit()
    added = coaching.CheckInData(
        held_on=yesterday(),
        duration_minutes=45,
        mode=CheckInMode.PHONE,
        items=[
            coaching.ItemData(None, pair.fellow.id, "Visit the partner school"),
            coaching.ItemData(None, pair.coach.id, "Book the room"),
        ],
    )
    coaching.update_checkin(pair.coach, checkin, added, version=checkin.version)
    db.session.commit()

    def save_the_same_items_again() -> None:
        saved = coaching_queries.action_items([checkin.id])[checkin.id]
        same = coaching.CheckInData(
            held_on=yesterday(),
            duration_minutes=45,
            mode=CheckInMode.PHONE,
            items=[coaching.ItemData(i.id, i.owner_id, i.description) for i in saved],
        )
        coaching.update_checkin(pair.coach, checkin, same, version=checkin.version)

    return Happened(
        "coaching/action_items_assigned",
        [pair.fellow],
        f"/checkins/{checkin.id}",
        save_the_same_items_again,
    )


def feedback_given() -> Happened:
    w = curriculum_world.world()
    speak_spanish_in_los_angeles(w.fellow)
    row = curriculum_world.reflection(w.item, w.fellow)
    facilitation_services.give_feedback(w.facilitator, row, "Strong analysis.", row.version)
    db.session.commit()
    return Happened(
        "curriculum/feedback_given",
        [w.fellow],
        f"/modules/{w.module.id}#item-{w.item.id}",
        lambda: facilitation_services.give_feedback(w.facilitator, row, "Better.", row.version),
    )


def reviewer_assigned() -> Happened:
    w = staff_world.world()
    speak_spanish_in_los_angeles(w.second_reviewer)
    [made] = staff_services.assign_reviewers(
        StaffFactory(), w.version, w.capstone, [w.second_reviewer.id]
    )
    db.session.commit()
    return Happened(
        "capstones/reviewer_assigned",
        [w.second_reviewer],
        f"/reviews/{made.id}",
        # Asking again for the same reviewer assigns nobody new, so tells nobody.
        refused(
            staff_services.CapstoneStaffError,
            lambda: staff_services.assign_reviewers(
                StaffFactory(), w.version, w.capstone, [w.second_reviewer.id]
            ),
        ),
    )


def decision() -> Happened:
    w = staff_world.world()
    speak_spanish_in_los_angeles(w.fellow)
    staff = StaffFactory()

    def decide() -> object:
        return staff_services.record_decision(
            staff, w.version, w.capstone, "approve", "Well argued.", w.capstone.version
        )

    decide()
    db.session.commit()
    return Happened(
        "capstones/decision",
        [w.fellow],
        f"/capstones/{w.capstone.id}",
        refused(staff_services.AlreadyDecided, decide),
    )


def review_submitted() -> Happened:
    w = capstone_world.world()
    staff = StaffFactory(name="Sam Staff")
    w.assignment.assigned_by_id = staff.id
    speak_spanish_in_los_angeles(w.facilitator)
    review = capstone_reviews.save_review(
        w.reviewer,
        w.assignment,
        capstone_reviews.ReviewData(
            scores=capstone_world.full_scores(w), comments="Clear.", recommendation="approve"
        ),
        True,
        None,
    )
    db.session.commit()
    assert review is not None
    return Happened(
        "capstones/review_submitted",
        [w.facilitator, staff],
        f"/capstone-versions/{w.version.id}/decision",
        lambda: capstone_reviews.tell_deciders(
            w.reviewer, review, w.assignment, w.version, w.capstone, w.cohort
        ),
    )


def review_scheduled() -> Happened:
    w = cycle_world.world()
    db.session.delete(w.review)
    speak_spanish_in_los_angeles(w.lead)
    review = reviews.schedule_review(w.staff, w.cycle, reviews.ScheduleData(date(2027, 5, 20)))
    db.session.commit()
    return Happened(
        "cycles/review_scheduled",
        [w.lead],
        f"/cycles/{w.cycle.id}/reviews/{review.id}",
        refused(
            reviews.ReviewError,
            lambda: reviews.schedule_review(
                w.staff, w.cycle, reviews.ScheduleData(date(2027, 5, 20))
            ),
        ),
    )


def review_signed() -> Happened:
    w = cycle_world.world()
    speak_spanish_in_los_angeles(w.staff)
    cycle_world.rate_all(w.review, w.goals)
    signed = reviews.sign_review(w.lead, w.review, reviews.LEAD, w.review.version)
    db.session.commit()
    return Happened(
        "cycles/review_signed",
        [w.staff],  # who scheduled it: the staff side
        f"/cycles/{w.cycle.id}/reviews/{w.review.id}",
        refused(
            reviews.ReviewError,
            lambda: reviews.sign_review(w.lead, signed.review, reviews.LEAD, signed.review.version),
        ),
    )


def packet_ready() -> Happened:
    w = cycle_world.world()
    speak_spanish_in_los_angeles(w.lead)
    reviews.send_packet(w.staff, w.review)
    db.session.commit()
    return Happened(
        "cycles/packet_ready",
        [w.lead],
        f"/cycles/{w.cycle.id}/reviews/{w.review.id}#packet",
        lambda: reviews.send_packet(w.staff, w.review),
    )


EVENTS = [
    checkin_shared,
    action_items_assigned,
    feedback_given,
    reviewer_assigned,
    decision,
    review_submitted,
    review_scheduled,
    review_signed,
    packet_ready,
]


@pytest.mark.parametrize("event", EVENTS, ids=[e.__name__ for e in EVENTS])
def test_an_event_tells_its_people_once_with_a_link_and_an_email_in_their_language(ctx, event):
    happened = event()
    made = notifications(happened.kind)
    assert sorted(n.user_id for n in made) == sorted(p.id for p in happened.recipients)
    assert {n.link for n in made} == {happened.link}
    assert {n.email for n in made} == {EmailState.QUEUED}
    sent = mails(happened.kind)
    assert sorted(m.to for m in sent) == sorted(p.email for p in happened.recipients)
    assert {m.dedupe_key for m in sent} == {f"notification-{n.id}" for n in made}
    for message in sent:
        assert f"http://localhost{happened.link}" in message.text
        assert "/notifications/unsubscribe/" in (message.unsubscribe_url or "")
    spanish = [p for p in happened.recipients if p.locale == "es"]
    assert spanish, "each scenario has a Spanish-speaking recipient"
    for message in sent:
        lang = "es" if message.to in {p.email for p in spanish} else "en"
        assert f'<html lang="{lang}">' in (message.html or "")

    happened.again()
    db.session.commit()
    assert len(notifications(happened.kind)) == len(made)
    assert len(mails(happened.kind)) == len(sent)


def test_a_recipient_who_chose_the_daily_digest_gets_the_notification_and_no_email_yet(ctx):
    pair = coaching_pair()
    set_preferences(pair.fellow, {Category.COACHING: Frequency.DAILY})
    data = coaching.CheckInData(held_on=yesterday(), duration_minutes=30, mode=CheckInMode.VIDEO)
    coaching.log_checkin(pair.coach, pair.cohort, pair.fellow, data, share=True)
    db.session.commit()
    [made] = notifications("coaching/checkin_shared")
    assert made.email == EmailState.PENDING
    assert mails("coaching/checkin_shared") == []


# Times in the recipient's zone -----------------------------------------------------------------


def test_feedback_email_dates_the_reflection_in_the_fellows_own_day(ctx):
    w = curriculum_world.world()
    speak_spanish_in_los_angeles(w.fellow)
    # 04:30 UTC on the 3rd is the evening of the 2nd in Los Angeles.
    row = curriculum_world.reflection(w.item, w.fellow)
    row.submitted_at = datetime(2026, 3, 3, 4, 30, tzinfo=UTC)
    db.session.commit()
    facilitation_services.give_feedback(w.facilitator, row, "Strong analysis.", row.version)
    db.session.commit()
    [message] = mails("curriculum/feedback_given")
    assert "2 de marzo de 2026" in message.text
    assert "3 de marzo" not in message.text


def test_review_submitted_email_gives_the_time_in_the_recipients_zone(ctx):
    happened = review_submitted()
    [message] = [m for m in mails(happened.kind) if m.to == happened.recipients[0].email]
    review = db.session.scalar(sa.select(Review))
    moment = review.submitted_at.astimezone(LA)
    assert format_date(moment.date(), "long", locale="es") in message.text
    assert format_time(moment, "short", locale="es") in message.text


# Capstone review submitted: who decides ------------------------------------------------------


def test_a_submitted_review_tells_the_facilitators_and_whoever_assigned_the_reviewer(ctx):
    """The cohort's active facilitators and the staff member who assigned this reviewer
    record the decision; other staff, the reviewers, the fellow and their coach do not hear
    of it, nor does a withdrawn or deactivated facilitator."""
    w = capstone_world.world()
    assigner, other_staff = StaffFactory(), StaffFactory()
    w.assignment.assigned_by_id = assigner.id
    withdrawn = capstone_world.member(w.cohort, CohortRole.FACILITATOR, "Wes Withdrawn")
    gone = capstone_world.member(w.cohort, CohortRole.FACILITATOR, "Dee Deactivated")
    gone.is_active = False
    db.session.execute(
        sa.update(CohortMembership)
        .where(CohortMembership.user_id == withdrawn.id)
        .values(status=MembershipStatus.WITHDRAWN)
    )
    db.session.commit()
    full = capstone_reviews.ReviewData(
        scores=capstone_world.full_scores(w), recommendation="revise"
    )
    capstone_reviews.save_review(w.reviewer, w.assignment, full, True, None)
    db.session.commit()
    told = {n.user_id for n in notifications("capstones/review_submitted")}
    assert told == {w.facilitator.id, assigner.id}
    for nobody in (other_staff, withdrawn, gone, w.reviewer, w.second_reviewer, w.fellow, w.coach):
        assert nobody.id not in told


def test_a_draft_review_tells_nobody_and_each_submitted_review_tells_once(ctx):
    w = capstone_world.world()
    draft = capstone_reviews.ReviewData(comments="Half a thought")
    saved = capstone_reviews.save_review(w.reviewer, w.assignment, draft, False, None)
    db.session.commit()
    assert notifications("capstones/review_submitted") == []
    full = capstone_reviews.ReviewData(
        scores=capstone_world.full_scores(w), recommendation="approve"
    )
    capstone_reviews.save_review(w.reviewer, w.assignment, full, True, saved.version)
    capstone_reviews.save_review(w.second_reviewer, w.second_assignment, full, True, None)
    db.session.commit()
    made = notifications("capstones/review_submitted")
    assert [n.user_id for n in made] == [w.facilitator.id, w.facilitator.id]
    assert len({n.dedupe_key for n in made}) == 2
    [first, second] = mails("capstones/review_submitted")
    assert "1 of the 2 assigned reviews is in." in first.text
    assert "2 of the 2 assigned reviews are in." in second.text
    assert "approve" in first.text


def test_nobody_is_told_of_a_review_on_an_archived_cohort(ctx):
    w = capstone_world.world()
    w.assignment.assigned_by_id = StaffFactory().id
    db.session.commit()
    review = capstone_world.submitted_review(w.assignment, w, recommendation=Recommendation.APPROVE)
    w.cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    assert capstone_reviews.deciders(w.assignment, w.version, w.capstone) == []
    assert (
        capstone_reviews.tell_deciders(
            w.reviewer, review, w.assignment, w.version, w.capstone, w.cohort
        )
        == 0
    )


# Goals review packet --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sender", "told"),
    [
        ("lead", ["staff"]),  # the lead teacher sends it to the staff member who scheduled it
        ("staff", ["lead"]),  # staff send it to the cycle's lead teachers
        ("admin", ["lead"]),  # so does any other staff member or admin
    ],
)
def test_the_packet_goes_to_the_other_party(ctx, sender, told):
    w = cycle_world.world()
    people = {"lead": w.lead, "staff": w.staff, "admin": w.admin}
    sent = reviews.send_packet(people[sender], w.review)
    db.session.commit()
    assert sent.told == len(told)
    assert [n.user_id for n in notifications("cycles/packet_ready")] == [
        people[who].id for who in told
    ]


def test_the_same_packet_is_sent_once_and_a_changed_packet_again(ctx):
    w = cycle_world.world()
    assert reviews.send_packet(w.staff, w.review) == reviews.PacketSent(told=1, recipients=1)
    db.session.commit()
    assert reviews.send_packet(w.staff, w.review) == reviews.PacketSent(told=0, recipients=1)
    db.session.commit()
    MeasurementFactory(goal_id=w.goals[0].id, measured_on=date(2027, 3, 1), value=30.0)
    assert reviews.send_packet(w.staff, w.review) == reviews.PacketSent(told=1, recipients=1)
    db.session.commit()
    keys = [n.dedupe_key for n in notifications("cycles/packet_ready")]
    digests = {key.split(":packet=")[1].split(":")[0] for key in keys}
    assert len(keys) == 2
    assert len(digests) == 2
    assert all(key.startswith(f"cycles/packet_ready:review={w.review.id}:packet=") for key in keys)


def test_a_lead_teacher_without_a_staff_side_tells_nobody(ctx):
    w = cycle_world.world()
    w.review.scheduled_by_id = None
    db.session.commit()
    assert reviews.send_packet(w.lead, w.review) == reviews.PacketSent(told=0, recipients=0)
    assert notifications("cycles/packet_ready") == []

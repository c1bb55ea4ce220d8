"""The rules of the yearly goals review, called as services: status transitions, signatures
withdrawn when the record changes, who signs what, every goal rated before signing, the
frozen snapshot, amendments, next year's goals and scheduling (with its email)."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cycles import goal_services
from fellowship.cycles import review_services as services
from fellowship.cycles.models import (
    Goal,
    GoalRating,
    GoalsReview,
    Measurement,
    ProposedGoal,
    Rating,
    ReviewStatus,
)
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from tests.conftest import rows_for_module
from tests.cycles.helpers import (
    GoalFactory,
    MeasurementFactory,
    ProposedGoalFactory,
    RatingFactory,
    ReviewFactory,
    SupportFactory,
)
from tests.cycles.review_helpers import audit_actions, fresh, rate_all, world

shared_world = rows_for_module(world)


@pytest.fixture
def w(shared_world, request):
    """The world most tests here read, built once for the module."""
    return shared_world.thaw_for(request)


pytestmark = pytest.mark.usefixtures("ctx")


def _next_goal(**overrides):
    data = {
        "title": "Half the new class from outside the zone",
        "category": "enrollment_diversity",
        "metric": "Share of new students from outside the zone",
        "unit": "%",
        "target_value": 35.0,
        "direction": "raise",
        "baseline_value": 24.0,
        "baseline_on": date(2027, 5, 1),
    }
    data.update(overrides)
    return services.ProposedGoalData(**data)


def _change(kind, w, review):
    """Make one kind of change to the meeting record, as the staff member."""
    if kind == "rating":
        return services.save_ratings(
            w.staff, review, {w.goals[0].id: ("met", "Done.")}, version=review.version
        )
    if kind == "notes":
        return services.save_notes(w.staff, review, "We agreed on a plan.", version=review.version)
    if kind == "next goal added":
        return services.add_proposed_goal(w.staff, review, _next_goal())[1]
    if kind == "next goal edited":
        proposed = db.session.scalars(sa.select(ProposedGoal)).first()
        return services.update_proposed_goal(
            w.staff, review, proposed, _next_goal(title="Renamed"), version=review.version
        )
    if kind == "next goal removed":
        proposed = db.session.scalars(sa.select(ProposedGoal)).first()
        return services.delete_proposed_goal(w.staff, review, proposed)
    if kind == "meeting details":
        return services.update_schedule(
            w.staff,
            review,
            services.ScheduleData(date(2027, 6, 2), "Library", "Luis Lead"),
            version=review.version,
        )
    raise AssertionError(kind)


CHANGES = [
    "rating",
    "notes",
    "next goal added",
    "next goal edited",
    "next goal removed",
    "meeting details",
]


# Status ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("rating", ReviewStatus.IN_MEETING),
        ("notes", ReviewStatus.IN_MEETING),
        ("next goal added", ReviewStatus.IN_MEETING),
        ("next goal edited", ReviewStatus.IN_MEETING),
        ("next goal removed", ReviewStatus.IN_MEETING),
        ("meeting details", ReviewStatus.SCHEDULED),
    ],
)
def test_recording_anything_moves_a_scheduled_review_into_the_meeting(w, kind, status):
    ProposedGoalFactory(review_id=w.review.id)
    assert w.review.status == ReviewStatus.SCHEDULED
    _change(kind, w, w.review)
    db.session.commit()
    assert fresh(w.review).status == status


def test_the_second_signature_freezes_the_review_with_its_snapshot_in_one_step(w):
    rate_all(w.review, w.goals)
    first = services.sign_review(w.lead, w.review, "lead", w.review.version)
    assert first.frozen is False
    assert w.review.status == ReviewStatus.IN_MEETING
    assert w.review.snapshot is None
    assert w.review.frozen_at is None
    second = services.sign_review(w.staff, w.review, "staff", w.review.version)
    db.session.commit()
    review = fresh(w.review)
    assert second.frozen is True
    assert review.status == ReviewStatus.SIGNED
    assert review.frozen_at is not None
    snapshot = review.snapshot
    assert set(snapshot) >= {"packet", "ratings", "notes_md", "next_goals", "signed"}
    assert snapshot["signed"]["lead"]["name"] == "Luis Lead"
    assert snapshot["signed"]["staff"]["name"] == "Sam Staff"
    assert [r["goal_id"] for r in snapshot["ratings"]] == [g.id for g in w.goals]
    assert snapshot["packet"]["goals"][0]["title"] == "Goal number 1"
    json.dumps(snapshot)  # plain data all the way down
    assert audit_actions().count("cycle.review_signed") == 2


def test_an_amendment_when_signed_marks_the_review_it_corrects_amended_and_leaves_its_snapshot(w):
    rate_all(w.review, w.goals)
    services.sign_review(w.lead, w.review, "lead", w.review.version)
    services.sign_review(w.staff, w.review, "staff", w.review.version)
    db.session.commit()
    signed_snapshot = json.dumps(fresh(w.review).snapshot, sort_keys=True)
    amendment = services.start_amendment(w.staff, fresh(w.review))
    db.session.commit()
    assert amendment.status == ReviewStatus.IN_MEETING
    services.save_notes(w.lead, amendment, "Corrected: goal 2 was met.", version=amendment.version)
    services.sign_review(w.lead, amendment, "lead", amendment.version)
    services.sign_review(w.admin, amendment, "staff", amendment.version)
    db.session.commit()
    original = fresh(w.review)
    assert original.status == ReviewStatus.AMENDED
    assert json.dumps(original.snapshot, sort_keys=True) == signed_snapshot
    assert db.session.get(GoalsReview, amendment.id).status == ReviewStatus.SIGNED


# Signatures withdrawn -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CHANGES)
@pytest.mark.parametrize("side", ["lead", "staff"])
def test_a_change_after_one_signature_withdraws_it(w, kind, side):
    rate_all(w.review, w.goals)
    ProposedGoalFactory(review_id=w.review.id)
    signer = w.lead if side == "lead" else w.staff
    services.sign_review(signer, w.review, side, w.review.version)
    db.session.commit()
    change = _change(kind, w, fresh(w.review))
    db.session.commit()
    review = fresh(w.review)
    assert review.lead_signed_at is None
    assert review.staff_signed_at is None
    assert review.lead_signed_by_id is None
    assert review.staff_signed_by_id is None
    assert change.withdrawn == [signer.name]
    assert "cycle.review_signature_withdrawn" in audit_actions()
    assert review.frozen_at is None
    assert review.signed_digest is None


def _change_packet(kind, w):
    """Change the packet (not the meeting record) after the first signature."""
    goal = w.goals[0]
    if kind == "a measurement added":
        MeasurementFactory(goal_id=goal.id, measured_on=date(2027, 3, 1), value=5.0)
    elif kind == "a measurement corrected":
        measurement = db.session.scalars(
            sa.select(Measurement).where(Measurement.goal_id == goal.id)
        ).first()
        measurement.value = 99.0
    elif kind == "a goal's target edited":
        goal.target_value = 40.0
    elif kind == "a goal added":
        GoalFactory(cycle_id=w.cycle.id, title="A late goal")
    elif kind == "support hours logged":
        SupportFactory(cycle_id=w.cycle.id, provider_name="District office", hours=4)
    else:
        raise AssertionError(kind)
    db.session.commit()


PACKET_CHANGES = [
    "a measurement added",
    "a measurement corrected",
    "a goal's target edited",
    "a goal added",
    "support hours logged",
]


@pytest.mark.parametrize("kind", PACKET_CHANGES)
@pytest.mark.parametrize("first", ["lead", "staff"])
def test_a_packet_changed_after_the_first_signature_withdraws_it_instead_of_freezing(
    w, kind, first
):
    rate_all(w.review, w.goals)
    db.session.commit()
    signers = {"lead": w.lead, "staff": w.staff}
    second = "staff" if first == "lead" else "lead"
    services.sign_review(signers[first], w.review, first, w.review.version, notify=False)
    db.session.commit()
    assert len(fresh(w.review).signed_digest) == 64
    _change_packet(kind, w)
    if kind == "a goal added":
        rate_all(
            fresh(w.review),
            db.session.scalars(sa.select(Goal).where(Goal.title == "A late goal")).all(),
        )
        db.session.commit()
    review = fresh(w.review)
    version = review.version
    signed = services.sign_review(signers[second], review, second, version, notify=False)
    db.session.commit()
    review = fresh(w.review)
    assert signed.frozen is False
    assert signed.withdrawn == [signers[first].name]
    assert signed.message == (
        f"The packet changed since {signers[first].name} signed (a goal or measurement was "
        "updated). Their signature was withdrawn: both need to sign again."
    )
    assert review.frozen_at is None
    assert review.snapshot is None
    assert review.status == ReviewStatus.IN_MEETING
    assert (review.lead_signed_at, review.staff_signed_at) == (None, None)
    assert (review.lead_signed_by_id, review.staff_signed_by_id) == (None, None)
    assert review.signed_digest is None
    assert review.version > version  # an open sign button is now stale
    [event] = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "cycle.review_signature_withdrawn")
    ).all()
    assert event.details == {"side": first, "signed_by": signers[first].id, "reason": "packet"}
    # Both sign again, on the packet as it is now: the review freezes with it.
    services.sign_review(signers[second], review, second, review.version, notify=False)
    assert services.sign_review(signers[first], review, first, review.version).frozen
    db.session.commit()
    assert fresh(w.review).frozen_at is not None


def test_an_unchanged_packet_freezes_even_when_days_passed_between_the_signatures(w):
    """Both digests are taken for the first signature's day: a day passing (the packet's
    date, a goal's measurements growing stale) is not a change of the packet."""
    rate_all(w.review, w.goals)
    services.sign_review(w.lead, w.review, "lead", w.review.version, notify=False)
    db.session.commit()
    review = fresh(w.review)
    signed_at = review.lead_signed_at - timedelta(days=90)
    review.lead_signed_at = signed_at
    review.signed_digest = services.packet_digest(review.cycle_id, signed_at.date())
    db.session.commit()
    assert review.signed_digest != services.packet_digest(review.cycle_id, utcnow().date())
    review = fresh(w.review)
    signed = services.sign_review(w.staff, review, "staff", review.version, notify=False)
    assert signed.frozen is True
    assert signed.message is None


def test_a_lone_signature_without_a_packet_digest_is_withdrawn_not_trusted(w):
    rate_all(w.review, w.goals)
    w.review.lead_signed_by_id = w.lead.id
    w.review.lead_signed_at = utcnow()
    db.session.commit()
    review = fresh(w.review)
    signed = services.sign_review(w.staff, review, "staff", review.version, notify=False)
    db.session.commit()
    assert signed.frozen is False
    assert signed.withdrawn == ["Luis Lead"]
    assert fresh(w.review).lead_signed_at is None


def test_the_packet_digest_is_of_the_content(w):
    day = date(2027, 5, 1)
    first = services.packet_digest(w.cycle.id, day)
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert services.packet_digest(w.cycle.id, day) == first
    MeasurementFactory(goal_id=w.goals[1].id, measured_on=date(2027, 4, 1), value=26.0)
    db.session.commit()
    assert services.packet_digest(w.cycle.id, day) != first


def test_saving_the_same_ratings_again_changes_nothing_and_keeps_the_signature(w):
    rate_all(w.review, w.goals, Rating.MET)
    services.sign_review(w.lead, w.review, "lead", w.review.version)
    db.session.commit()
    review = fresh(w.review)
    same = {g.id: ("met", "Moving, not there yet.") for g in w.goals}
    version = review.version
    change = services.save_ratings(w.staff, review, same, version=version)
    db.session.commit()
    assert change.withdrawn == []
    assert fresh(w.review).lead_signed_at is not None
    assert fresh(w.review).version == version


# Who signs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown side", "Sign as the lead teacher or as the staff reviewer."),
        ("side already signed", "This side has already signed."),
        ("same person on both sides", "two different people"),
        ("stale version", "The record changed since you opened it: read it again and sign."),
        ("a goal not rated", "Rate every goal before signing. Not rated yet: “Goal number 2”"),
        ("frozen", "signed and frozen"),
    ],
)
def test_signing_is_refused_and_nothing_changes(w, case, message):
    rate_all(w.review, w.goals[:1] if case == "a goal not rated" else w.goals)
    review = w.review
    actor, side, version = w.staff, "staff", review.version
    if case == "unknown side":
        side = "principal"
    elif case == "side already signed":
        services.sign_review(w.admin, review, "staff", review.version)
        version = review.version
    elif case == "same person on both sides":
        services.sign_review(w.staff, review, "lead", review.version)
        version = review.version
    elif case == "stale version":
        version = review.version - 1
    elif case == "frozen":
        review.frozen_at = utcnow()
    db.session.commit()
    review = fresh(review)
    before = (review.version, review.lead_signed_at, review.staff_signed_at, review.status)
    events = len(audit_actions())
    with pytest.raises(services.ReviewError) as refused:
        services.sign_review(actor, review, side, version)
    assert message in refused.value.message
    db.session.rollback()
    review = fresh(review)
    assert (review.version, review.lead_signed_at, review.staff_signed_at, review.status) == before
    assert len(audit_actions()) == events


def test_a_cycle_without_goals_can_be_signed_without_ratings():
    w = world(goals=0)
    services.sign_review(w.lead, w.review, "lead", w.review.version)
    assert services.sign_review(w.staff, w.review, "staff", w.review.version).frozen


def test_one_signature_asks_the_other_side_by_email(w):
    rate_all(w.review, w.goals)
    services.sign_review(w.lead, w.review, "lead", w.review.version)
    db.session.commit()
    sent = db.session.scalars(sa.select(OutboxMessage)).all()
    assert [m.to for m in sent] == [w.staff.email]  # the staff member who scheduled it
    assert "Luis Lead signed the goals review" in sent[0].subject
    services.sign_review(w.staff, fresh(w.review), "staff", fresh(w.review).version)
    db.session.commit()
    assert len(db.session.scalars(sa.select(OutboxMessage)).all()) == 1  # frozen: no more mail


# Ratings --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratings", "field", "message"),
    [
        ("other cycle's goal", None, "not one of this cycle's goals"),
        ("unknown rating", "rating_", "Choose met, progressing or not met."),
        ("comment without rating", "rating_", "Choose a rating for this goal"),
        ("too long comment", "comment_", "at most 4,000 characters"),
    ],
)
def test_bad_ratings_are_refused_whole(w, ratings, field, message):
    first = w.goals[0].id
    sent = {
        "other cycle's goal": {first: ("met", ""), w.other_goal.id: ("met", "")},
        "unknown rating": {first: ("excellent", "")},
        "comment without rating": {first: (None, "Half-way")},
        "too long comment": {first: ("met", "x" * 4001)},
    }[ratings]
    with pytest.raises(services.ReviewError) as refused:
        services.save_ratings(w.staff, w.review, sent, version=w.review.version)
    assert message in refused.value.message
    if field:
        assert refused.value.field.startswith(field)
    db.session.rollback()
    assert db.session.scalars(sa.select(GoalRating)).all() == []


def test_ratings_are_added_changed_and_cleared(w):
    g1, g2 = (g.id for g in w.goals)
    services.save_ratings(
        w.lead, w.review, {g1: ("met", "Done"), g2: ("not_met", "")}, version=w.review.version
    )
    services.save_ratings(
        w.lead,
        w.review,
        {g1: ("progressing", "Not quite"), g2: (None, "")},
        version=w.review.version,
    )
    db.session.commit()
    rows = db.session.scalars(sa.select(GoalRating)).all()
    assert [(r.goal_id, r.rating, r.comment) for r in rows] == [
        (g1, Rating.PROGRESSING, "Not quite")
    ]


def test_notes_saved_from_a_stale_form_are_refused(w):
    opened = w.review.version
    services.save_notes(w.lead, w.review, "First version.", version=opened)
    db.session.commit()
    with pytest.raises(services.StaleReview) as refused:
        services.save_notes(w.staff, fresh(w.review), "Second version.", version=opened)
    assert "Someone changed this review while you were editing it" in refused.value.message
    db.session.rollback()
    assert fresh(w.review).notes_md == "First version."


# Next year's goals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "field", "message"),
    [
        ("no baseline, new goal", "baseline_value", "Enter the baseline value, or choose a goal"),
        ("baseline without date", "baseline_on", "Enter the date of the baseline value."),
        ("date without baseline", "baseline_value", "Enter the baseline value measured on"),
        ("continues another cycle's goal", "continues", "Choose one of this cycle's goals"),
        ("continues and a typed baseline", "baseline_value", "Leave the baseline empty"),
        ("unknown category", "category", "Choose one of the options."),
        ("unknown direction", "direction", "Choose one of the options."),
        ("empty title", "title", "Name the goal."),
        ("due date out of range", "due_on", "between 1950 and 2200"),
        ("raise to a target below the baseline", "target_value", "must be above the baseline"),
        ("raise to the baseline itself", "target_value", "must be above the baseline (24)"),
        ("lower to a target above the baseline", "target_value", "must be below the baseline"),
        (
            "continues a goal, raise below its latest value",
            "target_value",
            "must be above the baseline (24)",
        ),
        ("due in 1960", "due_on", "Choose a due date from July 1, 2027 to June 30, 2029"),
        ("due this school year", "due_on", "within next school year"),
        ("due two years after next year", "due_on", "within next school year"),
        ("due before the baseline", "due_on", "The due date must be after the baseline date."),
        ("baseline after next year, no due date", "baseline_on", "end of next school year"),
    ],
)
def test_next_years_goal_rules(w, case, field, message):
    data = {
        "no baseline, new goal": _next_goal(baseline_value=None, baseline_on=None),
        "baseline without date": _next_goal(baseline_on=None),
        "date without baseline": _next_goal(baseline_value=None),
        "continues another cycle's goal": _next_goal(
            goal_id=w.other_goal.id, baseline_value=None, baseline_on=None
        ),
        "continues and a typed baseline": _next_goal(goal_id=w.goals[0].id),
        "unknown category": _next_goal(category="happiness"),
        "unknown direction": _next_goal(direction="sideways"),
        "empty title": _next_goal(title="   "),
        "due date out of range": _next_goal(due_on=date(2300, 1, 1)),
        "raise to a target below the baseline": _next_goal(target_value=10.0),
        "raise to the baseline itself": _next_goal(target_value=24.0),
        "lower to a target above the baseline": _next_goal(direction="lower", target_value=30.0),
        "continues a goal, raise below its latest value": _next_goal(
            goal_id=w.goals[0].id, baseline_value=None, baseline_on=None, target_value=22.0
        ),
        "due in 1960": _next_goal(due_on=date(1960, 1, 1)),
        "due this school year": _next_goal(due_on=date(2027, 6, 1)),
        "due two years after next year": _next_goal(due_on=date(2029, 7, 1)),
        "due before the baseline": _next_goal(
            baseline_on=date(2027, 12, 1), due_on=date(2027, 11, 1)
        ),
        "baseline after next year, no due date": _next_goal(baseline_on=date(2028, 7, 1)),
    }[case]
    with pytest.raises(services.ReviewError) as refused:
        services.add_proposed_goal(w.lead, w.review, data)
    assert refused.value.field == field
    assert message in refused.value.message
    db.session.rollback()
    assert db.session.scalars(sa.select(ProposedGoal)).all() == []


def test_signing_is_refused_when_a_continued_goals_latest_value_passed_next_years_target(w):
    rate_all(w.review, w.goals)
    services.add_proposed_goal(
        w.staff,
        w.review,
        _next_goal(
            title="Keep raising",
            goal_id=w.goals[0].id,
            baseline_value=None,
            baseline_on=None,
            target_value=30.0,
        ),
    )
    db.session.commit()
    # Proposed from a latest value of 24; since then the goal was measured at 35.
    MeasurementFactory(goal_id=w.goals[0].id, measured_on=date(2027, 3, 1), value=35.0)
    db.session.commit()
    review = fresh(w.review)
    with pytest.raises(services.ReviewError) as refused:
        services.sign_review(w.lead, review, "lead", review.version, notify=False)
    assert refused.value.message.startswith(
        "Next year's goal “Keep raising” no longer fits its baseline: To raise the value, the "
        "target must be above the baseline (35)."
    )
    db.session.rollback()
    assert fresh(w.review).lead_signed_at is None


@pytest.mark.parametrize(
    "case",
    [
        "due the day next year starts",
        "due a year after next year ends",
        "no due date",
        "hold at the baseline",
        "lower below the baseline",
        "continues a goal, raise above its latest value",
    ],
)
def test_next_years_goals_within_the_rules_are_accepted(w, case):
    data = {
        "due the day next year starts": _next_goal(due_on=date(2027, 7, 1)),
        "due a year after next year ends": _next_goal(due_on=date(2029, 6, 30)),
        "no due date": _next_goal(due_on=None),
        "hold at the baseline": _next_goal(direction="hold", target_value=24.0),
        "lower below the baseline": _next_goal(direction="lower", target_value=20.0),
        "continues a goal, raise above its latest value": _next_goal(
            goal_id=w.goals[0].id, baseline_value=None, baseline_on=None, target_value=24.5
        ),
    }[case]
    proposed, _change = services.add_proposed_goal(w.lead, w.review, data)
    db.session.commit()
    assert proposed.id is not None


def test_a_continued_goal_takes_this_years_latest_value_as_its_baseline(w):
    services.add_proposed_goal(
        w.lead,
        w.review,
        _next_goal(goal_id=w.goals[1].id, baseline_value=None, baseline_on=None),
    )
    db.session.commit()
    snapshot = services.build_snapshot(fresh(w.review), date(2027, 2, 1))
    [proposed] = snapshot["next_goals"]
    assert proposed["continues"] == {"goal_id": w.goals[1].id, "title": "Goal number 2"}
    assert proposed["baseline"] == {"value": 25.0, "on": "2027-01-15", "from_goal": True}


# Amendments -----------------------------------------------------------------------------------


def _signed(w):
    rate_all(w.review, w.goals)
    ProposedGoalFactory(review_id=w.review.id, title="Keep going")
    w.review.notes_md = "We talked."
    db.session.commit()
    services.sign_review(w.lead, w.review, "lead", w.review.version)
    services.sign_review(w.staff, w.review, "staff", w.review.version)
    db.session.commit()
    return fresh(w.review)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("not signed", "Only a signed review can be amended."),
        ("an amendment is open", "only one amendment at a time"),
        ("already amended", "Amend the latest amendment instead."),
    ],
)
def test_amendment_rules(w, case, message):
    review = w.review
    if case != "not signed":
        review = _signed(w)
    if case == "an amendment is open":
        services.start_amendment(w.lead, review)
        db.session.commit()
    if case == "already amended":
        review.status = ReviewStatus.AMENDED
        db.session.commit()
    count = db.session.scalar(sa.select(sa.func.count(GoalsReview.id)))
    with pytest.raises(services.ReviewError) as refused:
        services.start_amendment(w.lead, review)
    assert message in refused.value.message
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(GoalsReview.id))) == count


def test_an_amendment_copies_ratings_notes_and_next_years_goals_as_new_rows(w):
    review = _signed(w)
    amendment = services.start_amendment(w.lead, review, today=date(2027, 6, 10))
    db.session.commit()
    assert amendment.amends_review_id == review.id
    assert amendment.cycle_id == review.cycle_id
    assert amendment.scheduled_for == date(2027, 6, 10)
    assert amendment.notes_md == "We talked."
    assert amendment.lead_signed_at is None
    assert amendment.staff_signed_at is None
    copied = db.session.scalars(
        sa.select(GoalRating).where(GoalRating.review_id == amendment.id)
    ).all()
    assert sorted(r.goal_id for r in copied) == sorted(g.id for g in w.goals)
    old, new = (
        db.session.scalars(sa.select(ProposedGoal).where(ProposedGoal.review_id == rid)).one()
        for rid in (review.id, amendment.id)
    )
    assert new.id != old.id
    assert new.title == old.title == "Keep going"
    assert "cycle.review_amendment_started" in audit_actions()
    # Editing the amendment leaves the signed review's rows alone.
    services.delete_proposed_goal(w.lead, amendment, new)
    db.session.commit()
    assert db.session.get(ProposedGoal, old.id) is not None


def _signed_with_next_goals(w):
    """A signed review: both goals rated (the first with a comment), notes, and two goals
    for next year — one continuing each of this year's goals."""
    RatingFactory(
        review_id=w.review.id, goal_id=w.goals[0].id, rating=Rating.MET, comment="Done early."
    )
    RatingFactory(review_id=w.review.id, goal_id=w.goals[1].id, rating=Rating.NOT_MET)
    for goal, title in ((w.goals[0], "Carry the first on"), (w.goals[1], "Carry the second on")):
        services.add_proposed_goal(
            w.staff,
            w.review,
            _next_goal(
                title=title,
                goal_id=goal.id,
                baseline_value=None,
                baseline_on=None,
                target_value=40.0,
            ),
        )
    services.add_proposed_goal(w.staff, w.review, _next_goal(title="A new goal"))
    services.save_notes(w.staff, w.review, "We talked.", version=w.review.version)
    services.sign_review(w.lead, w.review, "lead", w.review.version, notify=False)
    services.sign_review(w.staff, w.review, "staff", w.review.version, notify=False)
    db.session.commit()
    return fresh(w.review)


def test_an_amendment_starts_from_the_signed_snapshot_even_after_a_goal_was_deleted(w):
    review = _signed_with_next_goals(w)
    # After signing, this year's first goal is deleted: its rating goes with it (cascade) and
    # next year's goal that continued it no longer points at it.
    goal_services.delete_goal(w.staff, db.session.get(Goal, w.goals[0].id))
    db.session.commit()
    amendment = services.start_amendment(w.lead, review, today=date(2027, 6, 10))
    db.session.commit()
    ratings = db.session.scalars(
        sa.select(GoalRating).where(GoalRating.review_id == amendment.id)
    ).all()
    assert [(r.goal_id, r.rating) for r in ratings] == [(w.goals[1].id, Rating.NOT_MET)]
    # The rating of the deleted goal is kept, in the amendment's notes.
    assert amendment.notes_md == (
        "We talked.\n\nRatings signed for goals since removed from the cycle:\n"
        "- “Goal number 1”: Met — Done early."
    )
    proposed = {
        p.title: p
        for p in db.session.scalars(
            sa.select(ProposedGoal)
            .where(ProposedGoal.review_id == amendment.id)
            .order_by(ProposedGoal.position)
        )
    }
    assert list(proposed) == ["Carry the first on", "Carry the second on", "A new goal"]
    # The goal whose continued goal is gone keeps the baseline that was signed.
    first = proposed["Carry the first on"]
    assert (first.goal_id, first.baseline_value, first.baseline_on) == (
        None,
        24.0,
        date(2027, 1, 15),
    )
    assert (first.target_value, first.direction.value, first.unit) == (40.0, "raise", "%")
    # One continuing a goal still there continues it again.
    second = proposed["Carry the second on"]
    assert (second.goal_id, second.baseline_value) == (w.goals[1].id, None)
    new = proposed["A new goal"]
    assert (new.goal_id, new.baseline_value, new.baseline_on) == (None, 24.0, date(2027, 5, 1))
    # Signed again, the amendment's record carries the same baselines.
    services.sign_review(w.lead, amendment, "lead", amendment.version, notify=False)
    services.sign_review(w.staff, amendment, "staff", amendment.version, notify=False)
    db.session.commit()
    baselines = {g["title"]: g["baseline"] for g in fresh(amendment).snapshot["next_goals"]}
    assert baselines["Carry the first on"] == {
        "value": 24.0,
        "on": "2027-01-15",
        "from_goal": False,
    }
    assert baselines["Carry the second on"] == {
        "value": 25.0,
        "on": "2027-01-15",
        "from_goal": True,
    }


def test_an_amendment_reads_the_snapshot_not_rows_changed_behind_it(w):
    review = _signed_with_next_goals(w)
    # Rows of a frozen review are not changed by the app; if they were, the snapshot wins.
    db.session.execute(
        sa.update(GoalRating).where(GoalRating.review_id == review.id).values(comment="Edited")
    )
    db.session.execute(
        sa.update(ProposedGoal).where(ProposedGoal.review_id == review.id).values(title="Edited")
    )
    db.session.commit()
    amendment = services.start_amendment(w.lead, review)
    db.session.commit()
    comments = db.session.scalars(
        sa.select(GoalRating.comment).where(GoalRating.review_id == amendment.id)
    ).all()
    assert "Edited" not in comments
    assert "Done early." in comments
    titles = db.session.scalars(
        sa.select(ProposedGoal.title)
        .where(ProposedGoal.review_id == amendment.id)
        .order_by(ProposedGoal.position)
    ).all()
    assert titles == ["Carry the first on", "Carry the second on", "A new goal"]


# Scheduling -----------------------------------------------------------------------------------


def test_scheduling_is_audited_and_emails_each_lead_teacher_in_their_language(w):
    db.session.delete(w.review)
    w.lead.locale = "es"
    db.session.commit()
    review = services.schedule_review(
        w.staff,
        w.cycle,
        services.ScheduleData(date(2027, 5, 20), " Room 204 ", "Luis Lead\n\n Sam Staff "),
    )
    db.session.commit()
    assert review.status == ReviewStatus.SCHEDULED
    assert review.participants == "Luis Lead\nSam Staff"
    assert review.location == "Room 204"
    assert "cycle.review_scheduled" in audit_actions()
    [message] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.to == w.lead.email
    assert f"/cycles/{w.cycle.id}/reviews/{review.id}" in message.text


@pytest.mark.parametrize("signed", [False, True])
def test_a_cycle_has_one_yearly_review(w, signed):
    if signed:
        _signed(w)
    with pytest.raises(services.ReviewError) as refused:
        services.schedule_review(w.staff, w.cycle, services.ScheduleData(date(2027, 6, 1)))
    assert refused.value.field == "scheduled_for"
    assert "already has its yearly review" in refused.value.message


def _locks_the_cycle_before_looking(statements: list[str], looking_for: str) -> bool:
    """The cycle row is locked (FOR UPDATE on PostgreSQL; SQLite's writes already begin
    IMMEDIATE) before the look for a review already there (the query `looking_for`)."""
    lock = next(
        (
            n
            for n, sql in enumerate(statements)
            if re.match(r"\s*SELECT cycles\.id\s+FROM cycles\s+WHERE cycles\.id = ", sql)
            and ("FOR UPDATE" in sql or db.engine.dialect.name == "sqlite")
        ),
        None,
    )
    look = next(
        n for n, sql in enumerate(statements) if "FROM goals_reviews" in sql and looking_for in sql
    )
    return lock is not None and lock < look


@pytest.mark.parametrize("action", ["schedule", "amend"])
def test_scheduling_and_amending_lock_the_cycle_before_checking_for_one_already_there(
    w, count_queries, action
):
    review = w.review
    if action == "schedule":
        db.session.delete(w.review)
    else:
        review = _signed(w)
    db.session.commit()
    with count_queries() as counter:
        if action == "schedule":
            services.schedule_review(
                w.staff, w.cycle, services.ScheduleData(date(2027, 5, 20)), notify=False
            )
        else:
            services.start_amendment(w.lead, review)
    # The yearly review of the cycle, or an open amendment of the review.
    looking_for = "amends_review_id IS NULL" if action == "schedule" else "frozen_at IS NULL"
    assert _locks_the_cycle_before_looking(counter.statements, looking_for)


def test_rescheduling_a_stale_form_is_refused(w):
    opened = w.review.version
    services.save_notes(w.lead, w.review, "Changed meanwhile.", version=opened)
    db.session.commit()
    with pytest.raises(services.StaleReview):
        services.update_schedule(
            w.staff, fresh(w.review), services.ScheduleData(date(2027, 6, 3)), version=opened
        )


def test_a_frozen_review_refuses_every_change(w):
    review = _signed(w)
    proposed = db.session.scalars(
        sa.select(ProposedGoal).where(ProposedGoal.review_id == review.id)
    ).one()
    attempts = [
        lambda: services.save_notes(w.staff, review, "Later", version=review.version),
        lambda: services.save_ratings(
            w.staff, review, {w.goals[0].id: ("met", "")}, version=review.version
        ),
        lambda: services.add_proposed_goal(w.staff, review, _next_goal()),
        lambda: services.delete_proposed_goal(w.staff, review, proposed),
        lambda: services.update_schedule(
            w.staff, review, services.ScheduleData(date(2027, 6, 3)), version=review.version
        ),
    ]
    for attempt in attempts:
        with pytest.raises(services.ReviewError) as refused:
            attempt()
        assert "signed and frozen" in refused.value.message


def test_a_rating_of_a_goal_rated_in_another_review_does_not_count(w):
    other_review = ReviewFactory(cycle_id=w.cycle.id)
    for goal in w.goals:
        RatingFactory(review_id=other_review.id, goal_id=goal.id)
    assert services.unrated_goals(w.review) == ["Goal number 1", "Goal number 2"]

"""Recording a decision: the status transitions as a table, one decision per version, the
message's rules, stale forms, the audit row and the one email."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.capstones import staff_services as services
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneStatus,
    Recommendation,
    Stage,
)
from fellowship.cohorts.models import CohortRole
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.notifications.models import Notification
from tests.capstones.helpers import AssignmentFactory, VersionFactory
from tests.capstones.test_staff_helpers import (
    audit_actions,
    member,
    outbox,
    review,
    running_cohort,
    submitted,
    world,
)
from tests.factories import StaffFactory

S = CapstoneStatus
APPROVE = Recommendation.APPROVE.value
REVISE = Recommendation.REVISE.value

# (status of the capstone, outcome) → the status after the decision; None: refused.
TRANSITIONS = [
    (S.DRAFT, APPROVE, None),
    (S.DRAFT, REVISE, None),
    (S.PROPOSAL_SUBMITTED, APPROVE, S.PROPOSAL_APPROVED),
    (S.PROPOSAL_SUBMITTED, REVISE, S.PROPOSAL_REVISIONS),
    (S.PROPOSAL_REVISIONS, APPROVE, None),
    (S.PROPOSAL_REVISIONS, REVISE, None),
    (S.PROPOSAL_APPROVED, APPROVE, None),
    (S.PROPOSAL_APPROVED, REVISE, None),
    (S.FINAL_SUBMITTED, APPROVE, S.APPROVED),
    (S.FINAL_SUBMITTED, REVISE, S.FINAL_REVISIONS),
    (S.FINAL_REVISIONS, APPROVE, None),
    (S.FINAL_REVISIONS, REVISE, None),
    (S.APPROVED, APPROVE, None),
    (S.APPROVED, REVISE, None),
]


def decisions() -> list[CapstoneDecision]:
    return list(db.session.scalars(sa.select(CapstoneDecision).order_by(CapstoneDecision.id)))


def decide(actor, capstone, version, outcome=APPROVE, message="Well argued.", expected=None):
    return services.record_decision(
        actor,
        version,
        capstone,
        outcome,
        message,
        capstone.version if expected is None else expected,
    )


@pytest.mark.parametrize(("status", "outcome", "after"), TRANSITIONS)
def test_a_decision_moves_the_capstone_on_only_from_a_submitted_status(ctx, status, outcome, after):
    cohort = running_cohort()
    fellow = member(cohort, CohortRole.FELLOW)
    capstone, version = submitted(cohort, fellow, status, days=5)
    staff = StaffFactory()
    before_changed = capstone.status_changed_at
    if after is None:
        with pytest.raises(services.CapstoneStaffError) as raised:
            decide(staff, capstone, version, outcome)
        assert "not waiting for a decision" in raised.value.message
        db.session.rollback()
        db.session.expire_all()
        assert db.session.get(Capstone, capstone.id).status == status
        assert decisions() == []
        assert outbox() == []
        assert "capstone_decided" not in audit_actions()
    else:
        decision = decide(staff, capstone, version, outcome)
        db.session.commit()
        assert capstone.status == after
        assert capstone.status_changed_at > before_changed
        assert capstone.status_changed_at == decision.decided_at
        assert (decision.version_id, decision.outcome.value, decision.decided_by_id) == (
            version.id,
            outcome,
            staff.id,
        )
        assert len(outbox()) == 1


@pytest.mark.parametrize(
    ("status", "stage"),
    [(S.PROPOSAL_SUBMITTED, Stage.FINAL), (S.FINAL_SUBMITTED, Stage.PROPOSAL)],
)
def test_a_version_of_the_other_stage_is_not_the_one_waiting(ctx, status, stage):
    cohort = running_cohort()
    capstone, version = submitted(cohort, member(cohort, CohortRole.FELLOW), status, stage=stage)
    with pytest.raises(services.CapstoneStaffError):
        decide(StaffFactory(), capstone, version)


def test_a_working_draft_cannot_be_decided(ctx):
    w = world()
    draft = VersionFactory(capstone_id=w.capstone.id, number=2, submitted_at=None)
    with pytest.raises(services.CapstoneStaffError) as raised:
        decide(StaffFactory(), w.capstone, draft)
    assert raised.value.field is None
    db.session.rollback()
    assert decisions() == []


def test_only_the_latest_submitted_version_can_be_decided(ctx):
    w = world()
    newer = VersionFactory(capstone_id=w.capstone.id, number=2, submitted_at=utcnow())
    with pytest.raises(services.CapstoneStaffError):
        decide(StaffFactory(), w.capstone, w.version)
    db.session.rollback()
    capstone = db.session.get(Capstone, w.capstone.id)
    assert decide(StaffFactory(), capstone, newer).version_id == newer.id


def test_a_version_gets_one_decision_a_second_is_refused(ctx):
    w = world()
    staff = StaffFactory()
    decide(staff, w.capstone, w.version, REVISE, "Add the enrollment plan.")
    db.session.commit()
    with pytest.raises(services.AlreadyDecided) as raised:
        decide(StaffFactory(), w.capstone, w.version, APPROVE, "Looks good to me.")
    assert "already recorded" in raised.value.message
    db.session.rollback()
    [decision] = decisions()
    assert (decision.outcome, decision.message_md) == (
        Recommendation.REVISE,
        "Add the enrollment plan.",
    )
    assert len(outbox()) == 1
    assert audit_actions().count("capstone_decided") == 1


@pytest.mark.parametrize(
    ("outcome", "message", "field", "text"),
    [
        (None, "Fine.", "outcome", "Choose approve or request revisions."),
        ("maybe", "Fine.", "outcome", "Choose approve or request revisions."),
        (APPROVE, "", "message", "Write a message to the fellow before recording the decision."),
        (
            REVISE,
            "  \n\t",
            "message",
            "Write a message to the fellow before recording the decision.",
        ),
        (APPROVE, "x" * 20_001, "message", "The message can be at most 20,000 characters."),
    ],
)
def test_a_decision_needs_an_outcome_and_a_message_of_at_most_20000_characters(
    ctx, outcome, message, field, text
):
    w = world()
    with pytest.raises(services.CapstoneStaffError) as raised:
        decide(StaffFactory(), w.capstone, w.version, outcome, message)
    assert (raised.value.field, raised.value.message) == (field, text)
    db.session.rollback()
    assert decisions() == []
    assert db.session.get(Capstone, w.capstone.id).status == S.PROPOSAL_SUBMITTED


def test_a_message_of_exactly_the_limit_is_kept_trimmed(ctx):
    w = world()
    decision = decide(StaffFactory(), w.capstone, w.version, APPROVE, "  " + "y" * 20_000 + "\n")
    assert decision.message_md == "y" * 20_000


def test_a_stale_form_is_refused_and_changes_nothing(ctx):
    w = world()
    opened_at = w.capstone.version
    w.capstone.title = "Renamed meanwhile"
    db.session.commit()
    assert w.capstone.version == opened_at + 1
    with pytest.raises(services.StaleEdit) as raised:
        decide(StaffFactory(), w.capstone, w.version, APPROVE, "Yes.", expected=opened_at)
    assert "Someone else recorded a decision" in raised.value.message
    db.session.rollback()
    assert decisions() == []
    assert outbox() == []


def test_a_missing_version_number_counts_as_stale(ctx):
    w = world()
    with pytest.raises(services.StaleEdit):
        services.record_decision(StaffFactory(), w.version, w.capstone, APPROVE, "Yes.", None)


def test_deciding_with_reviews_missing_is_allowed_and_audited_with_the_counts(ctx):
    w = world()
    review(w.assignment)
    third = member(w.cohort, CohortRole.REVIEWER)
    AssignmentFactory(version_id=w.version.id, reviewer_id=third.id)
    staff = StaffFactory()
    decision = decide(staff, w.capstone, w.version, REVISE, "Please revise the budget.")
    db.session.commit()
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "capstone_decided"))
    assert event.actor_id == staff.id
    assert (event.target_type, event.target_id) == ("CapstoneDecision", decision.id)
    assert event.details == {
        "cohort_id": w.cohort.id,
        "capstone_id": w.capstone.id,
        "fellow_id": w.fellow.id,
        "version_id": w.version.id,
        "version_number": 1,
        "outcome": "revise",
        "from": "proposal_submitted",
        "to": "proposal_revisions",
        "reviews_submitted": 1,
        "reviewers_assigned": 2,
    }


@pytest.mark.parametrize(
    ("status", "outcome", "subject", "next_step"),
    [
        (S.PROPOSAL_SUBMITTED, APPROVE, "Your capstone proposal", "write your final capstone"),
        (S.PROPOSAL_SUBMITTED, REVISE, "Revisions requested on your capstone proposal", "revise"),
        (S.FINAL_SUBMITTED, APPROVE, "Your capstone “", "your capstone is complete"),
        (S.FINAL_SUBMITTED, REVISE, "Revisions requested on your final capstone", "revise your"),
    ],
)
def test_the_fellow_is_told_the_decision_the_message_and_what_to_do_next(
    ctx, status, outcome, subject, next_step
):
    cohort = running_cohort()
    fellow = member(cohort, CohortRole.FELLOW, "Felix Fellow")
    capstone, version = submitted(cohort, fellow, status, title="The Commons School")
    decide(StaffFactory(name="Sam Staff"), capstone, version, outcome, "The **plan** is clear.")
    [message] = outbox()
    assert message.to == fellow.email
    assert message.template == "capstones/decision"
    [notification] = db.session.scalars(sa.select(Notification)).all()
    assert notification.dedupe_key == f"capstone-decision-{version.id}"
    assert message.dedupe_key == f"notification-{notification.id}"
    assert message.subject.startswith(subject)
    assert "The Commons School" in message.subject
    assert "Sam Staff" in message.text
    assert "The **plan** is clear." in message.text
    assert "<strong>plan</strong>" in message.html
    assert next_step in message.text
    assert f"http://localhost/capstones/{capstone.id}" in message.text


def test_the_decision_email_is_in_the_fellows_language(ctx):
    cohort = running_cohort()
    fellow = member(cohort, CohortRole.FELLOW, locale="es")
    capstone, version = submitted(cohort, fellow)
    decide(StaffFactory(), capstone, version, APPROVE, "Muy bien.")
    [message] = outbox()
    assert '<html lang="es">' in message.html


def test_the_waiting_time_restarts_when_the_status_changes(ctx):
    w = world()
    w.capstone.status_changed_at = utcnow() - timedelta(days=20)
    db.session.commit()
    decide(StaffFactory(), w.capstone, w.version)
    assert utcnow() - w.capstone.status_changed_at < timedelta(minutes=1)

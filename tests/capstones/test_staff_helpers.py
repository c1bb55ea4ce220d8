"""Builders shared by the staff, pipeline and decision tests (this module has no tests): a
small cohort by factory, a big pipeline in bulk, and a request measurer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import Role, User
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneStatus,
    CapstoneVersion,
    Recommendation,
    Review,
    ReviewAssignment,
    Stage,
)
from fellowship.cohorts.models import Cohort, CohortMembership, CohortRole, MembershipStatus
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from tests.capstones.helpers import (
    AssignmentFactory,
    CapstoneFactory,
    ReviewFactory,
    VersionFactory,
)
from tests.curriculum.facilitation_helpers import Measured, ago, measure, member, running_cohort
from tests.factories import CoachAssignmentFactory

__all__ = ["Measured", "measure", "member", "running_cohort"]

# The stage of the versions a capstone in each status has been submitting.
STAGE_OF = {
    CapstoneStatus.DRAFT: Stage.PROPOSAL,
    CapstoneStatus.PROPOSAL_SUBMITTED: Stage.PROPOSAL,
    CapstoneStatus.PROPOSAL_REVISIONS: Stage.PROPOSAL,
    CapstoneStatus.PROPOSAL_APPROVED: Stage.PROPOSAL,
    CapstoneStatus.FINAL_SUBMITTED: Stage.FINAL,
    CapstoneStatus.FINAL_REVISIONS: Stage.FINAL,
    CapstoneStatus.APPROVED: Stage.FINAL,
}


@dataclass
class World:
    """A cohort, a fellow whose proposal (version 1) waits for its decision, and everyone
    around it."""

    cohort: Cohort
    fellow: User
    other_fellow: User
    coach: User
    facilitator: User
    reviewer: User  # assigned to version 1, review not started
    second_reviewer: User  # an active reviewer of the cohort, not assigned
    capstone: Capstone
    version: CapstoneVersion
    assignment: ReviewAssignment


def world() -> World:
    cohort = running_cohort()
    fellow = member(cohort, CohortRole.FELLOW, "Felix Fellow")
    other_fellow = member(cohort, CohortRole.FELLOW, "Olga Otherfellow")
    coach = member(cohort, CohortRole.COACH, "Cora Coach")
    facilitator = member(cohort, CohortRole.FACILITATOR, "Fay Facilitator")
    reviewer = member(cohort, CohortRole.REVIEWER, "Rita Reviewer")
    second_reviewer = member(cohort, CohortRole.REVIEWER, "Raul Reviewer")
    CoachAssignmentFactory(
        cohort_id=cohort.id, fellow_id=fellow.id, coach_id=coach.id, starts_on=ago(100)
    )
    capstone, version = submitted(cohort, fellow, title="The Commons School")
    assignment = AssignmentFactory(version_id=version.id, reviewer_id=reviewer.id)
    return World(
        cohort,
        fellow,
        other_fellow,
        coach,
        facilitator,
        reviewer,
        second_reviewer,
        capstone,
        version,
        assignment,
    )


def submitted(
    cohort: Cohort,
    fellow: User,
    status: CapstoneStatus = CapstoneStatus.PROPOSAL_SUBMITTED,
    *,
    number: int = 1,
    stage: Stage | None = None,
    days: float = 1,
    **capstone: object,
) -> tuple[Capstone, CapstoneVersion]:
    """A capstone in `status` whose version `number` was submitted `days` ago (and entered
    that status then); earlier numbers are submitted versions decided "revise"."""
    moment = utcnow() - timedelta(days=days)
    made = CapstoneFactory(
        cohort_id=cohort.id,
        fellow_id=fellow.id,
        status=status,
        status_changed_at=moment,
        **capstone,
    )
    chosen = stage or STAGE_OF[status]
    for earlier in range(1, number):
        old = VersionFactory(
            capstone_id=made.id,
            number=earlier,
            stage=chosen,
            submitted_at=moment - timedelta(days=30 * (number - earlier)),
        )
        db.session.add(
            CapstoneDecision(
                version_id=old.id, outcome=Recommendation.REVISE, message_md="Please revise."
            )
        )
    db.session.commit()
    version = VersionFactory(capstone_id=made.id, number=number, stage=chosen, submitted_at=moment)
    return made, version


def review(assignment: ReviewAssignment, *, submitted_days: float | None = 0, **values: object):
    """The assignment's review: submitted `submitted_days` ago, or a draft (None)."""
    moment = utcnow() - timedelta(days=submitted_days) if submitted_days is not None else None
    return ReviewFactory(assignment_id=assignment.id, submitted_at=moment, **values)


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def capstone_tables() -> dict[str, list[tuple[str, ...]]]:
    """Every row of the tables a staff page may change, to prove a request changed nothing."""
    tables = [
        "capstones",
        "capstone_versions",
        "review_assignments",
        "reviews",
        "capstone_decisions",
        "cohorts",
        "audit_events",
        "outbox_messages",
    ]
    db.session.expire_all()
    return {
        name: sorted(
            tuple(str(value) for value in row)
            for row in db.session.execute(sa.select(db.metadata.tables[name]))
        )
        for name in tables
    }


# A big pipeline, in bulk ---------------------------------------------------------------------

BIG_STATUSES = list(CapstoneStatus)


@dataclass
class BigPipeline:
    cohort: Cohort
    capstones: int
    not_started: int


def _bulk_users(label: str, kind: str, count: int) -> list[int]:
    now = utcnow()
    people = [
        {
            "email": f"{label}-{kind}-{i}@example.org",
            "name": f"{kind.title()} {label} {i:04d}",
            "role": Role.MEMBER,
            "is_active": True,
            "locale": "en",
            "timezone": "America/New_York",
            "password_hash": None,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    db.session.execute(sa.insert(User), people)
    rows = db.session.execute(
        sa.select(User.email, User.id).where(User.email.like(f"{label}-{kind}-%"))
    )
    ids = dict(rows.tuples().all())
    return [ids[person["email"]] for person in people]


def big_pipeline(capstones: int, label: str, *, not_started: int = 3) -> BigPipeline:
    """`capstones` capstones in every status (by turns), each past draft with one to three
    submitted versions, three reviewers per submitted version (reviews submitted by turns),
    decisions on every decided version; plus `not_started` active fellows without one."""
    cohort = running_cohort()
    now = utcnow()
    fellow_ids = _bulk_users(label, "fellow", capstones + not_started)
    reviewer_ids = _bulk_users(label, "reviewer", 3)
    db.session.execute(
        sa.insert(CohortMembership),
        [
            {
                "cohort_id": cohort.id,
                "user_id": user_id,
                "role": CohortRole.FELLOW if user_id in fellow_ids else CohortRole.REVIEWER,
                "status": MembershipStatus.ACTIVE,
                "joined_on": now.date(),
                "created_at": now,
                "updated_at": now,
            }
            for user_id in fellow_ids + reviewer_ids
        ],
    )
    statuses = {fellow_ids[i]: BIG_STATUSES[i % len(BIG_STATUSES)] for i in range(capstones)}
    db.session.execute(
        sa.insert(Capstone),
        [
            {
                "cohort_id": cohort.id,
                "fellow_id": fellow_id,
                "title": f"Capstone {label} {i:04d}",
                "summary": "",
                "problem_md": "",
                "community_md": "",
                "topics": "",
                "status": status,
                "status_changed_at": now - timedelta(days=i % 30),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i, (fellow_id, status) in enumerate(statuses.items())
        ],
    )
    capstone_rows = db.session.execute(
        sa.select(Capstone.id, Capstone.status).where(Capstone.cohort_id == cohort.id)
    ).all()
    versions = []
    for capstone_id, status in capstone_rows:
        count = 0 if status == CapstoneStatus.DRAFT else 1 + capstone_id % 3
        for number in range(1, count + 1):
            versions.append(
                {
                    "capstone_id": capstone_id,
                    "number": number,
                    "stage": STAGE_OF[status],
                    "narrative_md": "A narrative.",
                    "created_at": now,
                    "updated_at": now,
                    "submitted_at": now - timedelta(days=40 - number),
                    "version": 1,
                }
            )
    db.session.execute(sa.insert(CapstoneVersion), versions)
    version_rows = db.session.execute(
        sa.select(CapstoneVersion.id, CapstoneVersion.capstone_id, CapstoneVersion.number)
        .join(Capstone, Capstone.id == CapstoneVersion.capstone_id)
        .where(Capstone.cohort_id == cohort.id)
    ).all()
    latest = {}
    for version_id, capstone_id, number in version_rows:
        if number > latest.get(capstone_id, (0, 0))[1]:
            latest[capstone_id] = (version_id, number)
    status_of = dict(capstone_rows)
    db.session.execute(
        sa.insert(ReviewAssignment),
        [
            {
                "version_id": version_id,
                "reviewer_id": reviewer_id,
                "assigned_by_id": None,
                "assigned_at": now,
            }
            for version_id, _capstone_id, _number in version_rows
            for reviewer_id in reviewer_ids
        ],
    )
    assignments = db.session.execute(
        sa.select(ReviewAssignment.id, ReviewAssignment.version_id).where(
            ReviewAssignment.version_id.in_([row[0] for row in version_rows])
        )
    ).all()
    db.session.execute(
        sa.insert(Review),
        [
            {
                "assignment_id": assignment_id,
                "scores": {},
                "comments_md": "Comments.",
                "recommendation": Recommendation.APPROVE,
                "updated_at": now,
                "submitted_at": now if assignment_id % 2 else None,
                "version": 1,
            }
            for assignment_id, _version_id in assignments
            if assignment_id % 3
        ],
    )
    waiting = {CapstoneStatus.PROPOSAL_SUBMITTED, CapstoneStatus.FINAL_SUBMITTED}
    decisions = []
    for version_id, capstone_id, _number in version_rows:
        if latest[capstone_id][0] == version_id and status_of[capstone_id] in waiting:
            continue  # the latest submission of a waiting capstone has no decision yet
        approved = status_of[capstone_id] in {
            CapstoneStatus.PROPOSAL_APPROVED,
            CapstoneStatus.APPROVED,
        } and (latest[capstone_id][0] == version_id)
        decisions.append(
            {
                "version_id": version_id,
                "decided_by_id": None,
                "outcome": Recommendation.APPROVE if approved else Recommendation.REVISE,
                "message_md": "A message.",
                "decided_at": now,
            }
        )
    db.session.execute(sa.insert(CapstoneDecision), decisions)
    db.session.commit()
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
    return BigPipeline(cohort, capstones, not_started)

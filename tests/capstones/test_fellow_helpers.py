"""Builders for the fellow-side capstone tests (this module has no tests of its own): a
cohort with everyone in it, capstones at any state, versions with real stored files, and
snapshots of the capstone tables to prove a request changed nothing."""

from __future__ import annotations

import io
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import FileStorage

from fellowship import uploads
from fellowship.audit import AuditEvent
from fellowship.auth.models import User
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneStatus,
    CapstoneVersion,
    CapstoneVersionFile,
    GraduateOutcome,
    Recommendation,
    Review,
    ReviewAssignment,
    Stage,
)
from fellowship.cohorts.models import Cohort, CohortRole
from fellowship.extensions import db
from tests.capstones.helpers import (
    AssignmentFactory,
    CapstoneFactory,
    DecisionFactory,
    VersionFactory,
)
from tests.factories import (
    CoachAssignmentFactory,
    CohortFactory,
    MembershipFactory,
    StaffFactory,
    UserFactory,
)
from tests.upload_attacks import valid_pdf

CAPSTONE_TABLES = (
    Capstone,
    CapstoneVersion,
    CapstoneVersionFile,
    ReviewAssignment,
    Review,
    CapstoneDecision,
    GraduateOutcome,
    uploads.StoredFile,
    AuditEvent,
)


@dataclass
class World:
    cohort: Cohort
    fellow: User
    other_fellow: User
    coach: User  # coaches the fellow
    other_coach: User  # coaches the other fellow
    facilitator: User
    reviewer: User
    other_reviewer: User
    staff: User
    outsider: User  # a member with no membership in the cohort

    def person(self, who: str) -> User:
        return {
            "the fellow": self.fellow,
            "another fellow": self.other_fellow,
            "the fellow's coach": self.coach,
            "another coach": self.other_coach,
            "facilitator": self.facilitator,
            "assigned reviewer": self.reviewer,
            "unassigned reviewer": self.other_reviewer,
            "staff": self.staff,
            "member without membership": self.outsider,
        }[who]


PEOPLE = [
    "the fellow",
    "another fellow",
    "the fellow's coach",
    "another coach",
    "facilitator",
    "assigned reviewer",
    "unassigned reviewer",
    "staff",
    "member without membership",
]


def world(**cohort_kwargs: object) -> World:
    cohort = CohortFactory(**cohort_kwargs)

    def member(name: str, role: CohortRole) -> User:
        person = UserFactory(name=name)
        MembershipFactory(cohort=cohort, user=person, role=role)
        return person

    w = World(
        cohort=cohort,
        fellow=member("Fatima Fellow", CohortRole.FELLOW),
        other_fellow=member("Omar Otherfellow", CohortRole.FELLOW),
        coach=member("Carla Coach", CohortRole.COACH),
        other_coach=member("Chen Othercoach", CohortRole.COACH),
        facilitator=member("Femi Facilitator", CohortRole.FACILITATOR),
        reviewer=member("Rosa Reviewer", CohortRole.REVIEWER),
        other_reviewer=member("Raj Otherreviewer", CohortRole.REVIEWER),
        staff=StaffFactory(name="Sam Staff"),
        outsider=UserFactory(name="Oscar Outsider"),
    )
    CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=w.fellow.id, coach_id=w.coach.id)
    CoachAssignmentFactory(
        cohort_id=cohort.id, fellow_id=w.other_fellow.id, coach_id=w.other_coach.id
    )
    return w


def capstone(w: World, status: CapstoneStatus = CapstoneStatus.DRAFT, **kwargs: object) -> Capstone:
    kwargs.setdefault("fellow_id", w.fellow.id)
    return CapstoneFactory(cohort_id=w.cohort.id, status=status, **kwargs)


def version(
    cap: Capstone,
    number: int = 1,
    stage: Stage = Stage.PROPOSAL,
    *,
    draft: bool = False,
    **kwargs: object,
) -> CapstoneVersion:
    if draft:
        kwargs["submitted_at"] = None
    return VersionFactory(capstone_id=cap.id, number=number, stage=stage, **kwargs)


def decide(v: CapstoneVersion, outcome: Recommendation = Recommendation.REVISE, **kwargs: object):
    return DecisionFactory(version_id=v.id, outcome=outcome, **kwargs)


def assign(v: CapstoneVersion, reviewer: User) -> ReviewAssignment:
    return AssignmentFactory(version_id=v.id, reviewer_id=reviewer.id)


def stored_file(
    app: Flask, name: str = "plan.pdf", data: bytes | None = None, uploader: User | None = None
) -> uploads.StoredFile:
    """A real stored file, kept the way the app keeps uploads (committed)."""
    with app.test_request_context():
        stored = uploads.store_file(
            FileStorage(io.BytesIO(data if data is not None else valid_pdf(name)), filename=name),
            uploader.id if uploader else None,
            uploads.DOCUMENTS_AND_IMAGES,
        )
        stored_id = stored.id
        db.session.commit()
    found = db.session.get(uploads.StoredFile, stored_id)
    assert found is not None
    return found


def attach(
    v: CapstoneVersion, stored: uploads.StoredFile, position: int = 0
) -> CapstoneVersionFile:
    link = CapstoneVersionFile(version_id=v.id, stored_file_id=stored.id, position=position)
    db.session.add(link)
    db.session.commit()
    return link


def revisions_world(app: Flask) -> tuple[World, Capstone, CapstoneVersion, CapstoneVersionFile]:
    """The fellow's capstone with version 1 submitted (one PDF), reviewed by the assigned
    reviewer, revisions requested: (world, capstone, version 1, its file)."""
    w = world()
    cap = capstone(w, CapstoneStatus.PROPOSAL_REVISIONS, title="A school for everyone")
    v1 = version(cap, 1, narrative_md="## Why\n\nVersion one text.")
    link = attach(v1, stored_file(app, "plan.pdf", uploader=w.fellow))
    assign(v1, w.reviewer)
    decide(v1, Recommendation.REVISE, message_md="Please add the enrollment plan.")
    return w, cap, v1, link


def count(model: object) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


def snapshot() -> dict[str, list[tuple[str, ...]]]:
    """Every row of the capstone tables (and stored files, audit), to prove nothing changed."""
    db.session.expire_all()
    return {
        model.__tablename__: sorted(  # type: ignore[attr-defined]
            tuple(str(value) for value in row)
            for row in db.session.execute(sa.select(model.__table__))  # type: ignore[attr-defined]
        )
        for model in CAPSTONE_TABLES
    }


def versions_of(cap: Capstone) -> list[CapstoneVersion]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(CapstoneVersion)
            .where(CapstoneVersion.capstone_id == cap.id)
            .order_by(CapstoneVersion.number)
        )
    )


def files_of(v: CapstoneVersion) -> list[tuple[int, str]]:
    """(stored file id, name) of a version's files in order, as stored."""
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(CapstoneVersionFile.stored_file_id, uploads.StoredFile.original_name)
        .join(uploads.StoredFile, uploads.StoredFile.id == CapstoneVersionFile.stored_file_id)
        .where(CapstoneVersionFile.version_id == v.id)
        .order_by(CapstoneVersionFile.position, CapstoneVersionFile.id)
    )
    return [(file_id, name) for file_id, name in rows]

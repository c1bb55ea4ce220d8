"""Helpers of the goal and support tests: a cycle with every kind of person around it, form
data, and a snapshot of the rows these pages may change (to show nothing changed)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import User
from fellowship.cohorts.models import CohortRole
from fellowship.cycles.models import (
    Cycle,
    CycleRole,
    Goal,
    Measurement,
    SupportActivity,
)
from fellowship.extensions import db
from fellowship.uploads import StoredFile
from tests.cycles.helpers import (
    CycleFactory,
    CycleMemberFactory,
    GoalFactory,
    Team,
    cycle_with_team,
)
from tests.factories import AdminFactory, MembershipFactory, StaffFactory

PEOPLE = [
    "lead teacher",
    "team member",
    "partner",
    "staff liaison",
    "other school's lead teacher",
    "staff",
    "admin",
    "fellow",
]


@dataclass
class World:
    team: Team
    goal: Goal
    other_cycle: Cycle
    other_lead: User
    staff: User
    admin: User
    fellow: User

    @property
    def cycle(self) -> Cycle:
        return self.team.cycle

    def person(self, who: str) -> User:
        return {
            "lead teacher": self.team.lead,
            "team member": self.team.member,
            "partner": self.team.partner,
            "staff liaison": self.team.liaison,
            "other school's lead teacher": self.other_lead,
            "staff": self.staff,
            "admin": self.admin,
            "fellow": self.fellow,
        }[who]


def world(**goal_fields: Any) -> World:
    team = cycle_with_team()
    goal = GoalFactory(cycle_id=team.cycle.id, **goal_fields)
    other = CycleFactory()
    other_lead = CycleMemberFactory(cycle_id=other.id, role=CycleRole.LEAD_TEACHER).user_id
    fellow = db.session.get(User, MembershipFactory(role=CohortRole.FELLOW).user_id)
    return World(
        team=team,
        goal=goal,
        other_cycle=other,
        other_lead=db.session.get(User, other_lead),
        staff=StaffFactory(),
        admin=AdminFactory(),
        fellow=fellow,
    )


def goal_form(**overrides: Any) -> dict[str, str]:
    data = {
        "title": "More families from the east side",
        "category": "enrollment_diversity",
        "metric": "Share of kindergarten applicants from the east side",
        "unit": "%",
        "baseline_value": "18,5",
        "baseline_on": "2026-08-15",
        "direction": "raise",
        "target_value": "30",
        "due_on": "2027-06-01",
    }
    data.update(overrides)
    return data


def support_form(**overrides: Any) -> dict[str, str]:
    data = {
        "kind": "coaching",
        "held_on": "2026-10-20",
        "hours": "1,5",
        "participants": "8",
        "topic": "Planning the open house",
        "provider_name": "Bridges Collaborative",
        "goal": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def snapshot() -> dict[str, Any]:
    """The rows the goal and support pages write, to compare before and after a refusal."""
    db.session.expire_all()
    return {
        "goals": [
            tuple(row)
            for row in db.session.execute(
                sa.select(
                    Goal.id,
                    Goal.title,
                    Goal.baseline_value,
                    Goal.target_value,
                    Goal.direction,
                    Goal.status_override,
                    Goal.override_reason,
                    Goal.version,
                ).order_by(Goal.id)
            )
        ],
        "measurements": [
            tuple(row)
            for row in db.session.execute(
                sa.select(Measurement.id, Measurement.value, Measurement.evidence_file_id).order_by(
                    Measurement.id
                )
            )
        ],
        "support": [
            tuple(row)
            for row in db.session.execute(
                sa.select(
                    SupportActivity.id,
                    SupportActivity.hours,
                    SupportActivity.topic,
                    SupportActivity.goal_id,
                ).order_by(SupportActivity.id)
            )
        ],
        "files": db.session.scalar(sa.select(sa.func.count(StoredFile.id))),
        "audit": db.session.scalar(sa.select(sa.func.count(AuditEvent.id))),
    }


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def text_of(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

"""Builders for the plan tests: a cycle with everyone around it, a driver diagram, form data,
and a snapshot of the plan's tables to prove a refused request changed nothing."""

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
    Driver,
    DriverKind,
    EngagementSession,
    ImprovementTest,
)
from fellowship.extensions import db
from tests.conftest import csrf_token
from tests.cycles.helpers import (
    DriverFactory,
    EngagementFactory,
    ImprovementTestFactory,
    SchoolFactory,
    Team,
    cycle_with_team,
)
from tests.factories import MembershipFactory, StaffFactory

PLAN_TABLES = (Cycle, Driver, ImprovementTest, EngagementSession)


@dataclass
class World:
    team: Team
    staff: User
    other_lead: User  # the lead teacher of another school's cycle
    fellow: User
    other: Cycle  # another school's cycle, with a driver, a test and a session
    other_driver: Driver
    other_test: ImprovementTest
    other_session: EngagementSession

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
            "fellow": self.fellow,
        }[who]


def world(**cycle_fields: object) -> World:
    team = cycle_with_team(**cycle_fields)
    other_team = cycle_with_team(school_id=SchoolFactory().id)
    other_driver = DriverFactory(
        cycle_id=other_team.cycle.id, kind=DriverKind.PRIMARY, text="Other school's driver"
    )
    other_idea = DriverFactory(
        cycle_id=other_team.cycle.id,
        parent_id=other_driver.id,
        kind=DriverKind.CHANGE_IDEA,
        text="Other school's change idea",
    )
    return World(
        team=team,
        staff=StaffFactory(name="Sam Staff"),
        other_lead=other_team.lead,
        fellow=db.session.get(User, MembershipFactory(role=CohortRole.FELLOW).user_id),
        other=other_team.cycle,
        other_driver=other_idea,
        other_test=ImprovementTestFactory(cycle_id=other_team.cycle.id, driver_id=other_idea.id),
        other_session=EngagementFactory(cycle_id=other_team.cycle.id),
    )


@dataclass
class Diagram:
    primaries: list[Driver]
    secondaries: list[Driver]
    ideas: list[Driver]


def diagram(cycle: Cycle, primaries: int = 3, secondaries: int = 2, ideas: int = 2) -> Diagram:
    """`primaries` primary drivers, each with `secondaries` secondary drivers, each with
    `ideas` change ideas (positions 0..n-1 among siblings)."""
    made = Diagram([], [], [])
    for p in range(primaries):
        primary = DriverFactory(
            cycle_id=cycle.id, kind=DriverKind.PRIMARY, text=f"Primary {p + 1}", position=p
        )
        made.primaries.append(primary)
        for s in range(secondaries):
            secondary = DriverFactory(
                cycle_id=cycle.id,
                parent_id=primary.id,
                kind=DriverKind.SECONDARY,
                text=f"Secondary {p + 1}.{s + 1}",
                position=s,
            )
            made.secondaries.append(secondary)
            for i in range(ideas):
                made.ideas.append(
                    DriverFactory(
                        cycle_id=cycle.id,
                        parent_id=secondary.id,
                        kind=DriverKind.CHANGE_IDEA,
                        text=f"Idea {p + 1}.{s + 1}.{i + 1}",
                        position=i,
                    )
                )
    return made


def siblings(cycle_id: int, parent_id: int | None) -> list[tuple[int, str]]:
    """(position, text) of the drivers under `parent_id`, as stored."""
    db.session.expire_all()
    parent = Driver.parent_id.is_(None) if parent_id is None else Driver.parent_id == parent_id
    rows = db.session.execute(
        sa.select(Driver.position, Driver.text)
        .where(Driver.cycle_id == cycle_id, parent)
        .order_by(Driver.position, Driver.id)
    )
    return [(position, text) for position, text in rows]


def snapshot() -> dict[str, list[tuple[str, ...]]]:
    """Every row of the plan's tables and the audit log, to prove a request changed nothing."""
    db.session.expire_all()
    tables: dict[str, list[tuple[str, ...]]] = {
        model.__tablename__: sorted(
            tuple(str(value) for value in row)
            for row in db.session.execute(sa.select(sa.inspect(model).local_table))
        )
        for model in PLAN_TABLES
    }
    tables["audit"] = [
        (str(count),) for count in [db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))]
    ]
    return tables


def actions() -> list[str]:
    """The audited actions, oldest first."""
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def form(client: Any, path: str, **fields: object) -> dict[str, object]:
    """Form fields with a valid CSRF token of the client's session."""
    return {"csrf_token": csrf_token(client), **fields}


def post(client: Any, path: str, **fields: object) -> Any:
    return client.post(path, data=form(client, path, **fields))


def page(client: Any, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    """The page's text without tags, whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))

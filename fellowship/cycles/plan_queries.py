"""Read-only selectors for the plan of a cycle: the driver diagram as a tree with each change
idea's tests, the "at a glance" counts, the improvement tests list and the engagement log.
Each page loads what it shows in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import abort

from fellowship.cycles.models import (
    Driver,
    DriverKind,
    EngagementGroup,
    EngagementSession,
    ImprovementTest,
    SupportActivity,
)
from fellowship.db import Page, db, paginate
from fellowship.forms import parse_int
from fellowship.web import MAX_ID

# The driver diagram ---------------------------------------------------------------------------


@dataclass
class DriverNode:
    """A driver with the drivers under it (in order) and, for a change idea, its tests."""

    driver: Driver
    children: list[DriverNode] = field(default_factory=list)
    tests: list[ImprovementTest] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.driver.text

    @property
    def kind(self) -> DriverKind:
        return self.driver.kind

    def count(self) -> int:
        """This driver and every driver under it."""
        return 1 + sum(child.count() for child in self.children)


def drivers_of(cycle_id: int) -> list[Driver]:
    """Every driver of the cycle, siblings in order (one query)."""
    return list(
        db.session.scalars(
            sa.select(Driver)
            .where(Driver.cycle_id == cycle_id)
            .order_by(Driver.position, Driver.id)
        )
    )


def tests_of(cycle_id: int) -> list[ImprovementTest]:
    """Every improvement test of the cycle, oldest first (one query)."""
    return list(
        db.session.scalars(
            sa.select(ImprovementTest)
            .where(ImprovementTest.cycle_id == cycle_id)
            .order_by(
                sa.nulls_last(ImprovementTest.started_on.asc()),
                ImprovementTest.id,
            )
        )
    )


def driver_tree(
    drivers: Sequence[Driver], tests: Iterable[ImprovementTest] = ()
) -> list[DriverNode]:
    """The primary drivers, each with the drivers under it, from the flat list (no query).
    Tests hang under the driver they test."""
    nodes = {driver.id: DriverNode(driver) for driver in drivers}
    roots: list[DriverNode] = []
    for driver in drivers:
        parent = nodes.get(driver.parent_id) if driver.parent_id is not None else None
        if driver.parent_id is None:
            roots.append(nodes[driver.id])
        elif parent is not None:
            parent.children.append(nodes[driver.id])
    for test in tests:
        if test.driver_id is not None and test.driver_id in nodes:
            nodes[test.driver_id].tests.append(test)
    return roots


def subtree_ids(drivers: Sequence[Driver], root_id: int) -> list[int]:
    """The driver `root_id` and every driver under it, the root first (no query)."""
    children: dict[int | None, list[int]] = defaultdict(list)
    for driver in drivers:
        children[driver.parent_id].append(driver.id)
    found = [root_id]
    index = 0
    while index < len(found):
        found.extend(children.get(found[index], []))
        index += 1
    return found


def driver_in_cycle(cycle_id: int, driver_id: int | None) -> Driver:
    """The driver when it belongs to this cycle; 404 otherwise (one query)."""
    if driver_id is None or not 0 < driver_id <= MAX_ID:
        abort(404)
    driver = db.session.get(Driver, driver_id)
    if driver is None or driver.cycle_id != cycle_id:
        abort(404)
    return driver


def change_ideas(cycle_id: int) -> list[tuple[int, str]]:
    """(id, text) of the cycle's change ideas in diagram order (one query)."""
    drivers = drivers_of(cycle_id)
    ordered: list[tuple[int, str]] = []

    def walk(nodes: list[DriverNode]) -> None:
        for node in nodes:
            if node.kind == DriverKind.CHANGE_IDEA:
                ordered.append((node.driver.id, node.text))
            walk(node.children)

    walk(driver_tree(drivers))
    return ordered


@dataclass(frozen=True)
class DeleteSummary:
    below: int  # drivers under it that go with it
    tests: int  # improvement tests that lose their change idea


def delete_summary(driver: Driver) -> DeleteSummary:
    """What deleting a driver takes with it (two queries)."""
    ids = subtree_ids(drivers_of(driver.cycle_id), driver.id)
    tests = db.session.scalar(
        sa.select(sa.func.count(ImprovementTest.id)).where(ImprovementTest.driver_id.in_(ids))
    )
    return DeleteSummary(below=len(ids) - 1, tests=int(tests or 0))


# At a glance -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Glance:
    open_tests: int
    sessions: int
    support_hours: float


def glance(cycle_id: int) -> Glance:
    """Open improvement tests, engagement sessions and support hours of the cycle, in one
    query."""
    open_tests = (
        sa.select(sa.func.count(ImprovementTest.id))
        .where(ImprovementTest.cycle_id == cycle_id, ImprovementTest.decision.is_(None))
        .scalar_subquery()
    )
    sessions = (
        sa.select(sa.func.count(EngagementSession.id))
        .where(EngagementSession.cycle_id == cycle_id)
        .scalar_subquery()
    )
    hours = (
        sa.select(sa.func.coalesce(sa.func.sum(SupportActivity.hours), 0.0))
        .where(SupportActivity.cycle_id == cycle_id)
        .scalar_subquery()
    )
    row = db.session.execute(sa.select(open_tests, sessions, hours)).one()
    return Glance(
        open_tests=int(row[0] or 0), sessions=int(row[1] or 0), support_hours=float(row[2] or 0)
    )


# Improvement tests -------------------------------------------------------------------------


@dataclass(frozen=True)
class PdsaRow:
    test: ImprovementTest
    change_idea: str | None  # the text of the change idea it tests


def tests_list(cycle_id: int) -> list[PdsaRow]:
    """The cycle's tests with their change idea: open ones (no decision yet) first, then the
    decided ones; each group newest first (one query)."""
    rows = db.session.execute(
        sa.select(ImprovementTest, Driver.text)
        .outerjoin(Driver, Driver.id == ImprovementTest.driver_id)
        .where(ImprovementTest.cycle_id == cycle_id)
        .order_by(
            sa.case((ImprovementTest.decision.is_(None), 0), else_=1),
            sa.nulls_first(ImprovementTest.started_on.desc()),
            ImprovementTest.id.desc(),
        )
    )
    return [PdsaRow(test=test, change_idea=text) for test, text in rows]


def pdsa_in_cycle(cycle_id: int, test_id: int) -> ImprovementTest:
    """The test when it belongs to this cycle; 404 otherwise."""
    if not 0 < test_id <= MAX_ID:
        abort(404)
    test = db.session.get(ImprovementTest, test_id)
    if test is None or test.cycle_id != cycle_id:
        abort(404)
    return test


def change_idea_text(test: ImprovementTest) -> str | None:
    if test.driver_id is None:
        return None
    return db.session.scalar(sa.select(Driver.text).where(Driver.id == test.driver_id))


def preselected_change_idea(cycle_id: int, raw: object) -> int | None:
    """`?driver=` of the new-test form when it is one of this cycle's change ideas."""
    driver_id = parse_int(raw)
    if driver_id is None:
        return None
    found = db.session.scalar(
        sa.select(Driver.id).where(
            Driver.id == driver_id,
            Driver.cycle_id == cycle_id,
            Driver.kind == DriverKind.CHANGE_IDEA,
        )
    )
    return found


# Stakeholder engagement ----------------------------------------------------------------------


ENGAGEMENT_PER_PAGE = 25


def engagement_page(cycle_id: int, page: int) -> Page[EngagementSession]:
    """A page of the cycle's sessions, newest first (two queries)."""
    query = (
        sa.select(EngagementSession)
        .where(EngagementSession.cycle_id == cycle_id)
        .order_by(EngagementSession.held_on.desc(), EngagementSession.id.desc())
    )
    return paginate(query, page, ENGAGEMENT_PER_PAGE)


@dataclass(frozen=True)
class GroupTotal:
    group: EngagementGroup
    sessions: int
    participants: int


def engagement_totals(cycle_id: int) -> list[GroupTotal]:
    """Sessions and participants per group (every group, zeros included), one query."""
    rows = db.session.execute(
        sa.select(
            EngagementSession.group,
            sa.func.count(EngagementSession.id),
            sa.func.coalesce(sa.func.sum(EngagementSession.participants), 0),
        )
        .where(EngagementSession.cycle_id == cycle_id)
        .group_by(EngagementSession.group)
    )
    found = {group: (int(count), int(people)) for group, count, people in rows}
    return [GroupTotal(group, *found.get(group, (0, 0))) for group in EngagementGroup]


def session_in_cycle(cycle_id: int, session_id: int) -> EngagementSession:
    if not 0 < session_id <= MAX_ID:
        abort(404)
    session = db.session.get(EngagementSession, session_id)
    if session is None or session.cycle_id != cycle_id:
        abort(404)
    return session

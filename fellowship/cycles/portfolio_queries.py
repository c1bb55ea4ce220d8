"""The portfolio for administrators: every cycle of a school year in one table, and the
year-over-year view. Read-only.

Both pages load in a fixed number of queries whatever the number of cycles:

- `portfolio(...)`: the years that have cycles; the year's cycles with their schools; the
  goals' light fields; (goal id, date, value) tuples of their measurements; support hours
  per cycle (GROUP BY); the reviews of the year's cycles. Six queries.
- `years_overview(...)`: cycles per year (GROUP BY); goals with their latest measurement
  since the baseline (one index lookup per goal); support hours per year (GROUP BY); signed
  reviews per year (GROUP BY). Four queries.

Goal status always comes from `fellowship.cycles.status.goal_status` (the one rule): the
facts are built here from the tuples, the due date defaulting to the end of the school year,
and an override wins. Filtering and sorting happen in Python after the statuses are known
(status counts are not SQL columns).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from fellowship.cycles.models import (
    Cycle,
    CycleStage,
    Goal,
    GoalDirection,
    GoalsReview,
    GoalStatus,
    Measurement,
    ReviewStatus,
    School,
    SupportActivity,
)
from fellowship.cycles.status import GoalFacts, Point, goal_status, is_stale
from fellowship.db import db
from fellowship.school_years import SchoolYear, label_for

# The order of the status columns (and of `PortfolioRow.counts`).
STATUS_ORDER: tuple[GoalStatus, ...] = (
    GoalStatus.MET,
    GoalStatus.ON_TRACK,
    GoalStatus.AT_RISK,
    GoalStatus.OFF_TRACK,
    GoalStatus.NO_DATA,
)
_STATUS_INDEX = {status: i for i, status in enumerate(STATUS_ORDER)}

# A cycle's review, as the portfolio names it: its latest review that is not an amendment.
REVIEW_NONE = "none"
REVIEW_STATES = (REVIEW_NONE, *(status.value for status in ReviewStatus))
_REVIEW_RANK = {state: i for i, state in enumerate(REVIEW_STATES)}
_STAGE_RANK = {stage: i for i, stage in enumerate(CycleStage)}

YES_NO_ANY = ("", "yes", "no")
SORT_KEYS = (
    "school",
    "type",
    "region",
    "stage",
    *(status.value for status in STATUS_ORDER),
    "last",
    "hours",
    "review",
)
# The direction a column sorts in when it is first chosen: counts and hours biggest first.
FIRST_DIRECTION = {
    key: "desc" if key in {"hours", *(s.value for s in STATUS_ORDER)} else "asc"
    for key in SORT_KEYS
}
DEFAULT_SORT = ("school", "asc")


@dataclass(frozen=True)
class Filters:
    """The portfolio's filters, already checked: "" means any."""

    pilot: str = ""  # "", "yes", "no"
    magnet: str = ""
    region: str = ""
    stage: str = ""  # "" or a CycleStage value

    def as_args(self) -> dict[str, str]:
        return {key: value for key, value in vars(self).items() if value}


@dataclass(slots=True)
class ReviewState:
    state: str  # one of REVIEW_STATES
    review_id: int | None = None
    scheduled_for: date | None = None


@dataclass(slots=True)
class PortfolioRow:
    cycle_id: int
    school_id: int
    school: str
    code: str
    is_pilot: bool
    is_magnet: bool
    magnet_theme: str
    region: str
    stage: CycleStage
    counts: list[int] = field(default_factory=lambda: [0] * len(STATUS_ORDER))
    last_measured_on: date | None = None
    stale: bool = False
    support_hours: float = 0.0
    review: ReviewState = field(default_factory=lambda: ReviewState(REVIEW_NONE))

    @property
    def goals(self) -> int:
        return sum(self.counts)


@dataclass
class Portfolio:
    year: SchoolYear | None  # None: no cycle in any year yet
    years: list[SchoolYear]  # every year that has cycles, latest first
    regions: list[str]  # the regions of this year's schools, for the filter
    rows: list[PortfolioRow]  # filtered and sorted
    total: int  # the year's cycles before filtering
    filters: Filters
    sort: str
    direction: str
    today: date

    @property
    def status_totals(self) -> list[int]:
        return [sum(row.counts[i] for row in self.rows) for i in range(len(STATUS_ORDER))]

    @property
    def hours_total(self) -> float:
        return sum(row.support_hours for row in self.rows)


# Parsing the address --------------------------------------------------------------------


def parse_filters(args: Mapping[str, str], regions: list[str]) -> Filters:
    """Filters from GET parameters; anything unknown means "any"."""

    def pick(name: str, allowed: Any) -> str:
        value = str(args.get(name, "") or "")
        return value if value in allowed else ""

    return Filters(
        pilot=pick("pilot", YES_NO_ANY),
        magnet=pick("magnet", YES_NO_ANY),
        region=pick("region", set(regions)),
        stage=pick("stage", {stage.value for stage in CycleStage}),
    )


def parse_sort(sort: str | None, direction: str | None) -> tuple[str, str]:
    """(key, "asc"/"desc"); an unknown key means the default order (by school)."""
    if sort not in SORT_KEYS:
        return DEFAULT_SORT
    assert sort is not None
    if direction not in ("asc", "desc"):
        direction = FIRST_DIRECTION[sort]
    return sort, str(direction)


def years_with_cycles() -> list[SchoolYear]:
    """Every school year that has at least one cycle, latest first (one query)."""
    return list(
        db.session.scalars(
            sa.select(SchoolYear)
            .where(SchoolYear.id.in_(sa.select(Cycle.school_year_id)))
            .order_by(SchoolYear.starts_on.desc())
        )
    )


def choose_year(years: list[SchoolYear], label: str | None, today: date) -> SchoolYear | None:
    """The year asked for when it has cycles; else this school year when it has cycles;
    else the latest year that has cycles (None when there are none at all)."""
    by_label = {year.label: year for year in years}
    if label and label in by_label:
        return by_label[label]
    return by_label.get(label_for(today)) or (years[0] if years else None)


# Goal status from light tuples ------------------------------------------------------------


@dataclass(slots=True)
class _GoalFacts:
    goal_id: int
    cycle_id: int
    facts: GoalFacts
    override: GoalStatus | None


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while building tens of thousands of small objects
    (points, facts, rows) that form no cycles: otherwise it sweeps the whole heap again and
    again as they pile up, which doubled the portfolio's time at 1,000 cycles. Reference
    counting still frees everything; the collector runs as usual afterwards. Nests."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _raw_rows(statement: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """The statement's rows as the driver's plain tuples. SQLAlchemy compiles and binds the
    query; the rows skip its per-row result processing, about three times faster for the
    tens of thousands of rows here. Values come as the driver gives them: dates are `date`
    on PostgreSQL and ISO text on SQLite (see `_day_reader`), enums their string value."""
    result = db.session.connection().execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _day_reader() -> Callable[[Any], date | None]:
    """A date column's raw value as a `date`, each distinct text parsed once."""
    seen: dict[Any, date | None] = {None: None}

    def read(value: Any) -> date | None:
        try:
            return seen[value]
        except KeyError:
            day = seen[value] = (
                value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
            )
            return day

    return read


# A status override as stored (its value, or NULL) -> the status.
_OVERRIDES: dict[Any, GoalStatus | None] = {None: None, **{s.value: s for s in GoalStatus}}


def _goal_facts(year: SchoolYear) -> list[_GoalFacts]:
    """The goals of the year's cycles as the facts the rule needs (light columns only); a
    goal without a due date is due at the end of the school year."""
    rows = _raw_rows(
        sa.select(
            Goal.id,
            Goal.cycle_id,
            Goal.direction,
            Goal.baseline_value,
            Goal.baseline_on,
            Goal.target_value,
            Goal.due_on,
            Goal.status_override,
        )
        .join(Cycle, Cycle.id == Goal.cycle_id)
        .where(Cycle.school_year_id == year.id)
    )
    day = _day_reader()
    directions = {d.value: d for d in GoalDirection}
    overrides = _OVERRIDES
    found = []
    for goal_id, cycle_id, direction, base, base_on, target, due_on, override in rows:
        facts = GoalFacts(
            directions[str(direction)],
            float(base),
            day(base_on) or year.starts_on,
            float(target),
            day(due_on) or year.ends_on,
        )
        found.append(_GoalFacts(goal_id, cycle_id, facts, overrides[override]))
    return found


def _points_by_goal(year: SchoolYear) -> dict[int, list[Point]]:
    """{goal_id: [Point]} oldest first for the goals of the year's cycles, from
    (goal_id, measured_on, value) tuples only: no Measurement objects."""
    rows = _raw_rows(
        sa.select(Measurement.goal_id, Measurement.measured_on, Measurement.value)
        .join(Goal, Goal.id == Measurement.goal_id)
        .join(Cycle, Cycle.id == Goal.cycle_id)
        .where(Cycle.school_year_id == year.id)
        .order_by(Measurement.goal_id, Measurement.measured_on, Measurement.id)
    )
    day = _day_reader()
    points: dict[int, list[Point]] = {}
    current_id, current = -1, list[Point]()
    for goal_id, measured_on, value in rows:
        if goal_id != current_id:
            current_id, current = goal_id, []
            points[goal_id] = current
        current.append(Point(day(measured_on) or date.min, float(value)))
    return points


@dataclass(slots=True)
class CycleGoals:
    """A cycle's goals by status, and the date of its latest measurement."""

    counts: list[int]
    last_measured_on: date | None


def cycle_goal_statuses(year: SchoolYear, today: date) -> dict[int, CycleGoals]:
    """{cycle_id: CycleGoals} for every cycle of the year with goals (two queries)."""
    result: dict[int, CycleGoals] = {}
    with _bulk():
        _tally(_goal_facts(year), _points_by_goal(year), today, result)
    return result


def _tally(
    goals: list[_GoalFacts],
    points: dict[int, list[Point]],
    today: date,
    result: dict[int, CycleGoals],
) -> None:
    for goal in goals:
        entry = result.get(goal.cycle_id)
        if entry is None:
            entry = result[goal.cycle_id] = CycleGoals([0] * len(STATUS_ORDER), None)
        measured = points.get(goal.goal_id, [])
        status = goal_status(goal.facts, measured, today, goal.override)
        entry.counts[_STATUS_INDEX[status]] += 1
        if measured:
            last = measured[-1].on
            if entry.last_measured_on is None or last > entry.last_measured_on:
                entry.last_measured_on = last


# The portfolio ------------------------------------------------------------------------------


def _cycle_rows(year: SchoolYear) -> list[PortfolioRow]:
    rows = db.session.execute(
        sa.select(
            Cycle.id,
            School.id,
            School.name,
            School.code,
            School.is_pilot,
            School.is_magnet,
            School.magnet_theme,
            School.region,
            Cycle.stage,
        )
        .join(School, School.id == Cycle.school_id)
        .where(Cycle.school_year_id == year.id)
    ).all()
    return [PortfolioRow(*row) for row in rows]


def _support_hours(year: SchoolYear) -> dict[int, float]:
    rows = db.session.execute(
        sa.select(SupportActivity.cycle_id, sa.func.sum(SupportActivity.hours))
        .join(Cycle, Cycle.id == SupportActivity.cycle_id)
        .where(Cycle.school_year_id == year.id)
        .group_by(SupportActivity.cycle_id)
    ).all()
    return {cycle_id: float(hours or 0) for cycle_id, hours in rows}


def _reviews(year: SchoolYear) -> dict[int, ReviewState]:
    """{cycle_id: its latest review that is not an amendment} (an amended review says so
    through its own status)."""
    rows = db.session.execute(
        sa.select(
            GoalsReview.cycle_id, GoalsReview.id, GoalsReview.status, GoalsReview.scheduled_for
        )
        .join(Cycle, Cycle.id == GoalsReview.cycle_id)
        .where(Cycle.school_year_id == year.id, GoalsReview.amends_review_id.is_(None))
        .order_by(GoalsReview.cycle_id, GoalsReview.scheduled_for, GoalsReview.id)
    ).all()
    found: dict[int, ReviewState] = {}
    for cycle_id, review_id, status, scheduled_for in rows:  # later ones replace earlier
        found[cycle_id] = ReviewState(ReviewStatus(status).value, review_id, scheduled_for)
    return found


def _matches(row: PortfolioRow, filters: Filters) -> bool:
    if filters.pilot and row.is_pilot != (filters.pilot == "yes"):
        return False
    if filters.magnet and row.is_magnet != (filters.magnet == "yes"):
        return False
    if filters.region and row.region != filters.region:
        return False
    return not (filters.stage and row.stage.value != filters.stage)


def _sort_key(key: str) -> Callable[[PortfolioRow], Any]:
    if key in _STATUS_KEYS:
        index = _STATUS_KEYS[key]
        return lambda row: row.counts[index]
    return _SORT_KEYS[key]


_STATUS_KEYS = {status.value: i for i, status in enumerate(STATUS_ORDER)}
_SORT_KEYS: dict[str, Callable[[PortfolioRow], Any]] = {
    "school": lambda row: row.school.casefold(),
    "type": lambda row: (not row.is_pilot, not row.is_magnet, row.magnet_theme.casefold()),
    "region": lambda row: (row.region == "", row.region.casefold()),
    "stage": lambda row: _STAGE_RANK[row.stage],
    "last": lambda row: (row.last_measured_on is not None, row.last_measured_on or date.min),
    "hours": lambda row: row.support_hours,
    "review": lambda row: (
        _REVIEW_RANK[row.review.state],
        row.review.scheduled_for or date.min,
    ),
}


def sort_rows(rows: list[PortfolioRow], key: str, direction: str) -> list[PortfolioRow]:
    """Sorted by the column, ties by school name (always A to Z), then by cycle."""
    ordered = sorted(rows, key=lambda row: (row.school.casefold(), row.cycle_id))
    ordered.sort(key=_sort_key(key), reverse=direction == "desc")
    return ordered


def portfolio(
    args: Mapping[str, str],
    today: date,
) -> Portfolio:
    """The portfolio asked for by the GET parameters `args` (year, pilot, magnet, region,
    stage, sort, dir); unknown values fall back to the defaults. Six queries."""
    years = years_with_cycles()
    year = choose_year(years, args.get("year"), today)
    sort, direction = parse_sort(args.get("sort"), args.get("dir"))
    if year is None:
        return Portfolio(None, [], [], [], 0, Filters(), sort, direction, today)
    rows = _cycle_rows(year)
    regions = sorted({row.region for row in rows if row.region}, key=str.casefold)
    filters = parse_filters(args, regions)
    with _bulk():
        statuses = cycle_goal_statuses(year, today)
        hours = _support_hours(year)
        reviews = _reviews(year)
        shown = []
        for row in rows:
            if not _matches(row, filters):
                continue
            goals = statuses.get(row.cycle_id)
            if goals is not None:
                row.counts = goals.counts
                row.last_measured_on = goals.last_measured_on
            # A closed cycle is a record: nobody is expected to measure it any more.
            row.stale = row.stage != CycleStage.CLOSED and is_stale(row.last_measured_on, today)
            row.support_hours = hours.get(row.cycle_id, 0.0)
            row.review = reviews.get(row.cycle_id) or row.review
            shown.append(row)
        shown = sort_rows(shown, sort, direction)
    return Portfolio(
        year=year,
        years=years,
        regions=regions,
        rows=shown,
        total=len(rows),
        filters=filters,
        sort=sort,
        direction=direction,
        today=today,
    )


# Year over year -------------------------------------------------------------------------------


@dataclass(slots=True)
class YearFigures:
    year: SchoolYear
    cycles: int = 0
    pilots: int = 0
    magnets: int = 0
    goals: int = 0
    goals_met: int = 0
    support_hours: float = 0.0
    reviews_signed: int = 0

    @property
    def share_met(self) -> float | None:
        """Goals met as a share of goals (0-1), None without goals."""
        return self.goals_met / self.goals if self.goals else None


def years_overview(today: date) -> list[YearFigures]:
    """Per school year with cycles, oldest first: schools, pilots, magnets, goals, goals met,
    support hours and signed reviews. Four queries.

    A goal counts as met when the status rule says "met" from its latest measurement since
    the baseline (or a person set it to met by hand): "met" depends on that measurement
    alone, so the rule is asked with it rather than with every measurement.
    """
    rows = db.session.execute(
        sa.select(
            SchoolYear,
            sa.func.count(Cycle.id),
            sa.func.sum(sa.case((School.is_pilot, 1), else_=0)),
            sa.func.sum(sa.case((School.is_magnet, 1), else_=0)),
        )
        .join(Cycle, Cycle.school_year_id == SchoolYear.id)
        .join(School, School.id == Cycle.school_id)
        .group_by(SchoolYear.id)
        .order_by(SchoolYear.starts_on)
    ).all()
    figures = {
        year.id: YearFigures(year, int(cycles), int(pilots or 0), int(magnets or 0))
        for year, cycles, pilots, magnets in rows
    }
    if not figures:
        return []

    # Each goal's latest measurement since its baseline (ties: the last recorded), found
    # through the (goal_id, measured_on) index: one small lookup per goal.
    since = aliased(Measurement)
    latest_id = (
        sa.select(since.id)
        .where(since.goal_id == Goal.id, since.measured_on > Goal.baseline_on)
        .order_by(since.measured_on.desc(), since.id.desc())
        .limit(1)
        .correlate(Goal)
        .scalar_subquery()
    )
    goals = _raw_rows(
        sa.select(
            Cycle.school_year_id,
            Goal.direction,
            Goal.baseline_value,
            Goal.baseline_on,
            Goal.target_value,
            Goal.due_on,
            Goal.status_override,
            Measurement.measured_on,
            Measurement.value,
        )
        .join(Cycle, Cycle.id == Goal.cycle_id)
        .outerjoin(Measurement, Measurement.id == latest_id)
    )
    day = _day_reader()
    directions = {d.value: d for d in GoalDirection}
    overrides = _OVERRIDES
    with _bulk():
        for year_id, direction, base, base_on, target, due_on, override, on, value in goals:
            entry = figures[year_id]
            entry.goals += 1
            facts = GoalFacts(
                directions[str(direction)],
                float(base),
                day(base_on) or entry.year.starts_on,
                float(target),
                day(due_on) or entry.year.ends_on,
            )
            measured = day(on)
            points = [] if measured is None else [Point(measured, float(value))]
            status = goal_status(facts, points, today, overrides[override])
            entry.goals_met += status == GoalStatus.MET

    for year_id, hours in db.session.execute(
        sa.select(Cycle.school_year_id, sa.func.sum(SupportActivity.hours))
        .join(Cycle, Cycle.id == SupportActivity.cycle_id)
        .group_by(Cycle.school_year_id)
    ):
        figures[year_id].support_hours = float(hours or 0)

    for year_id, signed in db.session.execute(
        sa.select(Cycle.school_year_id, sa.func.count(sa.distinct(GoalsReview.cycle_id)))
        .join(Cycle, Cycle.id == GoalsReview.cycle_id)
        .where(
            GoalsReview.status.in_([ReviewStatus.SIGNED, ReviewStatus.AMENDED]),
            GoalsReview.amends_review_id.is_(None),
        )
        .group_by(Cycle.school_year_id)
    ):
        figures[year_id].reviews_signed = int(signed)
    return list(figures.values())

"""Is each fellow being coached? The caseload rules, and the aggregate queries behind them.

The rules (the caseload page explains them in the same words):

- A check-in **counts** for a fellow when it was held with that fellow in that cohort and it
  is shared, or it is a draft written by the fellow's current coach. A draft of another coach
  does not count: nobody but its writer knows it exists.
- **Days since the last check-in** = today (in the viewer's time zone) − the latest `held_on`
  of a counted check-in. A fellow never checked in counts from the day they were assigned to
  their current coach (`CoachAssignment.starts_on`). A date in the future counts as today
  (days are never below 0).
- **Status** against the cohort's rhythm R (`Cohort.checkin_rhythm_days`): *overdue* when
  days > R; *due soon* when days > R − 3, i.e. the next check-in falls due within three days
  (a fixed three days rather than a share of R, so a coach always has the same notice to
  book one); *on track* otherwise.
- **Open action items**: not done, whoever owns them (fellow or coach), on counted
  check-ins. **Overdue action items**: open ones due before today.
- A coach's **caseload**: the fellows they coach now (the open `CoachAssignment` row) whose
  fellow membership of the cohort is active.
- The staff **rhythm** counts shared check-ins only (staff see that a shared check-in
  happened, never a draft) over the last twelve months up to this one, within the cohort's
  dates; a coach's average days between check-ins pools the gaps between consecutive
  check-ins with the same fellow over those months.

The pure functions (`rhythm_status`, `days_since`, `sort_caseload`, `rhythm_months`,
`average_gap`) hold the rules; `caseload` and `cohort_rhythm` read what they need in a fixed
number of aggregate queries (one and four), whatever the number of fellows, check-ins or
months. Private notes are never selected here.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from fellowship.auth.models import User
from fellowship.coaching.models import ActionItem, CheckIn
from fellowship.cohorts.models import (
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    MembershipStatus,
)
from fellowship.db import db

DUE_SOON_DAYS = 3
RHYTHM_MONTHS = 12


class RhythmStatus(enum.StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


# Higher is more urgent: the default caseload order puts overdue first.
SEVERITY = {RhythmStatus.ON_TRACK: 0, RhythmStatus.DUE_SOON: 1, RhythmStatus.OVERDUE: 2}


# The rules --------------------------------------------------------------------------------


def local_today(now: datetime, zone: str) -> date:
    """Today's date where the viewer is (UTC when their zone is unknown)."""
    try:
        return now.astimezone(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


def days_since(today: date, last_checkin_on: date | None, assigned_on: date) -> int:
    """Days since the last counted check-in, or since the assignment when there was none."""
    since = last_checkin_on if last_checkin_on is not None else assigned_on
    return max(0, (today - since).days)


def rhythm_status(days: int, rhythm_days: int) -> RhythmStatus:
    """Overdue past the rhythm; due soon in its last three days; on track before."""
    if days > rhythm_days:
        return RhythmStatus.OVERDUE
    if days > rhythm_days - DUE_SOON_DAYS:
        return RhythmStatus.DUE_SOON
    return RhythmStatus.ON_TRACK


def _counted(coach: Any) -> sa.ColumnElement[bool]:
    """A check-in counts when shared, or when it is a draft of `coach` (an id or a column)."""
    return sa.or_(CheckIn.shared_at.is_not(None), CheckIn.coach_id == coach)


# A coach's caseload -------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadRow:
    fellow_id: int
    name: str
    assigned_on: date
    last_checkin_on: date | None
    days: int
    status: RhythmStatus
    open_items: int
    overdue_items: int


SORT_KEYS = ("name", "days", "status", "open", "overdue")
DEFAULT_SORT = ("status", "desc")
# The direction a column sorts in when first chosen: names A to Z, numbers largest first.
FIRST_DIRECTION = {
    "name": "asc",
    "days": "desc",
    "status": "desc",
    "open": "desc",
    "overdue": "desc",
}


def parse_sort(sort: str | None, direction: str | None) -> tuple[str, str]:
    """The sort column and direction from the query string; the default for anything else."""
    if sort not in SORT_KEYS:
        return DEFAULT_SORT
    if direction not in ("asc", "desc"):
        direction = FIRST_DIRECTION[sort]
    return sort, direction


def _sort_key(sort: str) -> Any:
    keys: dict[str, Any] = {
        "name": lambda r: r.name.casefold(),
        "days": lambda r: r.days,
        # Within a status, the longest wait first (descending) or last (ascending).
        "status": lambda r: (SEVERITY[r.status], r.days),
        "open": lambda r: r.open_items,
        "overdue": lambda r: r.overdue_items,
    }
    return keys[sort]


def sort_caseload(rows: Iterable[CaseloadRow], sort: str, direction: str) -> list[CaseloadRow]:
    """Rows by one column; ties always by name, A to Z (two stable sorts)."""
    by_name = sorted(rows, key=lambda r: (r.name.casefold(), r.fellow_id))
    return sorted(by_name, key=_sort_key(sort), reverse=direction == "desc")


def caseload(
    cohort: Cohort, coach_id: int, today: date, *, include_drafts: bool = True
) -> list[CaseloadRow]:
    """The coach's current fellows with their rhythm and action items (one query).

    `include_drafts`: count the coach's own drafts. Only the coach sees their drafts; when
    staff look at a coach's caseload, only shared check-ins count.

    Rows come by name; `sort_caseload` puts them in the order the page asks for.
    """
    fellows = (
        sa.select(CoachAssignment.fellow_id)
        .where(
            CoachAssignment.cohort_id == cohort.id,
            CoachAssignment.coach_id == coach_id,
            CoachAssignment.ends_on.is_(None),
        )
        .scalar_subquery()
    )
    counted = sa.and_(
        CheckIn.cohort_id == cohort.id,
        CheckIn.fellow_id.in_(fellows),
        _counted(coach_id) if include_drafts else CheckIn.shared_at.is_not(None),
    )
    last = (
        sa.select(CheckIn.fellow_id, sa.func.max(CheckIn.held_on).label("last_on"))
        .where(counted)
        .group_by(CheckIn.fellow_id)
        .subquery()
    )
    items = (
        sa.select(
            CheckIn.fellow_id,
            sa.func.count(ActionItem.id).label("open"),
            sa.func.sum(sa.case((ActionItem.due_on < today, 1), else_=0)).label("overdue"),
        )
        .join(ActionItem, ActionItem.checkin_id == CheckIn.id)
        .where(counted, ActionItem.done_at.is_(None))
        .group_by(CheckIn.fellow_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            User.id,
            User.name,
            CoachAssignment.starts_on,
            last.c.last_on,
            items.c.open,
            items.c.overdue,
        )
        .select_from(CoachAssignment)
        .join(User, User.id == CoachAssignment.fellow_id)
        .join(
            CohortMembership,
            sa.and_(
                CohortMembership.cohort_id == CoachAssignment.cohort_id,
                CohortMembership.user_id == CoachAssignment.fellow_id,
                CohortMembership.role == CohortRole.FELLOW,
                CohortMembership.status == MembershipStatus.ACTIVE,
            ),
        )
        .outerjoin(last, last.c.fellow_id == User.id)
        .outerjoin(items, items.c.fellow_id == User.id)
        .where(
            CoachAssignment.cohort_id == cohort.id,
            CoachAssignment.coach_id == coach_id,
            CoachAssignment.ends_on.is_(None),
        )
        .order_by(sa.func.lower(User.name), User.id)
    )
    result = []
    for fellow_id, name, assigned_on, last_on, open_items, overdue_items in rows:
        days = days_since(today, last_on, assigned_on)
        result.append(
            CaseloadRow(
                fellow_id=fellow_id,
                name=name,
                assigned_on=assigned_on,
                last_checkin_on=last_on,
                days=days,
                status=rhythm_status(days, cohort.checkin_rhythm_days),
                open_items=int(open_items or 0),
                overdue_items=int(overdue_items or 0),
            )
        )
    return result


# Rhythm across the cohort ------------------------------------------------------------------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def rhythm_months(
    starts_on: date, ends_on: date, today: date, count: int = RHYTHM_MONTHS
) -> list[date]:
    """The first days of the months shown: the last `count` months up to this one, within
    the cohort's dates (a cohort three months old shows three; an ended one its last year)."""
    last = _month_start(min(today, ends_on))
    first = max(_month_start(starts_on), _add_months(last, -(count - 1)))
    months = []
    month = first
    while month <= last:
        months.append(month)
        month = _add_months(month, 1)
    return months


def average_gap(pairs: Iterable[tuple[int, date, date]]) -> float | None:
    """Average days between consecutive check-ins of the same coach and fellow.

    `pairs` holds (check-ins, first held_on, last held_on) per coach-and-fellow pair: the
    gaps of one pair add up to last − first, over check-ins − 1 gaps. None without any gap.
    """
    days = gaps = 0
    for count, first, last in pairs:
        if count >= 2:
            days += (last - first).days
            gaps += count - 1
    return round(days / gaps, 1) if gaps else None


@dataclass
class FellowRhythm:
    fellow_id: int
    name: str
    coach_id: int | None
    coach_name: str | None
    last_checkin_on: date | None
    days: int | None  # None: no coach, so no rhythm to keep
    status: RhythmStatus | None
    monthly: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.monthly)


@dataclass
class CoachTotals:
    coach_id: int
    name: str
    fellows: int = 0
    last_30_days: int = 0
    last_90_days: int = 0
    average_gap_days: float | None = None
    overdue_fellows: int = 0


@dataclass
class Rhythm:
    months: list[date]
    fellows: list[FellowRhythm]
    coaches: list[CoachTotals]

    @property
    def overdue(self) -> list[FellowRhythm]:
        """Overdue fellows, the longest wait first."""
        rows = [f for f in self.fellows if f.status == RhythmStatus.OVERDUE]
        return sorted(rows, key=lambda f: -(f.days or 0))

    @property
    def without_coach(self) -> list[FellowRhythm]:
        return [f for f in self.fellows if f.coach_id is None]

    @property
    def monthly_totals(self) -> list[int]:
        return [sum(f.monthly[i] for f in self.fellows) for i in range(len(self.months))]

    @property
    def total(self) -> int:
        return sum(self.monthly_totals)


def cohort_rhythm(cohort: Cohort, today: date) -> Rhythm:
    """Shared check-ins per active fellow per month, who is overdue, and per-coach totals.

    Four queries: the fellows with their current coach and last counted check-in; the
    cohort's active coaches; shared check-ins per fellow and month; and per coach and fellow
    (first and last day, for the average gap; how many in the last 30 and 90 days).
    """
    months = rhythm_months(cohort.starts_on, cohort.ends_on, today)
    fellows = _fellows_with_coach(cohort, today)
    coaches = {
        coach_id: CoachTotals(coach_id, name)
        for coach_id, name in db.session.execute(
            sa.select(User.id, User.name)
            .join(CohortMembership, CohortMembership.user_id == User.id)
            .where(
                CohortMembership.cohort_id == cohort.id,
                CohortMembership.role == CohortRole.COACH,
                CohortMembership.status == MembershipStatus.ACTIVE,
            )
        )
    }
    # A coach who left the cohort but still has fellows assigned is listed too.
    for fellow in fellows:
        if fellow.coach_id is None:
            continue
        if fellow.coach_id not in coaches:
            coaches[fellow.coach_id] = CoachTotals(fellow.coach_id, fellow.coach_name or "")
        coaches[fellow.coach_id].fellows += 1
        coaches[fellow.coach_id].overdue_fellows += fellow.status == RhythmStatus.OVERDUE

    column = {(month.year, month.month): i for i, month in enumerate(months)}
    by_fellow = {fellow.fellow_id: fellow for fellow in fellows}
    for fellow in fellows:
        fellow.monthly = [0] * len(months)
    for fellow_id, year, month, count in _monthly_counts(cohort.id, months):
        if fellow_id in by_fellow:
            by_fellow[fellow_id].monthly[column[int(year), int(month)]] = int(count)
    by_coach: dict[int, list[tuple[int, date, date]]] = defaultdict(list)
    for coach_id, count, first, last, in_30, in_90 in _pair_counts(cohort.id, months, today):
        by_coach[coach_id].append((int(count), first, last))
        if coach_id in coaches:
            coaches[coach_id].last_30_days += int(in_30 or 0)
            coaches[coach_id].last_90_days += int(in_90 or 0)
    for coach_id, totals in coaches.items():
        totals.average_gap_days = average_gap(by_coach.get(coach_id, []))
    ordered = sorted(coaches.values(), key=lambda c: (c.name.casefold(), c.coach_id))
    return Rhythm(months=months, fellows=fellows, coaches=ordered)


def _fellows_with_coach(cohort: Cohort, today: date) -> list[FellowRhythm]:
    """Active fellows by name, with their current coach and last counted check-in."""
    last = (
        sa.select(CheckIn.fellow_id, sa.func.max(CheckIn.held_on).label("last_on"))
        # Staff read this page: drafts are the coach's own business and never count here.
        .where(CheckIn.cohort_id == cohort.id, CheckIn.shared_at.is_not(None))
        .group_by(CheckIn.fellow_id)
        .subquery()
    )
    coach = aliased(User)
    rows = db.session.execute(
        sa.select(
            User.id,
            User.name,
            CoachAssignment.coach_id,
            coach.name,
            CoachAssignment.starts_on,
            last.c.last_on,
        )
        .select_from(CohortMembership)
        .join(User, User.id == CohortMembership.user_id)
        .outerjoin(
            CoachAssignment,
            sa.and_(
                CoachAssignment.cohort_id == CohortMembership.cohort_id,
                CoachAssignment.fellow_id == CohortMembership.user_id,
                CoachAssignment.ends_on.is_(None),
            ),
        )
        .outerjoin(coach, coach.id == CoachAssignment.coach_id)
        .outerjoin(last, last.c.fellow_id == User.id)
        .where(
            CohortMembership.cohort_id == cohort.id,
            CohortMembership.role == CohortRole.FELLOW,
            CohortMembership.status == MembershipStatus.ACTIVE,
        )
        .order_by(sa.func.lower(User.name), User.id)
    )
    result = []
    for fellow_id, name, coach_id, coach_name, assigned_on, last_on in rows:
        days = status = None
        if coach_id is not None:
            days = days_since(today, last_on, assigned_on)
            status = rhythm_status(days, cohort.checkin_rhythm_days)
        result.append(FellowRhythm(fellow_id, name, coach_id, coach_name, last_on, days, status))
    return result


def _shared_in(cohort_id: int, months: list[date]) -> sa.ColumnElement[bool]:
    return sa.and_(
        CheckIn.cohort_id == cohort_id,
        CheckIn.shared_at.is_not(None),
        CheckIn.held_on >= months[0],
        CheckIn.held_on < _add_months(months[-1], 1),
    )


def _monthly_counts(cohort_id: int, months: list[date]) -> list[Any]:
    """(fellow_id, year, month, shared check-ins) for the months shown."""
    if not months:
        return []
    year = sa.extract("year", CheckIn.held_on)
    month = sa.extract("month", CheckIn.held_on)
    return list(
        db.session.execute(
            sa.select(CheckIn.fellow_id, year, month, sa.func.count(CheckIn.id))
            .where(_shared_in(cohort_id, months))
            .group_by(CheckIn.fellow_id, year, month)
        )
    )


def _pair_counts(cohort_id: int, months: list[date], today: date) -> list[Any]:
    """(coach_id, check-ins, first day, last day, in the last 30 days, in the last 90 days)
    per coach and fellow, for the months shown: the per-coach totals and average gaps."""
    if not months:
        return []

    def since(days: int) -> Any:
        window = sa.and_(CheckIn.held_on > today - timedelta(days=days), CheckIn.held_on <= today)
        return sa.func.sum(sa.case((window, 1), else_=0))

    return list(
        db.session.execute(
            sa.select(
                CheckIn.coach_id,
                sa.func.count(CheckIn.id),
                sa.func.min(CheckIn.held_on),
                sa.func.max(CheckIn.held_on),
                since(30),
                since(90),
            )
            .where(_shared_in(cohort_id, months))
            .group_by(CheckIn.coach_id, CheckIn.fellow_id)
        )
    )

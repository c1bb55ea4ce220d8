"""Setting cycles up: opening a school's cycle for a year, its team, and opening next year's
cycle from this year's (for one school, or for every school at once).

Carrying a cycle forward (`plan_next_cycles` then `carry_forward`, the one function both
"open next year" routes use):

- the new cycle is the school's cycle for the following school year, in planning, with
  `previous_cycle_id` pointing back; the initiative (title, challenge, root causes, aim) and
  the driver diagram (the same tree, new rows) are copied, and so is the team, except people
  whose account is deactivated (the preview lists them);
- goals: when the cycle has a frozen goals review (the one frozen last: an amendment
  supersedes what it amends), next year's goals are the ones agreed there, read from the
  review's snapshot (what both signed), in their order: title, category, metric, unit,
  target, direction, due date and the baseline as agreed — written in the review, or, for a
  goal continuing one of this year's, that goal's latest value when the review was signed.
  A measurement recorded or a goal deleted after the signing changes nothing. A new goal
  without a baseline cannot be opened (a goal needs one): the review needs an amendment
  first. (A snapshot without next year's goals — made by hand, or before they were
  recorded — falls back to the review's rows.);
- with no frozen review, every goal is carried forward as it is, with its latest measurement
  as the new baseline (its old baseline when never measured), its due date a year later,
  and no status override;
- every goal must keep the goal rules of the new year: a goal whose baseline already meets
  its target (raise, or lower) is left out and listed ("met last year"), and a due date the
  new year does not allow is dropped (the goal is due at the end of the school year) and
  said so; the rest of the cycle still opens;
- it is refused when the school is not active, when the school already has a cycle for next
  year, or when next year is beyond the last school year cycles can have.

Planning reads a fixed number of queries for any number of cycles and writes nothing, so
the previews (GET) show exactly what the POST will do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from fellowship import audit
from fellowship.auth import services as accounts
from fellowship.auth.models import User
from fellowship.cycles import goal_services, queries, review_queries
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    CycleRole,
    CycleStage,
    Driver,
    Goal,
    GoalCategory,
    GoalDirection,
    GoalsReview,
    Measurement,
    ProposedGoal,
    School,
)
from fellowship.cycles.setup_queries import role_rank
from fellowship.db import db
from fellowship.school_years import SchoolYear, get_or_create, label_for, parse_label
from fellowship.web import format_number

T = TypeVar("T")

MAX_ORGANISATION = 200
YEAR_SHAPE = _l("Enter the school year like 2026-27.")
SCHOOL_NEEDED = _l("Choose the school.")
ORGANISATION_NEEDED = _l("Enter the partner's organisation.")
ORGANISATION_TOO_LONG = _l("Keep the organisation to 200 characters or fewer.")
FIRST_YEAR = 1950  # the school years cycles may be opened for: 1950-51 …
LAST_YEAR = 2199  # … to 2199-00


class SetupError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, field: str | None, message: str, *, cycle_id: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.cycle_id = cycle_id  # the cycle that is already there, when that is the refusal


def year_bounds(label: str) -> tuple[date, date] | None:
    """`parse_label` for a school year a cycle may be opened for: ASCII digits only (it
    reads full-width digits as a year too), starting in 1950 to 2199."""
    bounds = parse_label(label) if label.isascii() else None
    if bounds is None or not FIRST_YEAR <= bounds[0].year <= LAST_YEAR:
        return None
    return bounds


def next_year_label(label: str) -> str:
    """ "2026-27" -> "2027-28" (check it with `year_bounds`: it may be beyond the last year
    cycles can have)."""
    bounds = parse_label(label)
    if bounds is None:
        raise ValueError(f"not a school year label: {label!r}")
    return label_for(date(bounds[0].year + 1, bounds[0].month, 1))


# Opening a cycle ----------------------------------------------------------------------------


def open_cycle(actor: User, school: School | None, label: str) -> Cycle:
    """The school's cycle for the school year `label`, in planning (audited)."""
    label = (label or "").strip()
    if school is None:
        raise SetupError("school", str(SCHOOL_NEEDED))
    if not school.is_active:
        raise SetupError(
            "school",
            _(
                "%(school)s is not active: make it active before opening a cycle.",
                school=school.name,
            ),
        )
    if year_bounds(label) is None:
        raise SetupError("school_year", str(YEAR_SHAPE))
    year = get_or_create(label)
    if _cycle_of(school, year) is not None:
        raise _taken(school, year)
    cycle = Cycle(school_id=school.id, school_year_id=year.id, stage=CycleStage.PLANNING)
    try:
        with db.session.begin_nested():  # a double click opens it once: the second is refused
            db.session.add(cycle)
    except sa.exc.IntegrityError as error:
        raise _taken(school, year) from error
    audit.record(actor, "cycle.opened", cycle, details={"school_id": school.id, "year": year.label})
    return cycle


def _cycle_of(school: School, year: SchoolYear) -> int | None:
    return db.session.scalar(
        sa.select(Cycle.id).where(Cycle.school_id == school.id, Cycle.school_year_id == year.id)
    )


def _taken(school: School, year: SchoolYear) -> SetupError:
    return SetupError(
        "school_year",
        _(
            "%(school)s already has a cycle for %(year)s. Choose another year, or open "
            "that cycle from the school's page.",
            school=school.name,
            year=year.label,
        ),
        cycle_id=_cycle_of(school, year),
    )


# The team -----------------------------------------------------------------------------------


def _organisation(role: CycleRole, organisation: str) -> str:
    """A partner's organisation (needed); other roles have none."""
    if role != CycleRole.PARTNER:
        return ""
    cleaned = " ".join((organisation or "").split())
    if not cleaned:
        raise SetupError("organisation", str(ORGANISATION_NEEDED))
    if len(cleaned) > MAX_ORGANISATION:
        raise SetupError("organisation", str(ORGANISATION_TOO_LONG))
    return cleaned


def add_member(
    actor: User, cycle: Cycle, *, email: str, role: CycleRole, organisation: str = ""
) -> CycleMembership:
    """Put an existing, active account on the cycle's team in a role (audited)."""
    address = accounts.normalize_email(email or "")
    person = accounts.find_user_by_email(address) if address else None
    if person is None:
        raise SetupError(
            "email",
            _(
                "No account has the address %(email)s. Invite the person first (People → "
                "Invite a person), then add them here.",
                email=address,
            ),
        )
    if not person.is_active:
        raise SetupError(
            "email",
            _(
                "The account of %(email)s is deactivated. Reactivate it first.",
                email=address,
            ),
        )
    held = db.session.scalar(
        sa.select(CycleMembership).where(
            CycleMembership.cycle_id == cycle.id, CycleMembership.user_id == person.id
        )
    )
    if held is not None:
        raise SetupError(
            "email",
            _(
                "%(name)s is already on this cycle's team. Change their role in the list.",
                name=person.name,
            ),
        )
    membership = CycleMembership(
        cycle_id=cycle.id,
        user_id=person.id,
        role=role,
        organisation=_organisation(role, organisation),
    )
    db.session.add(membership)
    db.session.flush()
    audit.record(
        actor,
        "cycle.member_added",
        person,
        details={"cycle_id": cycle.id, "role": role.value, "organisation": membership.organisation},
    )
    return membership


def update_member(
    actor: User,
    cycle: Cycle,
    membership: CycleMembership,
    *,
    role: CycleRole,
    organisation: str = "",
) -> bool:
    """Change a member's role (and a partner's organisation); False when nothing changed."""
    if membership.cycle_id != cycle.id:
        raise SetupError(None, _("This person is not on this cycle's team."))
    cleaned = _organisation(role, organisation)
    before = (membership.role, membership.organisation)
    if before == (role, cleaned):
        return False
    membership.role = role
    membership.organisation = cleaned
    db.session.flush()
    audit.record(
        actor,
        "cycle.member_changed",
        db.session.get(User, membership.user_id),
        details={
            "cycle_id": cycle.id,
            "role_from": before[0].value,
            "role_to": role.value,
            "organisation": cleaned,
        },
    )
    return True


def remove_member(actor: User, cycle: Cycle, membership: CycleMembership) -> None:
    if membership.cycle_id != cycle.id:
        raise SetupError(None, _("This person is not on this cycle's team."))
    audit.record(
        actor,
        "cycle.member_removed",
        db.session.get(User, membership.user_id),
        details={"cycle_id": cycle.id, "role": membership.role.value},
    )
    db.session.delete(membership)
    db.session.flush()


# Next year's cycle: planning ------------------------------------------------------------------

FROM_REVIEW = "review"  # next year's goals agreed in the frozen goals review
CARRIED = "carried"  # this year's goals carried forward (no frozen review)

BASELINE_AGREED = "agreed"  # written in the review
BASELINE_MEASURED = "measured"  # the continued goal's latest measurement
BASELINE_KEPT = "kept"  # the continued goal's own baseline (never measured)


@dataclass(frozen=True)
class GoalDraft:
    """A goal of next year's cycle, before it is saved."""

    title: str
    category: GoalCategory
    metric: str
    unit: str
    baseline_value: float
    baseline_on: date
    target_value: float
    direction: GoalDirection
    due_on: date | None
    carried_from_goal_id: int | None
    baseline_source: str


@dataclass(frozen=True)
class LeftOut:
    """A goal that is not opened in next year's cycle, and why."""

    title: str
    reason: str


@dataclass
class NextPlan:
    """What opening next year's cycle from `cycle` would make."""

    cycle: Cycle
    school: School
    year: SchoolYear
    next_label: str
    exists: Cycle | None = None  # the school's cycle for next year, when there is one
    goals_from: str = CARRIED
    review: GoalsReview | None = None
    goals: list[GoalDraft] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)  # goals that break a goal rule
    notices: list[str] = field(default_factory=list)  # what was changed to keep the rules
    drivers: list[Driver] = field(default_factory=list)
    team: list[tuple[CycleMembership, User]] = field(default_factory=list)
    deactivated: list[tuple[CycleMembership, User]] = field(default_factory=list)  # not copied
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.exists is None and not self.problems

    @property
    def refusal(self) -> str | None:
        """Why this cycle cannot be carried forward, in one sentence (None: it can)."""
        if self.exists is not None:
            return _(
                "%(school)s already has a cycle for %(year)s.",
                school=self.school.name,
                year=self.next_label,
            )
        return " ".join(self.problems) or None


def _a_year_later(day: date | None) -> date | None:
    if day is None:
        return None
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


@dataclass
class _Loaded:
    """What planning reads for a batch of cycles, keyed by cycle id."""

    today: date
    review: dict[int, GoalsReview] = field(default_factory=dict)  # the one frozen last
    proposed: dict[int, list[ProposedGoal]] = field(default_factory=dict)  # by review id
    goals: dict[int, list[Goal]] = field(default_factory=dict)
    measured: dict[int, list[Measurement]] = field(default_factory=dict)  # by goal id
    drivers: dict[int, list[Driver]] = field(default_factory=dict)
    team: dict[int, list[tuple[CycleMembership, User]]] = field(default_factory=dict)


def _grouped(rows: Iterable[T], key: Callable[[T], int]) -> dict[int, list[T]]:
    groups: dict[int, list[T]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def _load(cycle_ids: list[int], today: date) -> _Loaded:
    """Frozen reviews, next year's goals, goals, measurements, drivers, teams: 6 queries."""
    loaded = _Loaded(today=today)
    for review in db.session.scalars(
        sa.select(GoalsReview)
        .where(GoalsReview.cycle_id.in_(cycle_ids), GoalsReview.frozen_at.is_not(None))
        .order_by(GoalsReview.cycle_id, GoalsReview.frozen_at.desc(), GoalsReview.id.desc())
    ):
        loaded.review.setdefault(review.cycle_id, review)
    if loaded.review:
        # The rows are read for what a snapshot lacks (see `_agreed_goals`).
        loaded.proposed = _grouped(
            db.session.scalars(
                sa.select(ProposedGoal)
                .where(ProposedGoal.review_id.in_([r.id for r in loaded.review.values()]))
                .order_by(ProposedGoal.review_id, ProposedGoal.position, ProposedGoal.id)
            ),
            lambda agreed: agreed.review_id,
        )
    loaded.goals = _grouped(
        db.session.scalars(
            sa.select(Goal).where(Goal.cycle_id.in_(cycle_ids)).order_by(Goal.position, Goal.id)
        ),
        lambda goal: goal.cycle_id,
    )
    loaded.measured = queries.measurements_by_goal(
        goal.id for goals in loaded.goals.values() for goal in goals
    )
    loaded.drivers = _grouped(
        db.session.scalars(
            sa.select(Driver)
            .where(Driver.cycle_id.in_(cycle_ids))
            .order_by(Driver.position, Driver.id)
        ),
        lambda driver: driver.cycle_id,
    )
    loaded.team = _grouped(
        (
            (membership, person)
            for membership, person in db.session.execute(
                sa.select(CycleMembership, User)
                .join(User, User.id == CycleMembership.user_id)
                .where(CycleMembership.cycle_id.in_(cycle_ids))
                .order_by(role_rank(), sa.func.lower(User.name), User.id)
            )
        ),
        lambda pair: pair[0].cycle_id,
    )
    return loaded


def _latest(goal: Goal, year: SchoolYear, loaded: _Loaded) -> tuple[float, date] | None:
    """The goal's latest measurement (value, date), the way every page reads it."""
    summary = queries.summarize(goal, year, loaded.measured.get(goal.id, []), loaded.today)
    if summary.latest is None:
        return None
    return summary.latest.value, summary.latest.measured_on


# Next year's goals as agreed: read from the review's snapshot -------------------------------


class _Unreadable(Exception):
    """A value of the snapshot that is missing or not what it should be."""


_LIVE = object()  # "not in the snapshot: read the live row"


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Unreadable
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Unreadable
    number = float(value)
    try:
        goal_services.check_number(number)
    except goal_services.GoalError as error:
        raise _Unreadable from error
    return number


def _day(value: Any) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(_text(value))
    except ValueError as error:
        raise _Unreadable from error


def _enum(kind: type[Any], value: Any) -> Any:
    try:
        return kind(value)
    except ValueError as error:
        raise _Unreadable from error


def _goal_id(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Unreadable
    goal_id = value.get("goal_id")
    if isinstance(goal_id, bool) or not isinstance(goal_id, int):
        raise _Unreadable
    return goal_id


def _agreed_baseline(value: Any) -> tuple[float, date | None, bool] | None:
    """(value, date, taken from the continued goal) of a snapshot's baseline."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Unreadable
    return _number(value.get("value")), _day(value.get("on")), bool(value.get("from_goal"))


@dataclass(frozen=True)
class _Agreed:
    """One of next year's goals as the review agreed it."""

    title: str
    category: GoalCategory
    metric: str
    unit: str
    target: float
    direction: GoalDirection
    due_on: date | None
    goal_id: int | None  # the goal of this year it continues
    # (value, date, from the continued goal), None: none agreed, _LIVE: not in the snapshot
    baseline: Any


def _pick(entry: dict[str, Any], key: str, read: Callable[[Any], Any], live: Any) -> Any:
    """The snapshot's value, read; the live row's (`live()`) when it is missing or unreadable."""
    if key in entry:
        try:
            return read(entry[key])
        except _Unreadable:
            pass
    if live is None:
        raise _Unreadable
    return live()


def _agreed(entry: dict[str, Any], row: ProposedGoal | None) -> _Agreed:
    """A snapshot entry of next year's goals; what it lacks from the row it was made from."""

    def live(name: str) -> Callable[[], Any] | None:
        return (lambda: getattr(row, name)) if row is not None else None

    def row_baseline() -> Any:
        assert row is not None
        if row.baseline_value is None:
            return _LIVE  # from the continued goal, as it stands now
        return float(row.baseline_value), row.baseline_on, False

    return _Agreed(
        title=_pick(entry, "title", _text, live("title")),
        category=_pick(entry, "category", lambda v: _enum(GoalCategory, v), live("category")),
        metric=_pick(entry, "metric", _text, live("metric")),
        unit=_pick(entry, "unit", _text, live("unit")),
        target=_pick(entry, "target", _number, live("target_value")),
        direction=_pick(entry, "direction", lambda v: _enum(GoalDirection, v), live("direction")),
        due_on=_pick(entry, "due_on", _day, live("due_on")),
        goal_id=_pick(entry, "continues", _goal_id, live("goal_id")),
        baseline=_pick(
            entry, "baseline", _agreed_baseline, row_baseline if row is not None else None
        ),
    )


def _agreed_goals(review: GoalsReview, rows: list[ProposedGoal]) -> tuple[list[Any], set[int]]:
    """Next year's goals of the frozen review: from its snapshot (`_Agreed`, or None for an
    entry that cannot be read), and the ids of this year's goals measured when it was signed.
    A snapshot without next year's goals (made by hand or before they were recorded) gives
    the review's rows."""
    stored = review.snapshot if isinstance(review.snapshot, dict) else {}
    by_id: dict[Any, ProposedGoal] = {row.id: row for row in rows}
    if "next_goals" not in stored:
        return [_agreed({}, row) for row in rows], set()
    record = review_queries.normalise_record(stored)
    measured = {
        goal.get("id")
        for goal in record["packet"]["goals"]
        if isinstance(goal, dict) and goal.get("latest")
    }
    agreed: list[Any] = []
    for entry in record["next_goals"]:
        entry = entry if isinstance(entry, dict) else {}
        try:
            agreed.append(_agreed(entry, by_id.get(entry.get("id"))))
        except _Unreadable:
            agreed.append(None)
    return agreed, {goal_id for goal_id in measured if isinstance(goal_id, int)}


def _goals_from_review(
    plan: NextPlan, review: GoalsReview, loaded: _Loaded, next_year: SchoolYear
) -> list[GoalDraft]:
    """Next year's goals agreed in the review, in their order."""
    plan.goals_from = FROM_REVIEW
    plan.review = review
    own = {goal.id: goal for goal in loaded.goals.get(plan.cycle.id, [])}
    agreed_goals, measured = _agreed_goals(review, loaded.proposed.get(review.id, []))
    drafts = []
    for agreed in agreed_goals:
        if agreed is None:
            plan.problems.append(
                _(
                    "One of next year's goals in the signed goals review cannot be read. "
                    "Correct it in an amendment of the goals review first."
                )
            )
            continue
        continued = own.get(agreed.goal_id) if agreed.goal_id is not None else None
        baseline: tuple[float, date | None] | None = None
        source = BASELINE_AGREED
        if agreed.baseline is _LIVE:  # not in the snapshot: this year's goal as it is now
            if continued is not None:
                last = _latest(continued, plan.year, loaded)
                if last is not None:
                    baseline, source = last, BASELINE_MEASURED
                else:
                    baseline = (continued.baseline_value, continued.baseline_on)
                    source = BASELINE_KEPT
        elif agreed.baseline is not None:
            value, on, from_goal = agreed.baseline
            baseline, source = (value, on), BASELINE_AGREED
            if from_goal:
                source = BASELINE_MEASURED if agreed.goal_id in measured else BASELINE_KEPT
        if baseline is None:
            plan.problems.append(
                _(
                    "Next year's goal “%(title)s” has no baseline and does not continue one "
                    "of this year's goals. Give it a baseline in an amendment of the goals "
                    "review first.",
                    title=agreed.title,
                )
            )
            continue
        drafts.append(
            GoalDraft(
                title=agreed.title,
                category=agreed.category,
                metric=agreed.metric,
                unit=agreed.unit,
                baseline_value=baseline[0],
                baseline_on=baseline[1] or next_year.starts_on,
                target_value=agreed.target,
                direction=agreed.direction,
                due_on=agreed.due_on,
                carried_from_goal_id=continued.id if continued else None,
                baseline_source=source,
            )
        )
    return drafts


def _goals_carried(plan: NextPlan, loaded: _Loaded) -> list[GoalDraft]:
    """This year's goals as they are, from their latest value, due a year later."""
    plan.goals_from = CARRIED
    drafts = []
    for goal in loaded.goals.get(plan.cycle.id, []):
        last = _latest(goal, plan.year, loaded)
        drafts.append(
            GoalDraft(
                title=goal.title,
                category=goal.category,
                metric=goal.metric,
                unit=goal.unit,
                baseline_value=last[0] if last else goal.baseline_value,
                baseline_on=last[1] if last else goal.baseline_on,
                target_value=goal.target_value,
                direction=goal.direction,
                due_on=_a_year_later(goal.due_on),
                carried_from_goal_id=goal.id,
                baseline_source=BASELINE_MEASURED if last else BASELINE_KEPT,
            )
        )
    return drafts


def _keep_the_rules(plan: NextPlan, draft: GoalDraft, next_year: SchoolYear) -> None:
    """Add the draft to the plan when it keeps the goal rules of the new year: a goal already
    met is left out (listed), a due date the new year does not allow is dropped (said)."""
    if goal_services.direction_problem(draft.direction, draft.baseline_value, draft.target_value):
        plan.left_out.append(
            LeftOut(
                draft.title,
                _(
                    "Met last year (%(baseline)s, the target was %(target)s): set a new "
                    "target in next year's goals.",
                    baseline=format_number(draft.baseline_value, 4),
                    target=format_number(draft.target_value, 4),
                ),
            )
        )
        return
    context = queries.CycleContext(cycle=plan.cycle, school=plan.school, year=next_year)
    if draft.due_on is not None and goal_services.due_on_problem(
        draft.due_on, draft.baseline_on, goal_services.due_range(context)
    ):
        plan.notices.append(
            _(
                "“%(title)s” was due on %(day)s, which %(year)s does not allow: it opens with "
                "no due date (the end of the school year). Set one in next year's goals.",
                title=draft.title,
                day=format_date(draft.due_on, "long"),
                year=next_year.label,
            )
        )
        draft = replace(draft, due_on=None)
    try:  # every other goal rule (a baseline dated after the year, a title too long …)
        goal_services.check_goal(
            context,
            goal_services.GoalData(
                title=draft.title,
                category=draft.category.value,
                metric=draft.metric,
                unit=draft.unit,
                baseline_value=draft.baseline_value,
                baseline_on=draft.baseline_on,
                target_value=draft.target_value,
                direction=draft.direction.value,
                due_on=draft.due_on,
            ),
        )
    except goal_services.GoalError as error:
        plan.left_out.append(LeftOut(draft.title, error.message))
        return
    plan.goals.append(draft)


def _existing_next(plans: list[NextPlan]) -> None:
    """Mark the plans whose school already has next year's cycle: 2 queries."""
    next_years = {
        year.label: year.id
        for year in db.session.scalars(
            sa.select(SchoolYear).where(SchoolYear.label.in_({p.next_label for p in plans}))
        )
    }
    if not next_years:
        return
    existing = {
        (found.school_id, found.school_year_id): found
        for found in db.session.scalars(
            sa.select(Cycle).where(
                Cycle.school_id.in_({p.school.id for p in plans}),
                Cycle.school_year_id.in_(next_years.values()),
            )
        )
    }
    for plan in plans:
        year_id = next_years.get(plan.next_label)
        if year_id is not None:
            plan.exists = existing.get((plan.school.id, year_id))


def _next_year(plan: NextPlan) -> SchoolYear | None:
    """Next year as a school year (not saved), or None with the problem said."""
    bounds = year_bounds(plan.next_label)
    if bounds is None:
        plan.problems.append(
            _(
                "%(year)s is the last school year cycles can have: there is no %(next)s "
                "cycle to open.",
                year=plan.year.label,
                next=plan.next_label,
            )
        )
        return None
    return SchoolYear(label=plan.next_label, starts_on=bounds[0], ends_on=bounds[1])


def plan_next_cycles(
    sources: list[tuple[Cycle, School, SchoolYear]], today: date
) -> list[NextPlan]:
    """What carrying each cycle forward would make: 8 queries for any number of cycles,
    nothing written."""
    plans = [
        NextPlan(cycle=cycle, school=school, year=year, next_label=next_year_label(year.label))
        for cycle, school, year in sources
    ]
    if not plans:
        return plans
    _existing_next(plans)
    loaded = _load([plan.cycle.id for plan in plans], today)
    for plan in plans:
        if not plan.school.is_active:
            plan.problems.append(
                _(
                    "%(school)s is not active: make it active before opening a cycle.",
                    school=plan.school.name,
                )
            )
        plan.drivers = loaded.drivers.get(plan.cycle.id, [])
        for membership, person in loaded.team.get(plan.cycle.id, []):
            (plan.team if person.is_active else plan.deactivated).append((membership, person))
        next_year = _next_year(plan)
        if next_year is None:
            continue
        review = loaded.review.get(plan.cycle.id)
        if review is not None:
            drafts = _goals_from_review(plan, review, loaded, next_year)
        else:
            drafts = _goals_carried(plan, loaded)
        for draft in drafts:
            _keep_the_rules(plan, draft, next_year)
    return plans


def plan_next_cycle(context: queries.CycleContext, today: date) -> NextPlan:
    return plan_next_cycles([(context.cycle, context.school, context.year)], today)[0]


# Next year's cycle: opening -------------------------------------------------------------------


def carry_forward(actor: User, plans: list[NextPlan]) -> list[Cycle]:
    """Open next year's cycle for every plan (each must be `ok`): the cycle, its initiative,
    driver diagram, team and goals, in a few bulk statements; flushes and audits each.

    When a school's cycle for next year appears between the plan and the opening (a double
    click, or someone else at the same moment), nothing is opened and SetupError says so."""
    for plan in plans:
        if not plan.ok:
            raise SetupError(
                None,
                plan.refusal or _("This cycle cannot be carried forward."),
                cycle_id=plan.exists.id if plan.exists else None,
            )
    years = {label: get_or_create(label) for label in sorted({p.next_label for p in plans})}
    made: list[Cycle] = []
    for plan in plans:
        source = plan.cycle
        made.append(
            Cycle(
                school_id=plan.school.id,
                school_year_id=years[plan.next_label].id,
                stage=CycleStage.PLANNING,
                initiative_title=source.initiative_title,
                equity_challenge_md=source.equity_challenge_md,
                root_causes_md=source.root_causes_md,
                aim_md=source.aim_md,
                previous_cycle_id=source.id,
            )
        )
    try:
        with db.session.begin_nested():
            db.session.add_all(made)
    except sa.exc.IntegrityError as error:
        raise _opened_meanwhile(plans) from error

    for plan, cycle in zip(plans, made, strict=True):
        db.session.add_all(
            Goal(
                cycle_id=cycle.id,
                title=draft.title,
                category=draft.category,
                metric=draft.metric,
                unit=draft.unit,
                baseline_value=draft.baseline_value,
                baseline_on=draft.baseline_on,
                target_value=draft.target_value,
                direction=draft.direction,
                due_on=draft.due_on,
                carried_from_goal_id=draft.carried_from_goal_id,
                position=position,
            )
            for position, draft in enumerate(plan.goals)
        )
        db.session.add_all(
            CycleMembership(
                cycle_id=cycle.id,
                user_id=membership.user_id,
                role=membership.role,
                organisation=membership.organisation,
            )
            for membership, _person in plan.team
        )
    _copy_drivers(plans, made)

    for plan, cycle in zip(plans, made, strict=True):
        audit.record(
            actor,
            "cycle.opened_next",
            cycle,
            details={
                "from_cycle_id": plan.cycle.id,
                "school_id": plan.school.id,
                "year": plan.next_label,
                "goals": len(plan.goals),
                "goals_from": plan.goals_from,
                "review_id": plan.review.id if plan.review else None,
                "goals_left_out": [left.title for left in plan.left_out],
                "members": len(plan.team),
                "members_deactivated": [person.id for _m, person in plan.deactivated],
                "drivers": len(plan.drivers),
            },
        )
    db.session.flush()
    return made


def _opened_meanwhile(plans: list[NextPlan]) -> SetupError:
    """The refusal when inserting next year's cycles failed: the schools whose cycle was
    opened in the meantime (looked up again), with a link when it is one."""
    _existing_next(plans)
    taken = [plan for plan in plans if plan.exists is not None]
    if not taken:
        return SetupError(
            None,
            _(
                "These cycles were changed by someone else at the same moment. Nothing was "
                "opened: look at the cycles again, then try once more."
            ),
        )
    return SetupError(
        None,
        " ".join(plan.refusal or "" for plan in taken),
        cycle_id=taken[0].exists.id if len(taken) == 1 and taken[0].exists else None,
    )


def _copy_drivers(plans: list[NextPlan], made: list[Cycle]) -> None:
    """The same trees under the new cycles: one level at a time (parents need their ids)."""
    new_id: dict[int, int] = {}
    waiting = [
        (driver, cycle.id)
        for plan, cycle in zip(plans, made, strict=True)
        for driver in plan.drivers
    ]
    while waiting:
        ready = [(d, c) for d, c in waiting if d.parent_id is None or d.parent_id in new_id]
        if not ready:  # a parent outside the cycle: keep the node, at the top
            ready = waiting
        copies = [
            (
                driver,
                Driver(
                    cycle_id=cycle_id,
                    parent_id=new_id.get(driver.parent_id) if driver.parent_id else None,
                    kind=driver.kind,
                    text=driver.text,
                    position=driver.position,
                ),
            )
            for driver, cycle_id in ready
        ]
        db.session.add_all(copy for _driver, copy in copies)
        db.session.flush()
        for driver, copy in copies:
            new_id[driver.id] = copy.id
        done = {id(d) for d, _c in ready}
        waiting = [(d, c) for d, c in waiting if id(d) not in done]


def open_next_cycle(actor: User, context: queries.CycleContext, today: date) -> Cycle:
    """Open the school's cycle for the year after `context`'s, carried forward from it."""
    return carry_forward(actor, [plan_next_cycle(context, today)])[0]


# Next year for every school -------------------------------------------------------------------


@dataclass
class YearPlan:
    """Opening next year's cycles for every active school whose cycle in `label` exists."""

    label: str
    next_label: str
    plans: list[NextPlan] = field(default_factory=list)  # one per school with a cycle
    without_cycle: list[School] = field(default_factory=list)

    @property
    def to_open(self) -> list[NextPlan]:
        return [plan for plan in self.plans if plan.ok]

    @property
    def skipped(self) -> list[NextPlan]:
        return [plan for plan in self.plans if not plan.ok]


def plan_next_year(label: str, today: date) -> YearPlan:
    """Reads only: 2 queries plus those of `plan_next_cycles`. `label` is the year the
    cycles are carried forward from (any school year)."""
    if parse_label(label) is None:
        raise SetupError("year", str(YEAR_SHAPE))
    result = YearPlan(label=label, next_label=next_year_label(label))
    active = list(
        db.session.scalars(
            sa.select(School)
            .where(School.is_active.is_(True))
            .order_by(sa.func.lower(School.name), School.id)
        )
    )
    cycles = {
        cycle.school_id: (cycle, year)
        for cycle, year in db.session.execute(
            sa.select(Cycle, SchoolYear)
            .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
            .join(School, School.id == Cycle.school_id)
            .where(SchoolYear.label == label, School.is_active.is_(True))
        )
    }
    sources = []
    for school in active:
        found = cycles.get(school.id)
        if found is None:
            result.without_cycle.append(school)
        else:
            sources.append((found[0], school, found[1]))
    result.plans = plan_next_cycles(sources, today)
    return result


def open_next_year(actor: User, label: str, today: date) -> YearPlan:
    """Open next year's cycle for every school that can have one, in one transaction."""
    plan = plan_next_year(label, today)
    if plan.to_open:
        carry_forward(actor, plan.to_open)
    return plan

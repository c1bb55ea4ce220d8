"""Reminders: what `flask reminders run` (cron, e.g. hourly) tells people because of a date.

`run_reminders(now)` computes every rule against an explicit moment (a frozen clock in tests,
`--now` for a replay) and hands what it finds to `notify_many`, which inserts each reminder
once: every reminder has a dedupe key (`<kind>:<object ids>:<what makes it a new
occurrence>`), so a second run, two runs at once or two servers add nothing twice. The emails
go to the outbox for `flask outbox deliver` (or `--deliver`). The job commits its own work,
in small batches.

Every rule is judged on the recipient's own calendar day (`User.timezone`) and reads the
domain's own rule, so an email never says something its page does not:

- **Module due soon / overdue** (to the fellow): active fellows of active cohorts that have not
  ended. A module's state comes from `curriculum.queries.module_states`, the rule of "My
  learning", the module page and the progress grid (extensions, release dates, prerequisites
  and completion included). Due soon: open to the fellow (not started or in progress) and
  due, by their own due date, in 1 to 3 days. Overdue: the state is overdue, for at most a
  week (`OVERDUE_WITHIN_DAYS`: the hourly run sends it the first day; a module overdue for
  longer before the job first saw it is old news, listed on the fellow's home page). Nothing
  for a complete module, one not released yet, or one locked behind a prerequisite. The key
  holds the fellow's due date: an extension is a new due date, so a new reminder.
- **Check-in due soon / overdue** (to the coach): the caseload page's rule
  (`coaching.caseload`): the coach's current fellows with an active fellow membership, days
  since the last counted check-in (shared, or the coach's own draft) against the cohort's
  rhythm. The key holds the day the count started from, so each new check-in starts a new
  spell of reminders.
- **Capstone review waiting** (to the reviewer): an assignment still waiting in the
  reviewer's queue (`capstones.review_queries`: not submitted, no decision, cohort not
  archived, an active reviewer membership) more than 7 days after it was made; once per
  assignment.
- **Goal measurement stale** (to the cycle's lead teachers): a goal of an open cycle of the
  current school year whose latest value (its last measurement, or its baseline when it has
  none since) is more than 60 days old (`cycles.status.is_stale`). The key holds that date:
  a new measurement followed by a new stale spell is a new reminder.
- **Goals review in 7 days / tomorrow** (to the lead teachers and the staff side: the staff
  liaisons and whoever scheduled it): a review not signed yet of an open cycle, 2 to 7 days
  away, then 1 day away. The key holds the date, so a moved review is reminded again.
- **Action item due** (to its owner): an open item due tomorrow that its owner can still
  tick (the policy's `can_complete_action_item`, as SQL: the fellow on a shared check-in
  while an active fellow; a coach while coaching the fellow now).

Each rule reads what it needs in a fixed number of set-based queries, whatever the number of
people (the module rules: four per cohort with a module due or overdue in the window, the
curriculum's own rule, run on those modules only); the SQL picks candidates with bounds wide
enough for any timezone and Python decides each person's day. Reminders that exist already
are dropped before their email is rendered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import aliased

from fellowship.auth.models import Role, User
from fellowship.capstones import review_queries
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneVersion,
    Review,
    ReviewAssignment,
    Stage,
)
from fellowship.coaching import caseload
from fellowship.coaching.models import ActionItem, CheckIn
from fellowship.cohorts.models import (
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    CohortStatus,
    MembershipStatus,
)
from fellowship.curriculum import queries as curriculum
from fellowship.curriculum.models import DueDateExtension, Module
from fellowship.cycles import status as goal_status
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    CycleRole,
    CycleStage,
    Goal,
    GoalsReview,
    Measurement,
    ReviewStatus,
    School,
)
from fellowship.db import db
from fellowship.notifications.services import Entry, app_path, notify_many
from fellowship.school_years import SchoolYear

MODULE_DUE_SOON = "curriculum/module_due_soon"
MODULE_OVERDUE = "curriculum/module_overdue"
CHECKIN_DUE_SOON = "coaching/checkin_due_soon"
CHECKIN_OVERDUE = "coaching/checkin_overdue"
REVIEW_WAITING = "capstones/review_waiting"
MEASUREMENT_STALE = "cycles/measurement_stale"
GOALS_REVIEW_IN_7_DAYS = "cycles/review_in_7_days"
GOALS_REVIEW_TOMORROW = "cycles/review_tomorrow"
ACTION_ITEM_DUE = "coaching/action_item_due"

# Every kind this job sends, in the order the rules run (the keys of `run_reminders`' result).
REMINDER_KINDS = (
    MODULE_DUE_SOON,
    MODULE_OVERDUE,
    CHECKIN_DUE_SOON,
    CHECKIN_OVERDUE,
    REVIEW_WAITING,
    MEASUREMENT_STALE,
    GOALS_REVIEW_IN_7_DAYS,
    GOALS_REVIEW_TOMORROW,
    ACTION_ITEM_DUE,
)

MODULE_DUE_SOON_DAYS = 3  # a module due in 1, 2 or 3 days (the fellow's days)
# An overdue module is reminded once, in the week after its due date (the first hourly run
# after it passes, or the next one a cron outage allows); one overdue for longer before the
# job first saw it is not (the fellow's home page lists it) - no flood of old news.
OVERDUE_WITHIN_DAYS = 7
REVIEW_WAITING_DAYS = 7  # a capstone review waiting more than a week
GOALS_REVIEW_WEEK = 7  # the first goals review reminder: 7 to 2 days before
ATTEMPTS = 3  # a step that meets a deadlock or a lock timeout is done again
BATCH = 200  # reminders inserted (their emails rendered) per transaction

# Any timezone's calendar day lies between these offsets from UTC (UTC-12 to UTC+14).
_WEST = timedelta(hours=12)
_EAST = timedelta(hours=14)

Batches = dict[str, list[Entry]]
T = TypeVar("T")


def key(kind: str, **parts: object) -> str:
    """A reminder's dedupe key: `<kind>:<name>=<value>:...` in the order given."""
    return ":".join([kind, *(f"{name}={value}" for name, value in parts.items())])


@dataclass
class Clock:
    """The run's moment, and each timezone's calendar day at that moment."""

    now: datetime
    _days: dict[str, date] = field(default_factory=dict)

    def today(self, zone: str | None) -> date:
        name = zone or "UTC"
        if name not in self._days:
            self._days[name] = caseload.local_today(self.now, name)
        return self._days[name]

    @property
    def earliest(self) -> date:
        """No place on earth is on an earlier day than this."""
        return (self.now - _WEST).date()

    @property
    def latest(self) -> date:
        """No place on earth is on a later day than this."""
        return (self.now + _EAST).date()


def run_reminders(now: datetime) -> dict[str, int]:
    """Compute every reminder due at `now` (timezone-aware) and notify each person once.

    Returns {kind: notifications created by this run}. Each rule reads in one transaction,
    then inserts its reminders `BATCH` at a time, a transaction each: a second run at the same
    moment waits for one batch at most (SQLite's write lock; PostgreSQL's lock on a key being
    inserted), then skips what the first one made. A step that meets a deadlock or a lock
    timeout is rolled back and done again, which is safe for the same reason.
    """
    if now.tzinfo is None:
        raise ValueError("run_reminders needs a timezone-aware moment")
    clock = Clock(now.astimezone(UTC))
    created = dict.fromkeys(REMINDER_KINDS, 0)
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False  # what a rule read stays usable after each batch's commit
    try:
        for rule in RULES:
            for kind, entries in _attempt(partial(rule, clock)).items():
                ordered = _ordered(entries)
                for start in range(0, len(ordered), BATCH):
                    batch = ordered[start : start + BATCH]
                    created[kind] += _attempt(partial(_notify, kind, batch))
    finally:
        session.expire_on_commit = expire
    return created


def _attempt(step: Callable[[], T]) -> T:
    """Run `step` and commit; after a deadlock or a lock timeout, roll back and run it again."""
    attempt = 1
    while True:
        try:
            result = step()
            db.session.commit()
            return result
        except OperationalError:
            db.session.rollback()
            if attempt >= ATTEMPTS:
                raise
            attempt += 1


def _notify(kind: str, entries: list[Entry]) -> int:
    """Notify the entries not notified yet (the caller commits); how many were created. An
    overdue module or a stale goal is found again every hour: `notify_many` skips the keys
    that exist before rendering anything, and another run inserting the same key meanwhile
    is caught by its ON CONFLICT."""
    return len(notify_many(kind, entries, deliver_now=False))


def _ordered(entries: Iterable[Entry]) -> list[Entry]:
    """One order for every run (`notify_many` groups by language and timezone, then keeps
    this order): two runs at once then lock the same keys in the same order."""
    return sorted(entries, key=lambda e: (e.user.locale, e.user.timezone, e.key))


def _batches(*kinds: str) -> Batches:
    return {kind: [] for kind in kinds}


def _running_cohort(clock: Clock) -> sa.ColumnElement[bool]:
    """A cohort that may still be running somewhere (each person's day is checked after)."""
    return sa.and_(Cohort.status == CohortStatus.ACTIVE, Cohort.ends_on >= clock.earliest)


# Modules ------------------------------------------------------------------------------------


def module_reminders(clock: Clock) -> Batches:
    """Modules due in 1 to 3 days, and modules overdue for at most a week, to each fellow."""
    found = _batches(MODULE_DUE_SOON, MODULE_OVERDUE)
    # The modules whose due date, or a fellow's extended one, falls in the window anywhere.
    earliest = clock.earliest - timedelta(days=OVERDUE_WITHIN_DAYS)
    latest = clock.latest + timedelta(days=MODULE_DUE_SOON_DAYS)
    extended_into_window = (
        sa.select(DueDateExtension.id)
        .where(
            DueDateExtension.module_id == Module.id,
            DueDateExtension.due_on.between(earliest, latest),
        )
        .exists()
    )
    rows = db.session.execute(
        sa.select(Module, Cohort)
        .join(Cohort, Cohort.id == Module.cohort_id)
        .where(
            _running_cohort(clock),
            Module.due_on.is_not(None),
            sa.or_(Module.due_on.between(earliest, latest), extended_into_window),
        )
        .order_by(Module.cohort_id, Module.position, Module.id)
    ).tuples()
    cohorts: dict[int, Cohort] = {}
    candidates: dict[int, list[Module]] = defaultdict(list)
    for module, cohort in rows:
        cohorts[cohort.id] = cohort
        candidates[cohort.id].append(module)
    if not cohorts:
        return found
    # The curriculum's rule also needs the candidates' prerequisites: is a candidate locked?
    modules = {cohort_id: list(group) for cohort_id, group in candidates.items()}
    known = {module.id for group in candidates.values() for module in group}
    required = curriculum.prerequisites_for(sorted(known))
    more = sorted({r for needed in required.values() for r in needed} - known)
    if more:
        for module in db.session.scalars(sa.select(Module).where(Module.id.in_(more))):
            if module.cohort_id in modules:
                modules[module.cohort_id].append(module)
    ids = sorted(cohorts)
    # Fellows by cohort and by their calendar day: the curriculum's rule takes one "today".
    groups: dict[tuple[int, date], list[User]] = defaultdict(list)
    for cohort_id, fellow in db.session.execute(
        sa.select(CohortMembership.cohort_id, User)
        .join(User, User.id == CohortMembership.user_id)
        .where(
            CohortMembership.cohort_id.in_(ids),
            CohortMembership.role == CohortRole.FELLOW,
            CohortMembership.status == MembershipStatus.ACTIVE,
            User.is_active.is_(True),
        )
        .order_by(CohortMembership.cohort_id, User.id)
    ).tuples():
        today = clock.today(fellow.timezone)
        if cohorts[cohort_id].ends_on >= today:
            groups[(cohort_id, today)].append(fellow)
    for (cohort_id, today), fellows in groups.items():
        states = curriculum.module_states(modules[cohort_id], [f.id for f in fellows], today)
        for fellow in fellows:
            for module in candidates[cohort_id]:
                status = states[(fellow.id, module.id)]
                if status.due_on is None:
                    continue
                days = (status.due_on - today).days
                if status.state == curriculum.State.OVERDUE and -days <= OVERDUE_WITHIN_DAYS:
                    kind = MODULE_OVERDUE
                elif (
                    status.state in (curriculum.State.NOT_STARTED, curriculum.State.IN_PROGRESS)
                    and 0 < days <= MODULE_DUE_SOON_DAYS
                ):
                    kind = MODULE_DUE_SOON
                else:
                    continue
                found[kind].append(
                    Entry(
                        fellow,
                        key(kind, module=module.id, fellow=fellow.id, due=status.due_on),
                        app_path("curriculum.module", module_id=module.id),
                        {
                            "module": module.title,
                            "cohort": cohorts[cohort_id].name,
                            "due_on": status.due_on,
                            "days": days,
                            "extended": status.extended,
                            "steps_done": status.required_done,
                            "steps_total": status.required_total,
                        },
                    )
                )
    return found


# Check-in rhythm ------------------------------------------------------------------------------


def checkin_reminders(clock: Clock) -> Batches:
    """Each coach's current fellows whose next check-in is due soon or overdue."""
    found = _batches(CHECKIN_DUE_SOON, CHECKIN_OVERDUE)
    coach = aliased(User)
    fellow = aliased(User)
    fellow_membership = aliased(CohortMembership)
    coach_membership = aliased(CohortMembership)
    # The caseload page's counted check-ins: shared, or a draft of the current coach.
    last_on = (
        sa.select(sa.func.max(CheckIn.held_on))
        .where(
            CheckIn.cohort_id == CoachAssignment.cohort_id,
            CheckIn.fellow_id == CoachAssignment.fellow_id,
            caseload._counted(CoachAssignment.coach_id),
        )
        .correlate(CoachAssignment)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(
            CoachAssignment.cohort_id,
            CoachAssignment.fellow_id,
            CoachAssignment.starts_on,
            Cohort.name,
            Cohort.ends_on,
            Cohort.checkin_rhythm_days,
            fellow.name,
            coach,
            last_on,
        )
        .select_from(CoachAssignment)
        .join(Cohort, Cohort.id == CoachAssignment.cohort_id)
        .join(fellow, fellow.id == CoachAssignment.fellow_id)
        .join(coach, coach.id == CoachAssignment.coach_id)
        .join(
            fellow_membership,
            sa.and_(
                fellow_membership.cohort_id == CoachAssignment.cohort_id,
                fellow_membership.user_id == CoachAssignment.fellow_id,
                fellow_membership.role == CohortRole.FELLOW,
                fellow_membership.status == MembershipStatus.ACTIVE,
            ),
        )
        .join(
            coach_membership,
            sa.and_(
                coach_membership.cohort_id == CoachAssignment.cohort_id,
                coach_membership.user_id == CoachAssignment.coach_id,
                coach_membership.role == CohortRole.COACH,
                coach_membership.status == MembershipStatus.ACTIVE,
            ),
        )
        .where(CoachAssignment.ends_on.is_(None), coach.is_active.is_(True), _running_cohort(clock))
    ).tuples()
    for cohort_id, fellow_id, assigned_on, cohort, ends_on, rhythm, name, person, last in rows:
        today = clock.today(person.timezone)
        if ends_on < today:
            continue
        days = caseload.days_since(today, last, assigned_on)
        state = caseload.rhythm_status(days, rhythm)
        if state == caseload.RhythmStatus.ON_TRACK:
            continue
        kind = CHECKIN_OVERDUE if state == caseload.RhythmStatus.OVERDUE else CHECKIN_DUE_SOON
        since = last if last is not None else assigned_on
        found[kind].append(
            Entry(
                person,
                key(kind, cohort=cohort_id, fellow=fellow_id, coach=person.id, since=since),
                app_path("coaching.fellow_checkins", cohort_id=cohort_id, fellow_id=fellow_id),
                {
                    "fellow": name,
                    "cohort": cohort,
                    "last_checkin_on": last,
                    "assigned_on": assigned_on,
                    "days": days,
                    "rhythm_days": rhythm,
                    "due_on": since + timedelta(days=rhythm),
                },
            )
        )
    return found


# Capstone reviews -----------------------------------------------------------------------------


def review_waiting_reminders(clock: Clock) -> Batches:
    """Reviews still waiting in a reviewer's queue more than a week after the assignment."""
    found = _batches(REVIEW_WAITING)
    reviewer = aliased(User)
    fellow = aliased(User)
    rows = db.session.execute(
        sa.select(
            ReviewAssignment.id,
            ReviewAssignment.version_id,
            ReviewAssignment.assigned_at,
            reviewer,
            fellow.name,
            Capstone.title,
            Cohort.name,
            CapstoneVersion.number,
            CapstoneVersion.stage,
            Review.id,
        )
        .select_from(ReviewAssignment)
        .join(CapstoneVersion, CapstoneVersion.id == ReviewAssignment.version_id)
        .join(Capstone, Capstone.id == CapstoneVersion.capstone_id)
        .join(Cohort, Cohort.id == Capstone.cohort_id)
        .join(reviewer, reviewer.id == ReviewAssignment.reviewer_id)
        .join(fellow, fellow.id == Capstone.fellow_id)
        .join(
            CohortMembership,
            sa.and_(
                CohortMembership.cohort_id == Capstone.cohort_id,
                CohortMembership.user_id == ReviewAssignment.reviewer_id,
                CohortMembership.role == CohortRole.REVIEWER,
            ),
        )
        .outerjoin(Review, Review.assignment_id == ReviewAssignment.id)
        .outerjoin(CapstoneDecision, CapstoneDecision.version_id == CapstoneVersion.id)
        .where(
            CapstoneVersion.submitted_at.is_not(None),
            # Still waiting in the reviewer's queue: the queue's own condition.
            review_queries._writable(),
            reviewer.is_active.is_(True),
            ReviewAssignment.assigned_at <= clock.now - timedelta(days=REVIEW_WAITING_DAYS),
        )
    ).tuples()
    for assignment_id, version_id, assigned_at, person, fellow_name, title, *rest in rows:
        cohort, number, stage, draft_id = rest
        today = clock.today(person.timezone)
        waiting = (today - review_queries.local_date(assigned_at, person.timezone)).days
        if waiting <= REVIEW_WAITING_DAYS:
            continue
        found[REVIEW_WAITING].append(
            Entry(
                person,
                # Ids can come back after an unassignment on SQLite: the version, the reviewer
                # and the moment of the assignment name this one for good.
                key(
                    REVIEW_WAITING,
                    assignment=assignment_id,
                    version=version_id,
                    reviewer=person.id,
                    assigned=f"{assigned_at.timestamp():.6f}",
                ),
                app_path("capstones.review", assignment_id=assignment_id),
                {
                    "title": title,
                    "fellow": fellow_name,
                    "cohort": cohort,
                    "number": number,
                    "final": stage == Stage.FINAL,
                    "assigned_at": assigned_at,
                    "days": waiting,
                    "draft": draft_id is not None,
                },
            )
        )
    return found


# Goals: stale measurements ------------------------------------------------------------------


def measurement_stale_reminders(clock: Clock) -> Batches:
    """Goals of this school year's open cycles with no value for more than 60 days."""
    found = _batches(MEASUREMENT_STALE)
    # Stale somewhere means older than 60 days before the latest day anywhere.
    cutoff = clock.latest - timedelta(days=goal_status.STALE_AFTER_DAYS)
    last = (
        sa.select(Measurement.goal_id, sa.func.max(Measurement.measured_on).label("last_on"))
        .group_by(Measurement.goal_id)
        .subquery()
    )
    goals = db.session.execute(
        sa.select(
            Goal.id,
            Goal.cycle_id,
            Goal.title,
            Goal.baseline_on,
            last.c.last_on,
            School.name,
            SchoolYear.label,
            SchoolYear.starts_on,
            SchoolYear.ends_on,
        )
        .join(Cycle, Cycle.id == Goal.cycle_id)
        .join(School, School.id == Cycle.school_id)
        .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
        .outerjoin(last, last.c.goal_id == Goal.id)
        .where(
            Cycle.stage != CycleStage.CLOSED,
            SchoolYear.starts_on <= clock.latest,
            SchoolYear.ends_on >= clock.earliest,
            Goal.baseline_on < cutoff,
            sa.or_(last.c.last_on.is_(None), last.c.last_on < cutoff),
        )
        .order_by(Goal.cycle_id, Goal.position, Goal.id)
    ).all()
    if not goals:
        return found
    leads = _cycle_people(sorted({row[1] for row in goals}), (CycleRole.LEAD_TEACHER,))
    for goal_id, cycle_id, title, baseline_on, last_on, school, year, starts, ends in goals:
        # The latest value: the last measurement, or the baseline when none came after it.
        since = max(baseline_on, last_on) if last_on is not None else baseline_on
        for person, _role in leads.get(cycle_id, []):
            today = clock.today(person.timezone)
            if not (starts <= today <= ends) or not goal_status.is_stale(since, today):
                continue
            found[MEASUREMENT_STALE].append(
                Entry(
                    person,
                    key(MEASUREMENT_STALE, goal=goal_id, user=person.id, since=since),
                    app_path(
                        "cycles.goal_show",
                        cycle_id=cycle_id,
                        goal_id=goal_id,
                        _anchor="measurements",
                    ),
                    {
                        "goal": title,
                        "school": school,
                        "year": year,
                        "last_measured_on": last_on if last_on == since else None,
                        "since": since,
                        "days": (today - since).days,
                        "stale_days": goal_status.STALE_AFTER_DAYS,
                    },
                )
            )
    return found


def _cycle_people(
    cycle_ids: list[int], roles: tuple[CycleRole, ...]
) -> dict[int, list[tuple[User, CycleRole]]]:
    """{cycle_id: [(active person, role)]} for the given cycle roles (one query)."""
    people: dict[int, list[tuple[User, CycleRole]]] = defaultdict(list)
    if not cycle_ids:
        return people
    for cycle_id, role, person in db.session.execute(
        sa.select(CycleMembership.cycle_id, CycleMembership.role, User)
        .join(User, User.id == CycleMembership.user_id)
        .where(
            CycleMembership.cycle_id.in_(cycle_ids),
            CycleMembership.role.in_(roles),
            User.is_active.is_(True),
        )
        .order_by(CycleMembership.cycle_id, User.id)
    ).tuples():
        people[cycle_id].append((person, CycleRole(role)))
    return people


# Goals reviews --------------------------------------------------------------------------------


def goals_review_reminders(clock: Clock) -> Batches:
    """Goals reviews a week away (7 to 2 days), then tomorrow, to both sides."""
    found = _batches(GOALS_REVIEW_IN_7_DAYS, GOALS_REVIEW_TOMORROW)
    reviews = db.session.execute(
        sa.select(
            GoalsReview.id,
            GoalsReview.cycle_id,
            GoalsReview.scheduled_for,
            GoalsReview.location,
            GoalsReview.scheduled_by_id,
            School.name,
            SchoolYear.label,
        )
        .join(Cycle, Cycle.id == GoalsReview.cycle_id)
        .join(School, School.id == Cycle.school_id)
        .join(SchoolYear, SchoolYear.id == Cycle.school_year_id)
        .where(
            Cycle.stage != CycleStage.CLOSED,
            GoalsReview.frozen_at.is_(None),
            GoalsReview.status.in_([ReviewStatus.SCHEDULED, ReviewStatus.IN_MEETING]),
            GoalsReview.scheduled_for > clock.earliest,
            GoalsReview.scheduled_for <= clock.latest + timedelta(days=GOALS_REVIEW_WEEK),
        )
        .order_by(GoalsReview.scheduled_for, GoalsReview.id)
    ).all()
    if not reviews:
        return found
    people = _cycle_people(
        sorted({row[1] for row in reviews}), (CycleRole.LEAD_TEACHER, CycleRole.STAFF_LIAISON)
    )
    schedulers = {
        person.id: person
        for person in db.session.scalars(
            sa.select(User).where(
                User.id.in_(sorted({row[4] for row in reviews if row[4] is not None})),
                User.is_active.is_(True),
                User.role.in_([Role.STAFF, Role.ADMIN]),
            )
        )
    }
    for review_id, cycle_id, on, location, scheduled_by_id, school, year in reviews:
        recipients: dict[int, tuple[User, bool]] = {
            person.id: (person, role == CycleRole.LEAD_TEACHER)
            for person, role in people.get(cycle_id, [])
        }
        scheduler = schedulers.get(scheduled_by_id) if scheduled_by_id is not None else None
        if scheduler is not None:
            recipients.setdefault(scheduler.id, (scheduler, False))
        for person, lead in recipients.values():
            days = (on - clock.today(person.timezone)).days
            if days == 1:
                kind = GOALS_REVIEW_TOMORROW
            elif 1 < days <= GOALS_REVIEW_WEEK:
                kind = GOALS_REVIEW_IN_7_DAYS
            else:
                continue
            found[kind].append(
                Entry(
                    person,
                    key(kind, review=review_id, user=person.id, on=on),
                    app_path("cycles.review_show", cycle_id=cycle_id, review_id=review_id),
                    {
                        "school": school,
                        "year": year,
                        "on": on,
                        "days": days,
                        "location": location,
                        "lead": lead,
                    },
                )
            )
    return found


# Action items ---------------------------------------------------------------------------------


def action_item_reminders(clock: Clock) -> Batches:
    """Open action items due tomorrow, to the owner who can still tick them."""
    found = _batches(ACTION_ITEM_DUE)
    owner = aliased(User)
    coach = aliased(User)
    fellow = aliased(User)

    def member(role: CohortRole) -> sa.Exists:
        return (
            sa.select(CohortMembership.id)
            .where(
                CohortMembership.cohort_id == CheckIn.cohort_id,
                CohortMembership.user_id == ActionItem.owner_id,
                CohortMembership.role == role,
                CohortMembership.status == MembershipStatus.ACTIVE,
            )
            .exists()
        )

    coaches_now = (
        sa.select(CoachAssignment.id)
        .where(
            CoachAssignment.cohort_id == CheckIn.cohort_id,
            CoachAssignment.fellow_id == CheckIn.fellow_id,
            CoachAssignment.coach_id == ActionItem.owner_id,
            CoachAssignment.ends_on.is_(None),
        )
        .exists()
    )
    shared = CheckIn.shared_at.is_not(None)
    # Who can tick the item (`policy.can_complete_action_item`), for its owner.
    can_tick = sa.or_(
        sa.and_(ActionItem.owner_id == CheckIn.fellow_id, shared, member(CohortRole.FELLOW)),
        sa.and_(
            member(CohortRole.COACH),
            coaches_now,
            sa.or_(shared, CheckIn.coach_id == ActionItem.owner_id),
        ),
    )
    rows = db.session.execute(
        sa.select(
            ActionItem.id,
            ActionItem.description,
            ActionItem.due_on,
            CheckIn.id,
            CheckIn.held_on,
            CheckIn.fellow_id,
            Cohort.name,
            Cohort.ends_on,
            owner,
            coach.name,
            fellow.name,
        )
        .select_from(ActionItem)
        .join(CheckIn, CheckIn.id == ActionItem.checkin_id)
        .join(Cohort, Cohort.id == CheckIn.cohort_id)
        .join(owner, owner.id == ActionItem.owner_id)
        .join(coach, coach.id == CheckIn.coach_id)
        .join(fellow, fellow.id == CheckIn.fellow_id)
        .where(
            ActionItem.done_at.is_(None),
            ActionItem.due_on > clock.earliest,
            ActionItem.due_on <= clock.latest + timedelta(days=1),
            owner.is_active.is_(True),
            _running_cohort(clock),
            can_tick,
        )
        .order_by(ActionItem.id)
    ).tuples()
    for item_id, description, due_on, checkin_id, held_on, fellow_id, *rest in rows:
        cohort, ends_on, person, coach_name, fellow_name = rest
        today = clock.today(person.timezone)
        if due_on is None or (due_on - today).days != 1 or ends_on < today:
            continue
        found[ACTION_ITEM_DUE].append(
            Entry(
                person,
                key(ACTION_ITEM_DUE, item=item_id, checkin=checkin_id, owner=person.id, due=due_on),
                app_path("coaching.checkin", checkin_id=checkin_id, _anchor="items-heading"),
                {
                    "item": description,
                    "due_on": due_on,
                    "held_on": held_on,
                    "cohort": cohort,
                    # Who the check-in was with, from the owner's side.
                    "with_name": coach_name if person.id == fellow_id else fellow_name,
                },
            )
        )
    return found


RULES: tuple[Callable[[Clock], Batches], ...] = (
    module_reminders,
    checkin_reminders,
    review_waiting_reminders,
    measurement_stale_reminders,
    goals_review_reminders,
    action_item_reminders,
)


def describe(counts: dict[str, Any]) -> list[str]:
    """The lines `flask reminders run` prints: one per kind, then the total."""
    lines = [f"{kind}: {counts.get(kind, 0)}" for kind in REMINDER_KINDS]
    lines.append(f"new reminders: {sum(int(counts.get(kind, 0)) for kind in REMINDER_KINDS)}")
    return lines

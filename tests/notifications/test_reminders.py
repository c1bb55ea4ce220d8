"""`flask reminders run`: every rule as a table, against a frozen clock (an explicit `now`),
on SQLite and PostgreSQL; the emails through a real SMTP server (aiosmtpd); a second run adds
nothing; the command line. Two runs at the same time: test_reminders_concurrency.py.

The clock: 2026-12-01 14:00 UTC, 09:00 in New York (everyone's timezone unless a case says
otherwise), already 2026-12-02 in Auckland.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message

import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship.auth.models import User
from fellowship.capstones.models import Stage
from fellowship.coaching import caseload
from fellowship.coaching.models import ActionItem
from fellowship.cohorts.models import (
    CoachAssignment,
    CohortMembership,
    CohortRole,
    CohortStatus,
    MembershipStatus,
)
from fellowship.curriculum.models import Module
from fellowship.cycles.models import CycleStage, ReviewStatus
from fellowship.extensions import db
from fellowship.mail import OutboxMessage, deliver_outbox
from fellowship.notifications import reminders
from fellowship.notifications.models import Category, EmailState, Frequency, Notification
from fellowship.notifications.reminders import run_reminders
from fellowship.notifications.services import set_preferences
from tests.capstones.helpers import (
    AssignmentFactory,
    CapstoneFactory,
    DecisionFactory,
    VersionFactory,
)
from tests.capstones.helpers import ReviewFactory as CapstoneReviewFactory
from tests.conftest import body_of
from tests.curriculum.helpers import (
    ExtensionFactory,
    ItemFactory,
    ModuleFactory,
    ProgressFactory,
    require_module,
)
from tests.cycles.helpers import (
    CycleMemberFactory,
    GoalFactory,
    MeasurementFactory,
    ReviewFactory,
    cycle_with_team,
)
from tests.factories import (
    CheckInFactory,
    CoachAssignmentFactory,
    CohortFactory,
    MembershipFactory,
    SchoolYearFactory,
    StaffFactory,
    UserFactory,
)

NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)  # in New York

DUE_SOON = reminders.MODULE_DUE_SOON
OVERDUE = reminders.MODULE_OVERDUE


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


@pytest.fixture
def job(app: Flask) -> Iterator[None]:
    """An app context and no request, as under `flask reminders run`."""
    with app.app_context():
        yield


def notifications(kind: str | None = None) -> list[Notification]:
    query = sa.select(Notification).order_by(Notification.dedupe_key)
    if kind is not None:
        query = query.where(Notification.kind == kind)
    return list(db.session.scalars(query))


def found(kind: str | None = None) -> list[tuple[str, int]]:
    """(kind, recipient) of every notification (of one kind)."""
    return [(n.kind, n.user_id) for n in notifications(kind)]


def subject_of(message: Message) -> str:
    """The subject as a person reads it (decoded, unfolded)."""
    return str(make_header(decode_header(message["Subject"].replace("\r\n", ""))))


def outbox_count() -> int:
    return int(db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) or 0)


# Modules ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleCase:
    due: int | None  # days from today; None: the module has no due date
    release: int | None = None  # days from today; None: a month ago (or on the due date)
    extension: int | None = None  # the fellow's extended due date, days from today
    done: int = 0  # of the module's two required steps
    prerequisite: str = ""  # "open" or "done": requires another module, (not) finished
    membership: MembershipStatus = MembershipStatus.ACTIVE
    cohort_status: CohortStatus = CohortStatus.ACTIVE
    cohort_ends: int = 180
    active_user: bool = True
    zone: str = "America/New_York"


MODULE_CASES = [
    # (case, expected kind, expected due date of the key, days from today)
    pytest.param(ModuleCase(due=3), DUE_SOON, 3, id="due-in-3-days"),
    pytest.param(ModuleCase(due=1, done=1), DUE_SOON, 1, id="due-tomorrow-in-progress"),
    pytest.param(ModuleCase(due=4), None, None, id="due-in-4-days-not-yet"),
    pytest.param(ModuleCase(due=0), None, None, id="due-today-neither-soon-nor-overdue"),
    pytest.param(ModuleCase(due=-1), OVERDUE, -1, id="due-yesterday-overdue"),
    pytest.param(ModuleCase(due=-7, done=1), OVERDUE, -7, id="overdue-a-week-half-done"),
    pytest.param(ModuleCase(due=-8), None, None, id="overdue-over-a-week-is-old-news"),
    pytest.param(ModuleCase(due=-40, extension=-8), None, None, id="extension-passed-long-ago"),
    pytest.param(ModuleCase(due=None), None, None, id="no-due-date"),
    pytest.param(ModuleCase(due=2, done=2), None, None, id="completed-due-soon"),
    pytest.param(ModuleCase(due=-3, done=2), None, None, id="completed-overdue"),
    pytest.param(ModuleCase(due=3, release=1), None, None, id="unreleased-due-soon"),
    pytest.param(ModuleCase(due=2, release=2), None, None, id="released-only-on-its-due-date"),
    pytest.param(ModuleCase(due=2, extension=20), None, None, id="extended-far-away"),
    pytest.param(ModuleCase(due=-5, extension=10), None, None, id="overdue-but-extended"),
    pytest.param(ModuleCase(due=-5, extension=2), DUE_SOON, 2, id="extended-to-in-2-days"),
    pytest.param(ModuleCase(due=-9, extension=-2), OVERDUE, -2, id="extension-passed-too"),
    pytest.param(ModuleCase(due=3, extension=1), DUE_SOON, 3, id="extension-earlier-ignored"),
    pytest.param(ModuleCase(due=2, prerequisite="open"), None, None, id="locked-prerequisite"),
    pytest.param(ModuleCase(due=2, prerequisite="done"), DUE_SOON, 2, id="prerequisite-done"),
    pytest.param(
        ModuleCase(due=2, membership=MembershipStatus.WITHDRAWN), None, None, id="withdrawn"
    ),
    pytest.param(
        ModuleCase(due=-2, membership=MembershipStatus.COMPLETED), None, None, id="alumnus"
    ),
    pytest.param(
        ModuleCase(due=2, cohort_status=CohortStatus.COMPLETED), None, None, id="cohort-completed"
    ),
    pytest.param(
        ModuleCase(due=-2, cohort_status=CohortStatus.PLANNING), None, None, id="cohort-planning"
    ),
    pytest.param(ModuleCase(due=-2, cohort_ends=-1), None, None, id="cohort-ended-yesterday"),
    pytest.param(ModuleCase(due=2, active_user=False), None, None, id="deactivated-fellow"),
    # The fellow's own day: at 14:00 UTC it is already 2 December in Auckland.
    pytest.param(ModuleCase(due=4, zone="Pacific/Auckland"), DUE_SOON, 4, id="auckland-3-days"),
    pytest.param(ModuleCase(due=0, zone="Pacific/Auckland"), OVERDUE, 0, id="auckland-overdue"),
    pytest.param(ModuleCase(due=3, zone="Pacific/Honolulu"), DUE_SOON, 3, id="honolulu"),
    pytest.param(ModuleCase(due=3, zone="Not/A_Zone"), DUE_SOON, 3, id="unknown-zone-is-utc"),
]


def module_world(case: ModuleCase) -> tuple[User, Module]:
    cohort = CohortFactory(status=case.cohort_status, ends_on=day(case.cohort_ends))
    fellow = UserFactory(timezone=case.zone, is_active=case.active_user)
    MembershipFactory(cohort=cohort, user=fellow, status=case.membership)
    due_on = day(case.due) if case.due is not None else None
    release_on = day(case.release) if case.release is not None else day(-30)
    module = ModuleFactory(
        # Released a month ago, or on the due date when that is earlier.
        cohort_id=cohort.id,
        release_on=min(release_on, due_on) if due_on and case.release is None else release_on,
        due_on=due_on,
    )
    steps = [ItemFactory(module_id=module.id) for _ in range(2)]
    for step in steps[: case.done]:
        ProgressFactory(item_id=step.id, fellow_id=fellow.id, completed_at=NOW)
    if case.extension is not None:
        ExtensionFactory(module_id=module.id, fellow_id=fellow.id, due_on=day(case.extension))
    if case.prerequisite:
        first = ModuleFactory(cohort_id=cohort.id, due_on=None)
        step = ItemFactory(module_id=first.id)
        if case.prerequisite == "done":
            ProgressFactory(item_id=step.id, fellow_id=fellow.id, completed_at=NOW)
        require_module(module, first)
    return fellow, module


@pytest.mark.parametrize(("case", "kind", "due"), MODULE_CASES)
def test_module_reminders_follow_the_fellows_own_due_date_state_and_day(job, case, kind, due):
    fellow, module = module_world(case)
    counts = run_reminders(NOW)
    module_kinds = [DUE_SOON, OVERDUE]
    if kind is None:
        assert [n for n in notifications() if n.kind in module_kinds] == []
        assert counts[DUE_SOON] == counts[OVERDUE] == 0
        return
    [sent] = [n for n in notifications() if n.kind in module_kinds]
    assert (sent.kind, sent.user_id) == (kind, fellow.id)
    assert sent.dedupe_key == f"{kind}:module={module.id}:fellow={fellow.id}:due={day(due)}"
    assert sent.link == f"/modules/{module.id}"
    assert counts[kind] == 1


def test_a_completed_an_extended_and_an_unreleased_module_get_no_reminder(job):
    """The issue's three cases side by side, beside the one module that is reminded."""
    cohort = CohortFactory()
    fellow = UserFactory()
    MembershipFactory(cohort=cohort, user=fellow)

    def module(release: int) -> tuple[Module, int]:
        made = ModuleFactory(cohort_id=cohort.id, release_on=day(release), due_on=day(2))
        return made, ItemFactory(module_id=made.id).id

    (_completed, step), (extended, _), (_unreleased, _), (open_one, _) = (
        module(-10),
        module(-10),
        module(1),
        module(-10),
    )
    ProgressFactory(item_id=step, fellow_id=fellow.id, completed_at=NOW)
    ExtensionFactory(module_id=extended.id, fellow_id=fellow.id, due_on=day(30))
    run_reminders(NOW)
    assert [(n.kind, n.link) for n in notifications()] == [(DUE_SOON, f"/modules/{open_one.id}")]


def test_a_new_due_date_is_a_new_reminder_and_the_same_one_is_never_sent_twice(job):
    _fellow, module = module_world(ModuleCase(due=2))
    assert run_reminders(NOW)[DUE_SOON] == 1
    assert run_reminders(NOW + timedelta(hours=1))[DUE_SOON] == 0
    # The facilitator moves the date: one day later is due in 3 days, a new reminder.
    module.due_on = day(3)
    db.session.commit()
    assert run_reminders(NOW + timedelta(hours=2))[DUE_SOON] == 1
    # Then it passes, unfinished: overdue, once.
    later = NOW + timedelta(days=4)
    assert run_reminders(later)[OVERDUE] == 1
    assert run_reminders(later + timedelta(days=1))[OVERDUE] == 0
    assert [n.dedupe_key.rsplit(":", 1)[1] for n in notifications()] == [
        f"due={day(2)}",
        f"due={day(3)}",
        f"due={day(3)}",
    ]


# Check-in rhythm --------------------------------------------------------------------------


@dataclass(frozen=True)
class RhythmCase:
    shared: int | None  # days ago of the last shared check-in
    draft: int | None = None  # days ago of a draft by the current coach (it counts)
    other_draft: int | None = None  # days ago of a draft by a former coach (it does not)
    rhythm: int = 14
    fellow: MembershipStatus = MembershipStatus.ACTIVE
    coach: MembershipStatus = MembershipStatus.ACTIVE
    assignment_ended: bool = False
    cohort_status: CohortStatus = CohortStatus.ACTIVE


ASSIGNED = date(2026, 8, 1)

RHYTHM_CASES = [
    # (case, expected kind, the day the count starts from)
    pytest.param(RhythmCase(shared=5), None, None, id="on-track"),
    pytest.param(RhythmCase(shared=11), None, None, id="11-of-14-days-on-track"),
    pytest.param(RhythmCase(shared=12), reminders.CHECKIN_DUE_SOON, day(-12), id="due-in-2"),
    pytest.param(RhythmCase(shared=14), reminders.CHECKIN_DUE_SOON, day(-14), id="due-today"),
    pytest.param(RhythmCase(shared=15), reminders.CHECKIN_OVERDUE, day(-15), id="overdue"),
    pytest.param(RhythmCase(shared=None), reminders.CHECKIN_OVERDUE, ASSIGNED, id="never-met"),
    pytest.param(RhythmCase(shared=8, rhythm=10), reminders.CHECKIN_DUE_SOON, day(-8), id="r10"),
    pytest.param(RhythmCase(shared=20, draft=3), None, None, id="own-draft-counts"),
    pytest.param(
        RhythmCase(shared=20, other_draft=3),
        reminders.CHECKIN_OVERDUE,
        day(-20),
        id="former-coachs-draft-does-not-count",
    ),
    pytest.param(RhythmCase(shared=20, fellow=MembershipStatus.WITHDRAWN), None, None, id="w"),
    pytest.param(RhythmCase(shared=20, coach=MembershipStatus.WITHDRAWN), None, None, id="cw"),
    pytest.param(RhythmCase(shared=20, assignment_ended=True), None, None, id="not-coach-now"),
    pytest.param(
        RhythmCase(shared=20, cohort_status=CohortStatus.COMPLETED), None, None, id="ended"
    ),
]


@pytest.mark.parametrize(("case", "kind", "since"), RHYTHM_CASES)
def test_checkin_reminders_go_to_the_coach_by_the_caseload_rule(job, case, kind, since):
    cohort = CohortFactory(status=case.cohort_status, checkin_rhythm_days=case.rhythm)
    coach = UserFactory(name="Cora Coach")
    fellow = UserFactory(name="Felix Fellow")
    MembershipFactory(cohort=cohort, user=coach, role=CohortRole.COACH, status=case.coach)
    MembershipFactory(cohort=cohort, user=fellow, status=case.fellow)
    CoachAssignmentFactory(
        cohort_id=cohort.id,
        fellow_id=fellow.id,
        coach_id=coach.id,
        starts_on=ASSIGNED,
        ends_on=day(-1) if case.assignment_ended else None,
    )
    pair = {"cohort_id": cohort.id, "fellow_id": fellow.id}
    if case.shared is not None:
        CheckInFactory(**pair, coach_id=coach.id, held_on=day(-case.shared))
    if case.draft is not None:
        CheckInFactory(**pair, coach_id=coach.id, held_on=day(-case.draft), shared_at=None)
    if case.other_draft is not None:
        former = UserFactory()
        CheckInFactory(**pair, coach_id=former.id, held_on=day(-case.other_draft), shared_at=None)
    run_reminders(NOW)
    sent = [n for n in notifications() if n.category == Category.COACHING]
    if kind is None:
        assert sent == []
        return
    [reminder] = sent
    assert (reminder.kind, reminder.user_id) == (kind, coach.id)
    assert reminder.dedupe_key == (
        f"{kind}:cohort={cohort.id}:fellow={fellow.id}:coach={coach.id}:since={since}"
    )
    assert reminder.link == f"/cohorts/{cohort.id}/fellows/{fellow.id}/checkins"


def test_checkin_reminders_agree_with_the_coachs_caseload_page(job):
    cohort = CohortFactory(checkin_rhythm_days=14)
    coach = UserFactory()
    MembershipFactory(cohort=cohort, user=coach, role=CohortRole.COACH)
    for days_ago in [None, 0, 5, 10, 11, 12, 13, 14, 15, 30]:
        fellow = UserFactory()
        MembershipFactory(cohort=cohort, user=fellow)
        CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=fellow.id, coach_id=coach.id)
        if days_ago is not None:
            CheckInFactory(
                cohort_id=cohort.id,
                fellow_id=fellow.id,
                coach_id=coach.id,
                held_on=day(-days_ago),
                shared_at=None if days_ago == 5 else NOW,
            )
    run_reminders(NOW)
    page = {row.fellow_id: row.status for row in caseload.caseload(cohort, coach.id, TODAY)}
    expected = {
        caseload.RhythmStatus.DUE_SOON: reminders.CHECKIN_DUE_SOON,
        caseload.RhythmStatus.OVERDUE: reminders.CHECKIN_OVERDUE,
    }
    emailed = {
        int(n.dedupe_key.split(":fellow=")[1].split(":")[0]): n.kind
        for n in notifications()
        if n.category == Category.COACHING
    }
    assert emailed == {
        fellow_id: expected[status]
        for fellow_id, status in page.items()
        if status != caseload.RhythmStatus.ON_TRACK
    }
    assert sorted(emailed.values()).count(reminders.CHECKIN_OVERDUE) == 3  # 15, 30, never


def test_a_new_checkin_starts_a_new_spell_of_checkin_reminders(job):
    cohort = CohortFactory(checkin_rhythm_days=14)
    coach, fellow = UserFactory(), UserFactory()
    MembershipFactory(cohort=cohort, user=coach, role=CohortRole.COACH)
    MembershipFactory(cohort=cohort, user=fellow)
    CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=fellow.id, coach_id=coach.id)
    pair = {"cohort_id": cohort.id, "fellow_id": fellow.id, "coach_id": coach.id}
    CheckInFactory(**pair, held_on=day(-16))
    assert run_reminders(NOW)[reminders.CHECKIN_OVERDUE] == 1
    assert run_reminders(NOW + timedelta(days=1))[reminders.CHECKIN_OVERDUE] == 0
    CheckInFactory(**pair, held_on=day(1))
    assert sum(run_reminders(NOW + timedelta(days=2)).values()) == 0  # on track again
    # Twelve days after that check-in: due soon, a reminder of the new spell.
    assert run_reminders(NOW + timedelta(days=13))[reminders.CHECKIN_DUE_SOON] == 1
    assert run_reminders(NOW + timedelta(days=16))[reminders.CHECKIN_OVERDUE] == 1


# Capstone reviews -------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitingCase:
    waited: timedelta
    review: str = "none"  # none | draft | submitted
    decided: bool = False
    reviewer: MembershipStatus = MembershipStatus.ACTIVE
    cohort_status: CohortStatus = CohortStatus.ACTIVE
    submitted: bool = True


WAITING_CASES = [
    pytest.param(WaitingCase(timedelta(days=8)), True, id="8-days"),
    pytest.param(WaitingCase(timedelta(days=7)), False, id="7-days-is-not-more"),
    # 23:00 the evening before, in New York: 8 of the reviewer's days ago.
    pytest.param(WaitingCase(timedelta(days=7, hours=10)), True, id="by-the-reviewers-days"),
    pytest.param(WaitingCase(timedelta(days=20), review="draft"), True, id="draft-still-waits"),
    pytest.param(WaitingCase(timedelta(days=20), review="submitted"), False, id="submitted"),
    pytest.param(WaitingCase(timedelta(days=20), decided=True), False, id="decided"),
    pytest.param(
        WaitingCase(timedelta(days=20), reviewer=MembershipStatus.WITHDRAWN), False, id="left"
    ),
    pytest.param(
        WaitingCase(timedelta(days=20), cohort_status=CohortStatus.ARCHIVED), False, id="archived"
    ),
    pytest.param(
        WaitingCase(timedelta(days=20), cohort_status=CohortStatus.COMPLETED), True, id="completed"
    ),
]


@pytest.mark.parametrize(("case", "expected"), WAITING_CASES)
def test_a_capstone_review_waiting_more_than_a_week_reminds_its_reviewer_once(job, case, expected):
    cohort = CohortFactory(status=case.cohort_status)
    fellow, reviewer = UserFactory(name="Farah Fellow"), UserFactory(name="Rita Reviewer")
    MembershipFactory(cohort=cohort, user=fellow)
    MembershipFactory(cohort=cohort, user=reviewer, role=CohortRole.REVIEWER, status=case.reviewer)
    capstone = CapstoneFactory(cohort_id=cohort.id, fellow_id=fellow.id)
    version = VersionFactory(capstone_id=capstone.id, submitted_at=NOW - timedelta(days=30))
    assignment = AssignmentFactory(
        version_id=version.id, reviewer_id=reviewer.id, assigned_at=NOW - case.waited
    )
    if case.review != "none":
        CapstoneReviewFactory(
            assignment_id=assignment.id,
            submitted_at=NOW - timedelta(days=1) if case.review == "submitted" else None,
        )
    if case.decided:
        DecisionFactory(version_id=version.id)
    run_reminders(NOW)
    sent = notifications(reminders.REVIEW_WAITING)
    if not expected:
        assert sent == []
        return
    run_reminders(NOW + timedelta(days=3))  # still waiting: once per assignment
    sent = notifications(reminders.REVIEW_WAITING)
    [reminder] = sent
    assert reminder.user_id == reviewer.id
    assert reminder.link == f"/reviews/{assignment.id}"
    assert reminder.dedupe_key.startswith(
        f"capstones/review_waiting:assignment={assignment.id}:version={version.id}:"
        f"reviewer={reviewer.id}:assigned="
    )


# Goals: stale measurements -----------------------------------------------------------------


@dataclass(frozen=True)
class StaleCase:
    measured: int | None  # days ago of the last measurement
    baseline: int = 100  # days ago of the baseline
    stage: CycleStage = CycleStage.IMPLEMENTING
    last_year: bool = False


STALE_CASES = [
    # (case, expected: the day the key names, days ago; None: no reminder)
    pytest.param(StaleCase(measured=61), 61, id="61-days"),
    pytest.param(StaleCase(measured=60), None, id="60-days-is-not-more"),
    pytest.param(StaleCase(measured=None), 100, id="never-measured-since-the-baseline"),
    pytest.param(StaleCase(measured=None, baseline=30), None, id="new-goal"),
    pytest.param(StaleCase(measured=200, baseline=61), 61, id="measurement-before-baseline"),
    pytest.param(StaleCase(measured=90, stage=CycleStage.PLANNING), 90, id="planning"),
    pytest.param(StaleCase(measured=90, stage=CycleStage.YEARLY_REVIEW), 90, id="in-review"),
    pytest.param(StaleCase(measured=90, stage=CycleStage.CLOSED), None, id="closed"),
    pytest.param(StaleCase(measured=90, last_year=True), None, id="last-school-year"),
]


@pytest.mark.parametrize(("case", "since"), STALE_CASES)
def test_a_goal_without_a_value_for_60_days_reminds_the_lead_teachers(job, case, since):
    year = (
        SchoolYearFactory(label="2025-26", starts_on=date(2025, 7, 1), ends_on=date(2026, 6, 30))
        if case.last_year
        else SchoolYearFactory()
    )
    team = cycle_with_team(stage=case.stage, school_year_id=year.id)
    second_lead = UserFactory()
    CycleMemberFactory(cycle_id=team.cycle.id, user_id=second_lead.id)
    goal = GoalFactory(cycle_id=team.cycle.id, baseline_on=day(-case.baseline))
    if case.measured is not None:
        MeasurementFactory(goal_id=goal.id, measured_on=day(-case.measured))
    run_reminders(NOW)
    sent = notifications(reminders.MEASUREMENT_STALE)
    if since is None:
        assert sent == []
        return
    assert sorted(n.user_id for n in sent) == sorted([team.lead.id, second_lead.id])
    assert {n.dedupe_key.split(":user=")[0] for n in sent} == {
        f"cycles/measurement_stale:goal={goal.id}"
    }
    assert {n.dedupe_key.split(":since=")[1] for n in sent} == {str(day(-since))}
    assert {n.link for n in sent} == {f"/cycles/{team.cycle.id}/goals/{goal.id}#measurements"}


def test_a_new_measurement_ends_the_stale_spell_and_a_later_one_starts_a_new_reminder(job):
    team = cycle_with_team()
    goal = GoalFactory(cycle_id=team.cycle.id, baseline_on=day(-120))
    MeasurementFactory(goal_id=goal.id, measured_on=day(-70))
    assert run_reminders(NOW)[reminders.MEASUREMENT_STALE] == 1
    MeasurementFactory(goal_id=goal.id, measured_on=day(-1))
    assert run_reminders(NOW + timedelta(days=1))[reminders.MEASUREMENT_STALE] == 0
    # Measured on 30 November: 60 days later is not stale yet, 61 days later is.
    assert run_reminders(NOW + timedelta(days=59))[reminders.MEASUREMENT_STALE] == 0
    assert run_reminders(NOW + timedelta(days=60))[reminders.MEASUREMENT_STALE] == 1
    assert [n.dedupe_key.rsplit("since=")[1] for n in notifications()] == [
        str(day(-70)),
        str(day(-1)),
    ]


# Goals reviews ----------------------------------------------------------------------------

IN_7 = reminders.GOALS_REVIEW_IN_7_DAYS
TOMORROW = reminders.GOALS_REVIEW_TOMORROW

REVIEW_CASES = [
    # (days until the review, status, cycle stage, expected kind)
    pytest.param(8, ReviewStatus.SCHEDULED, CycleStage.YEARLY_REVIEW, None, id="8-days"),
    pytest.param(7, ReviewStatus.SCHEDULED, CycleStage.YEARLY_REVIEW, IN_7, id="7-days"),
    pytest.param(2, ReviewStatus.SCHEDULED, CycleStage.YEARLY_REVIEW, IN_7, id="2-days"),
    pytest.param(1, ReviewStatus.SCHEDULED, CycleStage.YEARLY_REVIEW, TOMORROW, id="tomorrow"),
    pytest.param(1, ReviewStatus.IN_MEETING, CycleStage.IMPLEMENTING, TOMORROW, id="recording"),
    pytest.param(0, ReviewStatus.SCHEDULED, CycleStage.YEARLY_REVIEW, None, id="today"),
    pytest.param(-1, ReviewStatus.SCHEDULED, CycleStage.YEARLY_REVIEW, None, id="yesterday"),
    pytest.param(1, ReviewStatus.SIGNED, CycleStage.YEARLY_REVIEW, None, id="signed"),
    pytest.param(1, ReviewStatus.SCHEDULED, CycleStage.CLOSED, None, id="cycle-closed"),
]


@pytest.mark.parametrize(("until", "status", "stage", "kind"), REVIEW_CASES)
def test_goals_review_reminders_a_week_before_and_the_day_before(job, until, status, stage, kind):
    team = cycle_with_team(stage=stage)
    scheduler = StaffFactory()
    review = ReviewFactory(
        cycle_id=team.cycle.id,
        scheduled_for=day(until),
        status=status,
        scheduled_by_id=scheduler.id,
        frozen_at=NOW if status == ReviewStatus.SIGNED else None,
    )
    run_reminders(NOW)
    sent = notifications(IN_7) + notifications(TOMORROW)
    if kind is None:
        assert sent == []
        return
    # The lead teacher and the staff side: the liaison and whoever scheduled it.
    assert sorted((n.kind, n.user_id) for n in sent) == sorted(
        (kind, person.id) for person in (team.lead, team.liaison, scheduler)
    )
    assert {n.link for n in sent} == {f"/cycles/{team.cycle.id}/reviews/{review.id}"}
    assert {n.dedupe_key.split(":user=")[0] for n in sent} == {f"{kind}:review={review.id}"}


def test_a_goals_review_reminds_a_week_ahead_then_the_day_before_then_not_again(job):
    team = cycle_with_team(stage=CycleStage.YEARLY_REVIEW)
    review = ReviewFactory(cycle_id=team.cycle.id, scheduled_for=day(7))
    week = [run_reminders(NOW + timedelta(days=n))[IN_7] for n in range(6)]
    assert week == [2, 0, 0, 0, 0, 0]  # the lead teacher and the liaison, once
    assert run_reminders(NOW + timedelta(days=6))[TOMORROW] == 2
    assert sum(run_reminders(NOW + timedelta(days=7)).values()) == 0
    # Moved a week later: reminded again, for the new date.
    review.scheduled_for = day(14)
    db.session.commit()
    assert run_reminders(NOW + timedelta(days=7))[IN_7] == 2


def test_a_goals_review_is_not_reminded_to_partners_team_members_or_inactive_staff(job):
    team = cycle_with_team()
    scheduler = StaffFactory(is_active=False)
    ReviewFactory(cycle_id=team.cycle.id, scheduled_for=day(1), scheduled_by_id=scheduler.id)
    run_reminders(NOW)
    assert sorted(n.user_id for n in notifications(TOMORROW)) == sorted(
        [team.lead.id, team.liaison.id]
    )


# Action items -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemCase:
    owner: str  # fellow | coach (who wrote the check-in) | former (a coach reassigned since)
    due: int | None = 1
    shared: bool = True
    done: bool = False
    fellow: MembershipStatus = MembershipStatus.ACTIVE
    zone: str = "America/New_York"


ITEM_CASES = [
    pytest.param(ItemCase("fellow"), True, id="fellow-due-tomorrow"),
    pytest.param(ItemCase("coach"), True, id="coach-due-tomorrow"),
    pytest.param(ItemCase("coach", shared=False), True, id="coach-on-own-draft"),
    pytest.param(ItemCase("fellow", shared=False), False, id="fellow-on-a-draft"),
    pytest.param(ItemCase("fellow", due=2), False, id="in-2-days"),
    pytest.param(ItemCase("fellow", due=0), False, id="due-today"),
    pytest.param(ItemCase("fellow", due=None), False, id="no-due-date"),
    pytest.param(ItemCase("fellow", done=True), False, id="done"),
    pytest.param(ItemCase("fellow", fellow=MembershipStatus.WITHDRAWN), False, id="withdrawn"),
    pytest.param(ItemCase("former"), False, id="coach-no-longer-coaching"),
    pytest.param(ItemCase("fellow", due=2, zone="Pacific/Auckland"), True, id="auckland"),
    pytest.param(ItemCase("fellow", due=1, zone="Pacific/Auckland"), False, id="auckland-today"),
]


@pytest.mark.parametrize(("case", "expected"), ITEM_CASES)
def test_an_open_action_item_due_tomorrow_reminds_its_owner(job, case, expected):
    cohort = CohortFactory()
    coach = UserFactory(name="Cora Coach", timezone=case.zone)
    fellow = UserFactory(name="Felix Fellow", timezone=case.zone)
    MembershipFactory(cohort=cohort, user=coach, role=CohortRole.COACH)
    MembershipFactory(cohort=cohort, user=fellow, status=case.fellow)
    CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=fellow.id, coach_id=coach.id)
    checkin = CheckInFactory(
        cohort_id=cohort.id,
        coach_id=coach.id,
        fellow_id=fellow.id,
        held_on=day(-3),
        shared_at=NOW if case.shared else None,
    )
    owner = fellow if case.owner == "fellow" else coach
    item = ActionItem(
        checkin_id=checkin.id,
        owner_id=owner.id,
        description="Draft the memo to the board",
        due_on=day(case.due) if case.due is not None else None,
        done_at=NOW if case.done else None,
    )
    db.session.add(item)
    if case.owner == "former":
        successor = UserFactory()
        MembershipFactory(cohort=cohort, user=successor, role=CohortRole.COACH)
        current = db.session.scalar(
            sa.select(CoachAssignment).where(CoachAssignment.fellow_id == fellow.id)
        )
        assert current is not None
        current.ends_on = day(-1)
        db.session.flush()
        db.session.add(
            CoachAssignment(
                cohort_id=cohort.id, fellow_id=fellow.id, coach_id=successor.id, starts_on=day(-1)
            )
        )
    db.session.commit()
    run_reminders(NOW)
    sent = notifications(reminders.ACTION_ITEM_DUE)
    if not expected:
        assert sent == []
        return
    [reminder] = sent
    assert reminder.user_id == owner.id
    assert reminder.link == f"/checkins/{checkin.id}#items-heading"
    assert reminder.dedupe_key == (
        f"coaching/action_item_due:item={item.id}:checkin={checkin.id}:owner={owner.id}"
        f":due={item.due_on}"
    )


# The whole job ------------------------------------------------------------------------------


@dataclass
class World:
    """One reminder of every kind due at NOW, each kind to known people."""

    expected: dict[str, set[str]] = field(default_factory=dict)  # kind -> recipients' emails

    def add(self, kind: str, *people: User) -> None:
        self.expected.setdefault(kind, set()).update(person.email for person in people)

    @property
    def total(self) -> int:
        return sum(len(emails) for emails in self.expected.values())


def build_world() -> World:
    """Committed rows (factories commit): a cohort with modules due, a coach's caseload, a
    capstone review waiting, a cycle with a stale goal and two cycles' goals reviews."""
    world = World()
    learning = CohortFactory(name="Cohort of 2027")
    fatima = UserFactory(name="Fatima Fellow", email="fatima@example.org")
    MembershipFactory(cohort=learning, user=fatima)
    soon = ModuleFactory(
        cohort_id=learning.id, title="Coalition maps", release_on=day(-20), due_on=day(3)
    )
    late = ModuleFactory(
        cohort_id=learning.id, title="The school model", release_on=day(-40), due_on=day(-2)
    )
    for module in (soon, late):
        ItemFactory(module_id=module.id)
    world.add(reminders.MODULE_DUE_SOON, fatima)
    world.add(reminders.MODULE_OVERDUE, fatima)

    coaching = CohortFactory(name="Coaching cohort", checkin_rhythm_days=14)
    coach = UserFactory(name="Cora Coach", email="cora@example.org")
    MembershipFactory(cohort=coaching, user=coach, role=CohortRole.COACH)
    felix = UserFactory(name="Felix Fellow", email="felix@example.org")
    gina = UserFactory(name="Gina Fellow", email="gina@example.org")
    for fellow in (felix, gina):
        MembershipFactory(cohort=coaching, user=fellow)
        CoachAssignmentFactory(cohort_id=coaching.id, fellow_id=fellow.id, coach_id=coach.id)
    shared = CheckInFactory(
        cohort_id=coaching.id, coach_id=coach.id, fellow_id=felix.id, held_on=day(-12)
    )
    db.session.add(
        ActionItem(
            checkin_id=shared.id, owner_id=felix.id, description="Call the PTA", due_on=day(1)
        )
    )
    db.session.commit()
    world.add(reminders.CHECKIN_DUE_SOON, coach)  # Felix: 12 of 14 days
    world.add(reminders.CHECKIN_OVERDUE, coach)  # Gina: never, since 1 August
    world.add(reminders.ACTION_ITEM_DUE, felix)

    rita = UserFactory(name="Rita Reviewer", email="rita@example.org")
    MembershipFactory(cohort=coaching, user=rita, role=CohortRole.REVIEWER)
    capstone = CapstoneFactory(cohort_id=coaching.id, fellow_id=gina.id, title="Open doors")
    version = VersionFactory(
        capstone_id=capstone.id, stage=Stage.PROPOSAL, submitted_at=NOW - timedelta(days=12)
    )
    AssignmentFactory(
        version_id=version.id, reviewer_id=rita.id, assigned_at=NOW - timedelta(days=10)
    )
    world.add(reminders.REVIEW_WAITING, rita)

    team = cycle_with_team(stage=CycleStage.YEARLY_REVIEW)
    GoalFactory(cycle_id=team.cycle.id, title="Belonging survey", baseline_on=day(-90))
    world.add(reminders.MEASUREMENT_STALE, team.lead)
    scheduler = StaffFactory(name="Sam Staff", email="sam@example.org")
    ReviewFactory(cycle_id=team.cycle.id, scheduled_for=day(1), scheduled_by_id=scheduler.id)
    world.add(reminders.GOALS_REVIEW_TOMORROW, team.lead, team.liaison, scheduler)
    other = cycle_with_team(stage=CycleStage.YEARLY_REVIEW)
    ReviewFactory(cycle_id=other.cycle.id, scheduled_for=day(7), scheduled_by_id=scheduler.id)
    world.add(reminders.GOALS_REVIEW_IN_7_DAYS, other.lead, other.liaison, scheduler)
    return world


def expected_counts(world: World) -> dict[str, int]:
    return {kind: len(world.expected.get(kind, set())) for kind in reminders.REMINDER_KINDS}


def test_each_reminder_is_emailed_once_and_a_second_run_sends_nothing_new(job, smtp_server):
    world = build_world()
    assert run_reminders(NOW) == expected_counts(world)
    assert deliver_outbox(limit=1000) == {"sent": world.total, "retry": 0, "failed": 0}
    received: dict[str, set[str]] = {}
    by_subject = {n.subject: n.kind for n in notifications()}
    for message in smtp_server.messages:
        received.setdefault(by_subject[subject_of(message)], set()).add(message["X-Envelope-To"])
        text = body_of(message)
        assert "http://localhost/" in text
        assert "/notifications/unsubscribe/" in text  # the footer
        unsubscribe = str(make_header(decode_header(message["List-Unsubscribe"])))
        assert unsubscribe.startswith("<http://localhost/notifications/unsubscribe/")
        assert body_of(message, "html").startswith("<!doctype html>")
    assert received == world.expected
    assert len(smtp_server.messages) == world.total  # nobody got one twice

    assert run_reminders(NOW) == dict.fromkeys(reminders.REMINDER_KINDS, 0)
    assert run_reminders(NOW + timedelta(minutes=59)) == dict.fromkeys(reminders.REMINDER_KINDS, 0)
    assert deliver_outbox() == {"sent": 0, "retry": 0, "failed": 0}
    assert len(smtp_server.messages) == world.total
    assert len(notifications()) == world.total


def test_a_reminder_email_names_the_thing_the_date_and_links_to_its_page(job, smtp_server):
    build_world()
    run_reminders(NOW)
    deliver_outbox(limit=1000)
    subjects = sorted(subject_of(message) for message in smtp_server.messages)
    assert "“Coalition maps” is due in 3 days, on December 4, 2026" in subjects
    assert "“The school model” was due on November 29, 2026" in subjects
    assert "A check-in with Felix Fellow is due by December 3, 2026" in subjects
    assert "Your check-in with Gina Fellow is overdue" in subjects
    assert "Due tomorrow: Call the PTA" in subjects
    assert "“Belonging survey” at " in " ".join(subjects)
    [rita] = [m for m in smtp_server.messages if m["X-Envelope-To"] == "rita@example.org"]
    assert subject_of(rita) == (
        "The capstone proposal “Open doors” by Gina Fellow is waiting for your review"
    )
    assert "You were asked on November 21, 2026, 10 days ago" in body_of(rita)


def test_reminders_follow_each_persons_frequency_language_and_timezone(job):
    world = build_world()
    fatima = db.session.scalar(sa.select(User).where(User.email == "fatima@example.org"))
    cora = db.session.scalar(sa.select(User).where(User.email == "cora@example.org"))
    assert fatima is not None
    assert cora is not None
    set_preferences(fatima, {Category.CURRICULUM: Frequency.DAILY})
    set_preferences(cora, {Category.COACHING: Frequency.OFF})
    fatima.locale, fatima.timezone = "es", "Europe/Madrid"
    db.session.commit()
    run_reminders(NOW)
    states = {n.kind: n.email for n in notifications() if n.user_id in (fatima.id, cora.id)}
    assert states == {
        reminders.MODULE_DUE_SOON: EmailState.PENDING,  # waits for the daily digest
        reminders.MODULE_OVERDUE: EmailState.PENDING,
        reminders.CHECKIN_DUE_SOON: EmailState.NONE,  # in the app only
        reminders.CHECKIN_OVERDUE: EmailState.NONE,
    }
    assert outbox_count() == world.total - 4
    [soon] = notifications(reminders.MODULE_DUE_SOON)
    assert "diciembre" in soon.subject  # a Spanish date, whatever the catalog holds


def test_more_reminders_than_a_batch_are_each_made_once(job):
    """Reminders go in `BATCH` at a time, a transaction each; none is lost or doubled."""
    count = 2 * reminders.BATCH + 7
    cohort = CohortFactory()
    module = ModuleFactory(cohort_id=cohort.id, release_on=day(-5), due_on=day(2))
    ItemFactory(module_id=module.id)
    ids = db.session.execute(
        sa.insert(User).returning(User.id),
        [{"email": f"batch{n}@example.org", "name": f"Fellow {n}"} for n in range(count)],
    ).scalars()
    db.session.execute(
        sa.insert(CohortMembership),
        [
            {"cohort_id": cohort.id, "user_id": user_id, "role": CohortRole.FELLOW}
            for user_id in ids
        ],
    )
    db.session.commit()
    assert run_reminders(NOW)[DUE_SOON] == count
    assert run_reminders(NOW)[DUE_SOON] == 0
    assert len(notifications(DUE_SOON)) == outbox_count() == count


def test_the_job_reads_a_fixed_number_of_queries_whatever_the_number_of_fellows(job, count_queries):
    """Ten times the fellows, the same queries (the module rules: four per cohort)."""

    def measured(fellows: int) -> int:
        cohort = CohortFactory()
        module = ModuleFactory(cohort_id=cohort.id, release_on=day(-5), due_on=day(2))
        ItemFactory(module_id=module.id)
        coach = UserFactory()
        MembershipFactory(cohort=cohort, user=coach, role=CohortRole.COACH)
        for _ in range(fellows):
            fellow = UserFactory()
            MembershipFactory(cohort=cohort, user=fellow)
            CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=fellow.id, coach_id=coach.id)
        with count_queries() as counter:
            counts = run_reminders(NOW)
        assert counts[DUE_SOON] == fellows
        assert counts[reminders.CHECKIN_OVERDUE] == fellows
        # The next cohort is measured alone.
        cohort.status = CohortStatus.COMPLETED
        db.session.commit()
        return counter.count

    assert measured(3) == measured(30)


def test_a_rule_that_meets_a_deadlock_is_computed_again(job, app):
    """A deadlock or a lock timeout (another run at the same moment) rolls the rule back and
    computes it again. Here the database server itself reports a deadlock (PostgreSQL's
    SQLSTATE 40P01; an error of the same class on SQLite) on the first insert of a
    notification."""
    fellow, module = module_world(ModuleCase(due=2))
    with app.app_context():
        engine = db.engine
    refused: list[str] = []

    def deadlock_once(cursor, statement, parameters, context):
        if statement.startswith("INSERT INTO notifications") and not refused:
            refused.append(statement)
            if engine.dialect.name == "postgresql":
                cursor.execute(
                    "DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' USING ERRCODE = '40P01';"
                    " END $$"
                )
            cursor.execute("SELECT deadlock FROM a_table_that_does_not_exist")
        return False  # the statement itself runs as usual

    sa.event.listen(engine.dialect, "do_execute", deadlock_once)
    try:
        counts = run_reminders(NOW)
    finally:
        sa.event.remove(engine.dialect, "do_execute", deadlock_once)
    assert refused
    assert counts[DUE_SOON] == 1
    [sent] = notifications()
    assert sent.dedupe_key == f"{DUE_SOON}:module={module.id}:fellow={fellow.id}:due={day(2)}"
    assert outbox_count() == 1


# The command ----------------------------------------------------------------------------------


def test_flask_reminders_run_takes_a_moment_and_prints_what_it_made(app):
    with app.app_context():
        world = build_world()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["reminders", "run", "--now", "2026-12-01T14:00"])
    assert result.exit_code == 0, result.output
    assert "reminders as at 2026-12-01T14:00+00:00" in result.output
    assert "curriculum/module_due_soon: 1" in result.output
    assert "cycles/review_tomorrow: 3" in result.output
    assert f"new reminders: {world.total}" in result.output
    again = runner.invoke(args=["reminders", "run", "--now", "2026-12-01T09:30-05:00"])
    assert again.exit_code == 0, again.output
    assert "new reminders: 0" in again.output
    with app.app_context():
        assert len(notifications()) == world.total
        assert outbox_count() == world.total  # waiting for `flask outbox deliver`


def test_flask_reminders_run_deliver_sends_the_email_too(app, smtp_server):
    with app.app_context():
        world = build_world()
    result = app.test_cli_runner().invoke(
        args=["reminders", "run", "--now", "2026-12-01T14:00", "--deliver"]
    )
    assert result.exit_code == 0, result.output
    assert f"email: sent {world.total}, will retry 0, failed 0" in result.output
    assert len(smtp_server.messages) == world.total


@pytest.mark.parametrize("moment", ["yesterday", "2026-13-01T09:00", "12/01/2026"])
def test_flask_reminders_run_refuses_a_moment_it_cannot_read(app, moment):
    result = app.test_cli_runner().invoke(args=["reminders", "run", "--now", moment])
    assert result.exit_code == 2
    assert "is not a date and time like 2026-12-01T09:00" in result.output
    with app.app_context():
        assert notifications() == []


def test_flask_reminders_run_without_a_moment_uses_the_clock(app):
    result = app.test_cli_runner().invoke(args=["reminders", "run"])
    assert result.exit_code == 0, result.output
    assert "new reminders: 0" in result.output


def test_flask_reminders_run_help_says_what_it_does(app):
    result = app.test_cli_runner().invoke(args=["reminders", "run", "--help"])
    assert result.exit_code == 0
    assert "run from cron" in result.output
    assert "--deliver" in result.output


def test_a_naive_moment_is_refused_by_the_job(job):
    with pytest.raises(ValueError, match="timezone-aware"):
        run_reminders(datetime(2026, 12, 1, 14, 0))  # noqa: DTZ001

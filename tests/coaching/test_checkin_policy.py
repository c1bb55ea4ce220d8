"""Who reads what of a check-in: every reader x (shared part, private notes, action items)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from fellowship import policy
from fellowship.auth.models import User
from fellowship.coaching.models import ActionItem, CheckIn, CheckInMode
from fellowship.cohorts.models import CohortRole, MembershipStatus
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import rows_for_module
from tests.factories import (
    AdminFactory,
    CoachAssignmentFactory,
    CohortFactory,
    MembershipFactory,
    StaffFactory,
)

READERS = [
    "its coach",
    "the fellow",
    "another fellow",
    "another coach in the cohort",
    "the next coach after reassignment",
    "facilitator",
    "reviewer",
    "staff",
    "admin",
]

SUMMARY = {"its coach", "the fellow", "the next coach after reassignment"}
TABLE = {
    "can_view_checkin_summary": SUMMARY,
    "can_view_checkin_private_notes": {"its coach"},
    "action items": SUMMARY,
    "can_view_checkin_meta": SUMMARY | {"staff", "admin"},
    # Acting needs a live relation: the fellow, and whoever coaches the fellow now. Its
    # coach here was reassigned away: they still read what they wrote, but no longer act.
    "can_reply_to_checkin": {"the fellow", "the next coach after reassignment"},
    "can_edit_checkin": set(),
}


def build_world():
    cohort = CohortFactory()

    def member(role):
        return MembershipFactory(cohort=cohort, role=role).user_id

    ids = {
        "its coach": member(CohortRole.COACH),
        "the fellow": member(CohortRole.FELLOW),
        "another fellow": member(CohortRole.FELLOW),
        "another coach in the cohort": member(CohortRole.COACH),
        "the next coach after reassignment": member(CohortRole.COACH),
        "facilitator": member(CohortRole.FACILITATOR),
        "reviewer": member(CohortRole.REVIEWER),
        "staff": StaffFactory().id,
        "admin": AdminFactory().id,
    }
    fellow, writer, next_coach = (
        ids["the fellow"],
        ids["its coach"],
        ids["the next coach after reassignment"],
    )
    CoachAssignmentFactory(
        cohort_id=cohort.id,
        fellow_id=fellow,
        coach_id=writer,
        starts_on=date(2026, 8, 1),
        ends_on=date(2027, 1, 10),
    )
    CoachAssignmentFactory(
        cohort_id=cohort.id, fellow_id=fellow, coach_id=next_coach, starts_on=date(2027, 1, 10)
    )
    CoachAssignmentFactory(
        cohort_id=cohort.id,
        fellow_id=ids["another fellow"],
        coach_id=ids["another coach in the cohort"],
    )

    cohort_id = cohort.id  # the closure outlives the session that built the cohort

    def checkin(shared):
        return CheckIn(
            id=1,
            cohort_id=cohort_id,
            coach_id=writer,
            fellow_id=fellow,
            held_on=date(2026, 12, 1),
            duration_minutes=45,
            mode=CheckInMode.VIDEO,
            shared_at=utcnow() if shared else None,
        )

    people = {name: db.session.get(User, user_id) for name, user_id in ids.items()}
    item = ActionItem(id=1, checkin_id=1, owner_id=fellow, description="Draft the memo")
    return cohort, checkin, people, item


built_world = rows_for_module(build_world)


@pytest.fixture
def world(ctx, built_world):
    return built_world.thaw()


def decide(decision, user, checkin):
    if decision == "action items":
        return policy.can_view_checkin_summary(user, checkin)
    return getattr(policy, decision)(user, checkin)


@pytest.mark.parametrize("who", READERS)
@pytest.mark.parametrize("decision", list(TABLE))
def test_a_shared_check_in_is_read_only_by_the_right_people(world, decision, who):
    _, checkin, people, _ = world
    assert decide(decision, people[who], checkin(shared=True)) is (who in TABLE[decision])


@pytest.mark.parametrize("who", READERS)
def test_a_draft_is_seen_by_its_coach_alone(world, who):
    _, checkin, people, _ = world
    draft = checkin(shared=False)
    for decision in (
        "can_view_checkin_summary",
        "can_view_checkin_meta",
        "can_view_checkin_private_notes",
        "can_reply_to_checkin",
    ):
        expected = who == "its coach" and decision != "can_reply_to_checkin"
        assert decide(decision, people[who], draft) is expected, decision


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("the fellow", True),
        ("its coach", False),
        ("the next coach after reassignment", True),
        ("another fellow", False),
        ("staff", False),
        ("admin", False),
    ],
)
def test_the_owner_or_the_fellows_coach_now_marks_an_action_item_done(world, who, expected):
    _, checkin, people, item = world
    assert policy.can_complete_action_item(people[who], item, checkin(shared=True)) is expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("the next coach after reassignment", True),
        ("its coach", False),
        ("another coach in the cohort", False),
        ("staff", False),
        ("the fellow", False),
    ],
)
def test_only_the_current_coach_logs_a_check_in_with_a_fellow(world, who, expected):
    cohort, _, people, _ = world
    fellow_id = people["the fellow"].id
    assert policy.can_log_checkin(people[who], cohort, fellow_id) is expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("its coach", True),
        ("another coach in the cohort", False),
        ("staff", True),
        ("admin", True),
        ("the fellow", False),
        ("facilitator", False),
    ],
)
def test_a_caseload_is_its_coachs_and_staffs(world, who, expected):
    cohort, _, people, _ = world
    assert policy.can_view_caseload(people[who], cohort, people["its coach"].id) is expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("the next coach after reassignment", True),
        ("its coach", False),
        ("staff", True),
        ("admin", True),
        ("the fellow", False),
        ("another coach in the cohort", False),
        ("facilitator", False),
    ],
)
def test_a_fellows_history_page_is_for_their_coach_now_and_staff(world, who, expected):
    cohort, _, people, _ = world
    allowed = policy.can_view_fellow_checkins(people[who], cohort, people["the fellow"].id)
    assert allowed is expected


@pytest.mark.parametrize(
    ("who", "own_checkins", "rhythm"),
    [
        ("the fellow", True, False),
        ("its coach", False, False),
        ("staff", False, True),
        ("admin", False, True),
        ("reviewer", False, False),
    ],
)
def test_fellows_see_their_history_and_staff_see_the_cohorts_rhythm(
    world, who, own_checkins, rhythm
):
    cohort, _, people, _ = world
    assert policy.can_view_own_checkins(people[who], cohort) is own_checkins
    assert policy.can_view_checkin_rhythm(people[who], cohort) is rhythm


def test_the_coach_who_coaches_the_fellow_now_edits_what_they_wrote(world):
    _, checkin, people, _ = world
    mine = checkin(shared=True)
    mine.coach_id = people["the next coach after reassignment"].id
    assert policy.can_edit_checkin(people["the next coach after reassignment"], mine) is True
    assert policy.can_edit_checkin(people["its coach"], mine) is False


def test_a_withdrawn_coach_keeps_nothing_but_a_fellow_who_completed_keeps_reading(world):
    from fellowship.cohorts.models import CohortMembership

    _, checkin, people, item = world
    shared = checkin(shared=True)
    writer, fellow = people["its coach"], people["the fellow"]
    for person, status in (
        (writer, MembershipStatus.WITHDRAWN),
        (fellow, MembershipStatus.COMPLETED),
    ):
        db.session.execute(
            sa.update(CohortMembership)
            .where(CohortMembership.user_id == person.id)
            .values(status=status)
        )
    db.session.commit()
    policy.forget_cached_memberships()
    assert policy.can_view_checkin_summary(writer, shared) is False
    assert policy.can_view_checkin_private_notes(writer, shared) is True  # theirs alone
    assert policy.can_view_checkin_summary(fellow, shared) is True  # alumni read
    assert policy.can_reply_to_checkin(fellow, shared) is False
    assert policy.can_complete_action_item(fellow, item, shared) is False

"""Who may do what with capstones: every kind of person × every decision."""

from __future__ import annotations

import pytest

from fellowship import policy
from fellowship.auth.models import User
from fellowship.capstones.models import CapstoneStatus, Recommendation
from fellowship.cohorts.models import CohortRole, CohortStatus, MembershipStatus
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.capstones.helpers import (
    AssignmentFactory,
    CapstoneFactory,
    DecisionFactory,
    ReviewFactory,
    VersionFactory,
)
from tests.conftest import rows_for_module
from tests.factories import (
    AdminFactory,
    CoachAssignmentFactory,
    CohortFactory,
    MembershipFactory,
    StaffFactory,
    UserFactory,
)

PEOPLE = [
    "the fellow",
    "another fellow",
    "the fellow's coach",
    "another coach",
    "facilitator",
    "assigned reviewer",
    "unassigned reviewer",
    "withdrawn reviewer",
    "staff",
    "admin",
    "member of no cohort",
]
TEAM = {"facilitator", "staff", "admin"}
EVERYONE = set(PEOPLE)
SIGNED_IN_MEMBERS = EVERYONE - {"member of no cohort", "staff", "admin", "withdrawn reviewer"}
READERS = {"the fellow", "the fellow's coach", "assigned reviewer"} | TEAM

#  decision                        object                     who may
TABLE = [
    ("can_create_capstone", "cohort", {"the fellow", "another fellow"}),
    ("can_view_capstone", "capstone", READERS),
    ("can_edit_capstone", "capstone", {"the fellow"}),
    ("can_view_capstone_version", "decided version", READERS),
    ("can_view_capstone_version", "working draft", {"the fellow"}),
    (
        "can_view_capstone_version",
        "other submission",
        TEAM | {"another fellow", "another coach", "assigned reviewer"},
    ),
    ("can_assign_reviewers", "open submission", TEAM),
    ("can_assign_reviewers", "decided version", set()),
    ("can_decide_capstone", "open submission", TEAM),
    ("can_decide_capstone", "decided version", set()),
    ("can_review", "open assignment", {"assigned reviewer"}),
    ("can_review", "decided assignment", set()),
    ("can_view_review", "decided review", READERS),
    ("can_view_review", "draft review", {"assigned reviewer"}),
    ("can_see_reviewer_names", "capstone", TEAM | {"assigned reviewer"}),
    ("can_view_capstone_pipeline", "cohort", TEAM),
    ("can_manage_rubric", "cohort", {"staff", "admin"}),
    ("can_view_rubric", "cohort", SIGNED_IN_MEMBERS | {"staff", "admin"}),
    ("can_record_outcome", "cohort + the fellow", {"the fellow", "staff", "admin"}),
    ("can_view_outcome", "cohort + the fellow", {"the fellow"} | TEAM),
    ("can_withdraw_capstone", "published capstone", {"staff", "admin"}),
    ("can_withdraw_capstone", "capstone", set()),
    ("can_publish_capstone", "approved capstone", {"the fellow"}),
    ("can_publish_capstone", "capstone", set()),
    ("can_view_library_entry", "published capstone", EVERYONE),
    ("can_view_library_entry", "capstone", set()),
]
DECISIONS = {row[0] for row in TABLE} | {
    "can_view_library",
    "can_view_review_queue",
    "can_view_reviews_menu",
}


def build_world():
    cohort = CohortFactory()

    def member(role, status=MembershipStatus.ACTIVE):
        return MembershipFactory(cohort=cohort, role=role, status=status).user_id

    ids = {
        "the fellow": member(CohortRole.FELLOW),
        "another fellow": member(CohortRole.FELLOW),
        "the fellow's coach": member(CohortRole.COACH),
        "another coach": member(CohortRole.COACH),
        "facilitator": member(CohortRole.FACILITATOR),
        "assigned reviewer": member(CohortRole.REVIEWER),
        "unassigned reviewer": member(CohortRole.REVIEWER),
        "withdrawn reviewer": member(CohortRole.REVIEWER, MembershipStatus.WITHDRAWN),
        "staff": StaffFactory().id,
        "admin": AdminFactory().id,
        "member of no cohort": UserFactory().id,
    }
    CoachAssignmentFactory(
        cohort_id=cohort.id, fellow_id=ids["the fellow"], coach_id=ids["the fellow's coach"]
    )
    CoachAssignmentFactory(
        cohort_id=cohort.id, fellow_id=ids["another fellow"], coach_id=ids["another coach"]
    )
    # The fellow's capstone: version 1 reviewed and sent back, version 2 being written.
    capstone = CapstoneFactory(
        cohort_id=cohort.id, fellow_id=ids["the fellow"], status=CapstoneStatus.PROPOSAL_REVISIONS
    )
    decided = VersionFactory(capstone_id=capstone.id, number=1)
    draft = VersionFactory(capstone_id=capstone.id, number=2, submitted_at=None)
    decided_assignment = AssignmentFactory(
        version_id=decided.id, reviewer_id=ids["assigned reviewer"]
    )
    decided_review = ReviewFactory(assignment_id=decided_assignment.id)
    DecisionFactory(version_id=decided.id, outcome=Recommendation.REVISE)
    # Another fellow's proposal, waiting: the same reviewer is assigned and has a draft.
    other = CapstoneFactory(
        cohort_id=cohort.id,
        fellow_id=ids["another fellow"],
        status=CapstoneStatus.PROPOSAL_SUBMITTED,
    )
    waiting = VersionFactory(capstone_id=other.id, number=1)
    open_assignment = AssignmentFactory(version_id=waiting.id, reviewer_id=ids["assigned reviewer"])
    draft_review = ReviewFactory(
        assignment_id=open_assignment.id, submitted_at=None, recommendation=None
    )
    approved = CapstoneFactory(
        cohort_id=CohortFactory().id, fellow_id=ids["the fellow"], status=CapstoneStatus.APPROVED
    )
    MembershipFactory(cohort_id=approved.cohort_id, user_id=ids["the fellow"])
    published = CapstoneFactory(
        cohort_id=cohort.id,
        fellow_id=UserFactory().id,
        status=CapstoneStatus.APPROVED,
        published_at=utcnow(),
        consent_at=utcnow(),
    )
    objects = {
        "cohort": (cohort,),
        "capstone": (capstone,),
        "decided version": (decided, capstone),
        "working draft": (draft, capstone),
        "other submission": (waiting, other),
        "open submission": (waiting, other),
        "open assignment": (open_assignment, waiting, other),
        "decided assignment": (decided_assignment, decided, capstone),
        "decided review": (decided_review, decided_assignment, capstone),
        "draft review": (draft_review, open_assignment, other),
        "cohort + the fellow": (cohort, ids["the fellow"]),
        "approved capstone": (approved,),
        "published capstone": (published,),
    }
    people = {name: db.session.get(User, user_id) for name, user_id in ids.items()}
    return cohort, people, objects


built_world = rows_for_module(build_world)


@pytest.fixture
def world(ctx, built_world):
    return built_world.thaw()


CASES = [
    pytest.param(decision, target, who, who in allowed, id=f"{decision}-{target}-{who}")
    for decision, target, allowed in TABLE
    for who in PEOPLE
]


@pytest.mark.parametrize(("decision", "target", "who", "expected"), CASES)
def test_the_capstone_access_table_holds(world, decision, target, who, expected):
    _, people, objects = world
    assert getattr(policy, decision)(people[who], *objects[target]) is expected


@pytest.mark.parametrize(
    ("decision", "target"),
    [
        ("can_create_capstone", "cohort"),
        ("can_edit_capstone", "capstone"),
        ("can_assign_reviewers", "open submission"),
        ("can_decide_capstone", "open submission"),
        ("can_review", "open assignment"),
        ("can_manage_rubric", "cohort"),
    ],
)
@pytest.mark.parametrize("who", PEOPLE)
def test_nobody_changes_capstones_of_an_archived_cohort(world, decision, target, who):
    cohort, people, objects = world
    cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    assert getattr(policy, decision)(people[who], *objects[target]) is False


def _second_reviewer(world):
    cohort, _, objects = world
    assignment, version, capstone = objects["open assignment"]
    second = MembershipFactory(cohort=cohort, role=CohortRole.REVIEWER).user_id
    mine = AssignmentFactory(version_id=version.id, reviewer_id=second)
    db.session.delete(objects["draft review"][0])
    db.session.commit()
    submitted = ReviewFactory(assignment_id=assignment.id)  # the first reviewer's, submitted
    return db.session.get(User, second), mine, submitted, assignment, capstone


@pytest.mark.parametrize(
    ("hide", "own_submitted", "expected"),
    [(True, False, False), (True, True, True), (False, False, True), (False, True, True)],
)
def test_a_reviewer_reads_the_others_reviews_as_the_cohort_setting_says(
    world, hide, own_submitted, expected
):
    cohort = world[0]
    reviewer, mine, submitted, assignment, capstone = _second_reviewer(world)
    cohort.settings = {"hide_reviews_until_own": hide}
    if own_submitted:
        ReviewFactory(assignment_id=mine.id)
    db.session.commit()
    assert policy.can_view_review(reviewer, submitted, assignment, capstone) is expected


@pytest.mark.parametrize("shown", [True, False])
def test_fellows_see_reviewer_names_only_when_the_cohort_shows_them(world, shown):
    cohort, people, objects = world
    cohort.settings = {"reviewer_names_visible": shown}
    db.session.commit()
    (capstone,) = objects["capstone"]
    assert policy.can_see_reviewer_names(people["the fellow"], capstone) is shown
    assert policy.can_see_reviewer_names(people["staff"], capstone) is True


@pytest.mark.parametrize("who", PEOPLE)
def test_everyone_signed_in_may_browse_the_library_and_their_review_queue(world, who):
    _, people, _ = world
    assert policy.can_view_library(people[who]) is True
    assert policy.can_view_review_queue(people[who]) is True


@pytest.mark.parametrize("who", PEOPLE)
def test_the_reviews_menu_is_for_present_and_past_reviewers(world, who):
    _, people, _ = world
    expected = who in {"assigned reviewer", "unassigned reviewer"}
    assert policy.can_view_reviews_menu(people[who]) is expected

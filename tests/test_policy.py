"""The access rules as a truth table: role × decision × relationship."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from fellowship import policy
from fellowship.auth.models import Role


def person(role: Role | None, *, id: int = 1, active: bool = True, password: bool = True):
    """A stand-in with the attributes policy reads (policy never queries for these rules)."""
    if role is None:
        return SimpleNamespace(is_authenticated=False, is_active=False, id=None, role=None)
    return SimpleNamespace(
        is_authenticated=True,
        is_active=active,
        id=id,
        role=role,
        has_password=password,
        totp_enabled=False,
    )


ANON = person(None)
MEMBER = person(Role.MEMBER, id=10)
STAFF = person(Role.STAFF, id=20)
ADMIN = person(Role.ADMIN, id=30)
DEACTIVATED_ADMIN = person(Role.ADMIN, id=31, active=False)
OTHER = person(Role.MEMBER, id=99)
INVITED = person(Role.MEMBER, id=98, password=False)
INVITED_STAFF = person(Role.STAFF, id=97, password=False)
GONE = person(Role.MEMBER, id=96, active=False)

#  decision,                  target,   anon,  member, staff, admin, deactivated admin
TABLE = [
    ("can_view_home", None, False, True, True, True, False),
    ("can_view_people", None, False, False, True, True, False),
    ("can_invite_people", None, False, False, True, True, False),
    ("can_view_audit_log", None, False, False, False, True, False),
    ("can_view_admin_menu", None, False, False, True, True, False),
    ("can_view_person", OTHER, False, False, True, True, False),
    ("can_change_role", OTHER, False, False, False, True, False),
    ("can_deactivate", OTHER, False, False, False, True, False),
    ("can_deactivate", GONE, False, False, False, False, False),
    ("can_reactivate", GONE, False, False, False, True, False),
    ("can_reactivate", OTHER, False, False, False, False, False),
    ("can_resend_invitation", INVITED, False, False, True, True, False),
    ("can_resend_invitation", INVITED_STAFF, False, False, False, True, False),
    ("can_resend_invitation", OTHER, False, False, False, False, False),
    ("can_edit_profile", OTHER, False, False, False, False, False),
    ("can_create_cohort", None, False, False, True, True, False),
    ("can_use_calendar_feed", None, False, True, True, True, False),
]
ACTORS = [ANON, MEMBER, STAFF, ADMIN, DEACTIVATED_ADMIN]
ACTOR_NAMES = ["anonymous", "member", "staff", "admin", "deactivated admin"]

CASES = [
    pytest.param(decision, target, actor, expected, id=f"{name}-{decision}-{i}")
    for i, (decision, target, *row) in enumerate(TABLE)
    for actor, name, expected in zip(ACTORS, ACTOR_NAMES, row, strict=True)
]


@pytest.mark.parametrize(("decision", "target", "actor", "expected"), CASES)
def test_the_access_table_holds(decision, target, actor, expected):
    fn = getattr(policy, decision)
    result = fn(actor) if target is None else fn(actor, target)
    assert result is expected


@pytest.mark.parametrize("actor", [MEMBER, STAFF, ADMIN], ids=["member", "staff", "admin"])
def test_everyone_may_edit_their_own_profile_and_nobody_elses(actor):
    assert policy.can_edit_profile(actor, actor) is True
    assert policy.can_edit_profile(actor, OTHER) is False


@pytest.mark.parametrize(
    ("actor", "role", "expected"),
    [
        (ADMIN, Role.ADMIN, True),
        (ADMIN, Role.STAFF, True),
        (ADMIN, Role.MEMBER, True),
        (STAFF, Role.ADMIN, False),
        (STAFF, Role.STAFF, False),
        (STAFF, Role.MEMBER, True),
        (MEMBER, Role.MEMBER, False),
        (ANON, Role.MEMBER, False),
    ],
)
def test_only_admins_grant_privileged_roles_by_invitation(actor, role, expected):
    assert policy.can_invite_with_role(actor, role) is expected


def test_an_admin_cannot_change_their_own_role_or_deactivate_themselves():
    assert policy.can_change_role(ADMIN, ADMIN) is False
    assert policy.can_deactivate(ADMIN, ADMIN) is False


@pytest.mark.parametrize(
    ("actor", "required", "expected"),
    [
        (ADMIN, ("admin", "staff"), True),
        (STAFF, ("admin", "staff"), True),
        (MEMBER, ("admin", "staff"), False),
        (ADMIN, (), False),
        (ANON, ("admin", "staff"), False),
    ],
)
def test_two_factor_is_required_only_for_the_configured_roles(actor, required, expected):
    assert policy.must_enrol_totp(actor, required) is expected


def test_every_decision_in_policy_is_in_a_table():
    from tests.capstones.test_capstone_policy import DECISIONS as CAPSTONE_DECISIONS
    from tests.coaching.test_checkin_policy import TABLE as CHECKIN_TABLE
    from tests.cohorts.test_cohort_policy import TABLE as COHORT_TABLE
    from tests.curriculum.test_curriculum_policy import DECISIONS as CURRICULUM_DECISIONS
    from tests.cycles.test_cycle_policy import DECISIONS as CYCLE_DECISIONS
    from tests.integration.test_integration_policy import DECISIONS as INTEGRATION_DECISIONS
    from tests.notifications.test_notification_policy import DECISIONS as NOTIFICATION_DECISIONS

    tested = (
        {row[0] for row in TABLE}
        | set(COHORT_TABLE)
        | set(CHECKIN_TABLE)
        | CURRICULUM_DECISIONS
        | CAPSTONE_DECISIONS
        | CYCLE_DECISIONS
        | INTEGRATION_DECISIONS
        | NOTIFICATION_DECISIONS
        | {
            "can_log_checkin",
            "can_complete_action_item",
            "can_view_caseload",
            "can_view_own_checkins",
            "can_view_checkin_rhythm",
            "can_view_fellow_checkins",
        }
        | {
            "can_invite_with_role",
            "must_enrol_totp",
            "can_edit_profile",
            "can_create_cohort",
            "can_use_calendar_feed",
        }
    )
    assert set(policy.DECISIONS) <= tested, set(policy.DECISIONS) - tested

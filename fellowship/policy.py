"""Every "who may" decision in the app, and the list-scoping queries beside them.

Each public function answers one question about one user and (where there is one) one
object. Views call them through `web.require(...)`; templates call the same functions
(see `register_policy_context`), so a shown button and an allowed URL never disagree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask, g

from fellowship.auth.models import Role, User
from fellowship.db import db

# Private predicates --------------------------------------------------------------------


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and bool(
        getattr(user, "is_active", False)
    )


def _is_admin(user: Any) -> bool:
    return _signed_in(user) and user.role == Role.ADMIN


def _is_staff(user: Any) -> bool:
    """Staff or admin: administrators can do everything staff can."""
    return _signed_in(user) and user.role in (Role.ADMIN, Role.STAFF)


def _is_self(user: Any, person: User) -> bool:
    return _signed_in(user) and user.id == person.id


# Decisions -----------------------------------------------------------------------------


def can_view_home(user: Any) -> bool:
    return _signed_in(user)


def can_edit_profile(user: Any, person: User) -> bool:
    return _is_self(user, person)


def can_view_people(user: Any) -> bool:
    """The people list: staff need it to build cohorts and cycles."""
    return _is_staff(user)


def can_view_person(user: Any, person: User) -> bool:
    """A person's page in the people admin (members see themselves on the profile page)."""
    return _is_staff(user)


def can_invite_people(user: Any) -> bool:
    return _is_staff(user)


def can_invite_with_role(user: Any, role: Role) -> bool:
    """Admins may invite anyone; staff may invite members only (no privilege granting)."""
    if _is_admin(user):
        return True
    return _is_staff(user) and role == Role.MEMBER


def can_resend_invitation(user: Any, person: User) -> bool:
    return person.is_active and not person.has_password and can_invite_with_role(user, person.role)


def can_change_role(user: Any, person: User) -> bool:
    """Admins change roles, never their own (so the last admin cannot lock everyone out)."""
    return _is_admin(user) and not _is_self(user, person)


def can_deactivate(user: Any, person: User) -> bool:
    return _is_admin(user) and not _is_self(user, person) and person.is_active


def can_reactivate(user: Any, person: User) -> bool:
    return _is_admin(user) and not person.is_active


def can_view_audit_log(user: Any) -> bool:
    return _is_admin(user)


def can_view_admin_menu(user: Any) -> bool:
    return can_view_people(user) or can_view_audit_log(user)


def must_enrol_totp(user: Any, required_roles: tuple[str, ...]) -> bool:
    """Production requires two-factor for the roles in TOTP_REQUIRED_ROLES."""
    return _signed_in(user) and user.role.value in required_roles and not user.totp_enabled


# Cohorts ---------------------------------------------------------------------------------
#
# A person's cohort roles come from their memberships, loaded once per request (one query)
# by `_cohort_memberships`. Active members act in their role; members whose membership is
# completed keep read access (alumni); withdrawn members have none.


def _cohort_memberships(user: Any) -> dict[int, Any]:
    """{cohort_id: membership} for the user's active and completed memberships."""
    if not _signed_in(user):
        return {}
    cache = g.setdefault("_cohort_memberships", {})
    if user.id not in cache:
        from fellowship.cohorts.models import CohortMembership, MembershipStatus

        rows = db.session.scalars(
            sa.select(CohortMembership).where(
                CohortMembership.user_id == user.id,
                CohortMembership.status.in_([MembershipStatus.ACTIVE, MembershipStatus.COMPLETED]),
            )
        )
        cache[user.id] = {m.cohort_id: m for m in rows}
    return dict(cache[user.id])


def forget_cached_memberships() -> None:
    """Call after changing memberships within a request, before asking policy again."""
    g.pop("_cohort_memberships", None)
    g.pop("_coached_now", None)


def _cohort_role(user: Any, cohort_id: int, *roles: str, active: bool = True) -> bool:
    membership = _cohort_memberships(user).get(cohort_id)
    if membership is None:
        return False
    if active and membership.status.value != "active":
        return False
    return not roles or membership.role.value in roles


def can_create_cohort(user: Any) -> bool:
    return _is_staff(user)


def can_view_cohort(user: Any, cohort: Any) -> bool:
    """Staff see every cohort; a member sees their own (alumni too); nobody else sees one."""
    return _is_staff(user) or _cohort_role(user, cohort.id, active=False)


def can_edit_cohort(user: Any, cohort: Any) -> bool:
    return _is_staff(user)


def _archived(cohort: Any) -> bool:
    """An archived cohort is a record: it can be read, and reopened by editing its status."""
    return getattr(cohort.status, "value", cohort.status) == "archived"


def _archived_id(cohort_id: int) -> bool:
    """The same rule for objects that carry only a cohort id (the view has usually loaded
    the cohort already, so this is an identity-map lookup, not a query)."""
    from fellowship.cohorts.models import Cohort

    cohort = db.session.get(Cohort, cohort_id)
    return cohort is None or _archived(cohort)


def can_manage_cohort_members(user: Any, cohort: Any) -> bool:
    """Add people, change roles and status, assign coaches, import a roster."""
    return _is_staff(user) and not _archived(cohort)


def can_schedule_convening(user: Any, cohort: Any) -> bool:
    if _archived(cohort):
        return False
    return _is_staff(user) or _cohort_role(user, cohort.id, "facilitator")


def can_view_convening(user: Any, convening: Any) -> bool:
    return _is_staff(user) or _cohort_role(user, convening.cohort_id, active=False)


def can_edit_convening(user: Any, convening: Any) -> bool:
    """Change details and take attendance: staff, and the cohort's facilitators."""
    allowed = _is_staff(user) or _cohort_role(user, convening.cohort_id, "facilitator")
    return allowed and not _archived_id(convening.cohort_id)


def can_view_attendance(user: Any, cohort: Any) -> bool:
    """Attendance rates of the cohort: staff, facilitators and coaches."""
    return _is_staff(user) or _cohort_role(user, cohort.id, "facilitator", "coach")


def can_view_cohort_feed(user: Any, cohort: Any) -> bool:
    """The per-cohort calendar feed is for staff; members have their personal feed."""
    return _is_staff(user)


def can_use_calendar_feed(user: Any) -> bool:
    return _signed_in(user)


# Coaching --------------------------------------------------------------------------------
#
# Private notes belong to the coach who wrote them and nobody else: not the fellow, not the
# next coach, not staff, not an admin. Shared parts are for the writing coach, the fellow
# (once shared) and whoever coaches that fellow now. Staff see that a check-in happened.


def _coached_now(user: Any) -> set[tuple[int, int]]:
    """{(cohort_id, fellow_id)} the user coaches today (one query per request)."""
    if not _signed_in(user):
        return set()
    cache = g.setdefault("_coached_now", {})
    if user.id not in cache:
        from fellowship.cohorts.models import CoachAssignment

        rows = db.session.execute(
            sa.select(CoachAssignment.cohort_id, CoachAssignment.fellow_id).where(
                CoachAssignment.coach_id == user.id, CoachAssignment.ends_on.is_(None)
            )
        )
        cache[user.id] = {(cohort_id, fellow_id) for cohort_id, fellow_id in rows}
    return set(cache[user.id])


def _coaches_fellow_now(user: Any, cohort_id: int, fellow_id: int) -> bool:
    return _cohort_role(user, cohort_id, "coach") and (cohort_id, fellow_id) in _coached_now(user)


def _wrote(user: Any, checkin: Any) -> bool:
    return _signed_in(user) and user.id == checkin.coach_id


def _acts_on(user: Any, checkin: Any) -> bool:
    """Who may still act on a check-in (reply, tick items): the fellow, while an active
    fellow of the cohort, and whoever coaches that fellow now."""
    if not _signed_in(user):
        return False
    if user.id == checkin.fellow_id:
        return _cohort_role(user, checkin.cohort_id, "fellow")
    return _coaches_fellow_now(user, checkin.cohort_id, checkin.fellow_id)


def can_log_checkin(user: Any, cohort: Any, fellow_id: int) -> bool:
    """A coach logs check-ins with the fellows they coach now (not in an archived cohort)."""
    return not _archived(cohort) and _coaches_fellow_now(user, cohort.id, fellow_id)


def can_edit_checkin(user: Any, checkin: Any) -> bool:
    """The coach who wrote it, while they still coach that fellow (not once archived)."""
    return (
        _wrote(user, checkin)
        and _coaches_fellow_now(user, checkin.cohort_id, checkin.fellow_id)
        and not _archived_id(checkin.cohort_id)
    )


def can_view_checkin_private_notes(user: Any, checkin: Any) -> bool:
    """Only the coach who wrote them. There is no override, for anyone."""
    return _wrote(user, checkin)


def can_view_checkin_summary(user: Any, checkin: Any) -> bool:
    """The shared summary, next steps, focus areas, replies and action items."""
    if _wrote(user, checkin):
        # The writer reads what they wrote while still in the cohort (any role, alumni too).
        return _cohort_role(user, checkin.cohort_id, active=False)
    if checkin.shared_at is None or not _signed_in(user):
        return False
    is_fellow = user.id == checkin.fellow_id and _cohort_role(
        user, checkin.cohort_id, "fellow", active=False
    )
    return is_fellow or _coaches_fellow_now(user, checkin.cohort_id, checkin.fellow_id)


def can_view_checkin_meta(user: Any, checkin: Any) -> bool:
    """That a check-in happened: when, how long, how, which focus areas."""
    if can_view_checkin_summary(user, checkin):
        return True
    return _is_staff(user) and checkin.shared_at is not None


def can_reply_to_checkin(user: Any, checkin: Any) -> bool:
    return checkin.shared_at is not None and _acts_on(user, checkin)


def can_complete_action_item(user: Any, item: Any, checkin: Any) -> bool:
    """The item's owner, or the fellow's coach now, while they may act on the check-in."""
    if not can_view_checkin_summary(user, checkin) or not _acts_on(user, checkin):
        return False
    coaches_now = _coaches_fellow_now(user, checkin.cohort_id, checkin.fellow_id)
    return user.id == item.owner_id or coaches_now


def can_view_caseload(user: Any, cohort: Any, coach_id: int) -> bool:
    """A coach's own caseload; staff may look at any coach's (no private notes there)."""
    if _is_staff(user):
        return True
    return _signed_in(user) and user.id == coach_id and _cohort_role(user, cohort.id, "coach")


def can_view_fellow_checkins(user: Any, cohort: Any, fellow_id: int) -> bool:
    """A fellow's coaching history page: their coach now (in full, with their own drafts),
    and staff (when, how long, which focus areas: nothing of what was said)."""
    return _coaches_fellow_now(user, cohort.id, fellow_id) or _is_staff(user)


def can_view_own_checkins(user: Any, cohort: Any) -> bool:
    """A fellow's history of shared check-ins and their action items."""
    return _cohort_role(user, cohort.id, "fellow", active=False)


def can_view_checkin_rhythm(user: Any, cohort: Any) -> bool:
    """Rhythm across the cohort: check-ins per fellow per month, per coach totals."""
    return _is_staff(user)


# List scoping --------------------------------------------------------------------------


def people_visible_to(user: Any) -> sa.Select[tuple[User]]:
    """The people a user may list: everyone for staff and admins, nobody otherwise."""
    query = sa.select(User)
    if not can_view_people(user):
        return query.where(sa.false())
    return query


def cohorts_visible_to(user: Any) -> sa.Select[Any]:
    """The cohorts a user may list: all for staff; their own (alumni too) for members."""
    from fellowship.cohorts.models import Cohort, CohortMembership, MembershipStatus

    query = sa.select(Cohort)
    if _is_staff(user):
        return query
    if not _signed_in(user):
        return query.where(sa.false())
    mine = sa.select(CohortMembership.cohort_id).where(
        CohortMembership.user_id == user.id,
        CohortMembership.status.in_([MembershipStatus.ACTIVE, MembershipStatus.COMPLETED]),
    )
    return query.where(Cohort.id.in_(mine))


DECISIONS = {
    name: fn
    for name, fn in globals().items()
    if (name.startswith("can_") or name.startswith("must_")) and callable(fn)
}


def register_policy_context(app: Flask) -> None:
    """Templates ask `policy.can_...(current_user, obj)` exactly as views do."""

    @app.context_processor
    def _policy() -> dict[str, Any]:
        import fellowship.policy as policy_module

        return {"policy": policy_module}

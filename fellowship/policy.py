"""Every "who may" decision in the app, and the list-scoping queries beside them.

Each public function answers one question about one user and (where there is one) one
object. Views call them through `web.require(...)`; templates call the same functions
(see `register_policy_context`), so a shown button and an allowed URL never disagree.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    g.pop("_completed_modules", None)
    g.pop("_assigned_versions", None)
    g.pop("_decided_versions", None)
    g.pop("_own_submitted_reviews", None)
    g.pop("_cycle_memberships", None)


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


# Curriculum ------------------------------------------------------------------------------
#
# Staff and the cohort's facilitators build the curriculum and see everyone's progress.
# Fellows and coaches read released modules; reviewers read none. A fellow's reflections are
# read by that fellow, whoever coaches them now, the cohort's facilitators and staff - never
# by another fellow or a reviewer. Only the fellow works on their items, and only in a module
# that is released and whose prerequisites they have completed.


def _local_today(user: Any) -> date:
    """Today where the person is (release and due dates are calendar days, not instants)."""
    try:
        zone = ZoneInfo(str(getattr(user, "timezone", None) or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).date()


def _released(user: Any, module: Any) -> bool:
    return module.release_on is None or module.release_on <= _local_today(user)


def _curriculum_editor(user: Any, cohort_id: int) -> bool:
    return _is_staff(user) or _cohort_role(user, cohort_id, "facilitator")


def _curriculum_reader(user: Any, cohort_id: int) -> bool:
    """Everyone who follows the cohort's curriculum: staff, facilitators (alumni too),
    fellows and coaches (alumni too). Not reviewers."""
    return _is_staff(user) or _cohort_role(
        user, cohort_id, "facilitator", "fellow", "coach", active=False
    )


def can_view_curriculum(user: Any, cohort: Any) -> bool:
    """The builder's overview: every module with its dates, released or not."""
    return _is_staff(user) or _cohort_role(user, cohort.id, "facilitator", active=False)


def can_edit_curriculum(user: Any, cohort: Any) -> bool:
    return _curriculum_editor(user, cohort.id) and not _archived(cohort)


def can_view_learning(user: Any, cohort: Any) -> bool:
    """ "My learning" for a cohort: its fellows (alumni too)."""
    return _cohort_role(user, cohort.id, "fellow", active=False)


def can_view_my_learning(user: Any) -> bool:
    """The "My learning" menu entry: people who are (or were) a fellow of some cohort."""
    return any(m.role.value == "fellow" for m in _cohort_memberships(user).values())


def _completed(user: Any, module: Any) -> bool:
    """Finished work stays open to its fellow, even if the module's release date later moves
    ahead or a prerequisite gains an item (the state rule says "complete" first, too).
    Asked once per cohort per request, however many modules a page shows."""
    cache = g.setdefault("_completed_modules", {})
    key = (user.id, module.cohort_id)
    if key not in cache:
        from fellowship.curriculum import queries as curriculum

        cache[key] = curriculum.completed_module_ids(module.cohort_id, user.id)
    return module.id in cache[key]


def can_view_module(user: Any, module: Any) -> bool:
    """Editors see every module; fellows and coaches see released ones (and a fellow the
    modules they completed)."""
    if _is_staff(user) or _cohort_role(user, module.cohort_id, "facilitator", active=False):
        return True
    if not _curriculum_reader(user, module.cohort_id):
        return False
    if _released(user, module):
        return True
    return _cohort_role(user, module.cohort_id, "fellow", active=False) and _completed(user, module)


def can_work_on_module(user: Any, module: Any) -> bool:
    """Mark items done and write reflections: an active fellow, in a released module whose
    prerequisites they have completed (or that they completed), in a cohort that is not
    archived."""
    if not _cohort_role(user, module.cohort_id, "fellow") or _archived_id(module.cohort_id):
        return False
    from fellowship.curriculum import queries as curriculum

    if _released(user, module) and not curriculum.missing_prerequisites(module, user.id):
        return True
    return _completed(user, module)


def _sees_fellow_progress(user: Any, cohort_id: int, fellow_id: int) -> bool:
    if _signed_in(user) and user.id == fellow_id:
        return _cohort_role(user, cohort_id, "fellow", active=False)
    return (
        _is_staff(user)
        or _cohort_role(user, cohort_id, "facilitator", active=False)
        or _coaches_fellow_now(user, cohort_id, fellow_id)
    )


def can_view_fellow_progress(user: Any, cohort: Any, fellow_id: int) -> bool:
    """One fellow's progress and reflections: the fellow, their coach now, the cohort's
    facilitators and staff."""
    return _sees_fellow_progress(user, cohort.id, fellow_id)


def can_view_reflection(user: Any, progress: Any, module: Any) -> bool:
    return _sees_fellow_progress(user, module.cohort_id, progress.fellow_id)


def can_give_feedback(user: Any, progress: Any, module: Any) -> bool:
    """Facilitators and staff, on a submitted reflection, while the cohort is not archived."""
    return (
        progress.submitted_at is not None
        and _curriculum_editor(user, module.cohort_id)
        and not _archived_id(module.cohort_id)
    )


def can_view_feedback_queue(user: Any, cohort: Any) -> bool:
    return _curriculum_editor(user, cohort.id)


def can_view_progress_grid(user: Any, cohort: Any) -> bool:
    return _is_staff(user) or _cohort_role(user, cohort.id, "facilitator", active=False)


def can_grant_extension(user: Any, module: Any) -> bool:
    return _curriculum_editor(user, module.cohort_id) and not _archived_id(module.cohort_id)


def can_copy_curriculum(user: Any, target: Any, source: Any) -> bool:
    """Into a cohort one may edit, from another cohort whose curriculum one may see."""
    return (
        source.id != target.id
        and can_edit_curriculum(user, target)
        and can_view_curriculum(user, source)
    )


# Capstones -------------------------------------------------------------------------------
#
# A capstone is read by its fellow, whoever coaches them now, the cohort's facilitators,
# staff, and the reviewers assigned to one of its versions (those versions only). Drafts are
# the fellow's alone. Reviews are read by staff and facilitators once submitted, by their
# writer, by the other reviewers of the same version (after submitting their own, when the
# cohort hides reviews until then), and by the fellow once the decision is recorded.
# Published capstones in the practice library are for every signed-in person.

_EDITABLE_STATUSES = {"draft", "proposal_revisions", "proposal_approved", "final_revisions"}


def _status(obj: Any) -> str:
    return str(getattr(obj.status, "value", obj.status))


def _assigned_versions(user: Any) -> dict[int, int]:
    """{version_id: capstone_id} of the versions the user is assigned to review (one query
    per request)."""
    if not _signed_in(user):
        return {}
    cache = g.setdefault("_assigned_versions", {})
    if user.id not in cache:
        from fellowship.capstones.models import CapstoneVersion, ReviewAssignment

        rows = db.session.execute(
            sa.select(CapstoneVersion.id, CapstoneVersion.capstone_id)
            .join(ReviewAssignment, ReviewAssignment.version_id == CapstoneVersion.id)
            .where(ReviewAssignment.reviewer_id == user.id)
        )
        cache[user.id] = {version_id: capstone_id for version_id, capstone_id in rows}
    return dict(cache[user.id])


def _capstone_team(user: Any, cohort_id: int, *, active: bool = True) -> bool:
    """Staff and the cohort's facilitators: they assign reviewers and decide."""
    return _is_staff(user) or _cohort_role(user, cohort_id, "facilitator", active=active)


def _owns(user: Any, capstone: Any) -> bool:
    return _signed_in(user) and user.id == capstone.fellow_id


def _reviews_capstone(user: Any, capstone: Any) -> bool:
    return _cohort_role(user, capstone.cohort_id, "reviewer", active=False) and (
        capstone.id in _assigned_versions(user).values()
    )


def can_create_capstone(user: Any, cohort: Any) -> bool:
    return _cohort_role(user, cohort.id, "fellow") and not _archived(cohort)


def can_view_capstone(user: Any, capstone: Any) -> bool:
    if _owns(user, capstone):
        return _cohort_role(user, capstone.cohort_id, "fellow", active=False)
    return (
        _capstone_team(user, capstone.cohort_id, active=False)
        or _coaches_fellow_now(user, capstone.cohort_id, capstone.fellow_id)
        or _reviews_capstone(user, capstone)
    )


def can_edit_capstone(user: Any, capstone: Any) -> bool:
    """Write the working draft, attach files and submit: the fellow, while the capstone waits
    for them (draft, revisions requested, or the proposal approved and the final to write)."""
    return (
        _owns(user, capstone)
        and _cohort_role(user, capstone.cohort_id, "fellow")
        and _status(capstone) in _EDITABLE_STATUSES
        and not _archived_id(capstone.cohort_id)
    )


def can_view_capstone_version(user: Any, version: Any, capstone: Any) -> bool:
    """A working draft is the fellow's alone; a submitted version is for everyone who sees
    the capstone, except reviewers, who see the versions assigned to them."""
    if version.submitted_at is None:
        return _owns(user, capstone) and can_view_capstone(user, capstone)
    if _reviews_capstone(user, capstone) and not (
        _owns(user, capstone) or _capstone_team(user, capstone.cohort_id, active=False)
    ):
        return version.id in _assigned_versions(user)
    return can_view_capstone(user, capstone)


def can_manage_rubric(user: Any, cohort: Any) -> bool:
    return _is_staff(user) and not _archived(cohort)


def can_view_rubric(user: Any, cohort: Any) -> bool:
    """The rubric is public to the cohort: fellows write against it, reviewers score with it."""
    return _is_staff(user) or _cohort_role(user, cohort.id, active=False)


def _decided(version_id: int, cohort_id: int) -> bool:
    """Whether the decision on a version is recorded (then reviews close and open up). The
    cohort's decided versions are read once per request, so list pages stay flat."""
    cache = g.setdefault("_decided_versions", {})
    if cohort_id not in cache:
        from fellowship.capstones.models import Capstone, CapstoneDecision, CapstoneVersion

        cache[cohort_id] = set(
            db.session.scalars(
                sa.select(CapstoneDecision.version_id)
                .join(CapstoneVersion, CapstoneVersion.id == CapstoneDecision.version_id)
                .join(Capstone, Capstone.id == CapstoneVersion.capstone_id)
                .where(Capstone.cohort_id == cohort_id)
            )
        )
    return version_id in cache[cohort_id]


def can_assign_reviewers(user: Any, version: Any, capstone: Any) -> bool:
    return (
        version.submitted_at is not None
        and _capstone_team(user, capstone.cohort_id)
        and not _archived_id(capstone.cohort_id)
        and not _decided(version.id, capstone.cohort_id)
    )


def can_decide_capstone(user: Any, version: Any, capstone: Any) -> bool:
    """Record the decision on a submitted version (once): staff and facilitators."""
    return can_assign_reviewers(user, version, capstone)


def can_review(user: Any, assignment: Any, version: Any, capstone: Any) -> bool:
    """Write (and change, until submitted) a review: the assigned reviewer, while an active
    reviewer of the cohort and before the decision."""
    return (
        _signed_in(user)
        and user.id == assignment.reviewer_id
        and _cohort_role(user, capstone.cohort_id, "reviewer")
        and version.submitted_at is not None
        and not _archived_id(capstone.cohort_id)
        and not _decided(version.id, capstone.cohort_id)
    )


def can_view_review(user: Any, review: Any, assignment: Any, capstone: Any) -> bool:
    if _signed_in(user) and user.id == assignment.reviewer_id:
        return True
    if review.submitted_at is None:
        return False
    if _capstone_team(user, capstone.cohort_id, active=False):
        return True
    if assignment.version_id in _assigned_versions(user):
        hide = bool((_cohort_settings(capstone.cohort_id)).get("hide_reviews_until_own", True))
        return not hide or _own_review_submitted(user, assignment.version_id)
    sees_outcome = _owns(user, capstone) or _coaches_fellow_now(
        user, capstone.cohort_id, capstone.fellow_id
    )
    decided = _decided(assignment.version_id, capstone.cohort_id)
    return sees_outcome and decided and can_view_capstone(user, capstone)


def _cohort_settings(cohort_id: int) -> dict[str, Any]:
    from fellowship.cohorts.models import Cohort

    cohort = db.session.get(Cohort, cohort_id)
    return dict(cohort.settings or {}) if cohort is not None else {}


def _own_review_submitted(user: Any, version_id: int) -> bool:
    """Whether the user has submitted their review of the version (the versions they have
    submitted reviews for are read once per request)."""
    cache = g.setdefault("_own_submitted_reviews", {})
    if user.id not in cache:
        from fellowship.capstones.models import Review, ReviewAssignment

        cache[user.id] = set(
            db.session.scalars(
                sa.select(ReviewAssignment.version_id)
                .join(Review, Review.assignment_id == ReviewAssignment.id)
                .where(ReviewAssignment.reviewer_id == user.id, Review.submitted_at.is_not(None))
            )
        )
    return version_id in cache[user.id]


def can_see_reviewer_names(user: Any, capstone: Any) -> bool:
    """The fellow (and their coach) see reviewers' names when the cohort says so; staff,
    facilitators and reviewers always do."""
    if _capstone_team(user, capstone.cohort_id, active=False) or _reviews_capstone(user, capstone):
        return True
    return bool(_cohort_settings(capstone.cohort_id).get("reviewer_names_visible", False))


def can_view_review_queue(user: Any) -> bool:
    """A reviewer's own queue of assigned submissions (empty for anyone else)."""
    return _signed_in(user)


def can_view_reviews_menu(user: Any) -> bool:
    """The "Reviews" menu entry: people who are (or were) a reviewer of some cohort."""
    return any(m.role.value == "reviewer" for m in _cohort_memberships(user).values())


def can_view_capstone_pipeline(user: Any, cohort: Any) -> bool:
    return _capstone_team(user, cohort.id, active=False)


def can_record_outcome(user: Any, cohort: Any, fellow_id: int) -> bool:
    """After the program: staff, or the graduate themself."""
    if _signed_in(user) and user.id == fellow_id:
        return _cohort_role(user, cohort.id, "fellow", active=False)
    return _is_staff(user)


def can_publish_capstone(user: Any, capstone: Any) -> bool:
    """Consent to (or withdraw from) the practice library: the fellow, once approved."""
    return (
        _owns(user, capstone)
        and _cohort_role(user, capstone.cohort_id, "fellow", active=False)
        and _status(capstone) == "approved"
    )


def can_withdraw_capstone(user: Any, capstone: Any) -> bool:
    """Take a published capstone out of the library: the fellow at any time (consent is
    theirs, whatever their membership now), and staff."""
    if capstone.published_at is None:
        return False
    return _owns(user, capstone) or _is_staff(user)


def can_view_outcome(user: Any, cohort: Any, fellow_id: int) -> bool:
    """A graduate's outcome: the graduate, staff and the cohort's facilitators."""
    if _signed_in(user) and user.id == fellow_id:
        return _cohort_role(user, cohort.id, "fellow", active=False)
    return _capstone_team(user, cohort.id, active=False)


def can_view_library(user: Any) -> bool:
    return _signed_in(user)


def can_view_library_entry(user: Any, capstone: Any) -> bool:
    return _signed_in(user) and capstone.published_at is not None


# Equity improvement cycles ------------------------------------------------------------------
#
# Staff and admins see and run every school's cycles. A cycle member (lead teacher, team
# member, partner, staff liaison) reads every cycle of the schools they belong to - this
# year's and earlier ones - and acts only in the cycles they are a member of, in their role:
# the lead teacher and team write the plan and record measurements, PDSA tests and engagement;
# the lead teacher (with staff) owns goals and the yearly review and signs for the school;
# partners log the support they give. A closed cycle is a record: only staff change it (by
# reopening it). A signed review is frozen for everyone. Fellows and coaches see none of this
# unless they are also cycle members.

_PLAN_ROLES = ("lead_teacher", "team_member", "staff_liaison")
_GOAL_ROLES = ("lead_teacher", "staff_liaison")
_SUPPORT_ROLES = ("partner", "staff_liaison")


def _cycle_memberships(user: Any) -> dict[int, tuple[str, int]]:
    """{cycle_id: (role, school_id)} for the user's cycle memberships (one query per request)."""
    if not _signed_in(user):
        return {}
    cache = g.setdefault("_cycle_memberships", {})
    if user.id not in cache:
        from fellowship.cycles.models import Cycle, CycleMembership

        rows = db.session.execute(
            sa.select(CycleMembership.cycle_id, CycleMembership.role, Cycle.school_id)
            .join(Cycle, Cycle.id == CycleMembership.cycle_id)
            .where(CycleMembership.user_id == user.id)
        )
        cache[user.id] = {
            cycle_id: (str(getattr(role, "value", role)), school_id)
            for cycle_id, role, school_id in rows
        }
    return dict(cache[user.id])


def _cycle_role(user: Any, cycle_id: int, *roles: str) -> bool:
    membership = _cycle_memberships(user).get(cycle_id)
    return membership is not None and (not roles or membership[0] in roles)


def _member_of_school(user: Any, school_id: int) -> bool:
    return any(school == school_id for _, school in _cycle_memberships(user).values())


def _cycle_open(cycle: Any) -> bool:
    return _status_of(cycle.stage) != "closed"


def _status_of(value: Any) -> str:
    return str(getattr(value, "value", value))


def _acts_in_cycle(user: Any, cycle: Any, roles: tuple[str, ...]) -> bool:
    """Staff, or a member of this cycle in one of these roles; never in a closed cycle."""
    return _cycle_open(cycle) and (_is_staff(user) or _cycle_role(user, cycle.id, *roles))


def _frozen(review: Any) -> bool:
    return review.frozen_at is not None


def can_manage_schools(user: Any) -> bool:
    """Add, edit and import schools; see the list of every school."""
    return _is_staff(user)


def can_view_school(user: Any, school: Any) -> bool:
    return _is_staff(user) or _member_of_school(user, school.id)


def can_open_cycle(user: Any) -> bool:
    """Open a school's cycle for a year, or next year's cycles for every school."""
    return _is_staff(user)


def can_view_my_cycles(user: Any) -> bool:
    return _is_staff(user) or bool(_cycle_memberships(user))


def can_view_cycle(user: Any, cycle: Any) -> bool:
    return _is_staff(user) or _member_of_school(user, cycle.school_id)


def can_manage_cycle_members(user: Any, cycle: Any) -> bool:
    return _is_staff(user)


def can_open_next_cycle(user: Any, cycle: Any) -> bool:
    return _is_staff(user)


def can_edit_initiative(user: Any, cycle: Any) -> bool:
    """The initiative's text and its driver diagram."""
    return _acts_in_cycle(user, cycle, _PLAN_ROLES)


def can_change_stage(user: Any, cycle: Any) -> bool:
    """Move the cycle forward or back a stage; only staff reopen a closed cycle."""
    if _is_staff(user):
        return True
    return _acts_in_cycle(user, cycle, ("lead_teacher",))


def can_edit_goals(user: Any, cycle: Any) -> bool:
    """Add, change and remove goals, and set or clear a goal's status by hand."""
    return _acts_in_cycle(user, cycle, _GOAL_ROLES)


def can_record_measurement(user: Any, cycle: Any) -> bool:
    return _acts_in_cycle(user, cycle, _PLAN_ROLES)


def can_delete_measurement(user: Any, measurement: Any, cycle: Any) -> bool:
    """Whoever recorded it, the lead teacher, or staff."""
    if not _acts_in_cycle(user, cycle, _PLAN_ROLES):
        return False
    return (
        _is_staff(user)
        or _cycle_role(user, cycle.id, *_GOAL_ROLES)
        or measurement.recorded_by_id == user.id
    )


def can_view_evidence(user: Any, measurement: Any, cycle: Any) -> bool:
    return can_view_cycle(user, cycle)


def can_edit_improvement_tests(user: Any, cycle: Any) -> bool:
    return _acts_in_cycle(user, cycle, _PLAN_ROLES)


def can_log_engagement(user: Any, cycle: Any) -> bool:
    return _acts_in_cycle(user, cycle, _PLAN_ROLES)


def can_log_support(user: Any, cycle: Any) -> bool:
    """Partners (and staff) record the support they give to the school."""
    return _acts_in_cycle(user, cycle, _SUPPORT_ROLES)


def can_edit_support(user: Any, activity: Any, cycle: Any) -> bool:
    """Staff, or the partner who recorded the entry while still in the cycle."""
    if not _cycle_open(cycle):
        return False
    return _is_staff(user) or (
        _cycle_role(user, cycle.id, *_SUPPORT_ROLES) and activity.recorded_by_id == user.id
    )


def can_view_support_report(user: Any) -> bool:
    """Support totals across schools: staff see every school's, partners their own."""
    return _is_staff(user) or any(
        role == "partner" for role, _ in _cycle_memberships(user).values()
    )


def can_schedule_review(user: Any, cycle: Any) -> bool:
    return _is_staff(user) and _cycle_open(cycle)


def can_view_goals_review(user: Any, review: Any, cycle: Any) -> bool:
    return can_view_cycle(user, cycle)


def can_record_goals_review(user: Any, review: Any, cycle: Any) -> bool:
    """Rate goals, write the discussion notes and next year's goals, change the date."""
    if _frozen(review):
        return False
    return _is_staff(user) or (_cycle_open(cycle) and _cycle_role(user, cycle.id, "lead_teacher"))


def can_sign_review_as_lead(user: Any, review: Any, cycle: Any) -> bool:
    return (
        not _frozen(review)
        and review.lead_signed_at is None
        and _cycle_open(cycle)
        and _cycle_role(user, cycle.id, "lead_teacher")
        and review.staff_signed_by_id != user.id
    )


def can_sign_review_as_staff(user: Any, review: Any, cycle: Any) -> bool:
    """The staff reviewer's signature; never the same person as the lead teacher's."""
    return (
        not _frozen(review)
        and review.staff_signed_at is None
        and _is_staff(user)
        and review.lead_signed_by_id != user.id
    )


def can_amend_review(user: Any, review: Any, cycle: Any) -> bool:
    """Start a correction of a signed review (the amendment is signed again by both); a
    review already corrected is amended through its latest amendment."""
    return (
        _frozen(review)
        and _status_of(review.status) != "amended"
        and (
            _is_staff(user) or (_cycle_open(cycle) and _cycle_role(user, cycle.id, "lead_teacher"))
        )
    )


def can_download_review_packet(user: Any, review: Any, cycle: Any) -> bool:
    return can_view_goals_review(user, review, cycle)


def can_view_portfolio(user: Any) -> bool:
    return _is_staff(user)


# Integration data -------------------------------------------------------------------------

# Enrollment counts describe students, in aggregate. Staff and admins read the district's
# integration figures - always after small-cell suppression - import counts, export them and
# set magnet schools' objectives. Only admins change the settings (which groups count as
# "minority", the small-cell threshold) and read the raw, unsuppressed counts. A school's
# cycle members read their own school's suppressed figures: its page and its review packet.


def can_view_integration(user: Any) -> bool:
    """The district dashboard and the exports."""
    return _is_staff(user)


def can_import_enrollment(user: Any) -> bool:
    return _is_staff(user)


def can_view_school_integration(user: Any, school: Any) -> bool:
    return _is_staff(user) or _member_of_school(user, school.id)


def can_set_objective(user: Any, school: Any) -> bool:
    """Objectives are for magnet schools."""
    return _is_staff(user) and bool(school.is_magnet)


def can_manage_integration_settings(user: Any) -> bool:
    return _is_admin(user)


def can_view_raw_enrollment(user: Any) -> bool:
    """The one screen that shows counts without suppression."""
    return _is_admin(user)


# Notifications ----------------------------------------------------------------------------

# Everyone signed in has their own notifications and preferences and nobody else's. Staff send
# announcements (to a cohort, or to every member of a school year's cycles). Admins see the
# outbox - the addresses, the errors - retry failed messages and send a test email.


def can_read_notification(user: Any, notification: Any) -> bool:
    return _signed_in(user) and notification.user_id == user.id


def can_send_announcements(user: Any) -> bool:
    return _is_staff(user)


def can_read_announcement(user: Any, announcement: Any) -> bool:
    """Staff, and the people it was sent to (they have its notification)."""
    if _is_staff(user):
        return True
    if not _signed_in(user):
        return False
    from fellowship.notifications.announcement_queries import notification_key
    from fellowship.notifications.models import Notification

    key = notification_key(announcement.id, user.id)
    found = db.session.scalar(
        sa.select(Notification.id).where(
            Notification.dedupe_key == key, Notification.user_id == user.id
        )
    )
    return found is not None


def can_manage_outbox(user: Any) -> bool:
    """The outbox page, retrying a failed message, the test email."""
    return _is_admin(user)


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


def cycles_visible_to(user: Any) -> sa.Select[Any]:
    """The cycles a user may list: all for staff; every cycle of their schools for members."""
    from fellowship.cycles.models import Cycle

    query = sa.select(Cycle)
    if _is_staff(user):
        return query
    schools = {school for _, school in _cycle_memberships(user).values()}
    if not schools:
        return query.where(sa.false())
    return query.where(Cycle.school_id.in_(sorted(schools)))


def support_cycles_visible_to(user: Any) -> sa.Select[Any] | None:
    """The cycles whose support entries a person's support report counts: None for every
    cycle (staff); for a partner the ids of the cycles they are a partner in - not their
    schools' other cycles, where other partners worked."""
    from fellowship.cycles.models import CycleMembership, CycleRole

    if _is_staff(user):
        return None
    if not _signed_in(user):
        return sa.select(CycleMembership.cycle_id).where(sa.false())
    return sa.select(CycleMembership.cycle_id).where(
        CycleMembership.user_id == user.id, CycleMembership.role == CycleRole.PARTNER
    )


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

"""Every route is in the access matrix, and the matrix holds for every role."""

from __future__ import annotations

from io import BytesIO

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.datastructures import FileStorage

from fellowship.audit import AuditEvent
from fellowship.auth.models import Role, User
from fellowship.capstones.models import (
    CapstoneStatus,
    CapstoneVersionFile,
    Recommendation,
    Stage,
)
from fellowship.coaching.models import ActionItem
from fellowship.cohorts.models import CohortRole
from fellowship.curriculum.models import ItemKind
from fellowship.cycles.models import ReviewStatus, School
from fellowship.db import utcnow
from fellowship.extensions import db
from fellowship.uploads import store_file
from tests.capstones.helpers import (
    AssignmentFactory,
    CapstoneFactory,
    DecisionFactory,
    VersionFactory,
)
from tests.conftest import csrf_token, rows_for_module, sign_in
from tests.convenings.helpers import ConveningFactory
from tests.curriculum.helpers import ExtensionFactory, ItemFactory, ModuleFactory, ProgressFactory
from tests.cycles.helpers import (
    CycleMemberFactory,
    DriverFactory,
    EngagementFactory,
    GoalFactory,
    ImprovementTestFactory,
    MeasurementFactory,
    ProposedGoalFactory,
    ReviewFactory,
    SupportFactory,
    cycle_with_team,
)
from tests.factories import (
    CheckInFactory,
    CoachAssignmentFactory,
    CohortFactory,
    MembershipFactory,
    UserFactory,
)
from tests.integration.helpers import add_counts, year
from tests.upload_attacks import valid_pdf

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any active account
STAFF = "staff"  # staff and admins
ADMIN = "admin"  # admins only
TOKEN = "token"  # reached only with an emailed token; a wrong token is 404
# Only for people related to the object (its coach, its fellow): every global role is denied.
RELATION = "relation"
# Only for the object's owner (a notification is its recipient's): anyone else gets 404.
OWNER = "owner"

# endpoint -> (who may, sample URL values)
MATRIX: dict[str, tuple[str, dict[str, object]]] = {
    "static": (PUBLIC, {"filename": "css/app.css"}),
    "healthz": (PUBLIC, {}),
    "auth.login": (PUBLIC, {}),
    "auth.second_factor": (PUBLIC, {}),
    "auth.logout": (PUBLIC, {}),
    "auth.set_language": (PUBLIC, {}),
    "auth.forgot_password": (PUBLIC, {}),
    "auth.accept_invitation": (TOKEN, {"token": "not-a-real-token"}),
    "auth.reset_password": (TOKEN, {"token": "not-a-real-token"}),
    "auth.profile": (SIGNED_IN, {}),
    "auth.change_password": (SIGNED_IN, {}),
    "auth.two_factor": (SIGNED_IN, {}),
    "auth.regenerate_recovery_codes": (SIGNED_IN, {}),
    "auth.disable_two_factor": (SIGNED_IN, {}),
    "dashboards.home": (SIGNED_IN, {}),
    "admin.people": (STAFF, {}),
    "admin.invite": (STAFF, {}),
    "admin.person": (STAFF, {"user_id": "TARGET"}),
    "admin.change_role": (ADMIN, {"user_id": "TARGET"}),
    "admin.deactivate": (ADMIN, {"user_id": "ACTIVE_TARGET"}),
    "admin.reactivate": (ADMIN, {"user_id": "TARGET"}),
    "admin.resend_invitation": (STAFF, {"user_id": "ACTIVE_TARGET"}),
    "admin.audit_log": (ADMIN, {}),
    "admin.outbox": (ADMIN, {}),
    "admin.outbox_message": (ADMIN, {"message_id": "OUTBOX_MESSAGE"}),
    "admin.retry_message": (ADMIN, {"message_id": "OUTBOX_MESSAGE"}),
    "admin.retry_failed": (ADMIN, {}),
    "admin.email_settings": (ADMIN, {}),
    # Announcements: staff write them; a recipient reads one through their notification
    # (tests/notifications/test_announcements_views.py), a plain member never.
    "notifications.announcements": (STAFF, {}),
    "notifications.new_announcement": (STAFF, {}),
    "notifications.announcement": (STAFF, {"announcement_id": "ANNOUNCEMENT"}),
    # A person's own notifications and email preferences; the one-click unsubscribe link
    # from emails needs no sign-in (tests/notifications/test_unsubscribe.py).
    "notifications.index": (SIGNED_IN, {}),
    "notifications.open_notification": (OWNER, {"notification_id": "NOTIFICATION"}),
    "notifications.mark_read": (OWNER, {"notification_id": "NOTIFICATION"}),
    "notifications.mark_all_read": (SIGNED_IN, {}),
    "notifications.preferences": (SIGNED_IN, {}),
    "notifications.unsubscribe": (TOKEN, {"token": "not-a-real-token"}),
    # Cohorts: a member without a membership counts as "signed in" here; cohort-role rules
    # are in tests/cohorts/test_cohort_policy.py.
    "cohorts.index": (SIGNED_IN, {}),
    "cohorts.new": (STAFF, {}),
    "cohorts.detail": (STAFF, {"cohort_id": "COHORT"}),
    "cohorts.edit": (STAFF, {"cohort_id": "COHORT"}),
    "cohorts.archive": (STAFF, {"cohort_id": "COHORT"}),
    "cohorts.members": (STAFF, {"cohort_id": "COHORT"}),
    "cohorts.member": (STAFF, {"cohort_id": "COHORT", "membership_id": "MEMBERSHIP"}),
    "cohorts.assign_coach": (STAFF, {"cohort_id": "COHORT", "membership_id": "MEMBERSHIP"}),
    "cohorts.roster_import": (STAFF, {"cohort_id": "COHORT"}),
    "cohorts.roster_import_confirm": (STAFF, {"cohort_id": "COHORT"}),
    # Convenings: likewise; cohort-role rules are in tests/convenings/.
    "convenings.index": (STAFF, {"cohort_id": "COHORT"}),
    "convenings.new": (STAFF, {"cohort_id": "COHORT"}),
    "convenings.cohort_attendance": (STAFF, {"cohort_id": "COHORT"}),
    "convenings.detail": (STAFF, {"convening_id": "CONVENING"}),
    "convenings.edit": (STAFF, {"convening_id": "CONVENING"}),
    "convenings.delete": (STAFF, {"convening_id": "CONVENING"}),
    "convenings.attendance": (STAFF, {"convening_id": "CONVENING"}),
    "calendar.index": (SIGNED_IN, {}),
    "calendar.rotate": (SIGNED_IN, {}),
    "calendar.feed": (TOKEN, {"token": "not-a-real-token"}),
    "calendar.cohort_feed": (TOKEN, {"token": "not-a-real-token", "cohort_id": 1}),
    # Check-ins: the sample is shared, so staff read its metadata; the rules for the coach,
    # the fellow and the next coach are in tests/coaching/.
    "coaching.new_checkin": (RELATION, {"cohort_id": "COHORT", "fellow_id": "FELLOW"}),
    "coaching.fellow_checkins": (STAFF, {"cohort_id": "COHORT", "fellow_id": "FELLOW"}),
    "coaching.my_checkins": (RELATION, {"cohort_id": "COHORT"}),
    "coaching.checkin": (STAFF, {"checkin_id": "CHECKIN"}),
    "coaching.edit_checkin": (RELATION, {"checkin_id": "CHECKIN"}),
    "coaching.share_checkin": (RELATION, {"checkin_id": "CHECKIN"}),
    "coaching.reply_to_checkin": (RELATION, {"checkin_id": "CHECKIN"}),
    "coaching.toggle_action_item": (RELATION, {"item_id": "ACTION_ITEM"}),
    # Caseloads: staff see any coach's (and an empty one of their own); a coach's own and
    # the 403s for other coaches and fellows are in tests/coaching/test_caseload.py.
    "coaching.my_caseload": (STAFF, {"cohort_id": "COHORT"}),
    "coaching.caseload": (STAFF, {"cohort_id": "COHORT", "coach_id": "COACH"}),
    "coaching.rhythm": (STAFF, {"cohort_id": "COHORT"}),
    # Curriculum: staff build it and see everything; the rules for facilitators, fellows,
    # coaches and reviewers are in tests/curriculum/.
    "curriculum.builder": (STAFF, {"cohort_id": "COHORT"}),
    "curriculum.new_module": (STAFF, {"cohort_id": "COHORT"}),
    "curriculum.edit_module": (STAFF, {"module_id": "MODULE"}),
    "curriculum.move_module": (STAFF, {"module_id": "MODULE"}),
    "curriculum.delete_module": (STAFF, {"module_id": "MODULE"}),
    "curriculum.module_items": (STAFF, {"module_id": "MODULE"}),
    "curriculum.new_item": (STAFF, {"module_id": "MODULE", "kind": "reading"}),
    "curriculum.edit_item": (STAFF, {"item_id": "ITEM"}),
    "curriculum.move_item": (STAFF, {"item_id": "ITEM"}),
    "curriculum.delete_item": (STAFF, {"item_id": "ITEM"}),
    "curriculum.copy": (STAFF, {"cohort_id": "COHORT"}),
    "curriculum.copy_apply": (STAFF, {"cohort_id": "COHORT"}),
    "curriculum.my_learning": (SIGNED_IN, {}),
    "curriculum.cohort_learning": (RELATION, {"cohort_id": "COHORT"}),
    "curriculum.module": (STAFF, {"module_id": "MODULE"}),
    "curriculum.mark_done": (RELATION, {"item_id": "ITEM"}),
    "curriculum.save_reflection": (RELATION, {"item_id": "REFLECTION_ITEM"}),
    "curriculum.download": (STAFF, {"item_id": "FILE_ITEM"}),
    "curriculum.feedback_queue": (STAFF, {"cohort_id": "COHORT"}),
    "curriculum.give_feedback": (STAFF, {"progress_id": "REFLECTION"}),
    "curriculum.progress_grid": (STAFF, {"cohort_id": "COHORT"}),
    "curriculum.fellow_progress": (STAFF, {"cohort_id": "COHORT", "fellow_id": "FELLOW"}),
    "curriculum.extensions": (STAFF, {"module_id": "MODULE"}),
    "curriculum.remove_extension": (STAFF, {"extension_id": "EXTENSION"}),
    # Capstones: the sample is the target fellow's submitted proposal with a file and an
    # assigned reviewer, plus another fellow's published capstone; the rules for fellows,
    # coaches, facilitators and reviewers are in tests/capstones/.
    "capstones.mine": (RELATION, {"cohort_id": "COHORT"}),
    "capstones.new": (RELATION, {"cohort_id": "COHORT"}),
    "capstones.detail": (STAFF, {"capstone_id": "CAPSTONE"}),
    "capstones.edit": (RELATION, {"capstone_id": "CAPSTONE"}),
    "capstones.upload_file": (RELATION, {"capstone_id": "CAPSTONE"}),
    "capstones.remove_file": (RELATION, {"file_id": "CAPSTONE_FILE"}),
    "capstones.submit": (RELATION, {"capstone_id": "CAPSTONE"}),
    "capstones.version": (STAFF, {"version_id": "CAPSTONE_VERSION"}),
    "capstones.download": (STAFF, {"file_id": "CAPSTONE_FILE"}),
    "capstones.publish": (RELATION, {"capstone_id": "CAPSTONE"}),
    "capstones.withdraw": (STAFF, {"capstone_id": "PUBLISHED_CAPSTONE"}),
    "capstones.outcome": (STAFF, {"cohort_id": "COHORT", "fellow_id": "FELLOW"}),
    "capstones.review_queue": (SIGNED_IN, {}),
    "capstones.review": (RELATION, {"assignment_id": "REVIEW_ASSIGNMENT"}),
    "capstones.rubric": (STAFF, {"cohort_id": "COHORT"}),
    "capstones.pipeline": (STAFF, {"cohort_id": "COHORT"}),
    "capstones.assign": (STAFF, {"version_id": "CAPSTONE_VERSION"}),
    "capstones.unassign": (STAFF, {"assignment_id": "REVIEW_ASSIGNMENT"}),
    "capstones.decide": (STAFF, {"version_id": "CAPSTONE_VERSION"}),
    "capstones.outcomes": (STAFF, {"cohort_id": "COHORT"}),
    "capstones.settings": (STAFF, {"cohort_id": "COHORT"}),
    "capstones.library": (SIGNED_IN, {}),
    "capstones.library_entry": (SIGNED_IN, {"capstone_id": "PUBLISHED_CAPSTONE"}),
    "capstones.library_download": (
        SIGNED_IN,
        {"capstone_id": "PUBLISHED_CAPSTONE", "file_id": "LIBRARY_FILE"},
    ),
    # Equity improvement cycles: staff and admins; members of a school's cycles get in by
    # relation (tests/cycles), a plain member never.
    "cycles.schools": (STAFF, {}),
    "cycles.school_new": (STAFF, {}),
    "cycles.school_edit": (STAFF, {"school_id": "SCHOOL"}),
    "cycles.school_show": (STAFF, {"school_id": "SCHOOL"}),
    "cycles.schools_import": (STAFF, {}),
    "cycles.index": (STAFF, {}),
    "cycles.new": (STAFF, {}),
    "cycles.members": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.member_add": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.member_update": (STAFF, {"cycle_id": "CYCLE", "membership_id": "CYCLE_MEMBER"}),
    "cycles.member_remove": (STAFF, {"cycle_id": "CYCLE", "membership_id": "CYCLE_MEMBER"}),
    "cycles.open_next": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.open_next_all": (STAFF, {}),
    "cycles.show": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.initiative_edit": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.stage": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.driver_new": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.driver_edit": (STAFF, {"cycle_id": "CYCLE", "driver_id": "DRIVER"}),
    "cycles.driver_delete": (STAFF, {"cycle_id": "CYCLE", "driver_id": "DRIVER"}),
    "cycles.driver_move": (STAFF, {"cycle_id": "CYCLE", "driver_id": "DRIVER"}),
    "cycles.tests": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.test_new": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.test_show": (STAFF, {"cycle_id": "CYCLE", "test_id": "PDSA"}),
    "cycles.test_edit": (STAFF, {"cycle_id": "CYCLE", "test_id": "PDSA"}),
    "cycles.engagement": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.engagement_new": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.engagement_edit": (STAFF, {"cycle_id": "CYCLE", "session_id": "ENGAGEMENT"}),
    "cycles.engagement_delete": (STAFF, {"cycle_id": "CYCLE", "session_id": "ENGAGEMENT"}),
    "cycles.goals": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.goal_new": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.goal_show": (STAFF, {"cycle_id": "CYCLE", "goal_id": "GOAL"}),
    "cycles.goal_edit": (STAFF, {"cycle_id": "CYCLE", "goal_id": "GOAL"}),
    "cycles.goal_delete": (STAFF, {"cycle_id": "CYCLE", "goal_id": "GOAL"}),
    "cycles.goal_override": (STAFF, {"cycle_id": "CYCLE", "goal_id": "GOAL"}),
    "cycles.goal_override_clear": (STAFF, {"cycle_id": "CYCLE", "goal_id": "GOAL"}),
    "cycles.measurement_new": (STAFF, {"cycle_id": "CYCLE", "goal_id": "GOAL"}),
    "cycles.measurement_delete": (STAFF, {"cycle_id": "CYCLE", "measurement_id": "MEASUREMENT"}),
    "cycles.measurement_evidence": (
        STAFF,
        {"cycle_id": "CYCLE", "measurement_id": "EVIDENCE_MEASUREMENT"},
    ),
    "cycles.support": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.support_new": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.support_edit": (STAFF, {"cycle_id": "CYCLE", "activity_id": "SUPPORT"}),
    "cycles.support_delete": (STAFF, {"cycle_id": "CYCLE", "activity_id": "SUPPORT"}),
    "cycles.support_report": (STAFF, {}),
    "cycles.support_report_csv": (STAFF, {}),
    "cycles.portfolio": (STAFF, {}),
    "cycles.portfolio_csv": (STAFF, {}),
    "cycles.portfolio_years": (STAFF, {}),
    "integration.dashboard": (STAFF, {"year": "COUNTS_YEAR"}),
    "integration.school": (STAFF, {"school_id": "SCHOOL"}),
    "integration.indicators_csv": (STAFF, {"year": "COUNTS_YEAR"}),
    "integration.federal_table": (STAFF, {"year": "COUNTS_YEAR"}),
    "integration.federal_csv": (STAFF, {"year": "COUNTS_YEAR"}),
    "integration.import_counts": (STAFF, {}),
    "integration.import_template": (STAFF, {}),
    "integration.objective_edit": (STAFF, {"school_id": "SCHOOL"}),
    "integration.settings": (ADMIN, {}),
    "integration.raw_counts": (ADMIN, {}),
    "cycles.reviews": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.review_schedule": (STAFF, {"cycle_id": "CYCLE"}),
    "cycles.review_show": (STAFF, {"cycle_id": "CYCLE", "review_id": "GOALS_REVIEW"}),
    "cycles.review_edit": (STAFF, {"cycle_id": "CYCLE", "review_id": "GOALS_REVIEW"}),
    "cycles.review_ratings": (STAFF, {"cycle_id": "CYCLE", "review_id": "GOALS_REVIEW"}),
    "cycles.review_notes": (STAFF, {"cycle_id": "CYCLE", "review_id": "GOALS_REVIEW"}),
    "cycles.review_goal_new": (STAFF, {"cycle_id": "CYCLE", "review_id": "GOALS_REVIEW"}),
    "cycles.review_goal_edit": (
        STAFF,
        {"cycle_id": "CYCLE", "review_id": "GOALS_REVIEW", "proposed_id": "PROPOSED_GOAL"},
    ),
    "cycles.review_goal_delete": (
        STAFF,
        {"cycle_id": "CYCLE", "review_id": "GOALS_REVIEW", "proposed_id": "PROPOSED_GOAL"},
    ),
    "cycles.review_sign": (STAFF, {"cycle_id": "CYCLE", "review_id": "GOALS_REVIEW"}),
    "cycles.review_amend": (STAFF, {"cycle_id": "CYCLE", "review_id": "SIGNED_REVIEW"}),
    "cycles.review_send_packet": (STAFF, {"cycle_id": "CYCLE", "review_id": "GOALS_REVIEW"}),
    "cycles.review_pdf": (STAFF, {"cycle_id": "CYCLE", "review_id": "GOALS_REVIEW"}),
}

ALLOWED = {
    "anonymous": {PUBLIC},
    "member": {PUBLIC, SIGNED_IN},
    "staff": {PUBLIC, SIGNED_IN, STAFF},
    "admin": {PUBLIC, SIGNED_IN, STAFF, ADMIN},
}


def test_every_route_is_in_the_access_matrix(app: Flask):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - set(MATRIX)
    stale = set(MATRIX) - endpoints
    assert not missing, f"routes without an access rule: {sorted(missing)}"
    assert not stale, f"access rules for routes that no longer exist: {sorted(stale)}"


SAMPLE_KEYS = {
    "SCHOOL",
    "COUNTS_YEAR",
    "CYCLE",
    "CYCLE_MEMBER",
    "DRIVER",
    "GOAL",
    "MEASUREMENT",
    "EVIDENCE_MEASUREMENT",
    "PDSA",
    "SUPPORT",
    "ENGAGEMENT",
    "GOALS_REVIEW",
    "SIGNED_REVIEW",
    "PROPOSED_GOAL",
    "COHORT",
    "MEMBERSHIP",
    "CONVENING",
    "FELLOW",
    "COACH",
    "CHECKIN",
    "ACTION_ITEM",
    "MODULE",
    "ITEM",
    "REFLECTION_ITEM",
    "FILE_ITEM",
    "REFLECTION",
    "EXTENSION",
    "CAPSTONE",
    "CAPSTONE_VERSION",
    "CAPSTONE_FILE",
    "REVIEW_ASSIGNMENT",
    "PUBLISHED_CAPSTONE",
    "LIBRARY_FILE",
    "OUTBOX_MESSAGE",
    "ANNOUNCEMENT",
    "NOTIFICATION",
}


def _outbox_sample() -> int:
    """A failed outbox message (one an admin may send again)."""
    from fellowship.mail import OutboxMessage, OutboxStatus

    message = OutboxMessage(
        to="failed@example.org",
        subject="Sample",
        text="Sample",
        template="auth/password_reset",
        status=OutboxStatus.FAILED,
        attempts=8,
        last_error="SMTPRecipientsRefused: sample",
    )
    db.session.add(message)
    db.session.commit()
    return message.id


def _announcement_sample(cohort_id: int, recipient_id: int) -> int:
    """An announcement to the cohort, with its notification for the target."""
    from fellowship.notifications.announcement_queries import notification_key
    from fellowship.notifications.models import (
        Announcement,
        Audience,
        Category,
        Notification,
    )

    announcement = Announcement(
        audience=Audience.COHORT,
        cohort_id=cohort_id,
        subject="Sample",
        body_md="Sample",
        recipient_count=1,
    )
    db.session.add(announcement)
    db.session.flush()
    db.session.add(
        Notification(
            user_id=recipient_id,
            kind="notifications/announcement",
            category=Category.ANNOUNCEMENTS,
            subject="Sample",
            link="/",
            dedupe_key=notification_key(announcement.id, recipient_id),
        )
    )
    db.session.commit()
    return announcement.id


def _notification_sample(recipient_id: int) -> int:
    """An unread notification of the target."""
    from fellowship.notifications.models import Category, Notification

    notification = Notification(
        user_id=recipient_id,
        kind="coaching/checkin_shared",
        category=Category.COACHING,
        subject="Sample",
        link="/",
        dedupe_key=f"routes-sample:{recipient_id}",
    )
    db.session.add(notification)
    db.session.commit()
    return notification.id


def _samples(target_id: int) -> dict[str, int | str]:
    """Ids for the placeholders in MATRIX: a cohort with one membership of the target (a
    fellow), a coach who coaches them, a shared check-in with one action item, and a
    released module with a reading, a file and a reflection the target submitted, and an
    extension for the target."""
    cohort = CohortFactory()
    membership = MembershipFactory(cohort=cohort, user_id=target_id)
    convening = ConveningFactory(cohort_id=cohort.id)
    coach = MembershipFactory(cohort=cohort, role=CohortRole.COACH).user_id
    CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=target_id, coach_id=coach)
    checkin = CheckInFactory(cohort_id=cohort.id, coach_id=coach, fellow_id=target_id)
    item = ActionItem(checkin_id=checkin.id, owner_id=target_id, description="Sample item")
    db.session.add(item)
    db.session.commit()
    module = ModuleFactory(cohort_id=cohort.id)
    reading = ItemFactory(module_id=module.id)
    prompt = ItemFactory(module_id=module.id, kind=ItemKind.REFLECTION)
    upload = FileStorage(BytesIO(valid_pdf()), filename="sample.pdf")
    pdf_id = store_file(upload, None, {"pdf"}).id
    db.session.commit()
    file_item = ItemFactory(module_id=module.id, kind=ItemKind.FILE, stored_file_id=pdf_id)
    reflection = ProgressFactory(
        item_id=prompt.id,
        fellow_id=target_id,
        response_md="What I learned",
        submitted_at=utcnow(),
        completed_at=utcnow(),
    )
    extension = ExtensionFactory(module_id=module.id, fellow_id=target_id)
    capstone = CapstoneFactory(
        cohort_id=cohort.id, fellow_id=target_id, status=CapstoneStatus.PROPOSAL_SUBMITTED
    )
    proposal = VersionFactory(capstone_id=capstone.id)
    reviewer = MembershipFactory(cohort=cohort, role=CohortRole.REVIEWER).user_id
    assignment = AssignmentFactory(version_id=proposal.id, reviewer_id=reviewer)
    published = CapstoneFactory(
        cohort_id=cohort.id,
        fellow_id=MembershipFactory(cohort=cohort).user_id,
        status=CapstoneStatus.APPROVED,
        consent_at=utcnow(),
        published_at=utcnow(),
    )
    final = VersionFactory(capstone_id=published.id, stage=Stage.FINAL)
    DecisionFactory(version_id=final.id, outcome=Recommendation.APPROVE)
    attached = CapstoneVersionFile(version_id=proposal.id, stored_file_id=pdf_id)
    in_library = CapstoneVersionFile(version_id=final.id, stored_file_id=pdf_id, in_library=True)
    db.session.add_all([attached, in_library])
    db.session.commit()
    team = cycle_with_team()
    cycle = team.cycle
    goal = GoalFactory(cycle_id=cycle.id)
    driver = DriverFactory(cycle_id=cycle.id)
    review = ReviewFactory(cycle_id=cycle.id)
    school = db.session.get(School, cycle.school_id)
    add_counts(school, year("2025-26"), {"black": 40, "white": 35, "low_income": 30})
    return {
        "SCHOOL": cycle.school_id,
        "COUNTS_YEAR": "2025-26",  # a year with counts (the integration pages' ?year=)
        "CYCLE": cycle.id,
        "CYCLE_MEMBER": CycleMemberFactory(cycle_id=cycle.id).id,
        "DRIVER": driver.id,
        "GOAL": goal.id,
        "MEASUREMENT": MeasurementFactory(goal_id=goal.id, recorded_by_id=team.member.id).id,
        "EVIDENCE_MEASUREMENT": MeasurementFactory(goal_id=goal.id, evidence_file_id=pdf_id).id,
        "PDSA": ImprovementTestFactory(cycle_id=cycle.id, driver_id=driver.id).id,
        "SUPPORT": SupportFactory(cycle_id=cycle.id, recorded_by_id=team.partner.id).id,
        "ENGAGEMENT": EngagementFactory(cycle_id=cycle.id).id,
        "GOALS_REVIEW": review.id,
        "SIGNED_REVIEW": ReviewFactory(
            cycle_id=cycle.id,
            status=ReviewStatus.SIGNED,
            lead_signed_by_id=team.lead.id,
            lead_signed_at=utcnow(),
            staff_signed_at=utcnow(),
            frozen_at=utcnow(),
            snapshot={"packet": {}},
        ).id,
        "PROPOSED_GOAL": ProposedGoalFactory(review_id=review.id, goal_id=goal.id).id,
        "CAPSTONE": capstone.id,
        "CAPSTONE_VERSION": proposal.id,
        "CAPSTONE_FILE": attached.id,
        "REVIEW_ASSIGNMENT": assignment.id,
        "PUBLISHED_CAPSTONE": published.id,
        "LIBRARY_FILE": in_library.id,
        "OUTBOX_MESSAGE": _outbox_sample(),
        "ANNOUNCEMENT": _announcement_sample(cohort.id, target_id),
        "NOTIFICATION": _notification_sample(target_id),
        "MODULE": module.id,
        "ITEM": reading.id,
        "REFLECTION_ITEM": prompt.id,
        "FILE_ITEM": file_item.id,
        "REFLECTION": reflection.id,
        "EXTENSION": extension.id,
        "COHORT": cohort.id,
        "MEMBERSHIP": membership.id,
        "CONVENING": convening.id,
        "FELLOW": target_id,
        "COACH": coach,
        "CHECKIN": checkin.id,
        "ACTION_ITEM": item.id,
    }


def build_cast() -> dict[str, object]:
    """Built once per module: the target of every admin action (an invited member, not yet
    active, with a password still to set), the samples around them, and one person to
    sign in as for each role."""
    target = UserFactory(password_hash=None, is_active=False)
    return {
        "target": target,
        "samples": _samples(target.id),
        "member": UserFactory(role=Role.MEMBER),
        "staff": UserFactory(role=Role.STAFF),
        "admin": UserFactory(role=Role.ADMIN),
    }


built_cast = rows_for_module(build_cast)


@pytest.fixture
def cast(built_cast):
    return built_cast.thaw()


def _url(app: Flask, endpoint: str, values: dict[str, object], cast: dict[str, object]) -> str:
    target = cast["target"]
    assert isinstance(target, User)
    samples = cast["samples"]
    assert isinstance(samples, dict)
    filled = {
        k: (target.id if str(v).endswith("TARGET") else samples.get(str(v), v))
        for k, v in values.items()
    }
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **filled)


CASES = [
    (endpoint, who)
    for endpoint, (level, _) in MATRIX.items()
    if level not in {PUBLIC, TOKEN}
    for who in ALLOWED
]


@pytest.mark.parametrize(("endpoint", "who"), CASES)
def test_the_access_matrix_holds_for_every_role(app: Flask, client, cast, endpoint, who):
    level, values = MATRIX[endpoint]
    # The invited member is deactivated unless the action needs an active one, so that
    # every admin action is possible on it.
    active = "ACTIVE_TARGET" in values.values()
    target = cast["target"]
    if active:
        target.is_active = True
        db.session.commit()
    if who != "anonymous":
        sign_in(client, cast[who])
    url = _url(app, endpoint, values, cast)
    methods = next(r.methods for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    method = "GET" if "GET" in methods else "POST"
    data = {}
    if method == "POST":
        data["csrf_token"] = csrf_token(client)
    events_before = db.session.scalar(sa.select(sa.func.count(AuditEvent.id)))
    watched_before = _snapshot(WATCHED_TABLES)
    response = client.open(url, method=method, data=data)
    response.close()  # a download streams a file: close it
    if level not in ALLOWED[who]:
        db.session.expire_all()
        assert _snapshot(WATCHED_TABLES) == watched_before
        after = db.session.get(User, target.id)
        assert (after.role, after.is_active, after.password_hash) == (Role.MEMBER, active, None)
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id))) == events_before
        if who == "anonymous":
            assert response.status_code == 302
            assert "/login" in response.headers["Location"]
        else:
            assert response.status_code == (404 if level == OWNER else 403)
    else:
        # Allowed: the page itself, or the redirect after a POST - never back to sign-in.
        assert response.status_code in {200, 302}, response.status_code
        assert "/login" not in response.headers.get("Location", "")


@pytest.mark.parametrize("endpoint", [e for e, (level, _) in MATRIX.items() if level == TOKEN])
def test_a_wrong_token_link_is_not_found(app: Flask, client, endpoint):
    with app.test_request_context():
        from flask import url_for

        url = url_for(endpoint, **MATRIX[endpoint][1])
    response = client.get(url)
    assert response.status_code == 404


WATCHED_TABLES = {
    "checkins",
    "checkin_private_notes",
    "checkin_focuses",
    "checkin_replies",
    "action_items",
    "outbox_messages",
    "notifications",
    "notification_preferences",
    "schools",
    "cycles",
    "cycle_memberships",
    "drivers",
    "goals",
    "measurements",
    "improvement_tests",
    "support_activities",
    "engagement_sessions",
    "goals_reviews",
    "goal_ratings",
    "proposed_goals",
}


def _snapshot(only: set[str] | None = None) -> dict[str, list[tuple]]:
    """Every row of every table (or of the `only` ones), to prove a request changed nothing."""
    return {
        table.name: sorted(
            (tuple(str(v) for v in row) for row in db.session.execute(sa.select(table))),
        )
        for table in db.metadata.sorted_tables
        if only is None or table.name in only
    }


# Tables a GET may write: caches of figures derived from the data, rebuilt when they are out
# of date (fellowship/integration/figures.py).
DERIVED_CACHES = {"integration_figures"}

AUDITED_DOWNLOADS = {
    "cycles.portfolio_csv",
    "cycles.support_report_csv",
    "cycles.review_pdf",
    "integration.indicators_csv",
    "integration.federal_csv",
}

GET_PAGES = [
    endpoint
    for endpoint, (level, _) in MATRIX.items()
    if endpoint not in {"static"} and level != TOKEN
]


@pytest.mark.parametrize("endpoint", GET_PAGES)
def test_no_get_request_changes_the_database(app: Flask, client, cast, endpoint):
    methods = next(r.methods for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    sign_in(client, cast["admin"])
    url = _url(app, endpoint, MATRIX[endpoint][1], cast)
    db.session.expire_all()
    before = _snapshot()
    response = client.get(url)
    response.close()
    if "GET" not in methods:
        # 405, unless the same address is another route's page (POST /cycles/1/members adds
        # a member; GET /cycles/1/members lists them).
        rule = next(r.rule for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        shared = any(r.rule == rule and "GET" in r.methods for r in app.url_map.iter_rules())
        assert response.status_code == (200 if shared else 405)
    db.session.expire_all()
    after = _snapshot()
    for table in DERIVED_CACHES:
        # A derived cache a read may fill (deleting it loses nothing): not the app's state.
        before.pop(table)
        after.pop(table)
    if endpoint in AUDITED_DOWNLOADS:
        # An export or packet download is a sensitive read: its one audit row is the only
        # write (QUALITY.md, audit log).
        added = set(after.pop("audit_events")) - set(before.pop("audit_events"))
        assert len(added) == 1
    assert after == before

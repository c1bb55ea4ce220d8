"""Imports every model so Alembic and the tests see the whole schema. Add new domains here."""

from fellowship.audit import AuditEvent
from fellowship.auth.models import Invitation, LoginSession, PasswordReset, RecoveryCode, User
from fellowship.calendar.models import CalendarFeed
from fellowship.capstones.models import (
    Capstone,
    CapstoneDecision,
    CapstoneVersion,
    CapstoneVersionFile,
    GraduateOutcome,
    Review,
    ReviewAssignment,
    Rubric,
    RubricCriterion,
    RubricLevel,
)
from fellowship.coaching.models import (
    ActionItem,
    CheckIn,
    CheckInFocus,
    CheckInPrivateNote,
    CheckInReply,
)
from fellowship.cohorts.models import CoachAssignment, Cohort, CohortMembership, Strand
from fellowship.convenings.models import Attendance, Convening, ConveningFacilitator
from fellowship.curriculum.models import (
    DueDateExtension,
    ItemProgress,
    Module,
    ModuleItem,
    ModulePrerequisite,
)
from fellowship.cycles.models import (
    Cycle,
    CycleMembership,
    Driver,
    EngagementSession,
    Goal,
    GoalRating,
    GoalsReview,
    ImprovementTest,
    Measurement,
    ProposedGoal,
    School,
    SupportActivity,
)
from fellowship.integration.models import (
    EnrollmentCount,
    IntegrationCountsVersion,
    IntegrationFigures,
    IntegrationObjective,
    IntegrationSettings,
)
from fellowship.mail import OutboxMessage
from fellowship.notifications.models import (
    Announcement,
    Notification,
    NotificationDigest,
    NotificationPreference,
)
from fellowship.school_years import SchoolYear
from fellowship.uploads import StoredFile

__all__ = [
    "ActionItem",
    "Announcement",
    "Attendance",
    "AuditEvent",
    "CalendarFeed",
    "Capstone",
    "CapstoneDecision",
    "CapstoneVersion",
    "CapstoneVersionFile",
    "CheckIn",
    "CheckInFocus",
    "CheckInPrivateNote",
    "CheckInReply",
    "CoachAssignment",
    "Cohort",
    "CohortMembership",
    "Convening",
    "ConveningFacilitator",
    "Cycle",
    "CycleMembership",
    "Driver",
    "DueDateExtension",
    "EngagementSession",
    "EnrollmentCount",
    "Goal",
    "GoalRating",
    "GoalsReview",
    "GraduateOutcome",
    "ImprovementTest",
    "IntegrationCountsVersion",
    "IntegrationFigures",
    "IntegrationObjective",
    "IntegrationSettings",
    "Invitation",
    "ItemProgress",
    "LoginSession",
    "Measurement",
    "Module",
    "ModuleItem",
    "ModulePrerequisite",
    "Notification",
    "NotificationDigest",
    "NotificationPreference",
    "OutboxMessage",
    "PasswordReset",
    "ProposedGoal",
    "RecoveryCode",
    "Review",
    "ReviewAssignment",
    "Rubric",
    "RubricCriterion",
    "RubricLevel",
    "School",
    "SchoolYear",
    "StoredFile",
    "Strand",
    "SupportActivity",
    "User",
]

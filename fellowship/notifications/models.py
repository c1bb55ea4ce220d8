"""Notifications: what the app tells a person, in the app (the bell) and by email.

Every event and reminder becomes one `Notification` row for its recipient (the in-app list),
keyed by a `dedupe_key` that is unique: a reminder computed twice, by two cron runs at once or
on two servers, is inserted once and mailed once. Whether and when it is also emailed follows
the recipient's `NotificationPreference` for its category: right away (an outbox message in
the same transaction), in the next daily or weekly `NotificationDigest`, or not at all.
Security mail (invitations, password resets) never becomes a notification and cannot be
turned off; it goes straight to the outbox.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fellowship.db import Base, str_enum, utcnow


class Category(enum.StrEnum):
    """What a person can set a frequency for. Each notification kind belongs to one."""

    COACHING = "coaching"
    CURRICULUM = "curriculum"
    CAPSTONES = "capstones"
    CONVENINGS = "convenings"
    CYCLES = "cycles"
    ANNOUNCEMENTS = "announcements"


class Frequency(enum.StrEnum):
    IMMEDIATELY = "immediately"
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


DEFAULT_FREQUENCY = Frequency.IMMEDIATELY


class EmailState(enum.StrEnum):
    """What became of a notification's email."""

    QUEUED = "queued"  # an outbox message was written with it (immediately)
    PENDING = "pending"  # waits for the recipient's next digest
    DIGESTED = "digested"  # went out in `digest_id`
    NONE = "none"  # the category is off: in the app only


class DigestFrequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class NotificationDigest(Base):
    """One digest email: a person's pending notifications, once per day or ISO week.

    Unique per (user, frequency, period), so two `flask digests run` at once send one."""

    __tablename__ = "notification_digests"
    __table_args__ = (sa.UniqueConstraint("user_id", "frequency", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    frequency: Mapped[DigestFrequency] = mapped_column(
        str_enum(DigestFrequency, "digest_frequency")
    )
    period: Mapped[str] = mapped_column(sa.String(16))  # "2026-11-30" or "2026-W48"
    notification_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
        sa.Index("ix_notifications_user_created", "user_id", "created_at"),
        sa.Index("ix_notifications_email_user", "email", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(80))  # email template: "coaching/checkin_shared"
    category: Mapped[Category] = mapped_column(str_enum(Category, "notification_category"))
    subject: Mapped[str] = mapped_column(sa.String(255))  # in the recipient's language
    link: Mapped[str] = mapped_column(sa.String(500))  # a path in the app
    dedupe_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    email: Mapped[EmailState] = mapped_column(
        str_enum(EmailState, "notification_email"), default=EmailState.NONE
    )
    digest_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notification_digests.id", ondelete="SET NULL"), index=True
    )
    read_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class NotificationPreference(Base):
    """A person's frequency for one category; no row means `DEFAULT_FREQUENCY`."""

    __tablename__ = "notification_preferences"
    __table_args__ = (sa.UniqueConstraint("user_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[Category] = mapped_column(str_enum(Category, "notification_category"))
    frequency: Mapped[Frequency] = mapped_column(str_enum(Frequency, "notification_frequency"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Audience(enum.StrEnum):
    COHORT = "cohort"  # the cohort's active members
    CYCLES = "cycles"  # every member of the school year's cycles


class Announcement(Base):
    """A message from staff to a cohort or to the members of a school year's cycles; each
    recipient gets it as a notification (category announcements)."""

    __tablename__ = "announcements"
    __table_args__ = (
        sa.CheckConstraint(
            "(audience = 'cohort' AND cohort_id IS NOT NULL AND school_year_id IS NULL) OR "
            "(audience = 'cycles' AND school_year_id IS NOT NULL AND cohort_id IS NULL)",
            name="one_audience",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    audience: Mapped[Audience] = mapped_column(str_enum(Audience, "announcement_audience"))
    cohort_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("cohorts.id", ondelete="CASCADE"), index=True
    )
    school_year_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("school_years.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_md: Mapped[str] = mapped_column(sa.Text)
    recipient_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

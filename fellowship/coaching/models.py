"""Coaching check-ins, their private notes, focus areas, replies and action items.

Private notes live in their own table and are only ever read by a query that names the
writing coach (`queries.private_notes_for`), so no page, export, email or feed that serves
anyone else can select them by accident.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fellowship.db import Base, TimestampMixin, str_enum, utcnow


class CheckInMode(enum.StrEnum):
    IN_PERSON = "in_person"
    VIDEO = "video"
    PHONE = "phone"


class CheckIn(TimestampMixin, Base):
    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    coach_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    fellow_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    held_on: Mapped[date]
    duration_minutes: Mapped[int]
    mode: Mapped[CheckInMode] = mapped_column(str_enum(CheckInMode, "checkin_mode"))
    shared_summary_md: Mapped[str] = mapped_column(sa.Text, default="")
    next_steps_md: Mapped[str] = mapped_column(sa.Text, default="")
    next_checkin_on: Mapped[date | None]
    shared_at: Mapped[datetime | None]  # None: a draft only the coach sees
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.Index("ix_checkins_cohort_fellow_held", "cohort_id", "fellow_id", "held_on"),
        sa.Index("ix_checkins_coach_held", "coach_id", "held_on"),
        sa.CheckConstraint("duration_minutes > 0", name="duration_positive"),
    )

    @property
    def is_shared(self) -> bool:
        return self.shared_at is not None

    def __repr__(self) -> str:
        return f"<CheckIn {self.id} {self.held_on} fellow={self.fellow_id}>"


class CheckInPrivateNote(Base):
    """The writing coach's private notes: one row per check-in, readable by that coach only."""

    __tablename__ = "checkin_private_notes"

    checkin_id: Mapped[int] = mapped_column(
        sa.ForeignKey("checkins.id", ondelete="CASCADE"), primary_key=True
    )
    coach_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    body_md: Mapped[str] = mapped_column(sa.Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def __repr__(self) -> str:
        return f"<CheckInPrivateNote checkin={self.checkin_id}>"


class CheckInFocus(Base):
    __tablename__ = "checkin_focuses"

    checkin_id: Mapped[int] = mapped_column(
        sa.ForeignKey("checkins.id", ondelete="CASCADE"), primary_key=True
    )
    strand_id: Mapped[int] = mapped_column(
        sa.ForeignKey("strands.id", ondelete="CASCADE"), primary_key=True
    )

    def __repr__(self) -> str:
        return f"<CheckInFocus checkin={self.checkin_id} strand={self.strand_id}>"


class CheckInReply(Base):
    """A fellow's (or the coach's) reply to a shared summary."""

    __tablename__ = "checkin_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        sa.ForeignKey("checkins.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    body_md: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<CheckInReply {self.id} checkin={self.checkin_id}>"


class ActionItem(Base):
    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    checkin_id: Mapped[int] = mapped_column(
        sa.ForeignKey("checkins.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(sa.String(500))
    due_on: Mapped[date | None]
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ActionItem {self.id} owner={self.owner_id}>"

"""Convenings (and workshops, visits, panels, book studies, peer check-ins) and attendance."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fellowship.db import Base, TimestampMixin, str_enum, utcnow


class ConveningKind(enum.StrEnum):
    NATIONAL = "national_convening"
    REGIONAL = "regional_convening"
    WORKSHOP = "workshop"
    SCHOOL_VISIT = "school_visit"
    PANEL = "panel_discussion"
    BOOK_STUDY = "book_study"
    PEER_CHECKIN = "peer_checkin"


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    ABSENT = "absent"
    EXCUSED = "excused"


class Convening(TimestampMixin, Base):
    __tablename__ = "convenings"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[ConveningKind] = mapped_column(str_enum(ConveningKind, "convening_kind"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(sa.String(200))
    online_url: Mapped[str | None] = mapped_column(sa.String(500))
    agenda_md: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.Index("ix_convenings_cohort_starts", "cohort_id", "starts_at"),
        sa.CheckConstraint("ends_at >= starts_at", name="times_in_order"),
    )

    def __repr__(self) -> str:
        return f"<Convening {self.id} {self.title}>"


class ConveningFacilitator(Base):
    __tablename__ = "convening_facilitators"

    convening_id: Mapped[int] = mapped_column(
        sa.ForeignKey("convenings.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    def __repr__(self) -> str:
        return f"<ConveningFacilitator {self.convening_id} user={self.user_id}>"


class Attendance(Base):
    __tablename__ = "attendances"

    id: Mapped[int] = mapped_column(primary_key=True)
    convening_id: Mapped[int] = mapped_column(sa.ForeignKey("convenings.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(
        str_enum(AttendanceStatus, "attendance_status")
    )
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.UniqueConstraint("convening_id", "user_id"),)

    def __repr__(self) -> str:
        return f"<Attendance {self.id} {self.status} user={self.user_id}>"

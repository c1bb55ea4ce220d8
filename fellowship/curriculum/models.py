"""Curriculum: a cohort's ordered modules, their items, fellows' progress and extensions.

Module completion is derived from item progress (see `queries.module_states`), never stored.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fellowship.db import Base, TimestampMixin, str_enum, utcnow


class ItemKind(enum.StrEnum):
    READING = "reading"
    LINK = "link"
    FILE = "file"
    VIDEO = "video"
    REFLECTION = "reflection"


class Module(TimestampMixin, Base):
    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(sa.ForeignKey("cohorts.id", ondelete="CASCADE"))
    strand_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("strands.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    outcomes_md: Mapped[str] = mapped_column(sa.Text, default="")
    release_on: Mapped[date | None]  # None: open to fellows from the start
    due_on: Mapped[date | None]
    estimated_minutes: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.Index("ix_modules_cohort_position", "cohort_id", "position"),
        sa.CheckConstraint(
            "estimated_minutes IS NULL OR estimated_minutes > 0", name="minutes_positive"
        ),
        sa.CheckConstraint(
            "release_on IS NULL OR due_on IS NULL OR due_on >= release_on", name="due_after_release"
        ),
    )

    def __repr__(self) -> str:
        return f"<Module {self.id} {self.title}>"


class ModulePrerequisite(Base):
    """`module_id` opens only once `requires_module_id` is complete (same cohort)."""

    __tablename__ = "module_prerequisites"

    module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("modules.id", ondelete="CASCADE"), primary_key=True
    )
    requires_module_id: Mapped[int] = mapped_column(
        sa.ForeignKey("modules.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    __table_args__ = (sa.CheckConstraint("module_id <> requires_module_id", name="not_itself"),)

    def __repr__(self) -> str:
        return f"<ModulePrerequisite {self.module_id} needs {self.requires_module_id}>"


class ModuleItem(TimestampMixin, Base):
    """One step of a module. What it holds depends on its kind: a reading's Markdown
    (`body_md`), a link or video address (`url`, with `body_md` as an optional note), a
    file (`stored_file_id`), or a reflection prompt (`body_md`) that fellows answer."""

    __tablename__ = "module_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind, "module_item_kind"))
    title: Mapped[str] = mapped_column(sa.String(200))
    body_md: Mapped[str] = mapped_column(sa.Text, default="")
    url: Mapped[str | None] = mapped_column(sa.String(2000))
    stored_file_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("stored_files.id", ondelete="RESTRICT")
    )
    required: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (sa.Index("ix_module_items_module_position", "module_id", "position"),)

    def __repr__(self) -> str:
        return f"<ModuleItem {self.id} {self.kind} {self.title}>"


class ItemProgress(Base):
    """A fellow's progress on one item: done (readings, links, files, videos), or a
    reflection's draft, submission and the facilitator's feedback."""

    __tablename__ = "item_progress"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("module_items.id", ondelete="CASCADE"))
    fellow_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    completed_at: Mapped[datetime | None]
    response_md: Mapped[str] = mapped_column(sa.Text, default="")
    response_saved_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    feedback_md: Mapped[str] = mapped_column(sa.Text, default="")
    feedback_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    feedback_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.UniqueConstraint("item_id", "fellow_id"),
        # The facilitators' queue: submitted reflections still waiting for feedback.
        sa.Index("ix_item_progress_waiting", "submitted_at", "feedback_at"),
    )

    def __repr__(self) -> str:
        return f"<ItemProgress {self.id} item={self.item_id} fellow={self.fellow_id}>"


class DueDateExtension(Base):
    """A later due date for one fellow on one module (one current row; replaced, audited)."""

    __tablename__ = "due_date_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id", ondelete="CASCADE"))
    fellow_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    due_on: Mapped[date]
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    granted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (sa.UniqueConstraint("module_id", "fellow_id"),)

    def __repr__(self) -> str:
        return f"<DueDateExtension {self.id} module={self.module_id} fellow={self.fellow_id}>"

"""School years: "this year" is one row that cohorts, cycles and enrollment counts point at."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from fellowship.db import Base, db

# A US school year runs July 1 to June 30.
YEAR_START_MONTH = 7


class SchoolYear(Base):
    __tablename__ = "school_years"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(sa.String(16), unique=True)  # "2026-27"
    starts_on: Mapped[date]
    ends_on: Mapped[date]

    def __repr__(self) -> str:
        return f"<SchoolYear {self.id} {self.label}>"


def label_for(day: date) -> str:
    """The school year a day falls in: 2026-09-01 -> "2026-27"."""
    first = day.year if day.month >= YEAR_START_MONTH else day.year - 1
    return f"{first}-{(first + 1) % 100:02d}"


def parse_label(label: str) -> tuple[date, date] | None:
    """ "2026-27" -> (2026-07-01, 2027-06-30); None when the label is not a school year."""
    if not label.isascii():  # full-width digits are not a label, though int() reads them
        return None
    first, _, second = label.strip().partition("-")
    if not (first.isdigit() and second.isdigit() and len(first) == 4 and len(second) == 2):
        return None
    start = int(first)
    if not 1900 <= start <= 2200 or (start + 1) % 100 != int(second):
        return None
    return date(start, YEAR_START_MONTH, 1), date(start + 1, YEAR_START_MONTH - 1, 30)


def get_or_create(label: str) -> SchoolYear:
    """The school year with this label, created (flushed) when it does not exist yet."""
    bounds = parse_label(label)
    if bounds is None:
        raise ValueError(f"not a school year label: {label!r}")
    year = db.session.scalar(sa.select(SchoolYear).where(SchoolYear.label == label.strip()))
    if year is None:
        year = SchoolYear(label=label.strip(), starts_on=bounds[0], ends_on=bounds[1])
        db.session.add(year)
        db.session.flush()
    return year

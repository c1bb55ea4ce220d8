"""Builders for the enrollment-count import tests: CSV files, the counts table as rows."""

from __future__ import annotations

import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.extensions import db
from fellowship.integration.models import EnrollmentCount, Group

LONG = "school_code,school_year,grade,measure,group,count"
WIDE = "school_code,school_year,grade,measure," + ",".join(group.value for group in Group)


def csv_text(*rows: str, header: str = LONG) -> str:
    return "\n".join([header, *rows]) + "\n"


def csv_bytes(*rows: str, header: str = LONG, bom: bool = False) -> bytes:
    data = csv_text(*rows, header=header).encode()
    return b"\xef\xbb\xbf" + data if bom else data


def counts_table() -> list[tuple]:
    """Every stored count as (school id, year id, grade, measure, group, count), sorted (to
    prove what changed and what did not)."""
    db.session.expire_all()
    return sorted(
        (
            tuple(row)
            for row in db.session.execute(
                sa.select(
                    EnrollmentCount.school_id,
                    EnrollmentCount.school_year_id,
                    EnrollmentCount.grade,
                    EnrollmentCount.measure,
                    EnrollmentCount.group,
                    EnrollmentCount.count,
                )
            )
        ),
        key=repr,
    )


def big_counts_csv(codes: list[str], labels: list[str]) -> str:
    """All-grades enrollment for every school, year and group (10 counts each)."""
    rows = [
        f"{code},{label},,enrollment,{group.value},{(s * 7 + y * 3 + g * 11) % 400}"
        for s, code in enumerate(codes)
        for y, label in enumerate(labels)
        for g, group in enumerate(Group)
    ]
    return csv_text(*rows)


def audit_events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )

"""The integration exports change nothing; what they write is the audit row of a download
(every school's figures leave the application)."""

from __future__ import annotations

from typing import Any

from fellowship import audit
from fellowship.db import db
from fellowship.integration.figures import DistrictFigures
from fellowship.school_years import SchoolYear

INDICATORS_EXPORTED = "integration.indicators_exported"
FEDERAL_EXPORTED = "integration.federal_exported"


def record_export(actor: Any, action: str, report: DistrictFigures, rows: int) -> None:
    """Audit a CSV export of a year's figures: which year, under which settings, how many
    rows."""
    audit.record(
        actor,
        action,
        db.session.get(SchoolYear, report.year.id),
        details={
            "year": report.year.label,
            "school_year_id": report.year.id,
            "rows": rows,
            "minority_groups": [group.value for group in report.settings.minority],
            "threshold": report.settings.threshold,
        },
    )
    db.session.flush()

"""Caseload and rhythm pages: is each fellow actually being coached?

Read-only; the rules live in `fellowship.coaching.caseload`. The links to a fellow's check-ins
and to a new check-in are shown once those pages exist (`coaching.fellow_checkins`,
`coaching.new_checkin`), so these pages work on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from babel.dates import format_skeleton
from flask import current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.models import User
from fellowship.coaching import bp
from fellowship.coaching import caseload as rules
from fellowship.cohorts.models import Cohort
from fellowship.curriculum.facilitation_queries import module_summaries
from fellowship.db import utcnow
from fellowship.web import get_or_404, require

RHYTHM_STATUS_LABELS = {
    rules.RhythmStatus.ON_TRACK.value: _l("On track"),
    rules.RhythmStatus.DUE_SOON.value: _l("Due soon"),
    rules.RhythmStatus.OVERDUE.value: _l("Overdue"),
}
COLUMN_LABELS = {
    "name": _l("Fellow"),
    "days": _l("Days since last check-in"),
    "status": _l("Status"),
    "open": _l("Open action items"),
    "overdue": _l("Overdue action items"),
}


@bp.app_template_filter("month_label")
def month_label(month: date) -> str:
    """ "Nov 2026" in the viewer's language."""
    return format_skeleton("yMMM", month, locale=get_locale())


@dataclass(frozen=True)
class SortColumn:
    key: str
    label: str
    href: str
    aria_sort: str | None  # "ascending" / "descending" on the sorted column only


def _labels() -> dict[str, str]:
    """Status labels translated once per page rather than once per row."""
    return {key: str(label) for key, label in RHYTHM_STATUS_LABELS.items()}


def _today() -> date:
    return rules.local_today(utcnow(), str(current_user.timezone))


def _sort_columns(sort: str, direction: str) -> list[SortColumn]:
    """One header per sortable column; choosing the sorted one again flips the direction."""
    columns = []
    for key in rules.SORT_KEYS:
        if key == sort:
            next_direction = "asc" if direction == "desc" else "desc"
            aria = "descending" if direction == "desc" else "ascending"
        else:
            next_direction, aria = rules.FIRST_DIRECTION[key], None
        href = url_for(
            str(request.endpoint),
            **(request.view_args or {}),
            sort=key,
            dir=next_direction,
            _anchor="caseload",
        )
        columns.append(SortColumn(key, str(COLUMN_LABELS[key]), href, aria))
    return columns


def _render_caseload(cohort: Cohort, coach: User) -> Any:
    sort, direction = rules.parse_sort(request.args.get("sort"), request.args.get("dir"))
    today = _today()
    own = coach.id == current_user.id
    rows = rules.sort_caseload(
        rules.caseload(cohort, coach.id, today, include_drafts=own), sort, direction
    )
    counts = {status.value: 0 for status in rules.RhythmStatus}
    for row in rows:
        counts[row.status.value] += 1
    endpoints = current_app.view_functions
    loggable: set[int] = set()
    if "coaching.new_checkin" in endpoints:
        loggable = {
            row.fellow_id
            for row in rows
            if policy.can_log_checkin(current_user, cohort, row.fellow_id)
        }
    modules: dict[int, Any] = {}
    if "curriculum.fellow_progress" in endpoints:
        # Module progress, read-only, from the curriculum's one state rule (five queries).
        modules = module_summaries(cohort.id, [row.fellow_id for row in rows], today)
    return render_template(
        "coaching/caseload.html",
        cohort=cohort,
        coach=coach,
        own=coach.id == current_user.id,
        rows=rows,
        counts=counts,
        today=today,
        columns=_sort_columns(sort, direction),
        due_soon_days=rules.DUE_SOON_DAYS,
        history_page="coaching.fellow_checkins" in endpoints,
        loggable=loggable,  # fellows the viewer may log a check-in with (their coach)
        status_labels=_labels(),
        modules=modules if any(summary.total for summary in modules.values()) else {},
    )


@bp.route("/cohorts/<int:cohort_id>/caseload")
@login_required
def my_caseload(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_caseload(current_user, cohort, current_user.id))
    return _render_caseload(cohort, current_user)


@bp.route("/cohorts/<int:cohort_id>/coaches/<int:coach_id>/caseload")
@login_required
def caseload(cohort_id: int, coach_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_caseload(current_user, cohort, coach_id))
    coach = get_or_404(User, coach_id)
    return _render_caseload(cohort, coach)


@bp.route("/cohorts/<int:cohort_id>/rhythm")
@login_required
def rhythm(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_checkin_rhythm(current_user, cohort))
    today = _today()
    return render_template(
        "coaching/rhythm.html",
        cohort=cohort,
        rhythm=rules.cohort_rhythm(cohort, today),
        today=today,
        status_labels=_labels(),
    )

"""Each person's home: what they came to do. Later domains add their panels here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import redirect, render_template, session, url_for
from flask_login import current_user

from fellowship import policy
from fellowship.admin import queries as people_queries
from fellowship.cohorts import queries as cohort_queries
from fellowship.cohorts.forms import ROLE_LABELS
from fellowship.curriculum import learning_queries
from fellowship.curriculum.queries import local_today
from fellowship.cycles import home_queries as cycle_home_queries
from fellowship.cycles.status import STALE_AFTER_DAYS
from fellowship.dashboards import bp
from fellowship.db import utcnow
from fellowship.web import require


@bp.route("/")
def home() -> Any:
    if not current_user.is_authenticated:  # the front door: straight to sign-in, no warning
        return redirect(url_for("auth.login"))
    require(policy.can_view_home(current_user))
    overview = people_queries.people_overview() if policy.can_view_people(current_user) else None
    previous = session.get("previous_login_at")
    memberships = cohort_queries.memberships_of(current_user.id)
    today = local_today(current_user.timezone)
    learning = learning_queries.home_learning(current_user.id, memberships, today, utcnow())
    # School cycles: the person's cycles, a partner's schools, staff's counts for the year.
    cycle_home = cycle_home_queries.cycle_home(
        current_user.id, today, staff_counts=policy.can_view_portfolio(current_user)
    )
    return render_template(
        "dashboards/home.html",
        overview=overview,
        cohorts=memberships,
        learning=learning,
        cycle_home=cycle_home,
        stale_days=STALE_AFTER_DAYS,
        role_labels=ROLE_LABELS,
        previous_login_at=datetime.fromisoformat(previous) if previous else None,
    )

"""Calendar feeds: the page with the private address, rotating it, and the .ics feeds."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.forms import EmptyForm
from fellowship.calendar import bp, queries, services
from fellowship.calendar.ics import to_ical
from fellowship.cohorts.models import Cohort, CohortStatus
from fellowship.db import commit, db, paginate, utcnow
from fellowship.forms import parse_int
from fellowship.web import require

COHORTS_PER_PAGE = 25


def _page_arg() -> int:
    return parse_int(request.args.get("page")) or 1


@bp.route("/")
@login_required
def index() -> Any:
    require(policy.can_use_calendar_feed(current_user))
    token = services.current_token(current_user)
    # Per-cohort feeds of current cohorts, for whoever policy lets fetch them (staff).
    query = (
        policy.cohorts_visible_to(current_user)
        .where(Cohort.status.in_([CohortStatus.PLANNING, CohortStatus.ACTIVE]))
        .order_by(Cohort.starts_on.desc(), Cohort.id.desc())
    )
    cohorts = paginate(query, _page_arg(), COHORTS_PER_PAGE)
    cohort_feeds = [c for c in cohorts.items if policy.can_view_cohort_feed(current_user, c)]
    return render_template(
        "calendar/calendar_index.html",
        feed_url=queries.absolute_url("calendar.feed", token=token),
        token=token,
        cohorts=cohorts,
        cohort_feeds=cohort_feeds,
        form=EmptyForm(),
        absolute_url=queries.absolute_url,
    )


@bp.route("/rotate", methods=["POST"])
@login_required
def rotate() -> Any:
    require(policy.can_use_calendar_feed(current_user))
    if EmptyForm().validate_on_submit():
        services.rotate_feed(current_user)
        commit()
        flash(
            _(
                "Your calendar has a new address. The old one no longer works: update any "
                "calendar app where you added it."
            ),
            "success",
        )
    return redirect(url_for("calendar.index"))


def _ics(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=300"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/<token>.ics")
def feed(token: str) -> Any:
    """The personal feed: no sign-in, the token is the key (404 when wrong or revoked)."""
    user = services.user_for_token(token)
    if user is None or not policy.can_use_calendar_feed(user):
        abort(404)
    with force_locale(user.locale):
        events = queries.events_for_user(user, utcnow())
        body = to_ical(events, name=_("Fellowship — %(name)s", name=user.name))
    return _ics(body, "fellowship.ics")


@bp.route("/<token>/cohorts/<int:cohort_id>.ics")
def cohort_feed(token: str, cohort_id: int) -> Any:
    """A cohort's feed for staff, checked against policy at every fetch."""
    user = services.user_for_token(token)
    if user is None:
        abort(404)
    cohort = db.session.get(Cohort, cohort_id)
    if cohort is None or not policy.can_view_cohort_feed(user, cohort):
        abort(404)
    with force_locale(user.locale):
        events = queries.events_for_cohort(cohort, utcnow())
        body = to_ical(events, name=_("Fellowship — %(cohort)s", cohort=cohort.name))
    return _ics(body, f"cohort-{cohort.id}.ics")

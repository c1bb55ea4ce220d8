"""Convenings: schedule, list, show, edit, delete; attendance per convening and per cohort."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton
from flask import flash, redirect, render_template, request, url_for
from flask_babel import format_time, get_locale, get_timezone, to_user_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.forms import EmptyForm
from fellowship.cohorts.models import Cohort
from fellowship.convenings import bp, queries
from fellowship.convenings import services as convenings
from fellowship.convenings.forms import (
    ATTENDANCE_LABELS,
    KIND_LABELS,
    AttendanceForm,
    ConveningForm,
)
from fellowship.convenings.models import Convening, ConveningKind
from fellowship.db import commit, db, utcnow
from fellowship.forms import parse_int
from fellowship.web import get_or_404, page_arg, require

LABELS = {"kind_labels": KIND_LABELS, "attendance_labels": ATTENDANCE_LABELS}
PAST_PER_PAGE = 20


@bp.app_template_filter("convening_when")
def convening_when(convening: Convening) -> str:
    """ "Tue, Sep 15, 2026, 9:00 AM – 4:30 PM" in the viewer's time zone and language."""
    tz = get_timezone()
    starts = to_user_timezone(convening.starts_at)
    ends = to_user_timezone(convening.ends_at)
    locale = get_locale()

    def day(moment: datetime) -> str:
        return format_skeleton("yMMMEd", moment, tzinfo=tz, locale=locale)

    if starts.date() == ends.date():
        return f"{day(starts)}, {format_time(starts, 'short')} – {format_time(ends, 'short')}"
    return (
        f"{day(starts)}, {format_time(starts, 'short')} – {day(ends)}, {format_time(ends, 'short')}"
    )


def _zone() -> str:
    return str(current_user.timezone)


def _fill_facilitator_choices(form: ConveningForm, cohort_id: int, convening: Any = None) -> None:
    people = convenings.facilitator_choices(cohort_id, convening)
    # SelectMultipleField(coerce=int) compares the coerced data with these values.
    form.facilitators.choices = [(u.id, u.name) for u in people]


def _show_in_form(form: ConveningForm, convening: Convening) -> None:
    """The saved convening in the viewer's time zone."""
    tz = ZoneInfo(_zone())
    starts = convening.starts_at.astimezone(tz)
    ends = convening.ends_at.astimezone(tz)
    form.title.data = convening.title
    form.kind.data = convening.kind.value
    form.starts_on.data = starts.date()
    form.starts_time.data = starts.time().replace(tzinfo=None)
    form.ends_on.data = ends.date() if ends.date() != starts.date() else None
    form.ends_time.data = ends.time().replace(tzinfo=None)
    form.location.data = convening.location or ""
    form.online_url.data = convening.online_url or ""
    form.agenda.data = convening.agenda_md
    form.facilitators.data = [u.id for u in queries.facilitators_of(convening.id)]
    form.version.data = str(convening.version)


def _data_from(form: ConveningForm) -> convenings.ConveningData:
    """Form values as a service call; local times become UTC (ConveningError on a bad time)."""
    zone = _zone()
    starts_at = convenings.local_to_utc(
        form.starts_on.data,
        form.starts_time.data,
        zone,
        field="starts_time",
    )
    ends_at = convenings.local_to_utc(
        form.ends_on.data or form.starts_on.data,
        form.ends_time.data,
        zone,
        field="ends_time",
    )
    return convenings.ConveningData(
        title=form.title.data or "",
        kind=ConveningKind(form.kind.data),
        starts_at=starts_at,
        ends_at=ends_at,
        location=form.location.data or "",
        online_url=form.online_url.data or "",
        agenda_md=form.agenda.data or "",
        facilitator_ids=list(form.facilitators.data or []),
    )


def _field_error(form: ConveningForm, error: convenings.ConveningError) -> None:
    target = getattr(form, error.field or "title")
    target.errors = [*target.errors, error.message]


@bp.route("/cohorts/<int:cohort_id>/convenings")
@login_required
def index(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_cohort(current_user, cohort))
    now = utcnow()
    upcoming = queries.all_upcoming_for_cohort(cohort.id, now=now)
    past = queries.past_for_cohort(cohort.id, now=now, page=page_arg(), per_page=PAST_PER_PAGE)
    show_attendance = policy.can_view_attendance(current_user, cohort)
    summaries = queries.attendance_summaries(c.id for c in past.items) if show_attendance else {}
    return render_template(
        "convenings/convening_index.html",
        cohort=cohort,
        upcoming=upcoming,
        past=past,
        summaries=summaries,
        show_attendance=show_attendance,
        **LABELS,
    )


@bp.route("/cohorts/<int:cohort_id>/convenings/new", methods=["GET", "POST"])
@login_required
def new(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_schedule_convening(current_user, cohort))
    form = ConveningForm()
    _fill_facilitator_choices(form, cohort.id)
    if request.method == "GET":
        form.kind.data = ConveningKind.WORKSHOP.value
    if form.validate_on_submit():
        try:
            convening = convenings.schedule_convening(current_user, cohort, _data_from(form))
        except convenings.ConveningError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            commit()
            flash(_("%(title)s has been scheduled.", title=convening.title), "success")
            return redirect(url_for("convenings.detail", convening_id=convening.id))
    return render_template(
        "convenings/convening_form.html", form=form, cohort=cohort, convening=None, **LABELS
    )


@bp.route("/convenings/<int:convening_id>")
@login_required
def detail(convening_id: int) -> Any:
    convening = get_or_404(Convening, convening_id)
    require(policy.can_view_convening(current_user, convening))
    cohort = get_or_404(Cohort, convening.cohort_id)
    show_attendance = policy.can_view_attendance(current_user, cohort)
    return render_template(
        "convenings/convening_detail.html",
        convening=convening,
        cohort=cohort,
        facilitators=queries.facilitators_of(convening.id),
        summary=queries.attendance_summary(convening.id) if show_attendance else None,
        show_attendance=show_attendance,
        action_form=EmptyForm(),
        **LABELS,
    )


@bp.route("/convenings/<int:convening_id>/edit", methods=["GET", "POST"])
@login_required
def edit(convening_id: int) -> Any:
    convening = get_or_404(Convening, convening_id)
    require(policy.can_edit_convening(current_user, convening))
    cohort = get_or_404(Cohort, convening.cohort_id)
    form = ConveningForm()
    _fill_facilitator_choices(form, cohort.id, convening)
    if request.method == "GET":
        _show_in_form(form, convening)
    conflict = None
    if form.validate_on_submit():
        version = parse_int(form.version.data)
        try:
            convenings.update_convening(current_user, convening, _data_from(form), version=version)
        except convenings.StaleEdit as error:
            db.session.rollback()
            convening = get_or_404(Convening, convening_id)
            conflict = error.message
            # Saving again is now a deliberate choice made after seeing the saved details.
            form.version.data = str(convening.version)
        except convenings.ConveningError as error:
            db.session.rollback()
            convening = get_or_404(Convening, convening_id)
            _field_error(form, error)
        else:
            commit()
            flash(_("Your changes to %(title)s have been saved.", title=convening.title), "success")
            return redirect(url_for("convenings.detail", convening_id=convening.id))
    return render_template(
        "convenings/convening_form.html",
        form=form,
        cohort=cohort,
        convening=convening,
        conflict=conflict,
        saved_facilitators=queries.facilitators_of(convening.id) if conflict else [],
        **LABELS,
    )


@bp.route("/convenings/<int:convening_id>/delete", methods=["GET", "POST"])
@login_required
def delete(convening_id: int) -> Any:
    convening = get_or_404(Convening, convening_id)
    require(policy.can_edit_convening(current_user, convening))
    cohort = get_or_404(Cohort, convening.cohort_id)
    form = EmptyForm()
    if form.validate_on_submit():
        title = convening.title
        convenings.delete_convening(current_user, convening)
        commit()
        flash(_("%(title)s has been deleted.", title=title), "success")
        return redirect(url_for("convenings.index", cohort_id=cohort.id))
    return render_template(
        "convenings/convening_delete.html",
        form=form,
        convening=convening,
        cohort=cohort,
        summary=queries.attendance_summary(convening.id),
        **LABELS,
    )


@bp.route("/convenings/<int:convening_id>/attendance", methods=["GET", "POST"])
@login_required
def attendance(convening_id: int) -> Any:
    convening = get_or_404(Convening, convening_id)
    cohort = get_or_404(Cohort, convening.cohort_id)
    can_edit = policy.can_edit_convening(current_user, convening)
    require(can_edit or policy.can_view_attendance(current_user, cohort))
    if request.method == "POST":
        require(can_edit)
    fellows = queries.active_fellows(cohort.id)
    records = queries.attendance_for_convening(convening.id)
    started = convening.starts_at <= utcnow()
    form = AttendanceForm.for_fellows([f.id for f in fellows], require_all=started)
    if request.method == "GET":
        for user_id, row in records.items():
            if user_id in form.fellow_ids:
                form.status_field(user_id).data = row.status.value
                form.note_field(user_id).data = row.note
    if can_edit and form.validate_on_submit():
        try:
            convenings.record_attendance(
                current_user, convening, form.entries(), fellow_ids=form.fellow_ids
            )
        except convenings.ConveningError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            flash(_("Attendance for %(title)s has been saved.", title=convening.title), "success")
            return redirect(url_for("convenings.attendance", convening_id=convening.id))
    return render_template(
        "convenings/attendance_form.html",
        form=form,
        convening=convening,
        cohort=cohort,
        fellows=fellows,
        records=records,
        can_edit=can_edit,
        summary=queries.attendance_summaries([convening.id])[convening.id],
        rates=queries.attendance_rates_for_cohort(cohort.id),
        is_future=not started,
        **LABELS,
    )


@bp.route("/cohorts/<int:cohort_id>/attendance")
@login_required
def cohort_attendance(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_attendance(current_user, cohort))
    return render_template(
        "convenings/cohort_attendance.html",
        cohort=cohort,
        fellows=queries.fellows_for_rates(cohort.id),
        rates=queries.attendance_rates_for_cohort(cohort.id),
        convenings=queries.convenings_with_attendance(cohort.id),
        **LABELS,
    )

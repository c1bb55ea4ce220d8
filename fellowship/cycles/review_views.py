"""Routes of the yearly goals review: the cycle's reviews, scheduling, the review page (the
packet and the meeting record), next year's goals, signing, amending and the packet PDF.

The review page and the PDF show one plain-data record: assembled live while the review is
open, and the stored snapshot once both have signed — so a frozen review shows exactly what
was signed, whatever happens to the goals afterwards.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_date, format_datetime, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.curriculum.queries import local_today
from fellowship.cycles import bp
from fellowship.cycles import review_queries as queries
from fellowship.cycles import review_services as services
from fellowship.cycles.models import GoalsReview, ProposedGoal
from fellowship.cycles.packet_pdf import PdfText, render_packet_pdf, sparkline_points
from fellowship.cycles.queries import CycleContext, goal_summaries, load_cycle
from fellowship.cycles.review_forms import (
    ActionForm,
    NotesForm,
    ProposedGoalForm,
    RatingsForm,
    ScheduleForm,
    SignForm,
    comment_field,
    labels,
    rating_field,
    ratings_form_class,
    read_number,
)
from fellowship.db import commit, db
from fellowship.forms import parse_int
from fellowship.web import format_number, get_or_404, require

# Helpers --------------------------------------------------------------------------------------


def _today() -> date:
    return local_today(str(current_user.timezone))


def _load(cycle_id: int, review_id: int) -> tuple[CycleContext, GoalsReview]:
    """The cycle (with school and year) and one of its reviews; 404 for another cycle's."""
    ctx = load_cycle(cycle_id)
    review = get_or_404(GoalsReview, review_id)
    if review.cycle_id != ctx.cycle.id:
        abort(404)
    return ctx, review


def _reload(cycle_id: int, review_id: int) -> tuple[CycleContext, GoalsReview]:
    db.session.rollback()
    return _load(cycle_id, review_id)


def _show_url(review: GoalsReview, anchor: str | None = None) -> str:
    return url_for(
        "cycles.review_show", cycle_id=review.cycle_id, review_id=review.id, _anchor=anchor
    )


def _put_error(form: Any, error: services.ReviewError) -> str | None:
    """The message next to its field; returned when it belongs to no field of the form."""
    target = form._fields.get(error.field) if error.field else None
    if target is None:
        return error.message
    target.errors = [*target.errors, error.message]
    return None


def _flash_change(change: services.Change, saved: str) -> None:
    flash(saved, "success")
    for name in change.withdrawn:
        flash(
            _(
                "%(name)s's signature was withdrawn because the record changed; both need to "
                "sign again.",
                name=name,
            ),
            "warning",
        )


def iso_day(value: Any) -> date | None:
    """A date from the record's ISO text (None when absent or unreadable)."""
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def iso_moment(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _day_text(value: Any, style: str = "medium") -> str:
    day = iso_day(value)
    return str(format_date(day, style)) if day else ""


def _moment_text(value: Any) -> str:
    moment = iso_moment(value)
    return str(format_datetime(moment, "medium")) if moment else ""


def sparkline(goal: dict[str, Any], width: float = 120, height: float = 28) -> dict[str, Any]:
    """Points (SVG, y down) of a goal's baseline and measurements, and the target line."""
    values = [float(m["value"]) for m in goal.get("measurements") or []]
    baseline = (goal.get("baseline") or {}).get("value")
    if baseline is not None:
        values = [float(baseline), *values]
    if len(values) < 2:
        return {"points": "", "target_y": None}
    target = goal.get("target")
    scale = [*values, float(target)] if target is not None else values
    found = sparkline_points(scale, width, height)
    points = " ".join(f"{x},{round(height - y, 2)}" for x, y in found[: len(values)])
    target_y = round(height - found[-1][1], 2) if target is not None else None
    return {"points": points, "target_y": target_y, "width": width, "height": height}


def _heading(review: GoalsReview) -> str:
    on = format_date(review.scheduled_for, "long")
    if review.amends_review_id is not None:
        return _("Amendment of the goals review, %(date)s", date=on)
    return _("Yearly goals review, %(date)s", date=on)


def _record(ctx: CycleContext, review: GoalsReview, row: queries.ReviewRow) -> dict[str, Any]:
    """What the page and the PDF show: the snapshot once frozen, else the live record."""
    if review.frozen_at is not None:
        return queries.normalise_record(review.snapshot)
    packet = queries.assemble_packet(ctx.cycle.id, _today(), ctx)
    return queries.normalise_record(
        queries.meeting_record(review, packet, lead=row.lead, staff=row.staff)
    )


def _row(review: GoalsReview, rows: list[queries.ReviewRow]) -> queries.ReviewRow:
    return next((r for r in rows if r.review.id == review.id), None) or queries.review_row(review)


def _ratings_form(record: dict[str, Any], version: int) -> RatingsForm:
    goals = {goal["id"]: goal["title"] for goal in record["packet"]["goals"]}
    data: dict[str, Any] = {"version": str(version)}
    for rating in record["ratings"]:
        data[rating_field(rating["goal_id"])] = rating["rating"]
        data[comment_field(rating["goal_id"])] = rating["comment"]
    return ratings_form_class(goals)(formdata=None, data=data)


def _render_show(
    ctx: CycleContext,
    review: GoalsReview,
    *,
    ratings_form: RatingsForm | None = None,
    notes_form: NotesForm | None = None,
    conflict: str | None = None,
    conflict_in: str | None = None,
    problem: str | None = None,
) -> str:
    rows = queries.reviews_of_cycle(ctx.cycle.id)
    row = _row(review, rows)
    record = _record(ctx, review, row)
    may_record = policy.can_record_goals_review(current_user, review, ctx.cycle)
    if may_record:
        ratings_form = ratings_form or _ratings_form(record, review.version)
        notes_form = notes_form or NotesForm(
            formdata=None, data={"notes": review.notes_md, "version": str(review.version)}
        )
    rated = {rating["goal_id"] for rating in record["ratings"]}
    unrated = [goal["title"] for goal in record["packet"]["goals"] if goal["id"] not in rated]
    return render_template(
        "cycles/review_show.html",
        ctx=ctx,
        review=review,
        row=row,
        heading=_heading(review),
        record=record,
        chain=queries.chain_of(review, rows),
        may_record=may_record,
        ratings_form=ratings_form if may_record else None,
        notes_form=notes_form if may_record else None,
        packet_to=(
            services.packet_recipients(current_user, review)
            if may_record and review.frozen_at is None
            else []
        ),
        sign_lead=policy.can_sign_review_as_lead(current_user, review, ctx.cycle),
        sign_staff=policy.can_sign_review_as_staff(current_user, review, ctx.cycle),
        unrated=unrated,
        conflict=conflict,
        conflict_in=conflict_in,
        problem=problem,
        labels=labels(),
        day=iso_day,
        moment=iso_moment,
        sparkline=sparkline,
    )


# The cycle's reviews --------------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/reviews")
@login_required
def reviews(cycle_id: int) -> Any:
    ctx = load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    rows = queries.reviews_of_cycle(ctx.cycle.id)
    return render_template(
        "cycles/review_list.html",
        ctx=ctx,
        rows=rows,
        by_id={row.review.id: row.review for row in rows},
        has_yearly=any(row.review.amends_review_id is None for row in rows),
        labels=labels(),
    )


# Scheduling -----------------------------------------------------------------------------------


def _schedule_data(form: ScheduleForm) -> services.ScheduleData:
    return services.ScheduleData(
        scheduled_for=form.scheduled_for.data,
        location=form.location.data or "",
        participants=form.participants.data or "",
    )


@bp.route("/cycles/<int:cycle_id>/reviews/new", methods=["GET", "POST"])
@login_required
def review_schedule(cycle_id: int) -> Any:
    ctx = load_cycle(cycle_id)
    require(policy.can_schedule_review(current_user, ctx.cycle))
    if request.method == "POST":
        form = ScheduleForm()
    else:
        names = [lead.name for lead in queries.lead_teachers(ctx.cycle.id)]
        suggested = dict.fromkeys([*names, current_user.name])
        form = ScheduleForm(data={"participants": "\n".join(suggested)})
    problem = None
    if form.validate_on_submit():
        try:
            review = services.schedule_review(current_user, ctx.cycle, _schedule_data(form))
        except services.ReviewError as error:
            db.session.rollback()
            ctx = load_cycle(cycle_id)
            problem = _put_error(form, error)
        else:
            commit()
            message = _(
                "The yearly review is scheduled for %(date)s.",
                date=format_date(review.scheduled_for, "long"),
            )
            if queries.lead_teachers(ctx.cycle.id):
                message += " " + _("The cycle's lead teachers are notified.")
            flash(message, "success")
            return redirect(_show_url(review))
    return render_template(
        "cycles/review_form.html", ctx=ctx, form=form, review=None, problem=problem, conflict=None
    )


@bp.route("/cycles/<int:cycle_id>/reviews/<int:review_id>/edit", methods=["GET", "POST"])
@login_required
def review_edit(cycle_id: int, review_id: int) -> Any:
    ctx, review = _load(cycle_id, review_id)
    require(policy.can_record_goals_review(current_user, review, ctx.cycle))
    if request.method == "POST":
        form = ScheduleForm()
    else:
        form = ScheduleForm(
            data={
                "scheduled_for": review.scheduled_for,
                "location": review.location,
                "participants": review.participants,
                "version": str(review.version),
            }
        )
    problem = conflict = None
    if form.validate_on_submit():
        try:
            change = services.update_schedule(
                current_user, review, _schedule_data(form), version=form.expected_version()
            )
        except services.StaleReview as error:
            ctx, review = _reload(cycle_id, review_id)
            conflict = error.message
            form.version.data = str(review.version)
        except services.ReviewError as error:
            ctx, review = _reload(cycle_id, review_id)
            problem = _put_error(form, error)
        else:
            commit()
            _flash_change(change, _("The review's date, place and participants are saved."))
            return redirect(_show_url(review))
    return render_template(
        "cycles/review_form.html",
        ctx=ctx,
        form=form,
        review=review,
        problem=problem,
        conflict=conflict,
    )


# The review page ------------------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/reviews/<int:review_id>")
@login_required
def review_show(cycle_id: int, review_id: int) -> Any:
    ctx, review = _load(cycle_id, review_id)
    require(policy.can_view_goals_review(current_user, review, ctx.cycle))
    return _render_show(ctx, review)


@bp.route("/cycles/<int:cycle_id>/reviews/<int:review_id>/ratings", methods=["POST"])
@login_required
def review_ratings(cycle_id: int, review_id: int) -> Any:
    ctx, review = _load(cycle_id, review_id)
    require(policy.can_record_goals_review(current_user, review, ctx.cycle))
    form = ratings_form_class(queries.cycle_goal_ids(ctx.cycle.id))()
    conflict = problem = None
    if form.validate_on_submit():
        try:
            change = services.save_ratings(
                current_user, review, form.submitted(request.form), version=form.expected_version()
            )
        except services.StaleReview as error:
            ctx, review = _reload(cycle_id, review_id)
            conflict = error.message
            form.version.data = str(review.version)
        except services.ReviewError as error:
            ctx, review = _reload(cycle_id, review_id)
            problem = _put_error(form, error)
        else:
            commit()
            _flash_change(change, _("The ratings are saved."))
            return redirect(_show_url(review, "ratings"))
    return _render_show(
        ctx,
        review,
        ratings_form=form,
        conflict=conflict,
        conflict_in="ratings",
        problem=problem,
    )


@bp.route("/cycles/<int:cycle_id>/reviews/<int:review_id>/notes", methods=["POST"])
@login_required
def review_notes(cycle_id: int, review_id: int) -> Any:
    ctx, review = _load(cycle_id, review_id)
    require(policy.can_record_goals_review(current_user, review, ctx.cycle))
    form = NotesForm()
    conflict = problem = None
    if form.validate_on_submit():
        try:
            change = services.save_notes(
                current_user, review, form.notes.data or "", version=form.expected_version()
            )
        except services.StaleReview as error:
            ctx, review = _reload(cycle_id, review_id)
            conflict = error.message
            form.version.data = str(review.version)
        except services.ReviewError as error:
            ctx, review = _reload(cycle_id, review_id)
            problem = _put_error(form, error)
        else:
            commit()
            _flash_change(change, _("The discussion notes are saved."))
            return redirect(_show_url(review, "notes-heading"))
    return _render_show(
        ctx, review, notes_form=form, conflict=conflict, conflict_in="notes", problem=problem
    )


# Next year's goals ----------------------------------------------------------------------------


def _goal_form_page(
    ctx: CycleContext,
    review: GoalsReview,
    form: ProposedGoalForm,
    *,
    proposed: ProposedGoal | None,
    problem: str | None = None,
    conflict: str | None = None,
) -> str:
    summaries = goal_summaries([ctx.cycle.id], _today())[ctx.cycle.id]
    return render_template(
        "cycles/review_goal_form.html",
        ctx=ctx,
        review=review,
        heading=_heading(review),
        form=form,
        proposed=proposed,
        summaries=summaries,
        chosen=parse_int(request.args.get("continues")) if request.method == "GET" else None,
        problem=problem,
        conflict=conflict,
    )


def _continues_choices(form: ProposedGoalForm, goals: dict[int, str]) -> None:
    form.continues.choices = [("", _("No, a new goal"))] + [
        (str(goal_id), title) for goal_id, title in goals.items()
    ]


def _proposed_data(form: ProposedGoalForm) -> services.ProposedGoalData:
    target = read_number(form.target_value.data)
    return services.ProposedGoalData(
        title=form.title.data or "",
        category=form.category.data or "",
        metric=form.metric.data or "",
        unit=form.unit.data or "",
        target_value=target if target is not None else 0.0,
        direction=form.direction.data or "",
        goal_id=form.continues.data,
        baseline_value=read_number(form.baseline_value.data),
        baseline_on=form.baseline_on.data,
        due_on=form.due_on.data,
    )


def _prefill_from_goal(ctx: CycleContext, goal_id: int | None) -> dict[str, Any]:
    """The fields of this year's goal `goal_id` (of this cycle), for "continue this goal"."""
    if goal_id is None:
        return {}
    summaries = goal_summaries([ctx.cycle.id], _today())[ctx.cycle.id]
    summary = next((s for s in summaries if s.goal.id == goal_id), None)
    if summary is None:
        return {}
    goal = summary.goal
    return {
        "continues": goal.id,
        "title": goal.title,
        "metric": goal.metric,
        "unit": goal.unit,
        "category": goal.category.value,
        "direction": goal.direction.value,
    }


@bp.route("/cycles/<int:cycle_id>/reviews/<int:review_id>/next-goals/new", methods=["GET", "POST"])
@login_required
def review_goal_new(cycle_id: int, review_id: int) -> Any:
    ctx, review = _load(cycle_id, review_id)
    require(policy.can_record_goals_review(current_user, review, ctx.cycle))
    goals = queries.cycle_goal_ids(ctx.cycle.id)
    if request.method == "POST":
        form = ProposedGoalForm()
    else:
        wanted = parse_int(request.args.get("continues"))
        form = ProposedGoalForm(data=_prefill_from_goal(ctx, wanted))
    _continues_choices(form, goals)
    problem = None
    if form.validate_on_submit():
        try:
            proposed, change = services.add_proposed_goal(
                current_user, review, _proposed_data(form)
            )
        except services.ReviewError as error:
            ctx, review = _reload(cycle_id, review_id)
            problem = _put_error(form, error)
        else:
            commit()
            _flash_change(
                change, _("“%(title)s” is added to next year's goals.", title=proposed.title)
            )
            return redirect(_show_url(review, "next-goals"))
    return _goal_form_page(ctx, review, form, proposed=None, problem=problem)


def _load_proposed(review: GoalsReview, proposed_id: int) -> ProposedGoal:
    proposed = get_or_404(ProposedGoal, proposed_id)
    if proposed.review_id != review.id:
        abort(404)
    return proposed


@bp.route(
    "/cycles/<int:cycle_id>/reviews/<int:review_id>/next-goals/<int:proposed_id>/edit",
    methods=["GET", "POST"],
)
@login_required
def review_goal_edit(cycle_id: int, review_id: int, proposed_id: int) -> Any:
    ctx, review = _load(cycle_id, review_id)
    require(policy.can_record_goals_review(current_user, review, ctx.cycle))
    proposed = _load_proposed(review, proposed_id)
    goals = queries.cycle_goal_ids(ctx.cycle.id)
    if request.method == "POST":
        form = ProposedGoalForm()
    else:
        data: dict[str, Any] = {
            "continues": proposed.goal_id,
            "title": proposed.title,
            "category": proposed.category.value,
            "metric": proposed.metric,
            "unit": proposed.unit,
            "baseline_value": (
                _plain_number(proposed.baseline_value)
                if proposed.baseline_value is not None
                else ""
            ),
            "baseline_on": proposed.baseline_on,
            "target_value": _plain_number(proposed.target_value),
            "direction": proposed.direction.value,
            "due_on": proposed.due_on,
            "version": str(review.version),
        }
        wanted = parse_int(request.args.get("continues"))
        if wanted is not None:
            data.update(_prefill_from_goal(ctx, wanted))
        form = ProposedGoalForm(data=data)
    _continues_choices(form, goals)
    problem = conflict = None
    if form.validate_on_submit():
        try:
            change = services.update_proposed_goal(
                current_user,
                review,
                proposed,
                _proposed_data(form),
                version=form.expected_version(),
            )
        except services.StaleReview as error:
            ctx, review = _reload(cycle_id, review_id)
            proposed = _load_proposed(review, proposed_id)
            conflict = error.message
            form.version.data = str(review.version)
        except services.ReviewError as error:
            ctx, review = _reload(cycle_id, review_id)
            proposed = _load_proposed(review, proposed_id)
            problem = _put_error(form, error)
        else:
            commit()
            _flash_change(change, _("“%(title)s” is saved.", title=proposed.title))
            return redirect(_show_url(review, "next-goals"))
    return _goal_form_page(ctx, review, form, proposed=proposed, problem=problem, conflict=conflict)


def _plain_number(value: float) -> str:
    """A stored number as a form shows it back: 30 rather than 30.0, never 1e+12."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


@bp.route(
    "/cycles/<int:cycle_id>/reviews/<int:review_id>/next-goals/<int:proposed_id>/delete",
    methods=["POST"],
)
@login_required
def review_goal_delete(cycle_id: int, review_id: int, proposed_id: int) -> Any:
    ctx, review = _load(cycle_id, review_id)
    require(policy.can_record_goals_review(current_user, review, ctx.cycle))
    proposed = _load_proposed(review, proposed_id)
    form = ActionForm()
    if form.validate_on_submit():
        title = proposed.title
        try:
            change = services.delete_proposed_goal(current_user, review, proposed)
        except services.ReviewError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            _flash_change(change, _("“%(title)s” is removed from next year's goals.", title=title))
    return redirect(_show_url(review, "next-goals"))


# Signing and amending -------------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/reviews/<int:review_id>/sign", methods=["POST"])
@login_required
def review_sign(cycle_id: int, review_id: int) -> Any:
    ctx, review = _load(cycle_id, review_id)
    form = SignForm()
    side = form.side.data
    if side == services.LEAD:
        require(policy.can_sign_review_as_lead(current_user, review, ctx.cycle))
    elif side == services.STAFF:
        require(policy.can_sign_review_as_staff(current_user, review, ctx.cycle))
    else:
        require(
            policy.can_sign_review_as_lead(current_user, review, ctx.cycle)
            or policy.can_sign_review_as_staff(current_user, review, ctx.cycle)
        )
    problem = None
    if form.validate_on_submit():
        try:
            signed = services.sign_review(
                current_user, review, side or "", form.expected_version(), today=_today()
            )
        except services.ReviewError as error:
            ctx, review = _reload(cycle_id, review_id)
            problem = error.message
        else:
            commit()
            if signed.message:
                flash(signed.message, "warning")
            elif signed.frozen:
                flash(
                    _(
                        "Both have signed. The review is frozen: this page now shows the record "
                        "exactly as it was signed."
                    ),
                    "success",
                )
            else:
                flash(
                    _("Your signature is recorded. The review is frozen once both have signed."),
                    "success",
                )
            return redirect(_show_url(review, "sign-off"))
    return _render_show(ctx, review, problem=problem)


@bp.route("/cycles/<int:cycle_id>/reviews/<int:review_id>/send-packet", methods=["POST"])
@login_required
def review_send_packet(cycle_id: int, review_id: int) -> Any:
    """Tell the other party (staff, or the lead teachers) that the packet is ready to read.
    Whoever may record the review may send it (`can_record_goals_review`)."""
    ctx, review = _load(cycle_id, review_id)
    require(policy.can_record_goals_review(current_user, review, ctx.cycle))
    form = ActionForm()
    if form.validate_on_submit():
        try:
            sent = services.send_packet(current_user, review)
        except services.ReviewError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            if sent.told:
                flash(
                    ngettext(
                        "The packet is sent: %(num)d person was told it is ready to read.",
                        "The packet is sent: %(num)d people were told it is ready to read.",
                        sent.told,
                    ),
                    "success",
                )
            elif sent.recipients:
                flash(_("Already sent; nothing changed since."), "info")
            else:
                flash(
                    _(
                        "Nobody was told: the review has no one on the other side to send the "
                        "packet to (an active lead teacher, or the staff member who scheduled it)."
                    ),
                    "warning",
                )
    return redirect(_show_url(review))


@bp.route("/cycles/<int:cycle_id>/reviews/<int:review_id>/amend", methods=["POST"])
@login_required
def review_amend(cycle_id: int, review_id: int) -> Any:
    ctx, review = _load(cycle_id, review_id)
    require(policy.can_amend_review(current_user, review, ctx.cycle))
    form = ActionForm()
    if form.validate_on_submit():
        try:
            amendment = services.start_amendment(current_user, review, today=_today())
        except services.ReviewError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            flash(
                _(
                    "The amendment is open, with the signed review's ratings, notes and next "
                    "year's goals. Correct what is needed; both sign it again."
                ),
                "success",
            )
            return redirect(_show_url(amendment))
    return redirect(_show_url(review))


# The packet PDF -------------------------------------------------------------------------------


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:40]


def packet_file_name(ctx: CycleContext, review: GoalsReview) -> str:
    code = _safe_name(ctx.school.code) or "school"
    year = _safe_name(ctx.year.label) or "year"
    suffix = f"-amendment-{review.id}" if review.amends_review_id is not None else ""
    return f"goals-review-{code}-{year}{suffix}.pdf"


def _state_note(review: GoalsReview, record: dict[str, Any]) -> str:
    if review.frozen_at is not None:
        note = _(
            "Signed by both and frozen on %(date)s. This is the record exactly as it was signed.",
            date=format_date(review.frozen_at, "long"),
        )
        if review.status.value == "amended":
            note += " " + _("A later signed amendment corrects it.")
        return note
    return _(
        "Draft: not signed yet. Figures as of %(date)s; they change until both have signed.",
        date=_day_text(record["packet"].get("assembled_on"), "long"),
    )


def pdf_text(ctx: CycleContext, review: GoalsReview, record: dict[str, Any]) -> PdfText:
    """The reader's words for the PDF (translated here, where the request's language is)."""
    school = record["packet"]["school"].get("name") or ctx.school.name
    year = record["packet"]["year"].get("label") or ctx.year.label
    heading = _heading(review)
    subheading = _("%(school)s · School year %(year)s", school=school, year=year)
    words = {
        "heading": heading,
        "subheading": subheading,
        "header": f"{subheading} · {heading}",
        "page": _("Page %(page)s of %(pages)s", page="%(page)d", pages="%(pages)d"),
        "state_note": _state_note(review, record),
        "meeting_date": _("Meeting date"),
        "location": _("Where"),
        "participants": _("Participants"),
        "school_section": _("The school"),
        "school": _("School"),
        "code": _("State code"),
        "school_year": _("School year"),
        "pilot": _("Pilot school"),
        "magnet": _("Magnet school"),
        "theme": _("Magnet theme"),
        "yes": _("Yes"),
        "no": _("No"),
        "initiative": _("The initiative"),
        "no_title": _("No initiative title yet"),
        "challenge": _("The equity challenge"),
        "aim": _("Aim"),
        "not_written": _("Not written yet."),
        "goals": _("Goals"),
        "goal": _("Goal"),
        "no_goals": _("This cycle has no goals."),
        "baseline": _("Baseline"),
        "target": _("Target"),
        "latest": _("Latest"),
        "change": _("Change since baseline"),
        "status": _("Status"),
        "set_by_hand": _("set by hand"),
        "rule_says": _("the rule says"),
        "override_reason": _("Why it was set by hand"),
        "no_measurement": _("Not measured yet"),
        "no_measurements": _("No measurements yet."),
        "metric": _("Metric"),
        "category": _("Category"),
        "direction": _("Direction"),
        "due": _("Due"),
        "end_of_year": _("End of the school year"),
        "end_of_next_year": _("End of next school year"),
        "baseline_row": _("baseline"),
        "trend": _("Trend"),
        "date": _("Date"),
        "value": _("Value"),
        "support": _("Support hours"),
        "kind": _("Kind of support"),
        "hours": _("Hours"),
        "activities": _("Activities"),
        "total": _("Total"),
        "by_partner": _("Hours by partner"),
        "partner": _("Partner"),
        "not_recorded": _("Not recorded"),
        "tests": _("Improvement tests (PDSA)"),
        "test": _("Test"),
        "change_idea": _("Change idea"),
        "decision": _("Decision"),
        "no_decision": _("Still testing"),
        "dates": _("Dates"),
        "no_tests": _("No improvement tests were recorded."),
        "engagement": _("Stakeholder engagement"),
        "group": _("Group"),
        "heard": _("What was heard"),
        "changed": _("What changed"),
        "no_engagement": _("No engagement sessions were recorded."),
        "integration": _("Integration indicators"),
        "integration_note": _(
            "No enrollment counts of this school for this school year: no integration figures."
        ),
        # %-formatted with the packet's integration view (year, minority, threshold).
        "integration_intro": _(
            "October 1 enrollment, %(year)s. Minority groups: %(minority)s. Small counts are "
            "not shown (threshold N = %(threshold)d); “*” marks a count hidden so that a small "
            "one cannot be worked out."
        ),
        "indicator": _("Indicator"),
        "figure": _("Figure"),
        "meeting_record": _("The meeting record"),
        "ratings": _("Ratings"),
        "rating": _("Rating"),
        "comment": _("Comment"),
        "not_rated": _("Not rated"),
        "notes": _("Discussion notes"),
        "no_notes": _("No notes yet."),
        "next_goals": _("Next year's goals"),
        "no_next_goals": _("No goals for next year yet."),
        "continues": _("Continues"),
        "baseline_from_goal": _("this year's latest value"),
        "signatures": _("Sign-off"),
        "side": _("Signs as"),
        "name": _("Name"),
        "signed_at": _("Signed"),
        "lead_signature": _("Lead teacher"),
        "staff_signature": _("Staff reviewer"),
        "not_signed": _("Not signed yet"),
    }
    return PdfText(
        labels=words,
        values={key: {k: str(v) for k, v in mapping.items()} for key, mapping in labels().items()},
        day=_day_text,
        moment=_moment_text,
        number=format_number,
    )


@bp.route("/cycles/<int:cycle_id>/reviews/<int:review_id>/packet.pdf")
@login_required
def review_pdf(cycle_id: int, review_id: int) -> Any:
    ctx, review = _load(cycle_id, review_id)
    require(policy.can_download_review_packet(current_user, review, ctx.cycle))
    record = _record(ctx, review, queries.review_row(review))
    compression = int(current_app.config.get("PDF_PAGE_COMPRESSION", 1))
    pdf = render_packet_pdf(record, pdf_text(ctx, review, record), page_compression=compression)
    name = packet_file_name(ctx, review)
    # The download is an export: audited (the one write of this GET, after every read).
    services.record_packet_download(current_user, review)
    commit()
    response = send_file(
        io.BytesIO(pdf),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=name,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

"""Goal pages of a cycle: the goals tab, a goal (chart, data table, status and a status set
by hand), adding, changing and removing goals, and measurements with their evidence.

Who may: readers of the cycle see goals (`can_view_cycle`); the lead teacher, staff liaison
and staff change goals and set statuses by hand (`can_edit_goals`); the plan team records
measurements (`can_record_measurement`). The support log's pages are in `support_views`.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy, uploads
from fellowship.auth.forms import EmptyForm
from fellowship.cycles import bp, charts, goal_queries, queries
from fellowship.cycles import goal_services as rules
from fellowship.cycles.goal_forms import (
    LABELS,
    GoalForm,
    MeasurementForm,
    OverrideForm,
    VersionForm,
)
from fellowship.cycles.models import Goal
from fellowship.cycles.queries import CycleContext
from fellowship.db import commit, db
from fellowship.extensions import csrf
from fellowship.forms import parse_int
from fellowship.web import get_or_404, require

RULE = goal_queries.STATUS_RULE


def _put_error(form: Any, error: rules.GoalError) -> str | None:
    """Put the message next to its field; a message for no field is returned instead."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        return error.message
    target.errors = [*target.errors, error.message]
    return None


def _goal_url(ctx: CycleContext, goal_id: int, anchor: str = "") -> str:
    url = url_for("cycles.goal_show", cycle_id=ctx.cycle.id, goal_id=goal_id)
    return f"{url}#{anchor}" if anchor else url


def _goals_url(ctx: CycleContext, goal_id: int | None = None) -> str:
    url = url_for("cycles.goals", cycle_id=ctx.cycle.id)
    return f"{url}#goal-{goal_id}" if goal_id else url


# The goals tab --------------------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/goals")
@login_required
def goals(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    today = goal_queries.local_today(current_user)
    summaries = queries.goal_summaries([ctx.cycle.id], today)[ctx.cycle.id]
    return render_template(
        "cycles/goal_list.html",
        ctx=ctx,
        summaries=summaries,
        counts=goal_queries.status_counts(summaries),
        charts={
            summary.goal.id: charts.goal_chart(summary, due_on=ctx.year.ends_on, compact=True)
            for summary in summaries
        },
        rule=RULE,
        can_edit=policy.can_edit_goals(current_user, ctx.cycle),
        can_record=policy.can_record_measurement(current_user, ctx.cycle),
        **LABELS,
    )


# Adding, changing and removing goals ------------------------------------------------------------


def _goal_form(ctx: CycleContext, goal: Goal | None) -> GoalForm:
    allowed = rules.due_range(ctx)
    if request.method != "GET" or goal is None:
        return GoalForm(due_range=allowed)
    return GoalForm(
        due_range=allowed,
        data={
            "title": goal.title,
            "category": goal.category.value,
            "metric": goal.metric,
            "unit": goal.unit,
            "baseline_value": rules.plain_number(goal.baseline_value),
            "baseline_on": goal.baseline_on,
            "target_value": rules.plain_number(goal.target_value),
            "direction": goal.direction.value,
            "due_on": goal.due_on,
            "version": str(goal.version),
        },
    )


def _goal_data(form: GoalForm) -> rules.GoalData:
    return rules.GoalData(
        title=form.title.data or "",
        category=form.category.data or None,
        metric=form.metric.data or "",
        unit=form.unit.data or "",
        baseline_value=form.baseline_value.number,
        baseline_on=form.baseline_on.data,
        target_value=form.target_value.number,
        direction=form.direction.data or None,
        due_on=form.due_on.data,
    )


def _render_goal_form(
    ctx: CycleContext,
    form: GoalForm,
    goal: Goal | None,
    *,
    conflict: str | None = None,
    problem: str | None = None,
) -> Any:
    first, last = rules.due_range(ctx)
    return render_template(
        "cycles/goal_form.html",
        ctx=ctx,
        form=form,
        goal=goal,
        conflict=conflict,
        problem=problem,
        due_first=first,
        due_last=last,
        delete_form=EmptyForm() if goal is not None else None,
        **LABELS,
    )


@bp.route("/cycles/<int:cycle_id>/goals/new", methods=["GET", "POST"])
@login_required
def goal_new(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_edit_goals(current_user, ctx.cycle))
    form = _goal_form(ctx, None)
    problem = None
    if form.validate_on_submit():
        try:
            goal = rules.create_goal(current_user, ctx, _goal_data(form))
        except rules.GoalError as error:
            db.session.rollback()
            problem = _put_error(form, error)
        else:
            commit()
            flash(
                _(
                    "The goal “%(title)s” has been added. Record its measurements as they come.",
                    title=goal.title,
                ),
                "success",
            )
            return redirect(_goal_url(ctx, goal.id))
    return _render_goal_form(ctx, form, None, problem=problem)


@bp.route("/cycles/<int:cycle_id>/goals/<int:goal_id>/edit", methods=["GET", "POST"])
@login_required
def goal_edit(cycle_id: int, goal_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_edit_goals(current_user, ctx.cycle))
    goal = goal_queries.goal_in_cycle(ctx.cycle.id, goal_id)
    form = _goal_form(ctx, goal)
    conflict = None
    problem = None
    if form.validate_on_submit():
        try:
            rules.update_goal(
                current_user, ctx, goal, _goal_data(form), version=parse_int(form.version.data)
            )
        except rules.StaleGoal as error:
            db.session.rollback()
            goal = goal_queries.goal_in_cycle(cycle_id, goal_id)
            conflict = error.message
            # Saving again is now a deliberate choice made after seeing the saved goal.
            form.version.data = str(goal.version)
        except rules.GoalError as error:
            db.session.rollback()
            goal = goal_queries.goal_in_cycle(cycle_id, goal_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("Your changes to “%(title)s” have been saved.", title=goal.title), "success")
            return redirect(_goal_url(ctx, goal.id))
    return _render_goal_form(ctx, form, goal, conflict=conflict, problem=problem)


@bp.route("/cycles/<int:cycle_id>/goals/<int:goal_id>/delete", methods=["POST"])
@login_required
def goal_delete(cycle_id: int, goal_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_edit_goals(current_user, ctx.cycle))
    goal = goal_queries.goal_in_cycle(ctx.cycle.id, goal_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(_goal_url(ctx, goal.id))
    title = goal.title
    try:
        rules.delete_goal(current_user, goal)
    except rules.GoalError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(_goals_url(ctx))
    commit()
    flash(_("The goal “%(title)s” has been removed.", title=title), "success")
    return redirect(_goals_url(ctx))


# A goal's page, and its status set by hand ----------------------------------------------------


def _render_goal_page(
    ctx: CycleContext,
    goal: Goal,
    *,
    override_form: OverrideForm | None = None,
    conflict: str | None = None,
    problem: str | None = None,
) -> Any:
    today = goal_queries.local_today(current_user)
    page = goal_queries.goal_page(ctx, goal, today)
    if override_form is None:
        override_form = OverrideForm(
            data={
                "status": goal.status_override.value if goal.status_override else "",
                "reason": goal.override_reason,
                "version": str(goal.version),
            }
        )
    return render_template(
        "cycles/goal_show.html",
        ctx=ctx,
        goal=goal,
        page=page,
        summary=page.summary,
        chart=charts.goal_chart(page.summary, due_on=ctx.year.ends_on),
        override_form=override_form,
        clear_form=VersionForm(data={"version": str(goal.version)}),
        delete_form=EmptyForm(),
        conflict=conflict,
        problem=problem,
        rule=RULE,
        can_edit=policy.can_edit_goals(current_user, ctx.cycle),
        can_record=policy.can_record_measurement(current_user, ctx.cycle),
        **LABELS,
    )


@bp.route("/cycles/<int:cycle_id>/goals/<int:goal_id>")
@login_required
def goal_show(cycle_id: int, goal_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    goal = goal_queries.goal_in_cycle(ctx.cycle.id, goal_id)
    return _render_goal_page(ctx, goal)


@bp.route("/cycles/<int:cycle_id>/goals/<int:goal_id>/override", methods=["POST"])
@login_required
def goal_override(cycle_id: int, goal_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_edit_goals(current_user, ctx.cycle))
    goal = goal_queries.goal_in_cycle(ctx.cycle.id, goal_id)
    form = OverrideForm()
    conflict = problem = None
    if form.validate_on_submit():
        try:
            rules.set_override(
                current_user,
                goal,
                form.status.data,
                form.reason.data,
                version=parse_int(form.version.data),
            )
        except rules.StaleGoal as error:
            db.session.rollback()
            goal = goal_queries.goal_in_cycle(cycle_id, goal_id)
            conflict = error.message
            form.version.data = str(goal.version)
        except rules.GoalError as error:
            db.session.rollback()
            goal = goal_queries.goal_in_cycle(cycle_id, goal_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(
                _(
                    "The status of “%(title)s” is now set by hand: %(status)s.",
                    title=goal.title,
                    status=LABELS["status_labels"][form.status.data],
                ),
                "success",
            )
            return redirect(_goal_url(ctx, goal.id, "goal-status"))
    return _render_goal_page(ctx, goal, override_form=form, conflict=conflict, problem=problem)


@bp.route("/cycles/<int:cycle_id>/goals/<int:goal_id>/override/clear", methods=["POST"])
@login_required
def goal_override_clear(cycle_id: int, goal_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_edit_goals(current_user, ctx.cycle))
    goal = goal_queries.goal_in_cycle(ctx.cycle.id, goal_id)
    form = VersionForm()
    if not form.validate_on_submit():
        return redirect(_goal_url(ctx, goal.id, "goal-status"))
    try:
        rules.clear_override(current_user, goal, version=parse_int(form.version.data))
    except rules.GoalError as error:
        db.session.rollback()
        goal = goal_queries.goal_in_cycle(cycle_id, goal_id)
        return _render_goal_page(ctx, goal, conflict=error.message)
    commit()
    flash(
        _("The status of “%(title)s” is worked out by the rule again.", title=goal.title),
        "success",
    )
    return redirect(_goal_url(ctx, goal.id, "goal-status"))


# Measurements -----------------------------------------------------------------------------------


def _file_hint() -> str:
    return _(
        "%(kinds)s, at most %(mb)s MB.",
        kinds=uploads.describe_kinds(uploads.DOCUMENTS_AND_IMAGES),
        mb=format(uploads.max_upload_bytes() / (1024 * 1024), "g"),
    )


# Uploads are not checked by the app-wide CSRF hook: it reads the whole body before the view
# can raise the request's size limit for one upload. The FlaskForm checks its own CSRF token.
@bp.route("/cycles/<int:cycle_id>/goals/<int:goal_id>/measurements/new", methods=["GET", "POST"])
@csrf.exempt
@login_required
def measurement_new(cycle_id: int, goal_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_record_measurement(current_user, ctx.cycle))
    goal = goal_queries.goal_in_cycle(ctx.cycle.id, goal_id)
    uploads.allow_upload_request()
    form = MeasurementForm(accept=uploads.accept_attribute(uploads.DOCUMENTS_AND_IMAGES))
    problem = None
    code = 200
    if form.validate_on_submit():
        data = rules.MeasurementData(
            measured_on=form.measured_on.data,
            value=form.value.number,
            note=form.note.data or "",
            evidence_url=form.evidence_url.data or "",
            upload=form.evidence_file.data,
        )
        try:
            measurement = rules.record_measurement(current_user, goal, data)
        except uploads.UploadRefused as refused:
            db.session.rollback()
            form.evidence_file.errors = [*form.evidence_file.errors, refused.message]
            code = 413 if refused.too_large else 200
        except rules.GoalError as error:
            db.session.rollback()
            problem = _put_error(form, error)
        else:
            commit()
            flash(
                _(
                    "The measurement of %(day)s has been recorded for “%(title)s”.",
                    day=format_date(measurement.measured_on, "long"),
                    title=goal.title,
                ),
                "success",
            )
            return redirect(_goal_url(ctx, goal.id, "measurements"))
        goal = goal_queries.goal_in_cycle(cycle_id, goal_id)
    today = goal_queries.local_today(current_user)
    summary = queries.summarize(
        goal, ctx.year, queries.measurements_by_goal([goal.id]).get(goal.id, []), today
    )
    body = render_template(
        "cycles/goal_measurement_form.html",
        ctx=ctx,
        goal=goal,
        summary=summary,
        form=form,
        problem=problem,
        file_hint=_file_hint(),
        **LABELS,
    )
    return body, code


@bp.route("/cycles/<int:cycle_id>/measurements/<int:measurement_id>/delete", methods=["POST"])
@login_required
def measurement_delete(cycle_id: int, measurement_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    measurement, goal = goal_queries.measurement_in_cycle(ctx.cycle.id, measurement_id)
    require(policy.can_delete_measurement(current_user, measurement, ctx.cycle))
    form = EmptyForm()
    if form.validate_on_submit():
        day = measurement.measured_on
        rules.delete_measurement(current_user, measurement)
        commit()
        flash(
            _(
                "The measurement of %(day)s has been removed from “%(title)s”.",
                day=format_date(day, "long"),
                title=goal.title,
            ),
            "success",
        )
    return redirect(_goal_url(ctx, goal.id, "measurements"))


@bp.route("/cycles/<int:cycle_id>/measurements/<int:measurement_id>/evidence")
@login_required
def measurement_evidence(cycle_id: int, measurement_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    measurement, _goal = goal_queries.measurement_in_cycle(ctx.cycle.id, measurement_id)
    require(policy.can_view_evidence(current_user, measurement, ctx.cycle))
    if measurement.evidence_file_id is None:
        abort(404)
    return uploads.send_stored_file(get_or_404(uploads.StoredFile, measurement.evidence_file_id))


from fellowship.cycles import support_views  # noqa: E402,F401

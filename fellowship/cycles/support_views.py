"""Support log pages: a cycle's log (with totals), logging, changing and removing an entry,
and the report across schools with its CSV export.

Who may: readers of the cycle see its log (`can_view_cycle`); partners, the staff liaison
and staff log support (`can_log_support`); staff, and the partner who logged an entry,
change it (`can_edit_support`); staff and partners see the report (`can_view_support_report`),
a partner only for the cycles they are a partner in.
"""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.forms import EmptyForm
from fellowship.cycles import bp, goal_queries, queries, support_queries
from fellowship.cycles import support_services as rules
from fellowship.cycles.goal_forms import CATEGORY_LABELS
from fellowship.cycles.goal_services import plain_number
from fellowship.cycles.models import SupportActivity
from fellowship.cycles.queries import CycleContext
from fellowship.cycles.support_forms import KIND_LABELS, SupportForm
from fellowship.db import commit, db
from fellowship.web import require

LABELS = {"kind_labels": KIND_LABELS, "category_labels": CATEGORY_LABELS}


def _support_url(ctx: CycleContext, activity_id: int | None = None) -> str:
    url = url_for("cycles.support", cycle_id=ctx.cycle.id)
    return f"{url}#support-{activity_id}" if activity_id else url


def _put_error(form: Any, error: rules.SupportError) -> str | None:
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        return error.message
    target.errors = [*target.errors, error.message]
    return None


# A cycle's log ----------------------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/support")
@login_required
def support(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    return render_template(
        "cycles/support_list.html",
        ctx=ctx,
        log=support_queries.cycle_log(ctx.cycle.id),
        can_log=policy.can_log_support(current_user, ctx.cycle),
        **LABELS,
    )


def _support_form(ctx: CycleContext, activity: SupportActivity | None) -> SupportForm:
    if request.method != "GET":
        form = SupportForm()
    elif activity is None:
        form = SupportForm(
            data={
                "held_on": goal_queries.local_today(current_user),
                "participants": 0,
                "provider_name": support_queries.organisation_of(current_user.id, ctx.cycle.id),
            }
        )
    else:
        form = SupportForm(
            data={
                "kind": activity.kind.value,
                "held_on": activity.held_on,
                "hours": plain_number(activity.hours),
                "participants": activity.participants,
                "topic": activity.topic,
                "provider_name": activity.provider_name,
                "goal": activity.goal_id,
                "notes": activity.notes,
            }
        )
    form.set_goals(goal_queries.goal_choices(ctx.cycle.id))
    return form


def _support_data(form: SupportForm) -> rules.SupportData:
    return rules.SupportData(
        kind=form.kind.data or None,
        held_on=form.held_on.data,
        hours=getattr(form.hours, "number", None),
        participants=form.participants.data,
        topic=form.topic.data or "",
        provider_name=form.provider_name.data or "",
        goal_id=form.goal.data if isinstance(form.goal.data, int) else None,
        notes=form.notes.data or "",
    )


def _render_support_form(
    ctx: CycleContext,
    form: SupportForm,
    activity: SupportActivity | None,
    problem: str | None,
) -> Any:
    provider = None
    if activity is not None and activity.provider_id is not None:
        provider = goal_queries.names_of([activity.provider_id]).get(activity.provider_id)
    return render_template(
        "cycles/support_form.html",
        ctx=ctx,
        form=form,
        activity=activity,
        provider=provider,
        problem=problem,
        delete_form=EmptyForm() if activity is not None else None,
        **LABELS,
    )


@bp.route("/cycles/<int:cycle_id>/support/new", methods=["GET", "POST"])
@login_required
def support_new(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_log_support(current_user, ctx.cycle))
    form = _support_form(ctx, None)
    problem = None
    if form.validate_on_submit():
        try:
            activity = rules.log_support(current_user, ctx.cycle, _support_data(form))
        except rules.SupportError as error:
            db.session.rollback()
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("The support “%(topic)s” has been logged.", topic=activity.topic), "success")
            return redirect(_support_url(ctx, activity.id))
    return _render_support_form(ctx, form, None, problem)


@bp.route("/cycles/<int:cycle_id>/support/<int:activity_id>/edit", methods=["GET", "POST"])
@login_required
def support_edit(cycle_id: int, activity_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    activity = support_queries.activity_in_cycle(ctx.cycle.id, activity_id)
    require(policy.can_edit_support(current_user, activity, ctx.cycle))
    form = _support_form(ctx, activity)
    problem = None
    if form.validate_on_submit():
        try:
            rules.update_support(current_user, ctx.cycle, activity, _support_data(form))
        except rules.SupportError as error:
            db.session.rollback()
            activity = support_queries.activity_in_cycle(cycle_id, activity_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(
                _("Your changes to “%(topic)s” have been saved.", topic=activity.topic), "success"
            )
            return redirect(_support_url(ctx, activity.id))
    return _render_support_form(ctx, form, activity, problem)


@bp.route("/cycles/<int:cycle_id>/support/<int:activity_id>/delete", methods=["POST"])
@login_required
def support_delete(cycle_id: int, activity_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    activity = support_queries.activity_in_cycle(ctx.cycle.id, activity_id)
    require(policy.can_edit_support(current_user, activity, ctx.cycle))
    if EmptyForm().validate_on_submit():
        topic = activity.topic
        rules.delete_support(current_user, activity)
        commit()
        flash(_("The support “%(topic)s” has been removed.", topic=topic), "success")
    return redirect(_support_url(ctx))


# The report across schools ------------------------------------------------------------------------


@bp.route("/support/")
@login_required
def support_report() -> Any:
    require(policy.can_view_support_report(current_user))
    scope = support_queries.report_scope(current_user)
    today = goal_queries.local_today(current_user)
    report = support_queries.support_report(scope, request.args.get("year"), today)
    return render_template(
        "cycles/support_report.html",
        report=report,
        everything=scope.everything,
        **LABELS,
    )


@bp.route("/support/export.csv")
@login_required
def support_report_csv() -> Any:
    require(policy.can_view_support_report(current_user))
    scope = support_queries.report_scope(current_user)
    today = goal_queries.local_today(current_user)
    years = support_queries.report_years(scope)
    year = support_queries.choose_year(years, request.args.get("year"), today)
    rows = support_queries.report_rows(scope, year) if year is not None else []
    label = year.label if year is not None else "none"
    # An export of people's work is audited (QUALITY.md): the one write of a GET.
    rules.record_export(current_user, label, len(rows), scope=scope.label)
    commit()
    body = "\ufeff" + support_queries.to_csv(rows)  # the mark lets Excel read UTF-8
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="support-{label}.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response

"""Setting cycles up: the list of cycles for a school year, opening a cycle, the team page,
and opening next year's cycle from this year's (one school, or every school at once).

Everyone with a cycle sees the list (`can_view_my_cycles`, scoped by `cycles_visible_to`)
and the team of any cycle they may view; staff open cycles (`can_open_cycle`,
`can_open_next_cycle`) and manage teams (`can_manage_cycle_members`).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.forms import EmptyForm
from fellowship.cycles import bp, queries, setup_queries
from fellowship.cycles import setup_services as setup
from fellowship.cycles.models import CycleRole, School
from fellowship.cycles.setup_forms import (
    ROLE_LABELS,
    STAGE_LABELS,
    CycleForm,
    MemberAddForm,
    MemberRoleForm,
    OpenNextYearForm,
    YearForm,
)
from fellowship.db import commit, db, utcnow
from fellowship.forms import choices, parse_int
from fellowship.school_years import label_for
from fellowship.web import page_arg, require

PREVIEW_ROWS = 200  # schools listed per list on the "every school" preview
LABELS = {"stage_labels": STAGE_LABELS, "role_labels": ROLE_LABELS}


def _put_error(form: Any, error: setup.SetupError) -> str | None:
    """Put the message next to its field; a message for no field is returned instead."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        return error.message
    target.errors = [*target.errors, error.message]
    return None


def _year_choice(wanted: str | None, labels: list[str]) -> tuple[str, list[str]]:
    """The year asked for when it is one of `labels` or this year; this year otherwise.
    Also the labels to offer, the latest first (this year always among them)."""
    current = label_for(utcnow().date())
    offered = sorted(set(labels) | {current}, reverse=True)
    return (wanted if wanted in offered else current), offered


# The list -----------------------------------------------------------------------------------


@bp.route("/cycles/")
@login_required
def index() -> Any:
    require(policy.can_view_my_cycles(current_user))
    year, offered = _year_choice(
        request.args.get("year"), setup_queries.visible_year_labels(current_user)
    )
    form = YearForm(formdata=None, year=year)
    form.year.choices = choices((label, label) for label in offered)
    page = setup_queries.cycle_page(current_user, year, page=page_arg())
    roles = setup_queries.my_roles(current_user.id, [row[0].id for row in page.items])
    return render_template(
        "cycles/setup_index.html",
        form=form,
        year=year,
        page=page,
        roles=roles,
        show_roles=bool(roles) or not policy.can_open_cycle(current_user),
        **LABELS,
    )


# Opening a cycle ----------------------------------------------------------------------------


@bp.route("/cycles/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    require(policy.can_open_cycle(current_user))
    active = setup_queries.active_schools()
    form = CycleForm()
    form.school.choices = choices(
        [("", _("Choose a school")), *((str(i), f"{name} ({code})") for i, name, code in active)]
    )
    if request.method == "GET":
        asked = parse_int(request.args.get("school_id"))
        form.school.data = asked if asked in {i for i, _n, _c in active} else None
        wanted = (request.args.get("year") or "").strip()
        form.school_year.data = wanted if setup.year_bounds(wanted) else label_for(utcnow().date())
    problem = None
    existing = None  # the cycle already there, when that is why it was refused
    if form.validate_on_submit():
        school = None
        if form.school.data in {i for i, _n, _c in active}:
            school = db.session.get(School, form.school.data)
        try:
            cycle = setup.open_cycle(current_user, school, form.school_year.data or "")
        except setup.SetupError as error:
            db.session.rollback()
            problem = _put_error(form, error)
            existing = error.cycle_id
        else:
            commit()
            assert school is not None
            flash(
                _(
                    "The %(year)s cycle of %(school)s is open. Now add its team.",
                    year=(form.school_year.data or "").strip(),
                    school=school.name,
                ),
                "success",
            )
            return redirect(url_for("cycles.members", cycle_id=cycle.id))
    return render_template("cycles/setup_new.html", form=form, problem=problem, existing=existing)


# The team -----------------------------------------------------------------------------------


def _members_page(
    context: queries.CycleContext,
    *,
    add_form: MemberAddForm | None = None,
    failed: tuple[int, MemberRoleForm] | None = None,
    problem: str | None = None,
) -> str:
    members = setup_queries.team(context.cycle.id)
    manage = policy.can_manage_cycle_members(current_user, context.cycle)
    row_forms: dict[int, MemberRoleForm] = {}
    if manage:
        for membership, _person in members:
            if failed is not None and failed[0] == membership.id:
                row_forms[membership.id] = failed[1]
            else:
                row_forms[membership.id] = MemberRoleForm(
                    formdata=None,
                    role=membership.role.value,
                    organisation=membership.organisation,
                )
    return render_template(
        "cycles/setup_members.html",
        ctx=context,
        members=members,
        manage=manage,
        add_form=add_form or (MemberAddForm(formdata=None) if manage else None),
        row_forms=row_forms,
        failed_id=failed[0] if failed else None,
        remove_form=EmptyForm(),
        problem=problem,
        **LABELS,
    )


@bp.route("/cycles/<int:cycle_id>/members")
@login_required
def members(cycle_id: int) -> Any:
    context = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, context.cycle))
    return _members_page(context)


@bp.route("/cycles/<int:cycle_id>/members", methods=["POST"])
@login_required
def member_add(cycle_id: int) -> Any:
    context = queries.load_cycle(cycle_id)
    require(policy.can_manage_cycle_members(current_user, context.cycle))
    form = MemberAddForm()
    if form.validate_on_submit():
        try:
            membership = setup.add_member(
                current_user,
                context.cycle,
                email=form.email.data or "",
                role=CycleRole(form.role.data),
                organisation=form.organisation.data or "",
            )
        except setup.SetupError as error:
            db.session.rollback()
            context = queries.load_cycle(cycle_id)
            problem = _put_error(form, error)
            return _members_page(context, add_form=form, problem=problem)
        commit()
        policy.forget_cached_memberships()
        flash(
            _(
                "%(email)s has been added to the team as %(role)s.",
                email=(form.email.data or "").strip().lower(),
                role=ROLE_LABELS[membership.role.value],
            ),
            "success",
        )
        return redirect(url_for("cycles.members", cycle_id=cycle_id))
    return _members_page(context, add_form=form)


@bp.route("/cycles/<int:cycle_id>/members/<int:membership_id>", methods=["POST"])
@login_required
def member_update(cycle_id: int, membership_id: int) -> Any:
    context = queries.load_cycle(cycle_id)
    require(policy.can_manage_cycle_members(current_user, context.cycle))
    membership = setup_queries.membership_in(context.cycle.id, membership_id)
    form = MemberRoleForm()
    if form.validate_on_submit():
        try:
            changed = setup.update_member(
                current_user,
                context.cycle,
                membership,
                role=CycleRole(form.role.data),
                organisation=form.organisation.data or "",
            )
        except setup.SetupError as error:
            db.session.rollback()
            context = queries.load_cycle(cycle_id)
            problem = _put_error(form, error)
            return _members_page(context, failed=(membership_id, form), problem=problem)
        commit()
        policy.forget_cached_memberships()
        if changed:
            flash(_("The role has been changed."), "success")
        return redirect(url_for("cycles.members", cycle_id=cycle_id))
    return _members_page(context, failed=(membership_id, form))


@bp.route("/cycles/<int:cycle_id>/members/<int:membership_id>/remove", methods=["POST"])
@login_required
def member_remove(cycle_id: int, membership_id: int) -> Any:
    context = queries.load_cycle(cycle_id)
    require(policy.can_manage_cycle_members(current_user, context.cycle))
    membership = setup_queries.membership_in(context.cycle.id, membership_id)
    if EmptyForm().validate_on_submit():
        setup.remove_member(current_user, context.cycle, membership)
        commit()
        policy.forget_cached_memberships()
        flash(_("The person has been taken off the team."), "success")
    return redirect(url_for("cycles.members", cycle_id=cycle_id))


# Next year ----------------------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/open-next", methods=["GET", "POST"])
@login_required
def open_next(cycle_id: int) -> Any:
    context = queries.load_cycle(cycle_id)
    require(policy.can_open_next_cycle(current_user, context.cycle))
    form = EmptyForm()
    today = utcnow().date()
    problem = None
    existing = None  # next year's cycle, when it was opened by someone else meanwhile
    if form.validate_on_submit():
        try:
            made = setup.open_next_cycle(current_user, context, today)
        except setup.SetupError as error:
            db.session.rollback()
            context = queries.load_cycle(cycle_id)
            problem = error.message
            existing = error.cycle_id
        else:
            commit()
            policy.forget_cached_memberships()
            flash(
                _(
                    "The %(year)s cycle of %(school)s is open, carried forward from %(previous)s.",
                    year=setup.next_year_label(context.year.label),
                    school=context.school.name,
                    previous=context.year.label,
                ),
                "success",
            )
            return redirect(url_for("cycles.show", cycle_id=made.id))
    plan = setup.plan_next_cycle(context, today)
    if existing is not None and plan.exists is not None:
        problem = existing = None  # the page says it already, with the link
    return render_template(
        "cycles/setup_open_next.html",
        ctx=context,
        plan=plan,
        form=form,
        problem=problem,
        existing=existing,
        **LABELS,
    )


@bp.route("/cycles/open-next-year", methods=["GET", "POST"])
@login_required
def open_next_all() -> Any:
    require(policy.can_open_cycle(current_user))
    today = utcnow().date()
    labels = setup_queries.all_year_labels()
    form = OpenNextYearForm()
    problem = None
    if form.validate_on_submit():
        year = (form.year.data or "").strip()
        result = None
        if setup.year_bounds(year) is None:
            flash(_("Choose the school year to open next year's cycles from."), "error")
        else:
            try:
                result = setup.open_next_year(current_user, year, today)
            except setup.SetupError as error:  # a school's cycle was opened meanwhile
                db.session.rollback()
                problem = error.message
        if result is not None:
            commit()
            policy.forget_cached_memberships()
            flash(
                _(
                    "Opened %(opened)d cycles for %(next)s. Skipped: %(skipped)d schools whose "
                    "cycle cannot be carried forward, and %(without)d active schools with no "
                    "cycle in %(year)s.",
                    opened=len(result.to_open),
                    next=result.next_label,
                    skipped=len(result.skipped),
                    without=len(result.without_cycle),
                    year=year,
                ),
                "success",
            )
            return redirect(url_for("cycles.index", year=result.next_label))
    year, offered = _year_choice(request.values.get("year"), labels)
    chooser = YearForm(formdata=None, year=year)
    chooser.year.choices = choices((label, label) for label in offered)
    plan = setup.plan_next_year(year, today)
    return render_template(
        "cycles/setup_open_next_all.html",
        chooser=chooser,
        confirm=OpenNextYearForm(formdata=None, year=year),
        plan=plan,
        problem=problem,
        limit=PREVIEW_ROWS,
        **LABELS,
    )

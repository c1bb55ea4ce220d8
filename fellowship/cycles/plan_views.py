"""The plan of a cycle: its overview (the initiative, the driver diagram as an outline and a
picture, the stage, the figures at a glance), editing the initiative and the diagram, moving
the stage, improvement tests (PDSA) and the stakeholder engagement log.

Everyone who may see the cycle (`can_view_cycle`) reads these pages; the lead teacher, the
team and staff change them (`can_edit_initiative`, `can_edit_improvement_tests`,
`can_log_engagement`), and the lead teacher and staff move the stage (`can_change_stage`).
An id of another cycle's driver, test or session is 404.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.forms import EmptyForm
from fellowship.curriculum.queries import local_today
from fellowship.cycles import bp, diagram, plan_queries, queries
from fellowship.cycles import plan_services as plan
from fellowship.cycles.models import (
    Cycle,
    CycleStage,
    Driver,
    DriverKind,
    EngagementSession,
    GoalStatus,
    ImprovementTest,
)
from fellowship.cycles.plan_forms import (
    ADD_LABELS,
    DECISION_HINTS,
    DECISION_LABELS,
    GROUP_LABELS,
    KIND_HINTS,
    KIND_LABELS,
    STAGE_LABELS,
    DriverForm,
    EditDriverForm,
    EngagementForm,
    InitiativeForm,
    MoveForm,
    PdsaForm,
    StageForm,
)
from fellowship.db import commit, db
from fellowship.forms import parse_int
from fellowship.markdown import markdown_to_text
from fellowship.web import page_arg, require

LABELS = {
    "add_labels": ADD_LABELS,
    "kind_labels": KIND_LABELS,
    "kind_hints": KIND_HINTS,
    "decision_labels": DECISION_LABELS,
    "decision_hints": DECISION_HINTS,
    "group_labels": GROUP_LABELS,
    "stage_labels": STAGE_LABELS,
}


def _today() -> date:
    return local_today(current_user.timezone)


def _title(cycle: Cycle) -> str:
    return cycle.initiative_title or _("Improvement cycle")


def _put_error(form: Any, error: plan.PlanError) -> str | None:
    """Put the message next to its field; a message for no field is returned instead."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        return error.message
    target.errors = [*target.errors, error.message]
    return None


def _overview(cycle_id: int, anchor: str | None = None) -> str:
    url = url_for("cycles.show", cycle_id=cycle_id)
    return f"{url}#{anchor}" if anchor else url


# The overview ---------------------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>")
@login_required
def show(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    cycle = ctx.cycle
    require(policy.can_view_cycle(current_user, cycle))
    drivers = plan_queries.drivers_of(cycle.id)
    tests = plan_queries.tests_of(cycle.id)
    tree = plan_queries.driver_tree(drivers, tests)
    ideas = {driver.id for driver in drivers if driver.kind == DriverKind.CHANGE_IDEA}
    goals = queries.goal_summaries([cycle.id], _today())[cycle.id]
    by_status = Counter(summary.status for summary in goals)
    aim = markdown_to_text(cycle.aim_md)
    picture = diagram.render(
        aim,
        tree,
        label=_(
            "Picture of the driver diagram: the aim, primary drivers, secondary drivers and "
            "change ideas in columns. The outline above has the same content."
        ),
    )
    return render_template(
        "cycles/plan_show.html",
        ctx=ctx,
        title=_title(cycle),
        tree=tree,
        driver_count=len(drivers),
        unlinked=[test for test in tests if test.driver_id not in ideas],
        aim=aim,
        picture=picture,
        goals=goals,
        by_status=[(status, by_status.get(status, 0)) for status in GoalStatus],
        glance=plan_queries.glance(cycle.id),
        forward=plan.next_stage(cycle.stage, plan.FORWARD),
        back=plan.next_stage(cycle.stage, plan.BACK),
        stages=plan.STAGES,
        stage_form=StageForm(seen=cycle.stage.value),
        move_form=MoveForm(),
        can_edit=policy.can_edit_initiative(current_user, cycle),
        can_test=policy.can_edit_improvement_tests(current_user, cycle),
        can_stage=policy.can_change_stage(current_user, cycle),
        child_kinds=plan.child_kinds,
        **LABELS,
    )


# The initiative -------------------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/initiative", methods=["GET", "POST"])
@login_required
def initiative_edit(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    cycle = ctx.cycle
    require(policy.can_edit_initiative(current_user, cycle))
    if request.method == "GET":
        form = InitiativeForm(
            data={
                "title": cycle.initiative_title,
                "equity_challenge": cycle.equity_challenge_md,
                "root_causes": cycle.root_causes_md,
                "aim": cycle.aim_md,
                "version": str(cycle.version),
            }
        )
    else:
        form = InitiativeForm()
    conflict = problem = None
    if form.validate_on_submit():
        data = plan.InitiativeData(
            title=form.title.data or "",
            equity_challenge_md=form.equity_challenge.data or "",
            root_causes_md=form.root_causes.data or "",
            aim_md=form.aim.data or "",
        )
        try:
            plan.update_initiative(current_user, cycle, data, version=parse_int(form.version.data))
        except plan.StaleEdit as error:
            db.session.rollback()
            ctx = queries.load_cycle(cycle_id)
            conflict = error.message
            # Saving again is now a deliberate choice made after seeing the saved text.
            form.version.data = str(ctx.cycle.version)
        except plan.PlanError as error:
            db.session.rollback()
            ctx = queries.load_cycle(cycle_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("The initiative has been saved."), "success")
            return redirect(_overview(cycle_id, "initiative"))
    return render_template(
        "cycles/plan_initiative_form.html",
        ctx=ctx,
        form=form,
        conflict=conflict,
        problem=problem,
    )


# The stage ----------------------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/stage", methods=["POST"])
@login_required
def stage(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    cycle = ctx.cycle
    require(policy.can_change_stage(current_user, cycle))
    form = StageForm()
    if form.validate_on_submit():
        seen: CycleStage | None = None
        if form.seen.data:
            try:
                seen = CycleStage(form.seen.data)
            except ValueError:
                flash(str(plan.STAGE_MOVED), "error")
                return redirect(_overview(cycle_id, "stage"))
        try:
            new = plan.change_stage(
                current_user, cycle, request.form.get("direction", ""), seen=seen
            )
        except plan.PlanError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            flash(
                _("The cycle is now in the stage “%(stage)s”.", stage=STAGE_LABELS[new.value]),
                "success",
            )
    return redirect(_overview(cycle_id, "stage"))


# The driver diagram ---------------------------------------------------------------------------


def _parent_arg(cycle_id: int) -> Driver | None:
    raw = request.args.get("parent")
    if raw is None or raw == "":
        return None
    return plan_queries.driver_in_cycle(cycle_id, parse_int(raw))


@bp.route("/cycles/<int:cycle_id>/drivers/new", methods=["GET", "POST"])
@login_required
def driver_new(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    cycle = ctx.cycle
    require(policy.can_edit_initiative(current_user, cycle))
    parent = _parent_arg(cycle.id)
    kinds = plan.child_kinds(parent)
    if not kinds:
        abort(404)  # a change idea has nothing under it
    if request.method == "GET":
        wanted = request.args.get("kind", "")
        preset = next((kind for kind in kinds if kind.value == wanted), kinds[0])
        form = DriverForm(kinds=kinds, data={"kind": preset})
    else:
        form = DriverForm(kinds=kinds)
    problem = None
    if form.validate_on_submit():
        kind = form.kind.data if len(kinds) > 1 else None
        data = plan.DriverData(text=form.text.data or "", kind=kind)
        try:
            driver = plan.add_driver(current_user, cycle, parent, data)
        except plan.PlanError as error:
            db.session.rollback()
            ctx = queries.load_cycle(cycle_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(
                _(
                    "Added the %(kind)s “%(text)s”.",
                    kind=str(KIND_LABELS[driver.kind.value]).lower(),
                    text=driver.text,
                ),
                "success",
            )
            return redirect(_overview(cycle_id, f"driver-{driver.id}"))
    return render_template(
        "cycles/plan_driver_form.html",
        ctx=ctx,
        form=form,
        parent=parent,
        kinds=kinds,
        driver=None,
        problem=problem,
        action=url_for(
            "cycles.driver_new", cycle_id=cycle_id, parent=parent.id if parent else None
        ),
        **LABELS,
    )


@bp.route("/cycles/<int:cycle_id>/drivers/<int:driver_id>/edit", methods=["GET", "POST"])
@login_required
def driver_edit(cycle_id: int, driver_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    cycle = ctx.cycle
    require(policy.can_edit_initiative(current_user, cycle))
    driver = plan_queries.driver_in_cycle(cycle.id, driver_id)
    form = (
        EditDriverForm(data={"text": driver.text}) if request.method == "GET" else EditDriverForm()
    )
    problem = None
    if form.validate_on_submit():
        try:
            plan.update_driver(current_user, driver, plan.DriverData(text=form.text.data or ""))
        except plan.PlanError as error:
            db.session.rollback()
            ctx = queries.load_cycle(cycle_id)
            driver = plan_queries.driver_in_cycle(cycle_id, driver_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("Your changes to “%(text)s” have been saved.", text=driver.text), "success")
            return redirect(_overview(cycle_id, f"driver-{driver.id}"))
    parent = plan_queries.driver_in_cycle(cycle_id, driver.parent_id) if driver.parent_id else None
    return render_template(
        "cycles/plan_driver_form.html",
        ctx=ctx,
        form=form,
        parent=parent,
        kinds=(driver.kind,),
        driver=driver,
        problem=problem,
        action=url_for("cycles.driver_edit", cycle_id=cycle_id, driver_id=driver.id),
        delete_form=EmptyForm(),
        summary=plan_queries.delete_summary(driver),
        **LABELS,
    )


@bp.route("/cycles/<int:cycle_id>/drivers/<int:driver_id>/delete", methods=["POST"])
@login_required
def driver_delete(cycle_id: int, driver_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_edit_initiative(current_user, ctx.cycle))
    driver = plan_queries.driver_in_cycle(ctx.cycle.id, driver_id)
    form = EmptyForm()
    if form.validate_on_submit():
        text, kind = driver.text, driver.kind
        deleted = plan.delete_driver(current_user, driver)
        commit()
        message = _(
            "Deleted the %(kind)s “%(text)s”.", kind=str(KIND_LABELS[kind.value]).lower(), text=text
        )
        if deleted.drivers > 1:
            message += " " + ngettext(
                "%(num)d driver under it went with it.",
                "%(num)d drivers and change ideas under it went with it.",
                deleted.drivers - 1,
            )
        if deleted.unlinked_tests:
            message += " " + ngettext(
                "%(num)d improvement test is kept, with no change idea.",
                "%(num)d improvement tests are kept, with no change idea.",
                deleted.unlinked_tests,
            )
        flash(message, "success")
    return redirect(_overview(cycle_id, "diagram"))


@bp.route("/cycles/<int:cycle_id>/drivers/<int:driver_id>/move", methods=["POST"])
@login_required
def driver_move(cycle_id: int, driver_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_edit_initiative(current_user, ctx.cycle))
    driver = plan_queries.driver_in_cycle(ctx.cycle.id, driver_id)
    form = MoveForm()
    if form.validate_on_submit():
        direction = request.form.get("direction", "")
        if plan.move_driver(current_user, driver, direction):
            commit()
            if direction == plan.UP:
                flash(_("Moved “%(text)s” up.", text=driver.text), "success")
            else:
                flash(_("Moved “%(text)s” down.", text=driver.text), "success")
        else:
            db.session.rollback()
    return redirect(_overview(cycle_id, f"driver-{driver_id}"))


# Improvement tests (PDSA) -------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/tests")
@login_required
def tests(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    rows = plan_queries.tests_list(ctx.cycle.id)
    return render_template(
        "cycles/plan_tests.html",
        ctx=ctx,
        rows=rows,
        open_count=sum(1 for row in rows if row.test.decision is None),
        can_write=policy.can_edit_improvement_tests(current_user, ctx.cycle),
        **LABELS,
    )


def _pdsa_data(form: PdsaForm) -> plan.PdsaData:
    return plan.PdsaData(
        title=form.title.data or "",
        driver_id=form.driver.data if isinstance(form.driver.data, int) else None,
        started_on=form.started_on.data,
        ended_on=form.ended_on.data,
        plan_md=form.plan.data or "",
        prediction_md=form.prediction.data or "",
        do_md=form.do.data or "",
        study_md=form.study.data or "",
        decision=form.decision.data or None,
    )


def _pdsa_form(cycle_id: int, test: ImprovementTest | None, preselect: int | None) -> PdsaForm:
    if request.method != "GET":
        form = PdsaForm()
    elif test is None:
        form = PdsaForm(data={"driver": preselect})
    else:
        form = PdsaForm(
            data={
                "title": test.title,
                "driver": test.driver_id,
                "started_on": test.started_on,
                "ended_on": test.ended_on,
                "plan": test.plan_md,
                "prediction": test.prediction_md,
                "do": test.do_md,
                "study": test.study_md,
                "decision": test.decision,
                "version": str(test.version),
            }
        )
    form.set_change_ideas(plan_queries.change_ideas(cycle_id))
    return form


@bp.route("/cycles/<int:cycle_id>/tests/new", methods=["GET", "POST"])
@login_required
def test_new(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    cycle = ctx.cycle
    require(policy.can_edit_improvement_tests(current_user, cycle))
    preselect = plan_queries.preselected_change_idea(cycle.id, request.args.get("driver"))
    form = _pdsa_form(cycle.id, None, preselect)
    problem = None
    if form.validate_on_submit():
        try:
            test = plan.create_test(current_user, cycle, _pdsa_data(form), _today())
        except plan.PlanError as error:
            db.session.rollback()
            ctx = queries.load_cycle(cycle_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(
                _("The improvement test “%(title)s” has been added.", title=test.title), "success"
            )
            return redirect(url_for("cycles.test_show", cycle_id=cycle_id, test_id=test.id))
    return render_template(
        "cycles/plan_test_form.html",
        ctx=ctx,
        form=form,
        test=None,
        problem=problem,
        conflict=None,
        saved_idea=None,
        action=url_for("cycles.test_new", cycle_id=cycle_id, driver=preselect),
        **LABELS,
    )


@bp.route("/cycles/<int:cycle_id>/tests/<int:test_id>")
@login_required
def test_show(cycle_id: int, test_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    test = plan_queries.pdsa_in_cycle(ctx.cycle.id, test_id)
    return render_template(
        "cycles/plan_test_show.html",
        ctx=ctx,
        test=test,
        change_idea=plan_queries.change_idea_text(test),
        can_write=policy.can_edit_improvement_tests(current_user, ctx.cycle),
        **LABELS,
    )


@bp.route("/cycles/<int:cycle_id>/tests/<int:test_id>/edit", methods=["GET", "POST"])
@login_required
def test_edit(cycle_id: int, test_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    cycle = ctx.cycle
    require(policy.can_edit_improvement_tests(current_user, cycle))
    test = plan_queries.pdsa_in_cycle(cycle.id, test_id)
    form = _pdsa_form(cycle.id, test, None)
    problem = conflict = saved_idea = None
    if form.validate_on_submit():
        try:
            plan.update_test(
                current_user,
                cycle,
                test,
                _pdsa_data(form),
                _today(),
                version=parse_int(form.version.data),
            )
        except plan.StaleEdit as error:
            db.session.rollback()
            ctx = queries.load_cycle(cycle_id)
            test = plan_queries.pdsa_in_cycle(cycle_id, test_id)
            conflict = error.message
            form.version.data = str(test.version)
            saved_idea = plan_queries.change_idea_text(test)
        except plan.PlanError as error:
            db.session.rollback()
            ctx = queries.load_cycle(cycle_id)
            test = plan_queries.pdsa_in_cycle(cycle_id, test_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("Your changes to “%(title)s” have been saved.", title=test.title), "success")
            return redirect(url_for("cycles.test_show", cycle_id=cycle_id, test_id=test.id))
    return render_template(
        "cycles/plan_test_form.html",
        ctx=ctx,
        form=form,
        test=test,
        problem=problem,
        conflict=conflict,
        saved_idea=saved_idea,
        action=url_for("cycles.test_edit", cycle_id=cycle_id, test_id=test.id),
        **LABELS,
    )


# Stakeholder engagement ---------------------------------------------------------------------


@bp.route("/cycles/<int:cycle_id>/engagement")
@login_required
def engagement(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_view_cycle(current_user, ctx.cycle))
    totals = plan_queries.engagement_totals(ctx.cycle.id)
    return render_template(
        "cycles/plan_engagement.html",
        ctx=ctx,
        page=plan_queries.engagement_page(ctx.cycle.id, page_arg()),
        totals=totals,
        total_sessions=sum(total.sessions for total in totals),
        total_participants=sum(total.participants for total in totals),
        can_write=policy.can_log_engagement(current_user, ctx.cycle),
        **LABELS,
    )


def _engagement_data(form: EngagementForm) -> plan.EngagementData:
    return plan.EngagementData(
        held_on=form.held_on.data,
        group=form.group.data or None,
        participants=form.participants.data,
        heard_md=form.heard.data or "",
        changed_md=form.changed.data or "",
    )


@bp.route("/cycles/<int:cycle_id>/engagement/new", methods=["GET", "POST"])
@login_required
def engagement_new(cycle_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    cycle = ctx.cycle
    require(policy.can_log_engagement(current_user, cycle))
    form = EngagementForm()
    problem = None
    if form.validate_on_submit():
        try:
            session = plan.log_engagement(current_user, cycle, _engagement_data(form), _today())
        except plan.PlanError as error:
            db.session.rollback()
            ctx = queries.load_cycle(cycle_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(
                _(
                    "The session with %(group)s on %(date)s has been logged.",
                    group=str(GROUP_LABELS[session.group.value]).lower(),
                    date=_date(session.held_on),
                ),
                "success",
            )
            return redirect(url_for("cycles.engagement", cycle_id=cycle_id))
    return render_template(
        "cycles/plan_engagement_form.html",
        ctx=ctx,
        form=form,
        session=None,
        problem=problem,
        **LABELS,
    )


def _date(day: date) -> str:
    return str(format_date(day, "long"))


@bp.route("/cycles/<int:cycle_id>/engagement/<int:session_id>/edit", methods=["GET", "POST"])
@login_required
def engagement_edit(cycle_id: int, session_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    cycle = ctx.cycle
    require(policy.can_log_engagement(current_user, cycle))
    session = plan_queries.session_in_cycle(cycle.id, session_id)
    if request.method == "GET":
        form = EngagementForm(
            data={
                "held_on": session.held_on,
                "group": session.group,
                "participants": session.participants,
                "heard": session.heard_md,
                "changed": session.changed_md,
            }
        )
    else:
        form = EngagementForm()
    problem = None
    if form.validate_on_submit():
        try:
            plan.update_engagement(current_user, session, _engagement_data(form), _today())
        except plan.PlanError as error:
            db.session.rollback()
            ctx = queries.load_cycle(cycle_id)
            session = plan_queries.session_in_cycle(cycle_id, session_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("Your changes to the session have been saved."), "success")
            return redirect(url_for("cycles.engagement", cycle_id=cycle_id))
    return render_template(
        "cycles/plan_engagement_form.html",
        ctx=ctx,
        form=form,
        session=session,
        problem=problem,
        delete_form=EmptyForm(),
        **LABELS,
    )


@bp.route("/cycles/<int:cycle_id>/engagement/<int:session_id>/delete", methods=["POST"])
@login_required
def engagement_delete(cycle_id: int, session_id: int) -> Any:
    ctx = queries.load_cycle(cycle_id)
    require(policy.can_log_engagement(current_user, ctx.cycle))
    session: EngagementSession = plan_queries.session_in_cycle(ctx.cycle.id, session_id)
    form = EmptyForm()
    if form.validate_on_submit():
        group, held_on = session.group, session.held_on
        plan.delete_engagement(current_user, session)
        commit()
        flash(
            _(
                "The session with %(group)s on %(date)s has been deleted.",
                group=str(GROUP_LABELS[group.value]).lower(),
                date=_date(held_on),
            ),
            "success",
        )
    return redirect(url_for("cycles.engagement", cycle_id=cycle_id))

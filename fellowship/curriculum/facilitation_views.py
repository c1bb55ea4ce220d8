"""Facilitation pages: the feedback queue, giving feedback, the progress grid, one fellow's
progress, and due-date extensions.

Drafts of reflections are the fellow's own: these pages show a reflection only once it is
submitted, and a draft's address is not found for anyone here.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from babel.dates import format_skeleton
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.forms import EmptyForm
from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort, CohortRole
from fellowship.cohorts.queries import active_members
from fellowship.curriculum import bp
from fellowship.curriculum import facilitation_queries as facilitation
from fellowship.curriculum import facilitation_services as services
from fellowship.curriculum.facilitation_forms import (
    ExtensionForm,
    FeedbackForm,
    StrandFilterForm,
)
from fellowship.curriculum.models import (
    DueDateExtension,
    ItemKind,
    ItemProgress,
    Module,
    ModuleItem,
)
from fellowship.curriculum.queries import LockReason, State, local_today
from fellowship.db import commit, db, utcnow
from fellowship.forms import choices, parse_int
from fellowship.web import get_or_404, page_arg, require

QUEUE_PER_PAGE = 25
RECENT_DAYS = 14
RECENT_LIMIT = 20

STATE_LABELS = {
    State.LOCKED.value: _l("Locked"),
    State.NOT_STARTED.value: _l("Not started"),
    State.IN_PROGRESS.value: _l("In progress"),
    State.COMPLETE.value: _l("Complete"),
    State.OVERDUE.value: _l("Overdue"),
}
LOCK_LABELS = {
    LockReason.NOT_RELEASED.value: _l("not released yet"),
    LockReason.PREREQUISITE.value: _l("waiting for an earlier module"),
}


def _today() -> date:
    return local_today(str(current_user.timezone))


def _labels() -> dict[str, Any]:
    """Labels translated once per page rather than once per cell: a grid may have 1,800.
    `of` and `due` are formats, filled in with `%` by the template."""
    return {
        "state": {key: str(label) for key, label in STATE_LABELS.items()},
        "lock": {key: str(label) for key, label in LOCK_LABELS.items()},
        "of": _("%(done)d of %(total)d"),
        "due": _("due %(date)s"),
    }


@bp.app_template_filter("curriculum_day")
def curriculum_day(day: date) -> str:
    """ "Oct 1" in the viewer's language (a grid header has little room)."""
    return format_skeleton("MMMd", day, locale=get_locale())


# The feedback queue -----------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/curriculum/feedback")
@login_required
def feedback_queue(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_feedback_queue(current_user, cohort))
    waiting = facilitation.waiting(
        cohort.id,
        today=_today(),
        zone=str(current_user.timezone),
        page=page_arg(),
        per_page=QUEUE_PER_PAGE,
    )
    recent = facilitation.recent_feedback(
        cohort.id, since=utcnow() - timedelta(days=RECENT_DAYS), limit=RECENT_LIMIT + 1
    )
    return render_template(
        "curriculum/feedback_queue.html",
        cohort=cohort,
        waiting=waiting,
        recent=recent[:RECENT_LIMIT],
        more_recent=len(recent) > RECENT_LIMIT,
        recent_days=RECENT_DAYS,
        recent_limit=RECENT_LIMIT,
    )


# Giving feedback --------------------------------------------------------------------------


def _reflection_or_404(progress_id: int) -> tuple[ItemProgress, ModuleItem, Module]:
    """A submitted reflection, after `can_view_reflection` said yes; a draft is not found."""
    progress = get_or_404(ItemProgress, progress_id)
    item = get_or_404(ModuleItem, progress.item_id)
    module = get_or_404(Module, item.module_id)
    require(policy.can_view_reflection(current_user, progress, module))
    if item.kind != ItemKind.REFLECTION or progress.submitted_at is None:
        abort(404)
    return progress, item, module


@bp.route("/reflections/<int:progress_id>/feedback", methods=["GET", "POST"])
@login_required
def give_feedback(progress_id: int) -> Any:
    progress, item, module = _reflection_or_404(progress_id)
    may_give = policy.can_give_feedback(current_user, progress, module)
    if request.method == "POST":
        require(may_give)
    cohort = get_or_404(Cohort, module.cohort_id)
    if request.method == "POST":
        form = FeedbackForm()
    else:
        form = FeedbackForm(
            data={"feedback": progress.feedback_md, "version": str(progress.version)}
        )
    conflict = None
    if may_give and form.validate_on_submit():
        try:
            first = services.give_feedback(
                current_user, progress, form.feedback.data or "", form.expected_version()
            )
        except services.StaleReflection as error:
            db.session.rollback()
            progress, item, module = _reflection_or_404(progress_id)
            conflict = error.message
            # Saving again is now a deliberate choice made after reading the new version.
            form.version.data = str(progress.version)
        except services.CurriculumError as error:
            db.session.rollback()
            progress, item, module = _reflection_or_404(progress_id)
            form.feedback.errors = [*form.feedback.errors, error.message]
        else:
            commit()
            people = facilitation.names([progress.fellow_id])
            fellow_name = people.get(progress.fellow_id, "")
            if first:
                flash(
                    _(
                        "Your feedback has been saved. %(name)s is notified.",
                        name=fellow_name,
                    ),
                    "success",
                )
            else:
                flash(_("Your changes to the feedback have been saved."), "success")
            following = facilitation.next_waiting(cohort.id, other_than=progress.id)
            if following is not None:
                return redirect(url_for("curriculum.give_feedback", progress_id=following))
            flash(_("No other reflection is waiting for feedback."), "info")
            return redirect(url_for("curriculum.feedback_queue", cohort_id=cohort.id))
    people = facilitation.names([progress.fellow_id, progress.feedback_by_id])
    return render_template(
        "curriculum/feedback_form.html",
        cohort=cohort,
        module=module,
        item=item,
        progress=progress,
        fellow_name=people.get(progress.fellow_id, ""),
        feedback_by=people.get(progress.feedback_by_id or 0),
        form=form if may_give else None,
        conflict=conflict,
        has_next=may_give
        and facilitation.next_waiting(cohort.id, other_than=progress.id) is not None,
    )


# The progress grid ------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/curriculum/progress")
@login_required
def progress_grid(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_progress_grid(current_user, cohort))
    filter_form = StrandFilterForm(request.args)
    filter_form.strand.choices = choices(
        [("", _("All strands")), *((str(strand.id), strand.name) for strand in cohort.strands)]
    )
    strand_id = filter_form.strand_id({strand.id for strand in cohort.strands})
    today = _today()
    grid = facilitation.progress_grid(cohort.id, today, strand_id=strand_id)
    return render_template(
        "curriculum/progress_grid.html",
        cohort=cohort,
        grid=grid,
        today=today,
        filter_form=filter_form,
        strand=next((s for s in cohort.strands if s.id == strand_id), None),
        labels=_labels(),
    )


# One fellow's progress --------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/fellows/<int:fellow_id>/learning")
@login_required
def fellow_progress(cohort_id: int, fellow_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_fellow_progress(current_user, cohort, fellow_id))
    if facilitation.fellow_membership(cohort.id, fellow_id) is None:
        abort(404)
    fellow = get_or_404(User, fellow_id)
    today = _today()
    return render_template(
        "curriculum/fellow_progress.html",
        cohort=cohort,
        fellow=fellow,
        progress=facilitation.fellow_progress(cohort.id, fellow.id, today),
        today=today,
        own=fellow.id == current_user.id,
        labels=_labels(),
    )


# Extensions -------------------------------------------------------------------------------


def _fellow_choices(cohort: Cohort) -> list[Any]:
    fellows = active_members(cohort.id, CohortRole.FELLOW)
    return choices(
        [("", _("Choose a fellow")), *((str(user.id), user.name) for _m, user in fellows)]
    )


@bp.route("/modules/<int:module_id>/extensions", methods=["GET", "POST"])
@login_required
def extensions(module_id: int) -> Any:
    module = get_or_404(Module, module_id)
    require(policy.can_grant_extension(current_user, module))
    cohort = get_or_404(Cohort, module.cohort_id)
    form = ExtensionForm()
    form.fellow.choices = _fellow_choices(cohort)
    if request.method == "GET" and parse_int(request.args.get("fellow")) is not None:
        form.fellow.data = request.args["fellow"]
    if module.due_on is not None and form.validate_on_submit():
        fellow_id = form.fellow_id()
        try:
            extension = services.grant_extension(
                current_user,
                module,
                fellow_id or 0,
                form.due_on.data,
                form.reason.data or "",
            )
        except services.CurriculumError as error:
            db.session.rollback()
            target = {"fellow": form.fellow, "reason": form.reason}.get(
                error.field or "", form.due_on
            )
            target.errors = [*target.errors, error.message]
        else:
            commit()
            people = facilitation.names([extension.fellow_id])
            flash(
                _(
                    "%(name)s now has until %(date)s for “%(module)s”.",
                    name=people.get(extension.fellow_id, ""),
                    date=format_date(extension.due_on, "long"),
                    module=module.title,
                ),
                "success",
            )
            return redirect(url_for("curriculum.extensions", module_id=module.id))
    return render_template(
        "curriculum/extensions.html",
        cohort=cohort,
        module=module,
        form=form,
        rows=facilitation.extension_rows(module),
        remove_form=EmptyForm(),
    )


@bp.route("/extensions/<int:extension_id>/delete", methods=["POST"])
@login_required
def remove_extension(extension_id: int) -> Any:
    extension = get_or_404(DueDateExtension, extension_id)
    module = get_or_404(Module, extension.module_id)
    require(policy.can_grant_extension(current_user, module))
    if EmptyForm().validate_on_submit():
        people = facilitation.names([extension.fellow_id])
        services.remove_extension(current_user, extension)
        commit()
        flash(
            _(
                "The extension of %(name)s is removed: “%(module)s” is due on %(date)s for them "
                "again.",
                name=people.get(extension.fellow_id, ""),
                module=module.title,
                date=format_date(module.due_on, "long") if module.due_on else "—",
            ),
            "success",
        )
    return redirect(url_for("curriculum.extensions", module_id=module.id))

"""A fellow's learning: "My learning", a module's page, marking items done, reflections,
and file downloads.

The module page is for everyone who may view the module; only the viewer's own progress is
ever loaded, so it never shows another fellow's reflection. Controls appear only when
`policy.can_work_on_module` allows them, and the posts that they make ask it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.cohorts.models import Cohort
from fellowship.curriculum import bp
from fellowship.curriculum import learning_queries as learning
from fellowship.curriculum import learning_services as services
from fellowship.curriculum import queries as curriculum
from fellowship.curriculum.learning_forms import MarkDoneForm, ReflectionForm, reflection_form
from fellowship.curriculum.models import ItemKind, Module, ModuleItem
from fellowship.curriculum.queries import State
from fellowship.db import commit, db
from fellowship.uploads import StoredFile, send_stored_file
from fellowship.web import get_or_404, require


def _today() -> Any:
    return curriculum.local_today(current_user.timezone)


def _module_anchor(item: ModuleItem) -> str:
    return url_for("curriculum.module", module_id=item.module_id) + f"#item-{item.id}"


# Small helpers for the templates ------------------------------------------------------------


def web_address(url: str | None) -> str | None:
    """The address when it is an http(s) link, else None (never a javascript: link)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def host_of(url: str | None) -> str:
    address = web_address(url)
    return (urlsplit(address).hostname or "") if address else ""


HELPERS = {
    "web_address": web_address,
    "host_of": host_of,
}


# My learning ---------------------------------------------------------------------------------


@bp.route("/learning")
@login_required
def my_learning() -> Any:
    """Every cohort where the person is a fellow (alumni too), its modules in order."""
    memberships = [
        (membership, cohort)
        for membership, cohort in learning.fellow_memberships(current_user.id)
        if policy.can_view_learning(current_user, cohort)
    ]
    return render_template(
        "curriculum/learning.html",
        cohorts=learning.learning_of(current_user.id, memberships, _today()),
        single=None,
    )


@bp.route("/cohorts/<int:cohort_id>/learning")
@login_required
def cohort_learning(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_learning(current_user, cohort))
    memberships = [
        (membership, row_cohort)
        for membership, row_cohort in learning.fellow_memberships(current_user.id)
        if row_cohort.id == cohort.id
    ]
    return render_template(
        "curriculum/learning.html",
        cohorts=learning.learning_of(current_user.id, memberships, _today()),
        single=cohort,
    )


# The module page -------------------------------------------------------------------------------


@dataclass
class Posted:
    """A reflection form that came back with a problem, to show again as it was typed."""

    item_id: int
    form: ReflectionForm
    conflict: str | None = None


def _render_module(module: Module, posted: Posted | None = None) -> Any:
    cohort = get_or_404(Cohort, module.cohort_id)
    fellow_view = policy.can_view_learning(current_user, cohort)
    status = learning.fellow_status(module, current_user.id, _today()) if fellow_view else None
    # A locked module is never worked on; otherwise the policy decides (alumni, archived…).
    can_work = (
        status is not None
        and status.state != State.LOCKED
        and policy.can_work_on_module(current_user, module)
    )
    items = learning.module_items(module.id, current_user.id if fellow_view else None)
    forms: dict[int, ReflectionForm] = {}
    if can_work:
        for view in items:
            if view.item.kind != ItemKind.REFLECTION or view.has_feedback:
                continue
            if posted is not None and posted.item_id == view.item.id:
                form = posted.form
                if posted.conflict and view.progress is not None:
                    # Saving again is now a deliberate choice made after seeing the saved text.
                    form.version.data = str(view.progress.version)
            else:
                progress = view.progress
                form = reflection_form(
                    view.item.id,
                    formdata=None,
                    data={
                        "response": progress.response_md if progress else "",
                        "version": str(progress.version) if progress else "",
                    },
                )
            form.response.label.text = _("Your reflection on “%(title)s”", title=view.item.title)
            forms[view.item.id] = form
    strand = next((s.name for s in cohort.strands if s.id == module.strand_id), None)
    return render_template(
        "curriculum/module.html",
        module=module,
        cohort=cohort,
        strand=strand,
        status=status,
        fellow_view=fellow_view,
        can_work=can_work,
        items=items,
        forms=forms,
        posted=posted,
        **HELPERS,
    )


@bp.route("/modules/<int:module_id>")
@login_required
def module(module_id: int) -> Any:
    module = get_or_404(Module, module_id)
    require(policy.can_view_module(current_user, module))
    return _render_module(module)


@bp.route("/items/<int:item_id>/done", methods=["POST"])
@login_required
def mark_done(item_id: int) -> Any:
    item = get_or_404(ModuleItem, item_id)
    module = get_or_404(Module, item.module_id)
    require(policy.can_work_on_module(current_user, module))
    form = MarkDoneForm()
    if not form.validate_on_submit():
        flash(_("That did not work. Reload the page and try again."), "error")
        return redirect(_module_anchor(item))
    done = form.done.data == "1"
    try:
        services.mark_item_done(current_user, item, done)
    except services.CurriculumError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        commit()
        if done:
            flash(_("“%(item)s” is marked as done.", item=item.title), "success")
        else:
            flash(_("“%(item)s” is marked as not done.", item=item.title), "success")
    return redirect(_module_anchor(item))


@bp.route("/items/<int:item_id>/reflection", methods=["POST"])
@login_required
def save_reflection(item_id: int) -> Any:
    item = get_or_404(ModuleItem, item_id)
    module = get_or_404(Module, item.module_id)
    require(policy.can_work_on_module(current_user, module))
    if item.kind != ItemKind.REFLECTION:
        abort(404)
    form = reflection_form(item.id)
    posted = Posted(item_id=item.id, form=form)
    if form.validate_on_submit():
        submit = form.submitting()
        try:
            row = services.save_reflection(
                current_user,
                item,
                form.response.data or "",
                submit,
                form.expected_version(),
            )
        except services.StaleReflection as error:
            db.session.rollback()
            posted.conflict = error.message
        except services.CurriculumError as error:
            db.session.rollback()
            form.response.errors = [*form.response.errors, error.message]
        else:
            # The first submission stamps both times at once; a later save moves only one.
            was_new = row.submitted_at is not None and row.submitted_at == row.response_saved_at
            commit()
            if submit and was_new:
                flash(_("Your reflection on “%(item)s” is submitted.", item=item.title), "success")
            elif row.submitted_at is not None:
                flash(
                    _("Your changes are saved. Your reflection stays submitted."),
                    "success",
                )
            else:
                flash(_("Your draft of “%(item)s” is saved.", item=item.title), "success")
            return redirect(_module_anchor(item))
    return _render_module(module, posted)


@bp.route("/items/<int:item_id>/file")
@login_required
def download(item_id: int) -> Any:
    item = get_or_404(ModuleItem, item_id)
    module = get_or_404(Module, item.module_id)
    require(policy.can_view_module(current_user, module))
    if item.kind != ItemKind.FILE or item.stored_file_id is None:
        abort(404)
    stored = get_or_404(StoredFile, item.stored_file_id)
    return send_stored_file(stored)

"""Authoring pages: the builder, modules (new, edit, move, delete), their items (new, edit,
move, delete, per kind) and copying a curriculum from another cohort.

Staff and the cohort's facilitators see (`can_view_curriculum`) and change
(`can_edit_curriculum`) a cohort's curriculum; an archived cohort is read-only.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from fellowship import policy, uploads
from fellowship.auth.forms import EmptyForm
from fellowship.cohorts.models import Cohort
from fellowship.curriculum import authoring_queries, bp, queries
from fellowship.curriculum import services as authoring
from fellowship.curriculum.forms import (
    ADD_LABELS,
    ITEM_FORMS,
    KIND_LABELS,
    ConfirmCopyForm,
    CopySourceForm,
    FileForm,
    ModuleForm,
    MoveForm,
)
from fellowship.curriculum.models import ItemKind, Module, ModuleItem
from fellowship.db import commit, db
from fellowship.extensions import csrf
from fellowship.forms import parse_int
from fellowship.markdown import markdown_to_text
from fellowship.web import get_or_404, require

LABELS = {"kind_labels": KIND_LABELS, "add_labels": ADD_LABELS}
# The item kinds in the order of the "Add …" buttons.
KINDS = [ItemKind.READING, ItemKind.LINK, ItemKind.FILE, ItemKind.VIDEO, ItemKind.REFLECTION]


def _cohort_of(module: Module) -> Cohort:
    return get_or_404(Cohort, module.cohort_id)


def _builder_url(cohort_id: int, module_id: int | None = None) -> str:
    url = url_for("curriculum.builder", cohort_id=cohort_id)
    return f"{url}#module-{module_id}" if module_id else url


def _excerpt(text: str, limit: int = 80) -> str:
    """The start of a Markdown text as one plain line, for the items table."""
    plain = " ".join(markdown_to_text(text).split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def _items_url(module_id: int, item_id: int | None = None) -> str:
    url = url_for("curriculum.module_items", module_id=module_id)
    return f"{url}#item-{item_id}" if item_id else url


def _put_error(form: Any, error: authoring.CurriculumError) -> str | None:
    """Put the message next to its field; a message for no field is returned instead."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        return error.message
    target.errors = [*target.errors, error.message]
    return None


# The builder --------------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/curriculum")
@login_required
def builder(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_curriculum(current_user, cohort))
    return render_template(
        "curriculum/builder.html",
        cohort=cohort,
        rows=authoring_queries.builder_rows(cohort),
        can_edit=policy.can_edit_curriculum(current_user, cohort),
        move_form=MoveForm(),
    )


# Modules ------------------------------------------------------------------------------------


def _module_form(cohort: Cohort, module: Module | None) -> ModuleForm:
    if request.method != "GET" or module is None:
        form = ModuleForm()
    else:
        required = queries.prerequisites_for([module.id])[module.id]
        form = ModuleForm(
            data={
                "title": module.title,
                "strand": module.strand_id,
                "summary": module.summary,
                "outcomes_md": module.outcomes_md,
                "release_on": module.release_on,
                "due_on": module.due_on,
                "estimated_minutes": module.estimated_minutes,
                "prerequisites": required,
                "version": str(module.version),
            }
        )
    others = [
        (other.id, other.title)
        for other in queries.modules_for(cohort.id)
        if module is None or other.id != module.id
    ]
    form.set_choices([(strand.id, strand.name) for strand in cohort.strands], others)
    return form


def _module_data(form: ModuleForm) -> authoring.ModuleData:
    return authoring.ModuleData(
        title=form.title.data or "",
        strand_id=form.strand.data if isinstance(form.strand.data, int) else None,
        summary=form.summary.data or "",
        outcomes_md=form.outcomes_md.data or "",
        release_on=form.release_on.data,
        due_on=form.due_on.data,
        estimated_minutes=form.estimated_minutes.data,
        prerequisite_ids=list(form.prerequisites.data or []),
    )


@bp.route("/cohorts/<int:cohort_id>/curriculum/modules/new", methods=["GET", "POST"])
@login_required
def new_module(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_edit_curriculum(current_user, cohort))
    form = _module_form(cohort, None)
    problem = None
    if form.validate_on_submit():
        try:
            module = authoring.create_module(current_user, cohort, _module_data(form))
        except authoring.CurriculumError as error:
            db.session.rollback()
            problem = _put_error(form, error)
        else:
            commit()
            flash(
                _("The module “%(title)s” has been added. Now add its items.", title=module.title),
                "success",
            )
            return redirect(_items_url(module.id))
    return render_template(
        "curriculum/module_form.html",
        form=form,
        cohort=cohort,
        module=None,
        conflict=None,
        problem=problem,
    )


@bp.route("/modules/<int:module_id>/edit", methods=["GET", "POST"])
@login_required
def edit_module(module_id: int) -> Any:
    module = get_or_404(Module, module_id)
    cohort = _cohort_of(module)
    require(policy.can_edit_curriculum(current_user, cohort))
    form = _module_form(cohort, module)
    conflict = None
    problem = None
    saved_prerequisites: list[str] = []
    if form.validate_on_submit():
        version = parse_int(form.version.data)
        try:
            authoring.update_module(current_user, module, _module_data(form), version=version)
        except authoring.StaleEdit as error:
            db.session.rollback()
            module = get_or_404(Module, module_id)
            conflict = error.message
            # Saving again is now a deliberate choice made after seeing the saved module.
            form.version.data = str(module.version)
            titles = {other.id: other.title for other in queries.modules_for(cohort.id)}
            required = queries.prerequisites_for([module.id])[module.id]
            saved_prerequisites = [titles[i] for i in required if i in titles]
        except authoring.CurriculumError as error:
            db.session.rollback()
            module = get_or_404(Module, module_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("Your changes to “%(title)s” have been saved.", title=module.title), "success")
            return redirect(_builder_url(cohort.id, module.id))
    return render_template(
        "curriculum/module_form.html",
        form=form,
        cohort=cohort,
        module=module,
        conflict=conflict,
        problem=problem,
        saved_strand=next((s.name for s in cohort.strands if s.id == module.strand_id), None),
        saved_prerequisites=saved_prerequisites,
    )


@bp.route("/modules/<int:module_id>/move", methods=["POST"])
@login_required
def move_module(module_id: int) -> Any:
    module = get_or_404(Module, module_id)
    cohort = _cohort_of(module)
    require(policy.can_edit_curriculum(current_user, cohort))
    form = MoveForm()
    if form.validate_on_submit():
        direction = request.form.get("direction", "")
        if authoring.move_module(current_user, module, direction):
            commit()
            flash(
                _(
                    "“%(title)s” is now module %(position)d.",
                    title=module.title,
                    position=module.position + 1,
                ),
                "success",
            )
        else:
            db.session.rollback()
    return redirect(_builder_url(cohort.id, module_id))


@bp.route("/modules/<int:module_id>/delete", methods=["GET", "POST"])
@login_required
def delete_module(module_id: int) -> Any:
    module = get_or_404(Module, module_id)
    cohort = _cohort_of(module)
    require(policy.can_edit_curriculum(current_user, cohort))
    form = EmptyForm()
    if form.validate_on_submit():
        title = module.title
        try:
            authoring.delete_module(current_user, module)
        except authoring.CurriculumError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            flash(_("The module “%(title)s” has been deleted.", title=title), "success")
        return redirect(_builder_url(cohort.id))
    return render_template(
        "curriculum/module_delete.html",
        form=form,
        cohort=cohort,
        module=module,
        summary=authoring_queries.delete_summary(module),
    )


# Items --------------------------------------------------------------------------------------


@bp.route("/modules/<int:module_id>/items")
@login_required
def module_items(module_id: int) -> Any:
    module = get_or_404(Module, module_id)
    cohort = _cohort_of(module)
    require(policy.can_view_curriculum(current_user, cohort))
    items = queries.items_for([module.id])[module.id]
    return render_template(
        "curriculum/module_items.html",
        cohort=cohort,
        module=module,
        items=items,
        files=authoring_queries.stored_files(item.stored_file_id for item in items),
        excerpts={item.id: _excerpt(item.body_md) for item in items},
        can_edit=policy.can_edit_curriculum(current_user, cohort),
        move_form=MoveForm(),
        kinds=KINDS,
        **LABELS,
    )


def _kind_arg() -> ItemKind:
    try:
        return ItemKind(request.args.get("kind", ""))
    except ValueError:
        abort(404)


def _file_hint() -> str:
    return _(
        "%(kinds)s, at most %(mb)s MB.",
        kinds=uploads.describe_kinds(uploads.DOCUMENTS),
        mb=format(uploads.max_upload_bytes() / (1024 * 1024), "g"),
    )


def _item_form(kind: ItemKind, item: ModuleItem | None) -> Any:
    form_class = ITEM_FORMS[kind]
    options: dict[str, Any] = {}
    if form_class is FileForm:
        options = {"new": item is None, "accept": uploads.accept_attribute(uploads.DOCUMENTS)}
    if request.method != "GET" or item is None:
        return form_class(**options)
    data: dict[str, Any] = {
        "title": item.title,
        "required": item.required,
        "version": str(item.version),
    }
    if kind != ItemKind.FILE:
        data["body"] = item.body_md
    if kind in (ItemKind.LINK, ItemKind.VIDEO):
        data["url"] = item.url
    return form_class(data=data, **options)


def _item_data(form: Any) -> authoring.ItemData:
    upload = getattr(form, "file", None)
    return authoring.ItemData(
        title=form.title.data or "",
        body_md=(form.body.data or "") if hasattr(form, "body") else "",
        url=(form.url.data or "") if hasattr(form, "url") else None,
        upload=upload.data if upload is not None else None,
        required=bool(form.required.data),
    )


def _render_item_form(
    form: Any,
    module: Module,
    cohort: Cohort,
    kind: ItemKind,
    item: ModuleItem | None,
    *,
    conflict: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    stored = None
    if item is not None and item.stored_file_id is not None:
        stored = authoring_queries.stored_files([item.stored_file_id]).get(item.stored_file_id)
    body = render_template(
        "curriculum/item_form.html",
        form=form,
        module=module,
        cohort=cohort,
        kind=kind,
        item=item,
        stored=stored,
        conflict=conflict,
        problem=problem,
        file_hint=_file_hint() if kind == ItemKind.FILE else None,
        **LABELS,
    )
    return body, status


# Uploads are not checked by the app-wide CSRF hook: it reads the whole body before the view
# can raise the request's size limit for one upload. The FlaskForm checks its own CSRF token.
@bp.route("/modules/<int:module_id>/items/new", methods=["GET", "POST"])
@csrf.exempt
@login_required
def new_item(module_id: int) -> Any:
    module = get_or_404(Module, module_id)
    cohort = _cohort_of(module)
    require(policy.can_edit_curriculum(current_user, cohort))
    kind = _kind_arg()
    uploads.allow_upload_request()
    form = _item_form(kind, None)
    problem = None
    status = 200
    if form.validate_on_submit():
        try:
            item = authoring.create_item(current_user, module, kind, _item_data(form))
        except uploads.UploadRefused as refused:
            db.session.rollback()
            form.file.errors = [*form.file.errors, refused.message]
            status = 413 if refused.too_large else 200
        except authoring.CurriculumError as error:
            db.session.rollback()
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("“%(title)s” has been added.", title=item.title), "success")
            return redirect(_items_url(module.id, item.id))
    return _render_item_form(form, module, cohort, kind, None, problem=problem, status=status)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@csrf.exempt
@login_required
def edit_item(item_id: int) -> Any:
    item = get_or_404(ModuleItem, item_id)
    module = get_or_404(Module, item.module_id)
    cohort = _cohort_of(module)
    require(policy.can_edit_curriculum(current_user, cohort))
    uploads.allow_upload_request()
    kind = item.kind
    form = _item_form(kind, item)
    conflict = None
    problem = None
    status = 200
    if form.validate_on_submit():
        version = parse_int(form.version.data)
        try:
            authoring.update_item(current_user, item, _item_data(form), version=version)
        except uploads.UploadRefused as refused:
            db.session.rollback()
            item = get_or_404(ModuleItem, item_id)
            form.file.errors = [*form.file.errors, refused.message]
            status = 413 if refused.too_large else 200
        except authoring.StaleEdit as error:
            db.session.rollback()
            item = get_or_404(ModuleItem, item_id)
            conflict = error.message
            form.version.data = str(item.version)
        except authoring.CurriculumError as error:
            db.session.rollback()
            item = get_or_404(ModuleItem, item_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("Your changes to “%(title)s” have been saved.", title=item.title), "success")
            return redirect(_items_url(module.id, item.id))
    return _render_item_form(
        form, module, cohort, kind, item, conflict=conflict, problem=problem, status=status
    )


@bp.route("/items/<int:item_id>/move", methods=["POST"])
@login_required
def move_item(item_id: int) -> Any:
    item = get_or_404(ModuleItem, item_id)
    module = get_or_404(Module, item.module_id)
    cohort = _cohort_of(module)
    require(policy.can_edit_curriculum(current_user, cohort))
    form = MoveForm()
    if form.validate_on_submit():
        if authoring.move_item(current_user, item, request.form.get("direction", "")):
            commit()
            flash(
                _(
                    "“%(title)s” is now item %(position)d.",
                    title=item.title,
                    position=item.position + 1,
                ),
                "success",
            )
        else:
            db.session.rollback()
    return redirect(_items_url(module.id, item_id))


@bp.route("/items/<int:item_id>/delete", methods=["GET", "POST"])
@login_required
def delete_item(item_id: int) -> Any:
    item = get_or_404(ModuleItem, item_id)
    module = get_or_404(Module, item.module_id)
    cohort = _cohort_of(module)
    require(policy.can_edit_curriculum(current_user, cohort))
    form = EmptyForm()
    if form.validate_on_submit():
        title = item.title
        try:
            authoring.delete_item(current_user, item)
        except authoring.CurriculumError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            flash(_("“%(title)s” has been deleted.", title=title), "success")
        return redirect(_items_url(module.id))
    fellows, reflections = authoring_queries.item_progress_summary(item)
    return render_template(
        "curriculum/item_delete.html",
        form=form,
        cohort=cohort,
        module=module,
        item=item,
        fellows=fellows,
        reflections=reflections,
        **LABELS,
    )


# Copying a curriculum -----------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/curriculum/copy", methods=["GET", "POST"])
@login_required
def copy(cohort_id: int) -> Any:
    """Choose the cohort to copy from (GET), then see what copying would add (POST)."""
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_edit_curriculum(current_user, cohort))
    sources = authoring_queries.copy_sources(current_user, cohort)
    form = CopySourceForm()
    form.set_choices(
        [
            (
                source.id,
                ngettext(
                    "%(name)s (%(num)d module)",
                    "%(name)s (%(num)d modules)",
                    modules,
                    name=source.name,
                ),
            )
            for source, modules in sources
        ]
    )
    if form.validate_on_submit():
        source = get_or_404(Cohort, form.source.data)
        require(policy.can_copy_curriculum(current_user, cohort, source))
        try:
            plan = authoring.plan_copy(source, cohort)
        except authoring.CurriculumError as error:
            form.source.errors = [*form.source.errors, error.message]
        else:
            return render_template(
                "curriculum/copy_preview.html",
                cohort=cohort,
                plan=plan,
                form=ConfirmCopyForm(
                    data={"source": str(source.id), "modules_before": str(plan.first_position)}
                ),
            )
    return render_template("curriculum/copy.html", cohort=cohort, form=form, sources=sources)


@bp.route("/cohorts/<int:cohort_id>/curriculum/copy/apply", methods=["POST"])
@login_required
def copy_apply(cohort_id: int) -> Any:
    """Copy after the preview. The plan is made again here: nothing but the source's id is
    taken from the form."""
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_edit_curriculum(current_user, cohort))
    form = ConfirmCopyForm()
    source_id = parse_int(form.source.data)
    if not form.validate_on_submit() or source_id is None:
        flash(_("Choose the cohort to copy from, then confirm the copy."), "error")
        return redirect(url_for("curriculum.copy", cohort_id=cohort.id))
    source = get_or_404(Cohort, source_id)
    require(policy.can_copy_curriculum(current_user, cohort, source))
    try:
        modules = authoring.apply_copy(
            current_user, source, cohort, parse_int(form.modules_before.data)
        )
    except authoring.CurriculumError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("curriculum.copy", cohort_id=cohort.id))
    commit()
    flash(
        ngettext(
            "%(num)d module has been copied from %(source)s, after this cohort's own.",
            "%(num)d modules have been copied from %(source)s, after this cohort's own.",
            len(modules),
            source=source.name,
        ),
        "success",
    )
    return redirect(_builder_url(cohort.id, modules[0].id if modules else None))

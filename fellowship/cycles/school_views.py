"""Schools: the list (search and filters), add, edit, a school's page with its cycles over the
years, and the CSV import (upload → dry-run preview → confirm).

Staff manage schools (`can_manage_schools`); a school's page is also open to the members of
its cycles (`can_view_school`).

The import keeps nothing on the server between the preview and the confirm: the preview
carries the file's text in a signed, timed token naming the person who uploaded it, and
the confirm reads and plans that text again from scratch against the schools as they are
then. If the plan is not exactly the one previewed, nothing is applied and the new preview
is shown instead.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from fellowship import policy
from fellowship.cycles import bp, school_queries, school_services
from fellowship.cycles.models import School, SchoolLevel
from fellowship.cycles.school_forms import (
    LEVEL_LABELS,
    ImportConfirmForm,
    SchoolFilterForm,
    SchoolForm,
    SchoolImportForm,
)
from fellowship.cycles.setup_forms import STAGE_LABELS
from fellowship.cycles.setup_services import next_year_label
from fellowship.db import commit, db, utcnow
from fellowship.forms import parse_int
from fellowship.school_years import label_for
from fellowship.web import get_or_404, page_arg, require

TOKEN_MAX_AGE = 60 * 60  # seconds a preview stays confirmable
PREVIEW_ROWS = 200  # rows shown per list on the preview (the counts are always complete)
PREVIEW_ERRORS = 1000  # errors shown (a wrong column in a 5,000-row file is one fix)

LABELS = {"level_labels": LEVEL_LABELS, "stage_labels": STAGE_LABELS}


def _put_error(form: Any, error: school_services.SchoolError) -> str | None:
    """Put the message next to its field; a message for no field is returned instead."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        return error.message
    target.errors = [*target.errors, error.message]
    return None


# The list ------------------------------------------------------------------------------------


@bp.route("/schools/")
@login_required
def schools() -> Any:
    require(policy.can_manage_schools(current_user))
    form = SchoolFilterForm(request.args, regions=school_queries.regions())
    form.validate()  # shows what is wrong; the query ignores values it does not know
    filters = school_queries.SchoolFilters(
        text=(form.q.data or "")[:120],
        pilot=form.pilot.data or "",
        magnet=form.magnet.data or "",
        region=(form.region.data or "")[:80],
        active=form.active.data or "",
    )
    page = school_queries.search_schools(filters, page=page_arg())
    year = label_for(utcnow().date())
    this_year = school_queries.cycles_in_year([school.id for school in page.items], year)
    return render_template(
        "cycles/school_index.html",
        form=form,
        page=page,
        year=year,
        this_year=this_year,
        args={
            "q": filters.text,
            "pilot": filters.pilot,
            "magnet": filters.magnet,
            "region": filters.region,
            "active": filters.active,
        },
        **LABELS,
    )


# Adding and editing ---------------------------------------------------------------------------


def _school_data(form: SchoolForm) -> school_services.SchoolData:
    return school_services.SchoolData(
        code=form.code.data or "",
        name=form.name.data or "",
        level=form.level.data or "",
        is_magnet=bool(form.is_magnet.data),
        magnet_theme=form.magnet_theme.data or "",
        is_pilot=bool(form.is_pilot.data),
        region=form.region.data or "",
        is_active=bool(form.is_active.data),
    )


@bp.route("/schools/new", methods=["GET", "POST"])
@login_required
def school_new() -> Any:
    require(policy.can_manage_schools(current_user))
    form = SchoolForm()
    problem = None
    if form.validate_on_submit():
        try:
            school = school_services.create_school(current_user, _school_data(form))
        except school_services.SchoolError as error:
            db.session.rollback()
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("The school %(name)s has been added.", name=school.name), "success")
            return redirect(url_for("cycles.school_show", school_id=school.id))
    return render_template(
        "cycles/school_form.html", form=form, school=None, conflict=None, problem=problem
    )


@bp.route("/schools/<int:school_id>/edit", methods=["GET", "POST"])
@login_required
def school_edit(school_id: int) -> Any:
    school = get_or_404(School, school_id)
    require(policy.can_manage_schools(current_user))
    if request.method == "GET":
        form = SchoolForm(obj=school)
        form.level.data = school.level.value
        form.version.data = str(school.version)
    else:
        form = SchoolForm()
    conflict = None
    problem = None
    if form.validate_on_submit():
        try:
            school_services.update_school(
                current_user, school, _school_data(form), version=parse_int(form.version.data)
            )
        except school_services.StaleSchool as error:
            db.session.rollback()
            school = get_or_404(School, school_id)
            conflict = error.message
            # Saving again is now a deliberate choice made after seeing the saved school.
            form.version.data = str(school.version)
        except school_services.SchoolError as error:
            db.session.rollback()
            school = get_or_404(School, school_id)
            problem = _put_error(form, error)
        else:
            commit()
            flash(_("Your changes to %(name)s have been saved.", name=school.name), "success")
            return redirect(url_for("cycles.school_show", school_id=school.id))
    return render_template(
        "cycles/school_form.html",
        form=form,
        school=school,
        conflict=conflict,
        problem=problem,
        **LABELS,
    )


# A school's page ------------------------------------------------------------------------------


@bp.route("/schools/<int:school_id>")
@login_required
def school_show(school_id: int) -> Any:
    school = get_or_404(School, school_id)
    require(policy.can_view_school(current_user, school))
    cycles = school_queries.school_cycles(school.id)
    labels = {year.label for _cycle, year in cycles}
    current = label_for(utcnow().date())
    # The year staff would most likely open next: this one, or the one after the latest.
    suggested = current
    if current in labels:
        suggested = next_year_label(max(labels))
        while suggested in labels:  # pragma: no cover - max() has no successor in labels
            suggested = next_year_label(suggested)
    latest = cycles[0] if cycles else None
    carry_from = None
    if latest is not None and next_year_label(latest[1].label) not in labels:
        carry_from = latest
    return render_template(
        "cycles/school_show.html",
        school=school,
        cycles=cycles,
        suggested=suggested,
        carry_from=carry_from,
        next_year_label=next_year_label,
        **LABELS,
    )


# The CSV import -------------------------------------------------------------------------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="school-import")


def _file_label(filename: str | None) -> str:
    """The uploaded file's name, for messages only (never used to store anything)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:80]
    return name if name.strip(".") else "schools.csv"


def _preview(
    plan: school_services.ImportPlan, text: str, label: str, failed: str | None = None
) -> str:
    confirm = None
    if plan.ok and plan.has_work:
        token = _serializer().dumps(
            {"text": text, "file": label, "actor": current_user.id, "plan": plan.fingerprint()}
        )
        confirm = ImportConfirmForm(formdata=None, token=token)
    return render_template(
        "cycles/school_import_preview.html",
        plan=plan,
        counts=plan.counts(),
        file_label=label,
        confirm_form=confirm,
        failed=failed,
        limit=PREVIEW_ROWS,
        error_limit=PREVIEW_ERRORS,
        **LABELS,
    )


@bp.route("/schools/import", methods=["GET", "POST"])
@login_required
def schools_import() -> Any:
    require(policy.can_manage_schools(current_user))
    if request.method == "POST" and "token" in request.form:
        return _confirm_import()
    form = SchoolImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        label = _file_label(upload.filename)
        try:
            text = school_services.decode_csv(upload.read())
        except school_services.ImportFileError as error:
            form.file.errors = [*form.file.errors, error.message]
        else:
            return _preview(school_services.plan_school_import(text), text, label)
    return render_template(
        "cycles/school_import.html",
        form=form,
        header=",".join(school_services.HEADER),
        levels=list(SchoolLevel),
        max_mb=f"{int(current_app.config['MAX_CONTENT_LENGTH']) / (1024 * 1024):g}",
        **LABELS,
    )


def _confirm_import() -> Any:
    form = ImportConfirmForm()
    back = redirect(url_for("cycles.schools_import"))
    if not form.validate_on_submit():
        flash(_("This import could not be confirmed. Upload the file again."), "error")
        return back
    try:
        payload = _serializer().loads(form.token.data or "", max_age=TOKEN_MAX_AGE)
    except SignatureExpired:
        flash(_("This preview is more than an hour old. Upload the file again."), "error")
        return back
    except BadSignature:
        flash(_("This import could not be confirmed. Upload the file again."), "error")
        return back
    if not isinstance(payload, dict) or payload.get("actor") != current_user.id:
        flash(_("This import could not be confirmed. Upload the file again."), "error")
        return back
    text = str(payload.get("text", ""))
    label = _file_label(str(payload.get("file", "")))
    plan = school_services.plan_school_import(text)
    if not plan.ok:
        return _preview(
            plan,
            text,
            label,
            failed=_(
                "Nothing was imported: the file no longer imports cleanly. Fix the problems "
                "below and upload it again."
            ),
        )
    if plan.fingerprint() != payload.get("plan"):
        return _preview(
            plan,
            text,
            label,
            failed=_(
                "Nothing was imported: the schools changed since the preview, so the import "
                "would now do something else. Check the new preview below and confirm again."
            ),
        )
    try:
        counts = school_services.apply_school_import(current_user, plan, file_label=label)
    except school_services.SchoolError as error:
        db.session.rollback()
        flash(error.message, "error")
        return back
    commit()
    flash(
        _(
            "Schools imported. Added: %(added)d. Updated: %(updated)d. Unchanged: %(unchanged)d.",
            **counts,
        ),
        "success",
    )
    return redirect(url_for("cycles.schools"))

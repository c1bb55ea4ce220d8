"""Enrollment counts in: the CSV import (upload → dry-run preview → confirm), its template
files, and the admin raw-data screen (the one place counts are shown without suppression).

Staff import (`can_import_enrollment`); only admins see raw counts (`can_view_raw_enrollment`).

A counts file can be tens of megabytes, too much to carry through the page as the school
import does. The upload is kept on the server under the person's id and the sha256 of its
bytes, and the preview carries a signed, timed token naming {the person, that sha256, the
plan's fingerprint}. The confirm reads the kept file, checks its sha256, takes the import lock
(`import_services.lock_imports`: an import being applied by someone else is waited for), plans
it again from scratch against the counts as they are then, and applies it only when the
fingerprint is the one previewed; otherwise it shows the new preview instead.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from fellowship import policy
from fellowship.cycles.school_services import ImportFileError
from fellowship.db import commit, db, utcnow
from fellowship.extensions import csrf
from fellowship.forms import parse_int
from fellowship.integration import bp, import_queries
from fellowship.integration import import_services as counts
from fellowship.integration.import_forms import (
    GROUP_LABELS,
    MEASURE_LABELS,
    CountsConfirmForm,
    CountsUploadForm,
    RawCountsForm,
)
from fellowship.integration.models import GRADES, Group, Measure
from fellowship.school_years import label_for
from fellowship.web import require

TOKEN_MAX_AGE = 60 * 60  # seconds a preview stays confirmable
FORM_OVERHEAD = 64 * 1024  # room for the multipart envelope around the file
PREVIEW_ROWS = 200  # school-years listed on the preview (the counts are always complete)

LABELS = {"measure_labels": MEASURE_LABELS, "group_labels": GROUP_LABELS}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="counts-import")


def _file_label(filename: str | None) -> str:
    """The uploaded file's name, for messages only (never used to store anything)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:80]
    return name if name.strip(".") else "counts.csv"


def _max_mb() -> str:
    return f"{counts.max_upload_bytes() / (1024 * 1024):g}"


def _preview(
    plan: counts.CountsPlan, label: str, token: str | None, failed: str | None = None
) -> str:
    return render_template(
        "integration/import_preview.html",
        plan=plan,
        counts=plan.counts_summary(),
        file_label=label,
        confirm_form=CountsConfirmForm(formdata=None, token=token) if token else None,
        failed=failed,
        limit=PREVIEW_ROWS,
        error_limit=counts.MAX_ERRORS,
        **LABELS,
    )


def _sign(sha256: str, plan: counts.CountsPlan, label: str) -> str:
    return str(
        _serializer().dumps(
            {"actor": current_user.id, "sha256": sha256, "plan": plan.fingerprint(), "file": label}
        )
    )


# The upload is not checked by the app-wide CSRF hook: that hook reads the whole request body
# before any view runs, and this view must first raise the body limit to the counts limit. The
# forms check their own CSRF token (FlaskForm), so a post without one is still refused.
@bp.route("/import", methods=["GET", "POST"])
@csrf.exempt
@login_required
def import_counts() -> Any:
    require(policy.can_import_enrollment(current_user))
    limit = counts.max_upload_bytes()
    request.max_content_length = limit + FORM_OVERHEAD
    if request.method == "POST" and "token" in request.form:
        return _confirm()
    form = CountsUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            abort(413)
        label = _file_label(upload.filename)
        try:
            text = counts.decode_counts_csv(data)
        except ImportFileError as error:
            form.file.errors = [*form.file.errors, error.message]
        else:
            plan = counts.plan_counts_import(text)
            token = None
            if plan.ok and plan.has_work:
                token = _sign(counts.keep_upload(current_user.id, data), plan, label)
            return _preview(plan, label, token)
    return render_template(
        "integration/import.html",
        form=form,
        long_header=",".join(counts.LONG_HEADER),
        wide_header=",".join((*counts.KEY_COLUMNS, *counts.GROUP_COLUMNS)),
        measures=list(Measure),
        groups=list(Group),
        grades=GRADES,
        max_mb=_max_mb(),
        **LABELS,
    )


def _busy() -> str:
    """Why a confirm the database refused or could not finish (a unique violation, a lock it
    waited too long for, a deadlock) imported nothing."""
    return _(
        "Nothing was imported: the database refused a change (someone may have imported the "
        "same school-years meanwhile). Upload the file again."
    )


def _confirm() -> Any:
    form = CountsConfirmForm()
    back = redirect(url_for("integration.import_counts"))
    refused = _("This import could not be confirmed. Upload the file again.")
    if not form.validate_on_submit():
        flash(refused, "error")
        return back
    try:
        payload = _serializer().loads(form.token.data or "", max_age=TOKEN_MAX_AGE)
    except SignatureExpired:
        flash(_("This preview is more than an hour old. Upload the file again."), "error")
        return back
    except BadSignature:
        flash(refused, "error")
        return back
    if not isinstance(payload, dict):
        flash(refused, "error")
        return back
    if payload.get("actor") != current_user.id:
        flash(_("This import was prepared by someone else. Upload the file yourself."), "error")
        return back
    label = _file_label(str(payload.get("file", "")))
    sha256 = payload.get("sha256")
    try:
        data = counts.read_kept_upload(current_user.id, sha256)
        text = counts.decode_counts_csv(data)
    except counts.CountsImportError as error:
        flash(error.message, "error")
        return back
    except ImportFileError:  # pragma: no cover - the kept bytes were decoded at the upload
        flash(refused, "error")
        return back
    try:
        # Under the import lock: an import someone else is applying now is waited for, and
        # this plan sees its counts.
        plan = counts.plan_counts_import(text, lock=True)
    except sa.exc.OperationalError:
        db.session.rollback()
        flash(_busy(), "error")
        return back
    if not plan.ok:  # nothing was written: planning only reads
        return _preview(
            plan,
            label,
            None,
            failed=_(
                "Nothing was imported: the file no longer imports cleanly (schools changed "
                "since the preview). Fix the problems below and upload it again."
            ),
        ), 409
    if plan.fingerprint() != payload.get("plan"):
        return _preview(
            plan,
            label,
            _sign(str(sha256), plan, label),
            failed=_(
                "Nothing was imported: the counts of these schools changed since the preview, "
                "so the import would now do something else. Check the new preview below and "
                "confirm again."
            ),
        ), 409
    try:
        done = counts.apply_counts_import(current_user, plan, file_label=label)
        commit()
    except (counts.CountsImportError, sa.exc.IntegrityError, sa.exc.OperationalError) as error:
        db.session.rollback()
        flash(getattr(error, "message", None) or _busy(), "error")
        return back
    counts.drop_kept_upload(current_user.id, sha256)
    flash(
        _(
            "Counts imported: %(rows)d counts for %(schools)d schools. School-years added: "
            "%(school_years_new)d. Replaced: %(school_years_replaced)d.",
            **done,
        ),
        "success",
    )
    return back


@bp.route("/import/template.csv")
@login_required
def import_template() -> Any:
    require(policy.can_import_enrollment(current_user))
    layout = request.args.get("format", counts.LONG)
    if layout not in (counts.LONG, counts.WIDE):
        abort(404)
    body = counts.template_csv(layout, label_for(utcnow().date()))
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="enrollment-counts-{layout}.csv"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# The raw-data screen --------------------------------------------------------------------------


@bp.route("/raw")
@login_required
def raw_counts() -> Any:
    require(policy.can_view_raw_enrollment(current_user))
    schools = import_queries.school_options()
    years = import_queries.year_options()
    form = RawCountsForm(request.args, schools=schools, years=years)
    form.validate()  # shows what is wrong; unknown values are ignored below
    school_id = None
    code = (form.code.data or "").strip()[:32]
    if code:
        school_id = import_queries.school_id_for_code(code)
        if school_id is None:
            form.code.errors = [*form.code.errors, _("No school has the code %(code)s.", code=code)]
    else:
        school_id = parse_int(form.school.data) if not form.school.errors else None
    school = next((row for row in schools if row[0] == school_id), None)
    year_id = parse_int(form.year.data) if not form.year.errors else None
    if school is not None and year_id is None:
        year_id = import_queries.latest_year_with_counts(school[0])
    year_label = next((label for known_id, label in years if known_id == year_id), None)
    tables = []
    if school is not None and year_id is not None and year_label is not None:
        tables = import_queries.raw_tables(school[0], year_id)
    if school is not None:
        form.school.data = str(school[0])
    return render_template(
        "integration/raw_counts.html",
        form=form,
        school=school,
        year_label=year_label,
        tables=tables,
        groups=list(Group),
        **LABELS,
    )

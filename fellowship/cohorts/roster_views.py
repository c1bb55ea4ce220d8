"""Roster import pages (upload, dry-run preview, confirm).

Upload → the file is read and planned against the cohort without writing anything, and the
preview shows what would change and every error by file and line. Without errors the file
is kept (under a server-made name) and the preview carries a signed token naming it, the
cohort and the person; "Confirm import" re-reads and re-plans the kept file and applies it
in one transaction, so nothing is half-imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from fellowship import policy
from fellowship.auth.models import Role
from fellowship.cohorts import bp, roster
from fellowship.cohorts import roster_services as imports
from fellowship.cohorts.forms import MEMBERSHIP_STATUS_LABELS, ROLE_LABELS
from fellowship.cohorts.models import Cohort
from fellowship.cohorts.roster_forms import KIND_LABELS, ConfirmImportForm, RosterUploadForm
from fellowship.db import commit, db
from fellowship.extensions import csrf
from fellowship.web import get_or_404, require

TOKEN_MAX_AGE = 60 * 60  # seconds a preview stays confirmable
# Room for the multipart envelope and the other fields around the file itself.
FORM_OVERHEAD = 64 * 1024
PREVIEW_ROWS = 200  # rows shown per list on the preview (the counts are always complete)
PREVIEW_ERRORS = 1000  # errors shown (a wrong column in a 10,000-row file is one fix)

LABELS = {"role_labels": ROLE_LABELS, "membership_status_labels": MEMBERSHIP_STATUS_LABELS}


@dataclass(frozen=True)
class Ticket:
    """What a confirm token names: the stored upload, how to read it, for whom and where."""

    upload: str
    sha256: str
    cohort_id: int
    actor_id: int
    kind: str
    class_id: str
    locale: str
    label: str
    plan: str  # Plan.fingerprint() of the preview


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="roster-import")


def _sign(ticket: Ticket) -> str:
    return str(_serializer().dumps(ticket.__dict__))


def _read_ticket(token: str, cohort: Cohort) -> Ticket:
    try:
        payload = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except SignatureExpired as error:
        raise imports.RosterImportError(
            _("This preview is more than an hour old. Upload the file again.")
        ) from error
    except BadSignature as error:
        raise imports.RosterImportError(
            _("This import could not be confirmed. Upload the file again.")
        ) from error
    try:
        ticket = Ticket(**payload)
    except TypeError as error:
        raise imports.RosterImportError(
            _("This import could not be confirmed. Upload the file again.")
        ) from error
    if ticket.cohort_id != cohort.id:
        raise imports.RosterImportError(_("This import was prepared for another cohort."))
    if ticket.actor_id != current_user.id:
        raise imports.RosterImportError(_("This import was prepared by someone else."))
    return ticket


def _file_label(filename: str | None) -> str:
    """The uploaded file's name, for messages only (never used to store anything)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:80]
    return name if name.strip(".") else "roster.csv"


def _may_grant_staff() -> bool:
    return policy.can_invite_with_role(current_user, Role.STAFF)


def _preview(cohort: Cohort, plan: roster.Plan, token: str | None, **extra: Any) -> str:
    form = ConfirmImportForm(token=token) if token else None
    return render_template(
        "cohorts/roster_preview.html",
        cohort=cohort,
        plan=plan,
        counts=plan.counts(),
        confirm_form=form,
        limit=PREVIEW_ROWS,
        error_limit=PREVIEW_ERRORS,
        deliver_now_limit=imports.DELIVER_NOW_LIMIT,
        **LABELS,
        **extra,
    )


# The upload is not checked by the app-wide CSRF hook: that hook reads the whole request body
# before any view runs, and this view must first cap the body at the roster limit. The form
# checks its own CSRF token (FlaskForm), so the upload is still refused without one.
@bp.route("/<int:cohort_id>/import", methods=["GET", "POST"])
@csrf.exempt
@login_required
def roster_import(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_manage_cohort_members(current_user, cohort))
    limit = int(current_app.config["ROSTER_MAX_BYTES"])
    request.max_content_length = limit + FORM_OVERHEAD
    form = RosterUploadForm()
    if request.method == "GET" and current_user.locale in current_app.config["LANGUAGES"]:
        form.locale.data = current_user.locale
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.stream.read(limit + 1)
        if len(data) > limit:
            abort(413)
        label = _file_label(upload.filename)
        class_id = (form.class_id.data or "").strip()
        locale = form.locale.data or "en"
        try:
            kind = roster.detect_kind(data) if form.kind.data == roster.AUTO else form.kind.data
            plan = imports.plan_import(
                cohort,
                data,
                kind=kind,
                file_label=label,
                class_id=class_id,
                may_grant_staff=_may_grant_staff(),
                default_locale=locale,
            )
        except roster.RosterFileError as error:
            form.file.errors = [*form.file.errors, error.message]
        else:
            token = None
            if plan.ok and plan.has_work:
                stored = imports.store_upload(data, kind)
                token = _sign(
                    Ticket(
                        upload=stored.name,
                        sha256=stored.sha256,
                        cohort_id=cohort.id,
                        actor_id=current_user.id,
                        kind=kind,
                        class_id=class_id,
                        locale=locale,
                        label=label,
                        plan=plan.fingerprint(),
                    )
                )
            return _preview(cohort, plan, token, file_label=label)
    return render_template(
        "cohorts/roster_import.html",
        cohort=cohort,
        form=form,
        max_mb=f"{limit / (1024 * 1024):g}",
        kind_labels=KIND_LABELS,
    )


@bp.route("/<int:cohort_id>/import/confirm", methods=["POST"])
@login_required
def roster_import_confirm(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_manage_cohort_members(current_user, cohort))
    form = ConfirmImportForm()
    back = redirect(url_for("cohorts.roster_import", cohort_id=cohort.id))
    if not form.validate_on_submit():
        flash(_("This import could not be confirmed. Upload the file again."), "error")
        return back
    try:
        ticket = _read_ticket(form.token.data or "", cohort)
        data = imports.read_upload(ticket.upload, ticket.sha256)
        plan = imports.plan_import(
            cohort,
            data,
            kind=ticket.kind,
            file_label=ticket.label,
            class_id=ticket.class_id,
            may_grant_staff=_may_grant_staff(),
            default_locale=ticket.locale,
        )
    except imports.RosterImportError as error:
        flash(error.message, "error")
        return back
    except roster.RosterFileError as error:
        flash(error.message, "error")
        return back
    if plan.ok and plan.fingerprint() != ticket.plan:
        return _preview(
            cohort,
            plan,
            None,
            file_label=ticket.label,
            failed=_(
                "Nothing was imported: the cohort changed since the preview, so the import "
                "would now do something else. Check the new preview below and upload the file "
                "again to confirm it."
            ),
        ), 409
    if not plan.ok:  # nothing was written: planning only reads
        return _preview(
            cohort,
            plan,
            None,
            file_label=ticket.label,
            failed=_(
                "Nothing was imported: the file no longer imports cleanly (the cohort changed "
                "since the preview). Fix the problems below and upload it again."
            ),
        ), 409
    try:
        counts = imports.apply_plan(
            current_user, cohort, plan, file_label=ticket.label, kind=ticket.kind
        )
        commit()
    except (imports.RosterImportError, sa.exc.IntegrityError, sa.exc.DataError):
        db.session.rollback()
        current_app.logger.exception("roster import into cohort %s failed", cohort.id)
        flash(
            _(
                "Nothing was imported: the database refused a change (someone may have added "
                "the same people meanwhile). Upload the file again to see what is left."
            ),
            "error",
        )
        return back
    imports.delete_upload(ticket.upload)
    policy.forget_cached_memberships()
    flash(
        _(
            "Roster imported. New people invited: %(created)d. Added to the cohort: "
            "%(added)d. Memberships changed: %(changed)d. Coach assignments: %(coaches)d. "
            "Unchanged: %(unchanged)d.",
            **counts,
        ),
        "success",
    )
    return redirect(url_for("cohorts.members", cohort_id=cohort.id))

"""A fellow's capstone: start it, read it (status, what happens next, the working draft,
the versions with their decisions), edit its details and the working draft, attach and
remove files, submit, read one version (with the reviews the reader may see), download a
file, publish to the practice library, and record the graduate's outcome.

Who may do what is `policy`: the fellow edits and submits (`can_edit_capstone`); the fellow,
their coach, the cohort's facilitators, staff and the assigned reviewers read
(`can_view_capstone`, `can_view_capstone_version`).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy, uploads
from fellowship.auth.forms import EmptyForm
from fellowship.auth.models import User
from fellowship.capstones import bp, queries
from fellowship.capstones import services as capstones
from fellowship.capstones.forms import (
    DECISION_LABELS,
    OUTCOME_KIND_LABELS,
    RECOMMENDATION_LABELS,
    SCHOOL_LEVEL_LABELS,
    STAGE_LABELS,
    STATUS_LABELS,
    CapstoneEditForm,
    CapstoneForm,
    FileForm,
    OutcomeForm,
    PublishForm,
    SubmitForm,
    WithdrawForm,
)
from fellowship.capstones.models import (
    Capstone,
    CapstoneStatus,
    CapstoneVersion,
    CapstoneVersionFile,
    GraduateOutcome,
)
from fellowship.cohorts.models import Cohort, CohortStatus
from fellowship.curriculum.learning_views import HELPERS as FILE_HELPERS
from fellowship.db import commit, db
from fellowship.extensions import csrf
from fellowship.forms import choices, parse_int
from fellowship.markdown import markdown_to_text
from fellowship.uploads import StoredFile, send_stored_file
from fellowship.web import get_or_404, require

LABELS = {
    "status_labels": STATUS_LABELS,
    "stage_labels": STAGE_LABELS,
    "level_labels": SCHOOL_LEVEL_LABELS,
    "decision_labels": DECISION_LABELS,
    "recommendation_labels": RECOMMENDATION_LABELS,
    "outcome_labels": OUTCOME_KIND_LABELS,
    **FILE_HELPERS,
}


def _cohort_of(capstone: Capstone) -> Cohort:
    return get_or_404(Cohort, capstone.cohort_id)


def _detail_url(capstone: Capstone, anchor: str | None = None) -> str:
    return url_for("capstones.detail", capstone_id=capstone.id, _anchor=anchor)


def _put_error(form: Any, error: capstones.CapstoneError) -> str | None:
    """Put the message next to its field; a message for no field is returned instead."""
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        return error.message
    target.errors = [*target.errors, error.message]
    return None


def _excerpt(text: str, limit: int = 400) -> str:
    plain = " ".join(markdown_to_text(text).split())
    return plain if len(plain) <= limit else plain[: limit - 1].rstrip() + "…"


def _file_hint() -> str:
    return _(
        "%(kinds)s, at most %(mb)s MB each, and at most %(max)d files.",
        kinds=uploads.describe_kinds(uploads.DOCUMENTS_AND_IMAGES),
        mb=format(uploads.max_upload_bytes() / (1024 * 1024), "g"),
        max=capstones.MAX_FILES,
    )


# Starting --------------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/capstone")
@login_required
def mine(cohort_id: int) -> Any:
    """The signed-in fellow's capstone in the cohort, or the form to start it."""
    cohort = get_or_404(Cohort, cohort_id)
    existing = queries.capstone_for(cohort.id, current_user.id)
    if existing is not None and policy.can_view_capstone(current_user, existing):
        return redirect(_detail_url(existing))
    nothing_to_start = not policy.can_create_capstone(current_user, cohort)
    if existing is None and nothing_to_start and policy.can_view_learning(current_user, cohort):
        # An alumnus, or an archived cohort: nothing to start any more.
        flash(_("You have no capstone in this cohort."), "info")
        return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    require(policy.can_create_capstone(current_user, cohort))
    return redirect(url_for("capstones.new", cohort_id=cohort.id))


def _details_form(form_class: type[CapstoneForm], cohort: Cohort, capstone: Any = None) -> Any:
    if request.method != "GET" or capstone is None:
        form = form_class()
    else:
        form = form_class(data=_saved_details(capstone))
    form.set_strands([(strand.id, strand.name) for strand in cohort.strands])
    return form


def _details_data(form: CapstoneForm) -> capstones.CapstoneData:
    return capstones.CapstoneData(
        title=form.title.data or "",
        summary=form.summary.data or "",
        problem_md=form.problem_md.data or "",
        community_md=form.community_md.data or "",
        strand_id=form.strand.data if isinstance(form.strand.data, int) else None,
        school_level=form.school_level.data or None,
        topics=form.topics.data or "",
    )


@bp.route("/cohorts/<int:cohort_id>/capstone/new", methods=["GET", "POST"])
@login_required
def new(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_create_capstone(current_user, cohort))
    existing = queries.capstone_for(cohort.id, current_user.id)
    if existing is not None:
        if request.method == "POST":
            flash(str(capstones.ALREADY_STARTED), "info")
        return redirect(_detail_url(existing))
    form = _details_form(CapstoneForm, cohort)
    problem = None
    if form.validate_on_submit():
        try:
            capstone = capstones.start_capstone(current_user, cohort, _details_data(form))
        except capstones.AlreadyStarted as started:
            db.session.rollback()
            flash(started.message, "info")
            return redirect(_detail_url(started.capstone))
        except capstones.CapstoneError as error:
            db.session.rollback()
            problem = _put_error(form, error)
        else:
            commit()
            flash(
                _(
                    "Your capstone “%(title)s” is started. Next, write your proposal and "
                    "attach any files, then submit it.",
                    title=capstone.title,
                ),
                "success",
            )
            return redirect(_detail_url(capstone))
    return render_template(
        "capstones/capstone_form.html",
        form=form,
        cohort=cohort,
        capstone=None,
        problem=problem,
        **LABELS,
    )


# Reading ---------------------------------------------------------------------------------


@bp.route("/capstones/<int:capstone_id>")
@login_required
def detail(capstone_id: int) -> Any:
    capstone = get_or_404(Capstone, capstone_id)
    require(policy.can_view_capstone(current_user, capstone))
    cohort = _cohort_of(capstone)
    fellow = get_or_404(User, capstone.fellow_id)
    draft = queries.draft_of(capstone.id)
    if draft is not None and not policy.can_view_capstone_version(current_user, draft, capstone):
        draft = None
    history = [
        row
        for row in queries.history(capstone.id)
        if policy.can_view_capstone_version(current_user, row.version, capstone)
    ]
    latest = queries.latest_submitted(capstone.id)
    files = queries.files_of([draft.id]) if draft is not None else {}
    outcome = (
        queries.outcome_of(cohort.id, capstone.fellow_id)
        if policy.can_view_outcome(current_user, cohort, capstone.fellow_id)
        else None
    )
    return render_template(
        "capstones/capstone_detail.html",
        capstone=capstone,
        cohort=cohort,
        fellow=fellow,
        is_fellow=current_user.id == capstone.fellow_id,
        draft=draft,
        draft_files=files.get(draft.id, []) if draft is not None else [],
        draft_excerpt=_excerpt(draft.narrative_md) if draft is not None else "",
        history=history,
        latest=latest,
        next_number=(latest.number + 1) if latest is not None else 1,
        strand=next((s.name for s in cohort.strands if s.id == capstone.strand_id), None),
        outcome=outcome,
        show_outcome=outcome is not None
        or (
            policy.can_record_outcome(current_user, cohort, capstone.fellow_id)
            and (
                capstone.status == CapstoneStatus.APPROVED
                or cohort.status in (CohortStatus.COMPLETED, CohortStatus.ARCHIVED)
            )
        ),
        **LABELS,
    )


@bp.route("/capstone-versions/<int:version_id>")
@login_required
def version(version_id: int) -> Any:
    version = get_or_404(CapstoneVersion, version_id)
    capstone = get_or_404(Capstone, version.capstone_id)
    require(policy.can_view_capstone_version(current_user, version, capstone))
    cohort = _cohort_of(capstone)
    rows = queries.reviews_of(version.id)
    reviews = [
        row
        for row in rows
        if row.review is not None
        and policy.can_view_review(current_user, row.review, row.assignment, capstone)
    ]
    own = next((row for row in rows if row.assignment.reviewer_id == current_user.id), None)
    return render_template(
        "capstones/version.html",
        capstone=capstone,
        cohort=cohort,
        version=version,
        files=queries.files_of([version.id])[version.id],
        decision=queries.decision_for(version.id) if version.submitted_at else None,
        reviews=reviews,
        rubric=queries.rubric_of(cohort.id) if reviews else [],
        names=policy.can_see_reviewer_names(current_user, capstone),
        is_fellow=current_user.id == capstone.fellow_id,
        own_assignment=(
            own.assignment
            if own is not None
            and policy.can_review(current_user, own.assignment, version, capstone)
            else None
        ),
        **LABELS,
    )


@bp.route("/capstone-files/<int:file_id>")
@login_required
def download(file_id: int) -> Any:
    link = get_or_404(CapstoneVersionFile, file_id)
    version = get_or_404(CapstoneVersion, link.version_id)
    capstone = get_or_404(Capstone, version.capstone_id)
    require(policy.can_view_capstone_version(current_user, version, capstone))
    return send_stored_file(get_or_404(StoredFile, link.stored_file_id))


# Editing ---------------------------------------------------------------------------------


def _file_form() -> FileForm:
    return FileForm(accept=uploads.accept_attribute(uploads.DOCUMENTS_AND_IMAGES))


def _render_edit(
    capstone: Capstone,
    cohort: Cohort,
    form: CapstoneEditForm,
    file_form: FileForm,
    *,
    conflict: str | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Any:
    draft = queries.draft_of(capstone.id)
    latest = queries.latest_submitted(capstone.id)
    shown = draft or latest
    files = queries.files_of([shown.id])[shown.id] if shown is not None else []
    body = render_template(
        "capstones/capstone_form.html",
        form=form,
        file_form=file_form,
        remove_form=EmptyForm(),
        cohort=cohort,
        capstone=capstone,
        draft=draft,
        latest=latest,
        files=files,
        next_number=draft.number if draft else (latest.number + 1 if latest else 1),
        next_stage=draft.stage.value if draft else capstones.next_stage(capstone).value,
        saved_narrative=(shown.narrative_md if shown is not None else ""),
        saved_strand=next((s.name for s in cohort.strands if s.id == capstone.strand_id), None),
        file_hint=_file_hint(),
        max_files=capstones.MAX_FILES,
        conflict=conflict,
        problem=problem,
        **LABELS,
    )
    return body, status


@bp.route("/capstones/<int:capstone_id>/edit", methods=["GET", "POST"])
@login_required
def edit(capstone_id: int) -> Any:
    capstone = get_or_404(Capstone, capstone_id)
    require(policy.can_edit_capstone(current_user, capstone))
    cohort = _cohort_of(capstone)
    form = _details_form(CapstoneEditForm, cohort, capstone)
    conflict = None
    problem = None
    if form.validate_on_submit():
        try:
            draft = capstones.update_capstone(
                current_user,
                capstone,
                _details_data(form),
                form.narrative.data or "",
                version=parse_int(form.version.data),
            )
        except capstones.StaleEdit as error:
            db.session.rollback()
            capstone = get_or_404(Capstone, capstone_id)
            conflict = error.message
            # Saving again is now a deliberate choice made after seeing the saved capstone.
            form.version.data = str(capstone.version)
        except capstones.CapstoneError as error:
            db.session.rollback()
            capstone = get_or_404(Capstone, capstone_id)
            problem = _put_error(form, error)
        else:
            number = draft.number
            commit()
            flash(
                _(
                    "Your changes are saved in version %(number)d, your working draft. Submit "
                    "it when it is ready.",
                    number=number,
                ),
                "success",
            )
            return redirect(_detail_url(capstone))
    return _render_edit(capstone, cohort, form, _file_form(), conflict=conflict, problem=problem)


# Uploads are not checked by the app-wide CSRF hook: it reads the whole body before the view
# can raise the request's size limit for one upload. The FlaskForm checks its own CSRF token.
@bp.route("/capstones/<int:capstone_id>/files", methods=["POST"])
@csrf.exempt
@login_required
def upload_file(capstone_id: int) -> Any:
    capstone = get_or_404(Capstone, capstone_id)
    require(policy.can_edit_capstone(current_user, capstone))
    cohort = _cohort_of(capstone)
    uploads.allow_upload_request()
    file_form = _file_form()
    status = 200
    if file_form.validate_on_submit():
        try:
            link = capstones.add_file(current_user, capstone, file_form.file.data)
        except uploads.UploadRefused as refused:
            db.session.rollback()
            file_form.file.errors = [*file_form.file.errors, refused.message]
            status = 413 if refused.too_large else 200
        except capstones.CapstoneError as error:
            db.session.rollback()
            file_form.file.errors = [*file_form.file.errors, error.message]
        else:
            stored = get_or_404(StoredFile, link.stored_file_id)
            name = stored.original_name
            commit()
            flash(_("“%(name)s” is attached to your working draft.", name=name), "success")
            return redirect(url_for("capstones.edit", capstone_id=capstone.id, _anchor="files"))
    # The details form shows the saved capstone: this post carried only the file.
    capstone = get_or_404(Capstone, capstone_id)
    form = CapstoneEditForm(formdata=None, data=_saved_details(capstone))
    form.set_strands([(strand.id, strand.name) for strand in cohort.strands])
    return _render_edit(capstone, cohort, form, file_form, status=status)


def _saved_details(capstone: Capstone) -> dict[str, Any]:
    draft = queries.draft_of(capstone.id) or queries.latest_submitted(capstone.id)
    return {
        "title": capstone.title,
        "summary": capstone.summary,
        "problem_md": capstone.problem_md,
        "community_md": capstone.community_md,
        "strand": capstone.strand_id,
        "school_level": capstone.school_level.value if capstone.school_level else None,
        "topics": capstone.topics,
        "version": str(capstone.version),
        "narrative": draft.narrative_md if draft is not None else "",
    }


@bp.route("/capstone-files/<int:file_id>/delete", methods=["POST"])
@login_required
def remove_file(file_id: int) -> Any:
    link = get_or_404(CapstoneVersionFile, file_id)
    version = get_or_404(CapstoneVersion, link.version_id)
    capstone = get_or_404(Capstone, version.capstone_id)
    require(policy.can_edit_capstone(current_user, capstone))
    form = EmptyForm()
    if not form.validate_on_submit():
        flash(_("That did not work. Reload the page and try again."), "error")
    else:
        try:
            name = capstones.remove_file(current_user, capstone, link)
        except capstones.CapstoneError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            flash(_("“%(name)s” is removed from your working draft.", name=name), "success")
    return redirect(url_for("capstones.edit", capstone_id=capstone.id, _anchor="files"))


# Submitting ------------------------------------------------------------------------------


@bp.route("/capstones/<int:capstone_id>/submit", methods=["GET", "POST"])
@login_required
def submit(capstone_id: int) -> Any:
    capstone = get_or_404(Capstone, capstone_id)
    form = SubmitForm()
    if not policy.can_edit_capstone(current_user, capstone):
        # A second click (or a second tab) after the version went in: say so, instead of
        # the refusal the now-submitted capstone would otherwise get.
        if (
            request.method == "POST"
            and policy.can_view_capstone(current_user, capstone)
            and capstones.already_submitted(capstone, form.draft_id())
        ):
            flash(str(capstones.ALREADY_SUBMITTED), "info")
            return redirect(_detail_url(capstone))
        abort(403)
    cohort = _cohort_of(capstone)
    if form.validate_on_submit():
        try:
            version = capstones.submit_capstone(current_user, capstone, form.draft_id())
        except capstones.AlreadySubmitted as error:
            db.session.rollback()
            flash(error.message, "info")
            return redirect(_detail_url(capstone))
        except capstones.CapstoneError as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("capstones.submit", capstone_id=capstone.id))
        number, stage = version.number, version.stage.value
        commit()
        flash(
            _(
                "Version %(number)d (%(stage)s) is submitted. Reviewers will read it; you'll "
                "get an email when the decision is recorded.",
                number=number,
                stage=str(STAGE_LABELS[stage]).lower(),
            ),
            "success",
        )
        return redirect(_detail_url(capstone))
    draft = queries.draft_of(capstone.id)
    form.draft.data = str(draft.id) if draft is not None else ""
    return render_template(
        "capstones/submit_confirm.html",
        form=form,
        capstone=capstone,
        cohort=cohort,
        draft=draft,
        files=queries.files_of([draft.id])[draft.id] if draft is not None else [],
        problems=capstones.submission_problems(capstone, draft),
        stage=draft.stage.value if draft else capstones.next_stage(capstone).value,
        words=len((draft.narrative_md or "").split()) if draft is not None else 0,
        **LABELS,
    )


# The practice library --------------------------------------------------------------------


@bp.route("/capstones/<int:capstone_id>/library", methods=["GET", "POST"])
@login_required
def publish(capstone_id: int) -> Any:
    capstone = get_or_404(Capstone, capstone_id)
    require(policy.can_publish_capstone(current_user, capstone))
    cohort = _cohort_of(capstone)
    final = queries.approved_final(capstone.id)
    files = queries.files_of([final.id])[final.id] if final is not None else []
    published = capstone.published_at is not None
    if request.method == "GET":
        form = PublishForm(
            data={
                "consent": published,
                "files": [a.link.id for a in files if a.link.in_library],
            }
        )
    else:
        form = PublishForm()
    form.files.choices = choices([(str(a.link.id), a.stored.original_name) for a in files])
    withdraw_form = WithdrawForm()
    problem = None
    if form.validate_on_submit():
        try:
            capstones.publish_capstone(
                current_user, capstone, list(form.files.data or []), bool(form.consent.data)
            )
        except capstones.CapstoneError as error:
            db.session.rollback()
            capstone = get_or_404(Capstone, capstone_id)
            problem = _put_error(form, error)
        else:
            commit()
            if published:
                flash(_("Your library entry is updated."), "success")
            else:
                flash(_("Your capstone is published in the practice library."), "success")
            return redirect(url_for("capstones.publish", capstone_id=capstone.id))
    return render_template(
        "capstones/publish.html",
        form=form,
        withdraw_form=withdraw_form,
        capstone=capstone,
        cohort=cohort,
        final=final,
        files=files,
        problem=problem,
        **LABELS,
    )


@bp.route("/capstones/<int:capstone_id>/library/withdraw", methods=["POST"])
@login_required
def withdraw(capstone_id: int) -> Any:
    """Take the capstone out of the library: its fellow (consent is theirs, whatever their
    membership now) or staff."""
    capstone = get_or_404(Capstone, capstone_id)
    require(policy.can_withdraw_capstone(current_user, capstone))
    form = WithdrawForm()
    if form.validate_on_submit():
        capstones.withdraw_capstone(current_user, capstone)
        commit()
        flash(_("The capstone is withdrawn: it is no longer in the practice library."), "success")
    if policy.can_publish_capstone(current_user, capstone):
        return redirect(url_for("capstones.publish", capstone_id=capstone.id))
    return redirect(url_for("capstones.library"))


# The graduate's outcome ------------------------------------------------------------------


def _outcome_data(outcome: GraduateOutcome) -> dict[str, Any]:
    diverse = outcome.diverse_by_design
    return {
        "kind": outcome.kind.value,
        "school_name": outcome.school_name,
        "opened_on": outcome.opened_on,
        "diverse_by_design": "" if diverse is None else ("yes" if diverse else "no"),
        "url": outcome.url or "",
        "role_title": outcome.role_title,
        "note": outcome.note,
        "token": capstones.outcome_token(outcome),
    }


@bp.route("/cohorts/<int:cohort_id>/fellows/<int:fellow_id>/outcome", methods=["GET", "POST"])
@login_required
def outcome(cohort_id: int, fellow_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_record_outcome(current_user, cohort, fellow_id))
    fellow = queries.fellow_of_cohort(cohort.id, fellow_id)
    if fellow is None:
        abort(404)
    saved = queries.outcome_of(cohort.id, fellow.id)
    if request.method == "GET" and saved is not None:
        form = OutcomeForm(data=_outcome_data(saved))
    else:
        form = OutcomeForm()
    conflict = None
    problem = None
    if form.validate_on_submit():
        try:
            capstones.record_outcome(
                current_user, cohort, fellow, form.data_for_service(), token=form.token.data
            )
        except capstones.StaleEdit as error:
            db.session.rollback()
            saved = queries.outcome_of(cohort.id, fellow.id)
            conflict = error.message
            form.token.data = capstones.outcome_token(saved)
        except capstones.CapstoneError as error:
            db.session.rollback()
            problem = _put_error(form, error)
        else:
            commit()
            if current_user.id == fellow.id:
                flash(_("Thank you: what you did after the program is recorded."), "success")
            else:
                flash(_("The outcome of %(name)s is recorded.", name=fellow.name), "success")
            capstone = queries.capstone_for(cohort.id, fellow.id)
            if capstone is not None and policy.can_view_capstone(current_user, capstone):
                return redirect(_detail_url(capstone, "outcome"))
            return redirect(url_for("capstones.outcome", cohort_id=cohort.id, fellow_id=fellow.id))
    return render_template(
        "capstones/outcome_form.html",
        form=form,
        cohort=cohort,
        fellow=fellow,
        saved=saved,
        capstone=queries.capstone_for(cohort.id, fellow.id),
        is_fellow=current_user.id == fellow.id,
        conflict=conflict,
        problem=problem,
        **LABELS,
    )

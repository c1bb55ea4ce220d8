"""Reviewer pages: the review queue, the review of one assigned version (the submission and
the rubric side by side), and a cohort's rubric.

A review page is for the reviewer it is assigned to: they write it while `can_review` says
so (a draft, then submitted once), and read it afterwards; everybody else reads reviews on
the version's own page. Moving to the previous or next assignment saves the draft first, so
nothing typed is lost. The rubric is read by the cohort and changed by staff.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.capstones import bp
from fellowship.capstones import review_queries as queries
from fellowship.capstones import review_services as services
from fellowship.capstones import rubric as rubrics
from fellowship.capstones.models import (
    Capstone,
    CapstoneVersion,
    Review,
    ReviewAssignment,
)
from fellowship.capstones.review_forms import (
    GO_TARGETS,
    RECOMMENDATION_LABELS,
    ConfirmRemoveForm,
    ReviewForm,
    RubricForm,
    review_form_class,
    rubric_form_class,
    rubric_form_data,
)
from fellowship.cohorts.models import Cohort
from fellowship.curriculum.queries import local_today
from fellowship.db import commit, db
from fellowship.forms import parse_int
from fellowship.web import get_or_404, page_arg, require

DONE_PER_PAGE = 20


def _put_problems(form: Any, problems: list[tuple[str | None, str]]) -> list[str]:
    """Each message next to its field; messages for no field (or a field the form does not
    have) are returned, for the top of the page."""
    general: list[str] = []
    for name, message in problems:
        target = form._fields.get(name) if name else None
        if target is None:
            if message not in general:
                general.append(message)
        elif message not in target.errors:
            target.errors = [*target.errors, message]
    return general


# The queue --------------------------------------------------------------------------------


@bp.route("/reviews")
@login_required
def review_queue() -> Any:
    require(policy.can_view_review_queue(current_user))
    zone = str(current_user.timezone)
    found = queries.queue(
        current_user.id,
        today=local_today(zone),
        zone=zone,
        page=page_arg(),
        per_page=DONE_PER_PAGE,
    )
    return render_template("capstones/review_queue.html", queue=found)


# One review -------------------------------------------------------------------------------


def _load(assignment_id: int) -> tuple[ReviewAssignment, CapstoneVersion, Capstone, Cohort]:
    assignment = get_or_404(ReviewAssignment, assignment_id)
    version = get_or_404(CapstoneVersion, assignment.version_id)
    capstone = get_or_404(Capstone, version.capstone_id)
    cohort = get_or_404(Cohort, capstone.cohort_id)
    return assignment, version, capstone, cohort


def _initial_data(review: Review | None) -> dict[str, Any]:
    if review is None:
        return {"version": ""}
    data: dict[str, Any] = {
        "comments": review.comments_md,
        "recommendation": review.recommendation.value if review.recommendation else None,
        "version": str(review.version),
    }
    for key, score in (review.scores or {}).items():
        data[services.score_field(str(key))] = str(score)
    return data


def _others(
    assignment: ReviewAssignment, capstone: Capstone, view: rubrics.RubricView
) -> tuple[list[dict[str, Any]], bool]:
    """The other reviewers of the version, as this reviewer may see them, and whether a
    submitted review is hidden from them until they submit their own."""
    show_names = policy.can_see_reviewer_names(current_user, capstone)
    rows: list[dict[str, Any]] = []
    hidden = False
    for number, other in enumerate(queries.other_reviews(assignment), start=1):
        review = other.review
        submitted = review is not None and review.submitted_at is not None
        visible = (
            review is not None
            and submitted
            and policy.can_view_review(current_user, review, other.assignment, capstone)
        )
        hidden = hidden or (submitted and not visible)
        rows.append(
            {
                "label": other.reviewer_name
                if show_names
                else _("Reviewer %(number)d", number=number),
                "submitted": submitted,
                "review": review if visible else None,
                "scores": _scores(view, review) if visible and review is not None else [],
            }
        )
    return rows, hidden


def _scores(view: rubrics.RubricView, review: Review) -> list[tuple[str, int | None, str | None]]:
    """(criterion, score, descriptor) for each criterion of the rubric, in order."""
    given = review.scores or {}
    rows = []
    for criterion in view.criteria:
        raw = given.get(str(criterion.id)) if criterion.id is not None else None
        score = raw if isinstance(raw, int) else None
        rows.append((criterion.name, score, criterion.descriptor(score)))
    return rows


@bp.route("/reviews/<int:assignment_id>", methods=["GET", "POST"])
@login_required
def review(assignment_id: int) -> Any:
    assignment, version, capstone, cohort = _load(assignment_id)
    own_review = services.review_of(assignment)
    may_write = policy.can_review(current_user, assignment, version, capstone)
    # The page is the assigned reviewer's: others read reviews on the version's page.
    assigned_to_me = assignment.reviewer_id == current_user.id
    may_read = (
        assigned_to_me
        and policy.can_view_capstone_version(current_user, version, capstone)
        and (
            own_review is None
            or policy.can_view_review(current_user, own_review, assignment, capstone)
        )
    )
    require(may_write or may_read)
    if request.method == "POST":
        require(may_write)
    view = rubrics.rubric_view(cohort.id)
    form_class = review_form_class(view.criteria)
    form: ReviewForm = (
        form_class() if request.method == "POST" else form_class(data=_initial_data(own_review))
    )
    conflict = None
    problems: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        go = request.form.get("save_and_go")
        go = go if go in GO_TARGETS else None
        submit = go is None and request.form.get("action") == "submit"
        try:
            saved = services.save_review(
                current_user,
                assignment,
                form.data_for_service(request.form),
                submit=submit,
                expected_version=form.expected_version(),
            )
        except services.StaleReview as error:
            db.session.rollback()
            assignment, version, capstone, cohort = _load(assignment_id)
            own_review = services.review_of(assignment)
            conflict = error.message
            # Saving again is now a deliberate choice, made after reading this message.
            form.version.data = str(own_review.version) if own_review is not None else ""
        except services.ReviewError as error:
            db.session.rollback()
            assignment, version, capstone, cohort = _load(assignment_id)
            own_review = services.review_of(assignment)
            problems = _put_problems(form, error.problems)
        else:
            commit()
            return _after_save(assignment, capstone, saved, submit, go)
    if request.method == "POST":
        may_write = policy.can_review(current_user, assignment, version, capstone)
    writable = may_write and (own_review is None or own_review.submitted_at is None)
    others, hidden = _others(assignment, capstone, view)
    decision = queries.decision_for(version.id)
    before, after = queries.neighbours(current_user.id, assignment.id)
    return render_template(
        "capstones/review_form.html",
        assignment=assignment,
        version=version,
        capstone=capstone,
        cohort=cohort,
        fellow_name=queries.names([capstone.fellow_id]).get(capstone.fellow_id, ""),
        files=queries.version_files(version.id),
        rubric=view,
        form=form if writable else None,
        review=own_review,
        own_scores=_scores(view, own_review) if own_review is not None else [],
        recommendation_labels=RECOMMENDATION_LABELS,
        others=others,
        hidden=hidden,
        decision=decision,
        before=before,
        after=after,
        conflict=conflict,
        problems=problems,
    )


def _after_save(
    assignment: ReviewAssignment,
    capstone: Capstone,
    saved: Review | None,
    submit: bool,
    go: str | None,
) -> Any:
    here = url_for("capstones.review", assignment_id=assignment.id)
    if submit:
        flash(
            _(
                "Your review of “%(title)s” is submitted. It can no longer be changed; staff "
                "and facilitators can read it now.",
                title=capstone.title,
            ),
            "success",
        )
        return redirect(here)
    if saved is not None:
        flash(_("Your draft review of “%(title)s” is saved.", title=capstone.title), "success")
    if go is not None:
        before, after = queries.neighbours(current_user.id, assignment.id)
        target = before if go == "prev" else after
        if target is not None:
            return redirect(url_for("capstones.review", assignment_id=target.assignment_id))
        flash(_("There is no other assignment in that direction."), "info")
    elif saved is None:
        flash(_("Nothing to save yet: the review is empty."), "info")
    return redirect(here)


# The rubric -------------------------------------------------------------------------------


def _rubric_url(cohort_id: int, anchor: str | None = None, **args: Any) -> str:
    return url_for("capstones.rubric", cohort_id=cohort_id, _anchor=anchor, **args)


def _parse_action(value: str | None) -> tuple[str, str | None]:
    """("save"|"add"|"up"|"down"|"remove", criterion key or None) from the pressed button."""
    text = (value or "save").strip()
    verb, _sep, key = text.partition(":")
    if verb in ("up", "down", "remove") and key:
        return verb, key
    if verb == "add":
        return "add", None
    return "save", None


def _criterion_id(cohort_id: int, key: str | None) -> int | None:
    """The id of the criterion a form key names, now that the rubric exists."""
    if key is None:
        return None
    if key.startswith(rubrics.NEW_PREFIX):
        position = parse_int(key.removeprefix(rubrics.NEW_PREFIX))
        criteria = rubrics.rubric_view(cohort_id).criteria
        found = criteria[position].id if position is not None and position < len(criteria) else None
        return found
    return parse_int(key)


def _saved_message(done: list[str]) -> str:
    if not done:
        return _("Nothing changed.")
    if "created" in done and len(done) == 1:
        return _("The rubric is saved: this cohort now has its own copy of the default.")
    return _("The rubric is saved.")


@bp.route("/cohorts/<int:cohort_id>/rubric", methods=["GET", "POST"])
@login_required
def rubric(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_rubric(current_user, cohort))
    may_manage = policy.can_manage_rubric(current_user, cohort)
    if request.method == "POST":
        require(may_manage)
    view = rubrics.rubric_view(cohort.id)
    if not may_manage:
        return render_template("capstones/rubric.html", cohort=cohort, rubric=view)

    if request.method == "POST" and "criterion" in request.form:
        return _confirmed_removal(cohort)

    form_class = rubric_form_class(view.criteria)
    form: RubricForm
    if request.method == "POST":
        form = form_class()
    else:
        form = form_class(data=rubric_form_data(view.criteria, view.version))
    conflict = None
    problems: list[str] = []
    if request.method == "POST" and form.validate_on_submit():
        verb, key = _parse_action(request.form.get("action"))
        change = rubrics.RubricChange(
            edits=form.edits(), new=form.new_criterion(required=verb == "add")
        )
        if verb in (rubrics.UP, rubrics.DOWN) and key is not None:
            change.move = (key, verb)
        try:
            _saved, done = rubrics.change_rubric(
                current_user, cohort, change, form.expected_version()
            )
        except rubrics.StaleRubric as error:
            db.session.rollback()
            cohort = get_or_404(Cohort, cohort_id)
            view = rubrics.rubric_view(cohort.id)
            conflict = error.message
            typed = {name: value for name, value in request.form.items() if name != "csrf_token"}
            data = {**rubric_form_data(view.criteria, view.version), **typed}
            data["version"] = "" if view.version is None else str(view.version)
            form = rubric_form_class(view.criteria)(formdata=None, data=data)
        except rubrics.RubricError as error:
            db.session.rollback()
            cohort = get_or_404(Cohort, cohort_id)
            problems = _put_problems(form, error.problems)
        else:
            commit()
            moved_or_target = _criterion_id(cohort.id, key)
            if verb == "remove" and moved_or_target is not None:
                if done:
                    flash(_saved_message(done), "success")
                return redirect(_rubric_url(cohort.id, "confirm-remove", remove=moved_or_target))
            flash(_saved_message(done), "success" if done else "info")
            if "added" in done:
                return redirect(_rubric_url(cohort.id, "criteria"))
            anchor = f"criterion-{moved_or_target}" if moved_or_target else None
            return redirect(_rubric_url(cohort.id, anchor))
    removing = None
    if request.method == "GET":
        wanted = parse_int(request.args.get("remove"))
        removing = next((c for c in view.criteria if c.id is not None and c.id == wanted), None)
    scored = rubrics.scored_criteria(cohort.id) if view.rubric is not None else set()
    return render_template(
        "capstones/rubric_form.html",
        cohort=cohort,
        rubric=view,
        form=form,
        scored=scored,
        removing=removing,
        confirm_form=ConfirmRemoveForm(
            data={"criterion": removing.id if removing else "", "version": view.version or ""}
        ),
        conflict=conflict,
        problems=problems,
    )


def _confirmed_removal(cohort: Cohort) -> Any:
    form = ConfirmRemoveForm()
    if form.validate_on_submit():
        criterion_id = parse_int(form.criterion.data)
        view = rubrics.rubric_view(cohort.id)
        name = next((c.name for c in view.criteria if c.id == criterion_id), "")
        try:
            _saved, _done = rubrics.change_rubric(
                current_user,
                cohort,
                rubrics.RubricChange(remove=str(criterion_id or "")),
                form.expected_version(),
            )
        except rubrics.RubricError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            flash(_("The criterion “%(name)s” is removed from the rubric.", name=name), "success")
    return redirect(_rubric_url(cohort.id, "criteria"))

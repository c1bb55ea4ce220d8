"""Staff and facilitators' pages: the capstone pipeline, assigning reviewers, recording the
decision on a version, graduates' outcomes and the cohort's capstone settings.

Every page here is for the cohort's team (staff, and the cohort's facilitators); anyone else
gets 403 before anything is read. A working draft is the fellow's alone: its address is not
found here. Once a version has its decision, or the cohort is archived, its pages are
read-only.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, pgettext
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.forms import EmptyForm
from fellowship.capstones import bp, forms
from fellowship.capstones import queries as capstone_queries
from fellowship.capstones import staff_queries as queries
from fellowship.capstones import staff_services as services
from fellowship.capstones.models import (
    Capstone,
    CapstoneVersion,
    Recommendation,
    ReviewAssignment,
)
from fellowship.capstones.staff_forms import (
    AssignForm,
    DecisionForm,
    PipelineFilterForm,
    SettingsForm,
)
from fellowship.cohorts.models import Cohort
from fellowship.db import commit, db, utcnow
from fellowship.forms import choices
from fellowship.web import get_or_404, page_arg, require

PIPELINE_PER_PAGE = 50

STATUS_LABELS = {queries.NOT_STARTED: _l("Not started"), **forms.STATUS_LABELS}
RECOMMENDATION_LABELS = {
    Recommendation.APPROVE.value: _l("Recommends approval"),
    Recommendation.REVISE.value: _l("Recommends revisions"),
}
REVIEW_STATE_LABELS = {
    "not_started": _l("Review not started"),
    "draft": _l("Draft saved, not submitted"),
    "submitted": _l("Review submitted"),
}


def _labels() -> dict[str, Any]:
    """Labels translated once per page rather than once per row (a page has 50 rows)."""
    return {
        "status": {key: str(label) for key, label in STATUS_LABELS.items()},
        "decision": {key: str(label) for key, label in forms.DECISION_LABELS.items()},
        "recommendation": {key: str(label) for key, label in RECOMMENDATION_LABELS.items()},
        "review_state": {key: str(label) for key, label in REVIEW_STATE_LABELS.items()},
        "outcome": {key: str(label) for key, label in forms.OUTCOME_KIND_LABELS.items()},
    }


def _pipeline_words(days: set[int]) -> dict[str, Any]:
    """The pipeline's words, translated once per page (a page has 50 rows of eight cells).
    The formats (`version`, `of`, `for_name`, `capstone_of`) are filled in with `%` by the
    template; `days` maps each waiting time on the page to its words."""
    return {
        "fellow": _("Fellow"),
        "capstone": _("Capstone"),
        "status": _("Status"),
        "waiting": _("Waiting"),
        "latest": _("Latest submission"),
        "reviews": _("Reviews done"),
        "decision": _("Decision"),
        "actions": _("Actions"),
        "days": {
            n: _("since today") if n == 0 else ngettext("%(num)d day", "%(num)d days", n)
            for n in days
        },
        "too_long": _("Waiting too long"),
        "version": _("Version %(number)d"),
        "nothing": _("Nothing submitted"),
        "of": _("%(done)d of %(assigned)d"),
        "no_reviewers": _("No reviewers"),
        "awaiting": _("Awaiting decision"),
        "assign": _("Assign reviewers"),
        "decide": _("Record decision"),
        "for_name": _("for %(name)s"),
        "open": pgettext("a link that opens a page", "Open"),
        "capstone_of": _("the capstone of %(name)s"),
    }


def _zone() -> str:
    return str(current_user.timezone)


# The pipeline -----------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/capstones")
@login_required
def pipeline(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_capstone_pipeline(current_user, cohort))
    labels = _labels()
    filter_form = PipelineFilterForm(request.args)
    filter_form.status.choices = choices(
        [("", _("All statuses")), *((key, labels["status"][key]) for key in queries.STATUS_KEYS)]
    )
    filter_form.sort.choices = choices(
        [("fellow", _("Fellow’s name")), ("waiting", _("Waiting time, longest first"))]
    )
    status = filter_form.status_key(queries.STATUS_KEYS)
    sort = filter_form.sort_key(queries.SORTS)
    zone = _zone()
    found = queries.pipeline(
        cohort.id,
        status=status,
        sort=sort,
        page=page_arg(),
        per_page=PIPELINE_PER_PAGE,
        today=queries.local_date(utcnow(), zone),
        zone=zone,
    )
    args = {"cohort_id": cohort.id, "sort": sort}
    if status:
        args["status"] = status
    return render_template(
        "capstones/pipeline.html",
        cohort=cohort,
        pipeline=found,
        filter_form=filter_form,
        status=status,
        sort=sort,
        args=args,
        waiting_limit=queries.WAITING_LIMIT_DAYS,
        labels=labels,
        words=_pipeline_words(
            {row.waiting_days for row in found.page.items if row.waiting_days is not None}
        ),
    )


# Assigning reviewers ----------------------------------------------------------------------


def _submitted_version_or_404(version_id: int) -> tuple[CapstoneVersion, Capstone, Cohort]:
    """A submitted version, for the cohort's team; a working draft is not found."""
    version = get_or_404(CapstoneVersion, version_id)
    capstone = get_or_404(Capstone, version.capstone_id)
    cohort = get_or_404(Cohort, capstone.cohort_id)
    require(policy.can_view_capstone_pipeline(current_user, cohort))
    if version.submitted_at is None:
        abort(404)
    return version, capstone, cohort


@bp.route("/capstone-versions/<int:version_id>/reviewers", methods=["GET", "POST"])
@login_required
def assign(version_id: int) -> Any:
    version, capstone, cohort = _submitted_version_or_404(version_id)
    may_assign = policy.can_assign_reviewers(current_user, version, capstone)
    if request.method == "POST":
        require(may_assign)
    form = AssignForm()
    previous = queries.previous_version(capstone.id, version.number)
    previous_ids = queries.assigned_reviewer_ids(previous.id) if previous else set()
    if may_assign and form.validate_on_submit():
        ids = form.reviewer_ids()
        try:
            if ids is None:
                raise services.CapstoneStaffError("reviewers", str(services.NOT_A_REVIEWER))
            assigned = services.assign_reviewers(current_user, version, capstone, ids)
        except services.CapstoneStaffError as error:
            db.session.rollback()
            version, capstone, cohort = _submitted_version_or_404(version_id)
            form.reviewers.errors = [*form.reviewers.errors, error.message]
        else:
            commit()
            people = queries.names([a.reviewer_id for a in assigned])
            flash(
                ngettext(
                    "%(names)s is assigned and notified, with the link to the review.",
                    "%(names)s are assigned; each is notified, with the link to their review.",
                    len(assigned),
                    names=", ".join(people.get(a.reviewer_id, "") for a in assigned),
                ),
                "success",
            )
            return redirect(url_for("capstones.assign", version_id=version.id))
    options = queries.reviewer_options(cohort.id, version.id)
    open_ids = {o.id for o in options if o.active and not o.assigned}
    same_as_previous = sorted(previous_ids & open_ids)
    if request.method == "GET" and request.args.get("previous") == "1":
        form.reviewers.data = [str(i) for i in same_as_previous]
    chosen = set(form.reviewers.data or [])
    people = queries.names([capstone.fellow_id])
    return render_template(
        "capstones/assign.html",
        cohort=cohort,
        capstone=capstone,
        version=version,
        fellow_name=people.get(capstone.fellow_id, ""),
        form=form if may_assign else None,
        options=options,
        chosen=chosen,
        previous=previous,
        same_as_previous=same_as_previous,
        decision=capstone_queries.decision_for(version.id),
        unassign_form=EmptyForm(),
        labels=_labels(),
    )


@bp.route("/review-assignments/<int:assignment_id>/delete", methods=["POST"])
@login_required
def unassign(assignment_id: int) -> Any:
    assignment = get_or_404(ReviewAssignment, assignment_id)
    version, capstone, _cohort = _submitted_version_or_404(assignment.version_id)
    require(policy.can_assign_reviewers(current_user, version, capstone))
    if EmptyForm().validate_on_submit():
        name = queries.names([assignment.reviewer_id]).get(assignment.reviewer_id, "")
        try:
            services.unassign_reviewer(current_user, assignment, version, capstone)
        except services.CapstoneStaffError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            flash(
                _(
                    "%(name)s no longer reviews version %(number)d.",
                    name=name,
                    number=version.number,
                ),
                "success",
            )
    return redirect(url_for("capstones.assign", version_id=version.id))


# Recording the decision -------------------------------------------------------------------


@bp.route("/capstone-versions/<int:version_id>/decision", methods=["GET", "POST"])
@login_required
def decide(version_id: int) -> Any:
    version, capstone, cohort = _submitted_version_or_404(version_id)
    decision = capstone_queries.decision_for(version.id)
    may_decide = decision is None and policy.can_decide_capstone(current_user, version, capstone)
    if request.method == "POST" and decision is None:
        require(may_decide)
    if request.method == "POST":
        form = DecisionForm()
    else:
        form = DecisionForm(data={"version": str(capstone.version)})
    conflict = refused = None
    if request.method == "POST" and decision is not None:
        # A second submit of the same form, or someone else was quicker: say so, keep the text.
        conflict = str(services.ALREADY_DECIDED)
    elif may_decide and form.validate_on_submit():
        try:
            services.record_decision(
                current_user,
                version,
                capstone,
                form.outcome.data,
                form.message.data or "",
                form.expected_version(),
            )
        except (services.AlreadyDecided, services.StaleEdit) as error:
            db.session.rollback()
            version, capstone, cohort = _submitted_version_or_404(version_id)
            decision = capstone_queries.decision_for(version.id)
            may_decide = decision is None and policy.can_decide_capstone(
                current_user, version, capstone
            )
            conflict = error.message
            form.version.data = str(capstone.version)
        except services.CapstoneStaffError as error:
            db.session.rollback()
            version, capstone, cohort = _submitted_version_or_404(version_id)
            target = {"outcome": form.outcome, "message": form.message}.get(error.field or "")
            if target is None:
                refused = error.message
            else:
                target.errors = [*target.errors, error.message]
        else:
            commit()
            name = queries.names([capstone.fellow_id]).get(capstone.fellow_id, "")
            flash(
                _(
                    "The decision on “%(title)s” is recorded. %(name)s is notified, with your "
                    "message.",
                    title=capstone.title,
                    name=name,
                ),
                "success",
            )
            return redirect(url_for("capstones.pipeline", cohort_id=cohort.id))
    reviews = capstone_queries.reviews_of(version.id)
    submitted = [row for row in reviews if row.review and row.review.submitted_at is not None]
    people = queries.names([capstone.fellow_id, decision.decided_by_id if decision else None])
    return render_template(
        "capstones/decide.html",
        cohort=cohort,
        capstone=capstone,
        version=version,
        fellow_name=people.get(capstone.fellow_id, ""),
        decision=decision,
        decided_by=people.get(decision.decided_by_id or 0) if decision else None,
        reviews=sorted(submitted, key=lambda row: row.review.submitted_at),
        criteria=capstone_queries.rubric_of(cohort.id),
        done=len(submitted),
        assigned=len(reviews),
        form=form if may_decide else None,
        typed=form.message.data if (conflict and not may_decide) else None,
        conflict=conflict,
        refused=refused,
        labels=_labels(),
    )


# Graduates' outcomes ----------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/outcomes")
@login_required
def outcomes(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_capstone_pipeline(current_user, cohort))
    return render_template(
        "capstones/outcomes.html",
        cohort=cohort,
        outcomes=queries.outcomes(cohort.id),
        labels=_labels(),
    )


# Settings ---------------------------------------------------------------------------------


@bp.route("/cohorts/<int:cohort_id>/capstone-settings", methods=["GET", "POST"])
@login_required
def settings(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_manage_rubric(current_user, cohort))
    if request.method == "POST":
        form = SettingsForm()
    else:
        form = SettingsForm(
            data={**queries.capstone_settings(cohort), "version": str(cohort.version)}
        )
    conflict = None
    if form.validate_on_submit():
        try:
            changed = services.update_capstone_settings(
                current_user,
                cohort,
                reviewer_names_visible=form.reviewer_names_visible.data,
                hide_reviews_until_own=form.hide_reviews_until_own.data,
                expected_version=form.expected_version(),
            )
        except services.StaleEdit as error:
            db.session.rollback()
            cohort = get_or_404(Cohort, cohort_id)
            conflict = error.message
            form.version.data = str(cohort.version)
        else:
            commit()
            if changed:
                flash(_("The capstone settings are saved."), "success")
            else:
                flash(_("Nothing changed: the settings were already like this."), "info")
            return redirect(url_for("capstones.settings", cohort_id=cohort.id))
    return render_template(
        "capstones/settings.html",
        cohort=cohort,
        form=form,
        current=queries.capstone_settings(cohort),
        conflict=conflict,
    )

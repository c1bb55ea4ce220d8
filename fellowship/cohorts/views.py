"""Cohort pages: list, create, edit, archive, the cohort page, members and coaches."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.forms import EmptyForm
from fellowship.auth.models import User
from fellowship.auth.services import AccountError
from fellowship.cohorts import bp, queries
from fellowship.cohorts import services as cohorts
from fellowship.cohorts.forms import (
    MEMBERSHIP_STATUS_LABELS,
    ROLE_LABELS,
    ROLE_PLURALS,
    STATUS_LABELS,
    AddMemberForm,
    CoachForm,
    CohortForm,
    MembershipForm,
)
from fellowship.cohorts.models import (
    Cohort,
    CohortMembership,
    CohortRole,
    CohortStatus,
    MembershipStatus,
)
from fellowship.convenings import queries as convening_queries
from fellowship.db import commit, utcnow
from fellowship.forms import choices
from fellowship.school_years import label_for
from fellowship.web import get_or_404, page_arg, require

LABELS = {
    "status_labels": STATUS_LABELS,
    "role_labels": ROLE_LABELS,
    "role_plurals": ROLE_PLURALS,
    "membership_status_labels": MEMBERSHIP_STATUS_LABELS,
}


def _cohort_data(form: CohortForm) -> cohorts.CohortData:
    return cohorts.CohortData(
        name=form.name.data or "",
        school_year=form.school_year.data or "",
        starts_on=form.starts_on.data,
        ends_on=form.ends_on.data,
        status=CohortStatus(form.status.data),
        checkin_rhythm_days=int(form.checkin_rhythm_days.data or 0),
        strands=(form.strands.data or "").splitlines(),
    )


def _show_error(form: Any, error: cohorts.CohortError) -> None:
    target = getattr(form, error.field or "", None)
    if target is not None:
        target.errors = [*target.errors, error.message]
    else:
        flash(error.message, "error")


@bp.route("/")
@login_required
def index() -> Any:
    page = queries.cohort_list(current_user, page=page_arg())
    return render_template("cohorts/cohort_index.html", page=page, **LABELS)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    require(policy.can_create_cohort(current_user))
    form = CohortForm()
    if request.method == "GET":
        form.school_year.data = label_for(utcnow().date())
        form.strands.data = "\n".join(cohorts.DEFAULT_STRANDS)
    if form.validate_on_submit():
        try:
            cohort = cohorts.create_cohort(current_user, _cohort_data(form))
        except cohorts.CohortError as error:
            _show_error(form, error)
        else:
            commit()
            flash(_("The cohort %(name)s has been created.", name=cohort.name), "success")
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    return render_template("cohorts/cohort_form.html", form=form, cohort=None)


@bp.route("/<int:cohort_id>")
@login_required
def detail(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_cohort(current_user, cohort))
    return render_template(
        "cohorts/cohort_detail.html",
        cohort=cohort,
        roster=queries.roster(cohort.id),
        upcoming=convening_queries.upcoming_for_cohort(cohort.id, now=utcnow(), limit=5),
        roles=list(CohortRole),
        archive_form=EmptyForm(),
        **LABELS,
    )


@bp.route("/<int:cohort_id>/edit", methods=["GET", "POST"])
@login_required
def edit(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_edit_cohort(current_user, cohort))
    form = CohortForm(obj=cohort)
    if request.method == "GET":
        form.school_year.data = cohort.school_year.label
        form.strands.data = "\n".join(strand.name for strand in cohort.strands)
        form.version.data = str(cohort.version)
    if form.validate_on_submit():
        try:
            version = int(form.version.data or 0)
            cohorts.update_cohort(current_user, cohort, _cohort_data(form), version=version)
        except cohorts.StaleEdit as error:
            flash(error.message, "error")
            form.version.data = str(cohort.version)
        except cohorts.CohortError as error:
            _show_error(form, error)
        else:
            commit()
            flash(_("The cohort has been saved."), "success")
            return redirect(url_for("cohorts.detail", cohort_id=cohort.id))
    return render_template("cohorts/cohort_form.html", form=form, cohort=cohort)


@bp.route("/<int:cohort_id>/archive", methods=["POST"])
@login_required
def archive(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_edit_cohort(current_user, cohort))
    if EmptyForm().validate_on_submit() and cohort.status != CohortStatus.ARCHIVED:
        cohorts.archive_cohort(current_user, cohort)
        commit()
        flash(_("The cohort has been archived."), "success")
    return redirect(url_for("cohorts.detail", cohort_id=cohort.id))


# Members ---------------------------------------------------------------------------------


@bp.route("/<int:cohort_id>/members", methods=["GET", "POST"])
@login_required
def members(cohort_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_manage_cohort_members(current_user, cohort))
    form = AddMemberForm()
    if form.validate_on_submit():
        try:
            membership = cohorts.add_member(
                current_user,
                cohort,
                email=form.email.data or "",
                name=form.name.data or "",
                role=CohortRole(form.role.data),
                locale=form.locale.data or "en",
            )
        except cohorts.CohortError as error:
            _show_error(form, error)
        except AccountError as error:
            form.email.errors = [*form.email.errors, error.message]
        else:
            commit()
            flash(
                _(
                    "%(email)s has been added as %(role)s.",
                    email=form.email.data,
                    role=ROLE_LABELS[membership.role.value],
                ),
                "success",
            )
            return redirect(url_for("cohorts.members", cohort_id=cohort.id))
    return render_template(
        "cohorts/members_index.html",
        cohort=cohort,
        form=form,
        roster=queries.roster(cohort.id),
        roles=list(CohortRole),
        **LABELS,
    )


def _membership_or_404(cohort: Cohort, membership_id: int) -> CohortMembership:
    membership = get_or_404(CohortMembership, membership_id)
    if membership.cohort_id != cohort.id:
        abort(404)
    return membership


def _coach_choices(cohort: Cohort) -> list[Any]:
    coaches = queries.active_members(cohort.id, CohortRole.COACH)
    return choices([("", _("No coach")), *((str(user.id), user.name) for _m, user in coaches)])


@bp.route("/<int:cohort_id>/members/<int:membership_id>", methods=["GET", "POST"])
@login_required
def member(cohort_id: int, membership_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_manage_cohort_members(current_user, cohort))
    membership = _membership_or_404(cohort, membership_id)
    form = MembershipForm(obj=membership, prefix="m")
    if request.method == "GET":
        form.role.data = membership.role.value
        form.status.data = membership.status.value
    coach_form = CoachForm(prefix="c")
    coach_form.coach.choices = _coach_choices(cohort)
    current = cohorts.current_assignment(cohort.id, membership.user_id)
    if request.method == "GET":
        coach_form.coach.data = str(current.coach_id) if current else ""
    if form.validate_on_submit():
        cohorts.update_membership(
            current_user,
            membership,
            role=CohortRole(form.role.data),
            status=MembershipStatus(form.status.data),
        )
        commit()
        flash(_("The membership has been saved."), "success")
        return redirect(url_for("cohorts.member", cohort_id=cohort.id, membership_id=membership.id))
    person = get_or_404(User, membership.user_id)
    return render_template(
        "cohorts/member_detail.html",
        cohort=cohort,
        membership=membership,
        person=person,
        form=form,
        coach_form=coach_form,
        history=queries.coach_history(cohort.id, membership.user_id),
        **LABELS,
    )


@bp.route("/<int:cohort_id>/members/<int:membership_id>/coach", methods=["POST"])
@login_required
def assign_coach(cohort_id: int, membership_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_manage_cohort_members(current_user, cohort))
    membership = _membership_or_404(cohort, membership_id)
    coach_form = CoachForm(prefix="c")
    coach_form.coach.choices = _coach_choices(cohort)
    if coach_form.validate_on_submit():
        coach_membership = None
        if coach_form.coach.data:
            coach_membership = cohorts.membership_of(
                cohort, get_or_404(User, int(coach_form.coach.data))
            )
        try:
            cohorts.assign_coach(current_user, membership, coach_membership)
        except cohorts.CohortError as error:
            flash(error.message, "error")
        else:
            commit()
            flash(_("The coach has been saved."), "success")
    else:
        flash(_("Choose a coach from the list."), "error")
    return redirect(url_for("cohorts.member", cohort_id=cohort.id, membership_id=membership.id))

"""People management (invite, roles, deactivation) and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from fellowship import policy
from fellowship.admin import bp, queries
from fellowship.admin.forms import (
    ACTION_LABELS,
    OUTCOME_LABELS,
    ROLE_LABELS,
    AuditFilterForm,
    InviteForm,
    PeopleFilterForm,
    RoleForm,
)
from fellowship.auth import services as accounts
from fellowship.auth.forms import EmptyForm
from fellowship.auth.models import Role, User
from fellowship.db import commit
from fellowship.forms import choices
from fellowship.web import get_or_404, page_arg, require


def _role_choices(allowed: list[Role]) -> list[SelectChoice]:
    return choices((role.value, ROLE_LABELS[role.value]) for role in allowed)


@bp.route("/people")
@login_required
def people() -> Any:
    require(policy.can_view_people(current_user))
    form = PeopleFilterForm(request.args)
    form.role.choices = [*choices([("", _("Any role"))]), *_role_choices(list(Role))]
    form.status.choices = choices(
        [
            ("", _("Any status")),
            ("active", _("Active")),
            ("invited", _("Invited")),
            ("deactivated", _("Deactivated")),
        ]
    )
    form.validate()
    page = queries.search_people(
        current_user,
        text=form.q.data or "",
        role=form.role.data or "",
        status=form.status.data or "",
        page=page_arg(),
        per_page=current_app.config["PEOPLE_PER_PAGE"],
    )
    return render_template("admin/people_index.html", form=form, page=page, role_labels=ROLE_LABELS)


@bp.route("/people/invite", methods=["GET", "POST"])
@login_required
def invite() -> Any:
    require(policy.can_invite_people(current_user))
    form = InviteForm()
    allowed = [role for role in Role if policy.can_invite_with_role(current_user, role)]
    form.role.choices = _role_choices(allowed)
    if request.method == "GET":
        form.role.data = Role.MEMBER.value
    if form.validate_on_submit():
        role = Role(form.role.data)
        require(policy.can_invite_with_role(current_user, role))
        try:
            sent = accounts.invite_person(
                current_user,
                email=form.email.data or "",
                name=form.name.data or "",
                role=role,
                locale=form.locale.data or "en",
            )
        except accounts.AccountError as error:
            getattr(form, error.field or "email").errors = [error.message]
        else:
            commit()
            flash(_("Invitation sent to %(email)s.", email=sent.user.email), "success")
            return redirect(url_for("admin.person", user_id=sent.user.id))
    return render_template("admin/people_invite.html", form=form)


@bp.route("/people/<int:user_id>")
@login_required
def person(user_id: int) -> Any:
    person = get_or_404(User, user_id)
    require(policy.can_view_person(current_user, person))
    role_form = RoleForm(role=person.role.value)
    role_form.role.choices = _role_choices(list(Role))
    return render_template(
        "admin/people_detail.html",
        person=person,
        role_form=role_form,
        action_form=EmptyForm(),
        events=queries.person_events(person) if policy.can_view_audit_log(current_user) else [],
        role_labels=ROLE_LABELS,
        action_labels=ACTION_LABELS,
        outcome_labels=OUTCOME_LABELS,
    )


@bp.route("/people/<int:user_id>/role", methods=["POST"])
@login_required
def change_role(user_id: int) -> Any:
    person = get_or_404(User, user_id)
    require(policy.can_change_role(current_user, person))
    form = RoleForm()
    form.role.choices = _role_choices(list(Role))
    if form.validate_on_submit():
        accounts.change_role(current_user, person, Role(form.role.data))
        commit()
        flash(
            _("%(name)s is now %(role)s.", name=person.name, role=ROLE_LABELS[person.role.value]),
            "success",
        )
    else:
        flash(_("Choose a role from the list."), "error")
    return redirect(url_for("admin.person", user_id=person.id))


def _account_action(
    user_id: int,
    allowed: Callable[[Any, User], bool],
    act: Callable[[User, User], object],
    done: Callable[[User], str],
) -> Any:
    """A one-button POST on a person: load, check policy, act, commit once, say what happened."""
    person = get_or_404(User, user_id)
    require(allowed(current_user, person))
    if EmptyForm().validate_on_submit():
        act(current_user, person)
        commit()
        flash(done(person), "success")
    return redirect(url_for("admin.person", user_id=person.id))


@bp.route("/people/<int:user_id>/deactivate", methods=["POST"])
@login_required
def deactivate(user_id: int) -> Any:
    return _account_action(
        user_id,
        policy.can_deactivate,
        accounts.deactivate,
        lambda p: _("%(name)s has been deactivated and signed out.", name=p.name),
    )


@bp.route("/people/<int:user_id>/reactivate", methods=["POST"])
@login_required
def reactivate(user_id: int) -> Any:
    return _account_action(
        user_id,
        policy.can_reactivate,
        accounts.reactivate,
        lambda p: _("%(name)s has been reactivated.", name=p.name),
    )


@bp.route("/people/<int:user_id>/resend-invitation", methods=["POST"])
@login_required
def resend_invitation(user_id: int) -> Any:
    return _account_action(
        user_id,
        policy.can_resend_invitation,
        accounts.resend_invitation,
        lambda p: _("A new invitation has been sent to %(email)s.", email=p.email),
    )


@bp.route("/audit")
@login_required
def audit_log() -> Any:
    require(policy.can_view_audit_log(current_user))
    form = AuditFilterForm(request.args)
    actions = queries.audit_actions()
    form.action.choices = choices(
        [("", _("Any action")), *((a, ACTION_LABELS.get(a, a)) for a in actions)]
    )
    valid = form.validate()
    page = queries.audit_events(
        person=form.person.data or "",
        action=form.action.data or "",
        start=form.start.data if valid else None,
        end=form.end.data if valid else None,
        tz=ZoneInfo(current_user.timezone),
        page=page_arg(),
        per_page=current_app.config["AUDIT_PER_PAGE"],
    )
    return render_template(
        "admin/audit_index.html",
        form=form,
        page=page,
        action_labels=ACTION_LABELS,
        outcome_labels=OUTCOME_LABELS,
    )

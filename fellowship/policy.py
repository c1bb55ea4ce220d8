"""Every "who may" decision in the app, and the list-scoping queries beside them.

Each public function answers one question about one user and (where there is one) one
object. Views call them through `web.require(...)`; templates call the same functions
(see `register_policy_context`), so a shown button and an allowed URL never disagree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Flask

from fellowship.auth.models import Role, User

# Private predicates --------------------------------------------------------------------


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and bool(
        getattr(user, "is_active", False)
    )


def _is_admin(user: Any) -> bool:
    return _signed_in(user) and user.role == Role.ADMIN


def _is_staff(user: Any) -> bool:
    """Staff or admin: administrators can do everything staff can."""
    return _signed_in(user) and user.role in (Role.ADMIN, Role.STAFF)


def _is_self(user: Any, person: User) -> bool:
    return _signed_in(user) and user.id == person.id


# Decisions -----------------------------------------------------------------------------


def can_view_home(user: Any) -> bool:
    return _signed_in(user)


def can_edit_profile(user: Any, person: User) -> bool:
    return _is_self(user, person)


def can_view_people(user: Any) -> bool:
    """The people list: staff need it to build cohorts and cycles."""
    return _is_staff(user)


def can_view_person(user: Any, person: User) -> bool:
    """A person's page in the people admin (members see themselves on the profile page)."""
    return _is_staff(user)


def can_invite_people(user: Any) -> bool:
    return _is_staff(user)


def can_invite_with_role(user: Any, role: Role) -> bool:
    """Admins may invite anyone; staff may invite members only (no privilege granting)."""
    if _is_admin(user):
        return True
    return _is_staff(user) and role == Role.MEMBER


def can_resend_invitation(user: Any, person: User) -> bool:
    return person.is_active and not person.has_password and can_invite_with_role(user, person.role)


def can_change_role(user: Any, person: User) -> bool:
    """Admins change roles, never their own (so the last admin cannot lock everyone out)."""
    return _is_admin(user) and not _is_self(user, person)


def can_deactivate(user: Any, person: User) -> bool:
    return _is_admin(user) and not _is_self(user, person) and person.is_active


def can_reactivate(user: Any, person: User) -> bool:
    return _is_admin(user) and not person.is_active


def can_view_audit_log(user: Any) -> bool:
    return _is_admin(user)


def can_view_admin_menu(user: Any) -> bool:
    return can_view_people(user) or can_view_audit_log(user)


def must_enrol_totp(user: Any, required_roles: tuple[str, ...]) -> bool:
    """Production requires two-factor for the roles in TOTP_REQUIRED_ROLES."""
    return _signed_in(user) and user.role.value in required_roles and not user.totp_enabled


# List scoping --------------------------------------------------------------------------


def people_visible_to(user: Any) -> sa.Select[tuple[User]]:
    """The people a user may list: everyone for staff and admins, nobody otherwise."""
    query = sa.select(User)
    if not can_view_people(user):
        return query.where(sa.false())
    return query


DECISIONS = {
    name: fn
    for name, fn in globals().items()
    if (name.startswith("can_") or name.startswith("must_")) and callable(fn)
}


def register_policy_context(app: Flask) -> None:
    """Templates ask `policy.can_...(current_user, obj)` exactly as views do."""

    @app.context_processor
    def _policy() -> dict[str, Any]:
        import fellowship.policy as policy_module

        return {"policy": policy_module}

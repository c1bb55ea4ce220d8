"""Account rules: passwords, sign-in, invitations, resets, two-factor, roles.

Services change state and flush; they never commit, never read the request or the session,
never render a page. Emails go through the outbox (`fellowship.mail.queue_email`).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import available_timezones

import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from fellowship import audit
from fellowship.auth.models import (
    Invitation,
    LoginSession,
    PasswordReset,
    RecoveryCode,
    Role,
    User,
)
from fellowship.db import db, utcnow
from fellowship.mail import queue_email, queue_emails

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("not a real password, used to equalise timing")
RECOVERY_CODE_COUNT = 10


class AccountError(Exception):
    """A rule refused the change; `field` names the form field the message belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# Passwords -------------------------------------------------------------------------------


@cache
def _common_passwords() -> frozenset[str]:
    path = Path(__file__).with_name("common-passwords.txt.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def password_problems(password: str, *, email: str | None = None) -> list[str]:
    """Why a new password is refused (empty list = acceptable)."""
    problems: list[str] = []
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        problems.append(str(_l("Use at least %(n)d characters.", n=minimum)))
    lowered = password.lower()
    if lowered in _common_passwords():
        problems.append(str(_l("This password is too common. Choose one that is harder to guess.")))
    if email and lowered in {email.lower(), email.lower().split("@")[0]}:
        problems.append(str(_l("Do not use your email address as your password.")))
    return problems


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def verify_password(user: User, password: str) -> bool:
    return _verify(user.password_hash, password)


def set_password(user: User, password: str) -> None:
    problems = password_problems(password, email=user.email)
    if problems:
        raise AccountError(" ".join(problems), field="password")
    user.password_hash = hash_password(password)
    end_sessions(user)
    _expire_password_resets(user)


# Lookups ---------------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalize_email(email)))


# Login sessions --------------------------------------------------------------------------


def start_login(user: User, *, ip: str | None) -> str:
    """Open a server-side login session; its token goes into the cookie (via get_id)."""
    token = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, token_hash=_token_hash(token), ip=ip))
    db.session.flush()
    user._login_token = token  # type: ignore[attr-defined]
    return token


# The notifications table by name: importing its model here would load the notifications
# package (and its views) while this module is half loaded.
_NOTIFICATIONS = sa.table("notifications", sa.column("user_id"), sa.column("read_at"))


def _unread_notifications(user_id: Any) -> sa.ScalarSelect[int]:
    """The person's unread in-app notifications, as a column of the sign-in query (the bell's
    count costs no extra query)."""
    return (
        sa.select(sa.func.count())
        .select_from(_NOTIFICATIONS)
        .where(_NOTIFICATIONS.c.user_id == user_id, _NOTIFICATIONS.c.read_at.is_(None))
        .scalar_subquery()
    )


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: `<user id>:<token>` of a login session that has not ended.

    Signing out, signing out everywhere, a password change, a role change, deactivation and
    the absolute session limit all end it, on every server at once.
    """
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    oldest = utcnow() - timedelta(minutes=current_app.config["SESSION_ABSOLUTE_MINUTES"])
    row = db.session.execute(
        sa.select(User, _unread_notifications(User.id))
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            User.id == int(user_id),
            User.is_active.is_(True),
            LoginSession.token_hash == _token_hash(token),
            LoginSession.ended_at.is_(None),
            LoginSession.created_at > oldest,
        )
    ).first()
    if row is None:
        return None
    user, unread = row
    user._login_token = token
    user._unread_notifications = int(unread or 0)
    return user


def end_login(user: User) -> None:
    """End the login session this request belongs to."""
    token = getattr(user, "_login_token", None)
    if token:
        db.session.execute(
            sa.update(LoginSession)
            .where(LoginSession.token_hash == _token_hash(token), LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def end_sessions(user: User) -> None:
    """End every login session of this person, on every device."""
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


# Sign-in ---------------------------------------------------------------------------------


def authenticate(email: str, password: str) -> User | None:
    """The user when email and password match an active account, else None.

    Unknown address, wrong password, no password yet and deactivated all take the same
    time and give the same answer, so the login page never reveals who has an account.
    """
    user = find_user_by_email(email)
    ok = _verify(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        audit.record(
            user,
            "login_failed",
            user,
            outcome="failure",
            details={"email": normalize_email(email)[:254]},
        )
        return None
    if user.password_hash and _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def user_awaiting_second_factor(user_id: object) -> User | None:
    """The person who passed the password step (the id is in the signed session)."""
    if not isinstance(user_id, int):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not user.totp_enabled:
        return None
    return user


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    audit.record(user, "login", user)


def record_logout(user: User, *, everywhere: bool) -> None:
    if everywhere:
        end_sessions(user)
    else:
        end_login(user)
    audit.record(user, "logout_everywhere" if everywhere else "logout", user)


# Tokens ----------------------------------------------------------------------------------


def _new_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, _token_hash(token)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Invitations -----------------------------------------------------------------------------


@dataclass
class InvitationSent:
    user: User
    invitation: Invitation
    token: str


def invite_person(
    actor: User, *, email: str, name: str, role: Role, locale: str = "en"
) -> InvitationSent:
    """Create the person (no password yet) and email them a link to choose one."""
    email = normalize_email(email)
    existing = find_user_by_email(email)
    if existing is not None and existing.has_password:
        raise AccountError(str(_l("This person already has an account.")), field="email")
    if existing is not None:
        # Changing an invited person's role or reactivating them are separate, admin-only
        # decisions; an invitation never does either behind the policy's back.
        raise AccountError(
            str(_l("This person has already been invited. Send a new invitation from their page.")),
            field="email",
        )
    user = User(email=email, name=name.strip(), role=role, locale=locale)
    db.session.add(user)
    db.session.flush()
    sent = _send_invitation(actor, user)
    audit.record(actor, "invite", user, details={"role": role.value})
    return sent


def resend_invitation(actor: User, user: User) -> InvitationSent:
    if user.has_password:
        raise AccountError(str(_l("This person already has an account.")))
    sent = _send_invitation(actor, user)
    audit.record(actor, "invite_resent", user)
    return sent


def _send_invitation(actor: User, user: User) -> InvitationSent:
    now = utcnow()
    _revoke_open_invitations(user)  # only the newest link works
    token, token_hash = _new_token()
    hours = current_app.config["INVITATION_TTL_HOURS"]
    invitation = Invitation(
        user_id=user.id,
        invited_by_id=actor.id,
        token_hash=token_hash,
        expires_at=now + timedelta(hours=hours),
    )
    db.session.add(invitation)
    db.session.flush()
    queue_email(
        user.email,
        "auth/invitation",
        locale=user.locale,
        name=user.name,
        inviter=actor.name,
        link=_external_url("auth.accept_invitation", token=token),
        hours=hours,
    )
    return InvitationSent(user=user, invitation=invitation, token=token)


@dataclass(frozen=True)
class Invitee:
    """A person to create and invite in bulk (`invite_many`)."""

    email: str
    name: str
    role: Role = Role.MEMBER
    locale: str = "en"


def invite_many(
    actor: User, people: Sequence[Invitee], *, deliver_now: bool = True
) -> dict[str, int]:
    """Create many people (no password yet) and queue one invitation email each.

    The bulk path of `invite_person` for imports: a handful of INSERTs instead of several
    per person. The caller has checked that no address has an account yet and that the
    actor may grant each role (the unique index on email refuses a duplicate, and the whole
    transaction then writes nothing), and records one audit row for the batch.
    `deliver_now=False` leaves the emails to `flask outbox deliver`. Returns {email: user id}.
    """
    if not people:
        return {}
    now = utcnow()
    hours = current_app.config["INVITATION_TTL_HOURS"]
    invitees = [Invitee(normalize_email(p.email), p.name.strip(), p.role, p.locale) for p in people]
    # A plain executemany, then the ids by address: INSERT ... RETURNING for thousands of rows
    # makes SQLAlchemy keep the rows in order on PostgreSQL, which took longer than both.
    db.session.execute(
        sa.insert(User),
        [{"email": p.email, "name": p.name, "role": p.role, "locale": p.locale} for p in invitees],
    )
    emails = [p.email for p in invitees]
    ids: dict[str, int] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        ids.update(
            (email, user_id)
            for user_id, email in db.session.execute(
                sa.select(User.id, User.email).where(User.email.in_(chunk))
            )
        )
    tokens = {email: _new_token() for email in ids}
    db.session.execute(
        sa.insert(Invitation),
        [
            {
                "user_id": ids[email],
                "invited_by_id": actor.id,
                "token_hash": token_hash,
                "created_at": now,
                "expires_at": now + timedelta(hours=hours),
            }
            for email, (_token, token_hash) in tokens.items()
        ],
    )
    base = current_app.config["BASE_URL"].rstrip("/")
    placeholder = "TOKEN-PLACEHOLDER"
    link = base + url_for("auth.accept_invitation", token=placeholder, _external=False)
    queue_emails(
        "auth/invitation",
        (
            (
                p.email,
                p.locale,
                {
                    "name": p.name,
                    "inviter": actor.name,
                    "link": link.replace(placeholder, tokens[p.email][0]),
                    "hours": hours,
                },
            )
            for p in invitees
        ),
        deliver_now=deliver_now,
    )
    return ids


def _revoke_open_invitations(user: User) -> None:
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.user_id == user.id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )


def invited_person(invitation: Invitation) -> User:
    user = db.session.get(User, invitation.user_id)
    assert user is not None
    return user


def find_invitation(token: str) -> Invitation | None:
    """A usable invitation: not accepted, not revoked, not expired, person still active."""
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == _token_hash(token))
    )
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return None
    if invitation.expires_at <= utcnow():
        return None
    user = db.session.get(User, invitation.user_id)
    if user is None or not user.is_active or user.has_password:
        return None
    return invitation


def accept_invitation(invitation: Invitation, password: str) -> User:
    user = invited_person(invitation)
    set_password(user, password)
    invitation.accepted_at = utcnow()
    audit.record(user, "invitation_accepted", user)
    return user


# Password reset --------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Email a reset link if the address has an active account; otherwise do nothing.

    The caller shows the same message either way.
    """
    user = find_user_by_email(email)
    if user is None or not user.is_active or not user.has_password:
        audit.record(None, "password_reset_requested", None, outcome="unknown_address")
        return
    token, token_hash = _new_token()
    minutes = current_app.config["PASSWORD_RESET_TTL_MINUTES"]
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=token_hash,
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    queue_email(
        user.email,
        "auth/password_reset",
        locale=user.locale,
        name=user.name,
        link=_external_url("auth.reset_password", token=token),
        minutes=minutes,
    )
    audit.record(user, "password_reset_requested", user)


def _expire_password_resets(user: User) -> None:
    db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    )


def find_password_reset(token: str) -> PasswordReset | None:
    reset = db.session.scalar(
        sa.select(PasswordReset).where(PasswordReset.token_hash == _token_hash(token))
    )
    if reset is None or reset.used_at is not None or reset.expires_at <= utcnow():
        return None
    user = db.session.get(User, reset.user_id)
    if user is None or not user.is_active:
        return None
    return reset


def reset_password(reset: PasswordReset, password: str) -> User:
    user = db.session.get(User, reset.user_id)
    assert user is not None
    set_password(user, password)  # this link and every other outstanding one stop working
    audit.record(user, "password_reset", user)
    return user


# Profile ---------------------------------------------------------------------------------


@cache
def _zone_names() -> frozenset[str]:
    """The system's time zones: read from disk once per process (a walk of the tz folder,
    ~25 ms, that the profile page otherwise paid on every view)."""
    return frozenset(available_timezones())


@cache
def valid_timezones() -> tuple[str, ...]:
    return tuple(sorted(tz for tz in _zone_names() if "/" in tz and not tz.startswith("Etc/")))


def update_profile(user: User, *, name: str, locale: str, timezone: str) -> None:
    if locale not in current_app.config["LANGUAGES"]:
        raise AccountError(str(_l("Choose a language from the list.")), field="locale")
    if timezone not in _zone_names():
        raise AccountError(str(_l("Choose a time zone from the list.")), field="timezone")
    user.name = name.strip()
    user.locale = locale
    user.timezone = timezone


def change_password(user: User, *, current: str, new: str) -> None:
    if not _verify(user.password_hash, current):
        audit.record(user, "password_change", user, outcome="failure")
        raise AccountError(str(_l("Your current password is not correct.")), field="current")
    set_password(user, new)
    audit.record(user, "password_change", user)


# Roles and activation --------------------------------------------------------------------


def change_role(actor: User, person: User, role: Role) -> None:
    if person.role == role:
        return
    old = person.role
    person.role = role
    end_sessions(person)  # new privileges start with a fresh sign-in
    audit.record(actor, "role_change", person, details={"from": old.value, "to": role.value})


def deactivate(actor: User, person: User) -> None:
    person.is_active = False
    end_sessions(person)
    _revoke_open_invitations(person)
    audit.record(actor, "deactivate", person)


def reactivate(actor: User, person: User) -> None:
    person.is_active = True
    audit.record(actor, "reactivate", person)


# Two-factor (TOTP) -----------------------------------------------------------------------


def enrolment_secret(user: User) -> str:
    """The key offered while two-factor is being set up.

    Derived from the app's secret, the person and this login session, so it is stable across
    page loads, never stored, and never sent in the (readable) session cookie.
    """
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"totp-enrolment:{user.id}:{getattr(user, '_login_token', '')}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.b32encode(digest[:20]).decode()


def totp_uri(user: User, secret: str) -> str:
    issuer = current_app.config["TOTP_ISSUER"]
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def _matching_counter(secret: str, code: str) -> int | None:
    """The time step a 6-digit code belongs to (now, or one step either side)."""
    code = code.replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_counter = totp.timecode(utcnow())
    for counter in (now_counter, now_counter - 1, now_counter + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            return counter
    return None


def enable_totp(user: User, secret: str, code: str) -> list[str]:
    """Turn two-factor on when the code proves the app is set up; returns recovery codes."""
    counter = _matching_counter(secret, code)
    if counter is None:
        raise AccountError(
            str(_l("That code does not match. Check the time on your phone and try again.")),
            field="code",
        )
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_counter = counter
    codes = _replace_recovery_codes(user)
    audit.record(user, "totp_enabled", user)
    return codes


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODE_COUNT)]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_token_hash(code)))
    return codes


def regenerate_recovery_codes(user: User) -> list[str]:
    codes = _replace_recovery_codes(user)
    audit.record(user, "recovery_codes_regenerated", user)
    return codes


def verify_second_factor(user: User, code: str) -> bool:
    """A current TOTP code (never the same one twice) or an unused recovery code."""
    if not user.totp_secret:
        return False
    counter = _matching_counter(user.totp_secret, code)
    if counter is not None:
        if user.totp_last_counter is not None and counter <= user.totp_last_counter:
            audit.record(user, "totp_failed", user, outcome="replay")
            return False
        user.totp_last_counter = counter
        return True
    candidate = code.strip().lower()
    recovery = db.session.scalar(
        sa.select(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _token_hash(candidate),
            RecoveryCode.used_at.is_(None),
        )
    )
    if recovery is not None:
        recovery.used_at = utcnow()
        audit.record(user, "recovery_code_used", user)
        return True
    audit.record(user, "totp_failed", user, outcome="failure")
    return False


def unused_recovery_code_count(user: User) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def disable_totp(user: User, password: str) -> None:
    if not _verify(user.password_hash, password):
        raise AccountError(str(_l("Your password is not correct.")), field="password")
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_counter = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(user, "totp_disabled", user)


# Helpers ---------------------------------------------------------------------------------


def _external_url(endpoint: str, **values: str) -> str:
    """Absolute link for emails; CLI jobs have no request, so BASE_URL is the root."""
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for(endpoint, **values, _external=False)


def create_administrator(*, email: str, name: str, password: str) -> User:
    """The first administrator of a new installation (from the command line)."""
    if find_user_by_email(email) is not None:
        raise AccountError(str(_l("This person already has an account.")), field="email")
    user = User(email=normalize_email(email), name=name.strip(), role=Role.ADMIN)
    set_password(user, password)
    db.session.add(user)
    db.session.flush()
    audit.record(None, "admin_created", user)
    return user

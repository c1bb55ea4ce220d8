"""Sign in and out, invitations, password resets, profile, two-factor, language."""

from __future__ import annotations

import time
from typing import Any

import segno
from flask import (
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from fellowship import policy
from fellowship.auth import bp
from fellowship.auth import services as accounts
from fellowship.auth.forms import (
    ChangePasswordForm,
    ChoosePasswordForm,
    ConfirmPasswordForm,
    EmptyForm,
    EnableTotpForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    SecondFactorForm,
)
from fellowship.auth.models import User
from fellowship.db import commit
from fellowship.extensions import limiter
from fellowship.web import require, safe_local_path

PENDING_2FA = "pending_2fa"
PENDING_2FA_SECONDS = 300
# A 6-digit code is guessable only by volume: few tries a minute, fewer an hour.
TOTP_ATTEMPT_LIMIT = "5 per minute;20 per hour"


# Rate limits: every attempt counts, atomically, before the password or code is checked -----


def _account_limit() -> str:
    return str(current_app.config["LOGIN_FAILURE_LIMIT"])


def _address_limit() -> str:
    return str(current_app.config["LOGIN_ADDRESS_LIMIT"])


def _email_key() -> str:
    return "login-email:" + accounts.normalize_email(request.form.get("email", ""))[:254]


def _pending_user_key() -> str:
    pending = session.get(PENDING_2FA) or {}
    return f"2fa-user:{pending.get('user_id', request.remote_addr)}"


def _safe_next(target: str | None) -> str:
    """Only same-site paths; never a scheme, host or protocol-relative URL."""
    return safe_local_path(target) or url_for("dashboards.home")


def _start_session(user: User) -> None:
    """A new server-side login session and a fresh cookie: nothing from before carries over."""
    next_url = session.get("next")
    session.clear()
    accounts.start_login(user, ip=request.remote_addr)
    login_user(user)
    session["seen_at"] = int(time.time())
    session.permanent = True
    if next_url:
        session["next"] = next_url


def _finish_login(user: User) -> Response:
    previous = user.last_login_at
    _start_session(user)
    if previous is not None:
        session["previous_login_at"] = previous.isoformat()
    accounts.record_login(user)
    commit()
    return redirect(_safe_next(session.pop("next", None)))


# Sign in / out ---------------------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_address_limit, methods=["POST"])
@limiter.limit(_account_limit, methods=["POST"], key_func=_email_key)
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("dashboards.home"))
    form = LoginForm()
    if request.method == "GET" and request.args.get("next"):
        session["next"] = _safe_next(request.args["next"])
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            commit()  # keep the failed-login audit row
            form.password.errors = [_("The email or password is not correct.")]
            return render_template("auth/login.html", form=form), 200
        if user.totp_enabled:
            session[PENDING_2FA] = {"user_id": user.id, "at": int(time.time())}
            commit()
            return redirect(url_for("auth.second_factor"))
        return _finish_login(user)
    return render_template("auth/login.html", form=form)


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(TOTP_ATTEMPT_LIMIT, methods=["POST"], key_func=_pending_user_key)
def second_factor() -> Any:
    pending = session.get(PENDING_2FA) or {}
    user = accounts.user_awaiting_second_factor(pending.get("user_id"))
    if user is None or time.time() - pending.get("at", 0) > PENDING_2FA_SECONDS:
        session.pop(PENDING_2FA, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        if accounts.verify_second_factor(user, form.code.data or ""):
            session.pop(PENDING_2FA, None)
            return _finish_login(user)
        commit()
        form.code.errors = [_("That code is not correct or has already been used.")]
    return render_template("auth/second_factor.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        user = current_user._get_current_object()
        everywhere = request.form.get("everywhere") == "1"
        accounts.record_logout(user, everywhere=everywhere)
        commit()
        logout_user()
        session.clear()
        session["locale"] = user.locale  # the sign-in page stays in their language
        if everywhere:
            flash(_("You have been signed out on every device."), "success")
        else:
            flash(_("You have been signed out."), "success")
    return redirect(url_for("auth.login"))


# Invitations and resets ------------------------------------------------------------------


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def accept_invitation(token: str) -> Any:
    invitation = accounts.find_invitation(token)
    if invitation is None:
        return render_template("auth/link_invalid.html", kind="invitation"), 404
    user = accounts.invited_person(invitation)
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.accept_invitation(invitation, form.password.data or "")
        except accounts.AccountError as error:
            form.password.errors = [error.message]
        else:
            flash(_("Welcome to Fellowship. Your password is set."), "success")
            return _finish_login(user)
    return render_template("auth/accept_invitation.html", form=form, person=user)


def _reset_email_key() -> str:
    return "reset-email:" + accounts.normalize_email(request.form.get("email", ""))[:254]


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@limiter.limit("5 per hour", methods=["POST"], key_func=_reset_email_key)
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        started = time.monotonic()
        accounts.request_password_reset(form.email.data or "")
        commit()
        # Known and unknown addresses take the same time (mail goes out after the response).
        floor = current_app.config["RESET_RESPONSE_SECONDS"]
        time.sleep(max(0.0, floor - (time.monotonic() - started)))
        flash(
            _(
                "If that address has an account, we have sent it a link to choose a new "
                "password. The link works once, for a limited time."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute")
def reset_password(token: str) -> Any:
    reset = accounts.find_password_reset(token)
    if reset is None:
        return render_template("auth/link_invalid.html", kind="reset"), 404
    form = ChoosePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(reset, form.password.data or "")
        except accounts.AccountError as error:
            form.password.errors = [error.message]
        else:
            commit()
            logout_user()
            session.clear()
            flash(_("Your password has been changed. Sign in with the new password."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


# Profile ---------------------------------------------------------------------------------


def _me() -> User:
    user: User = current_user._get_current_object()
    require(policy.can_edit_profile(user, user))
    return user


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> Any:
    user = _me()
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        try:
            accounts.update_profile(
                user,
                name=form.name.data or "",
                locale=form.locale.data or "en",
                timezone=form.timezone.data or "UTC",
            )
        except accounts.AccountError as error:
            getattr(form, error.field or "name").errors = [error.message]
        else:
            commit()
            session["locale"] = user.locale
            flash(_("Your profile has been saved."), "success")
            return redirect(url_for("auth.profile"))
    return render_template(
        "auth/profile.html",
        form=form,
        person=user,
        password_form=ChangePasswordForm(prefix="pw"),
        logout_form=EmptyForm(),
    )


@bp.route("/profile/password", methods=["POST"])
@login_required
def change_password() -> Any:
    user = _me()
    password_form = ChangePasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            accounts.change_password(
                user,
                current=password_form.current.data or "",
                new=password_form.password.data or "",
            )
        except accounts.AccountError as error:
            getattr(password_form, error.field or "password").errors = [error.message]
            commit()  # keep the audit row of the failed attempt
        else:
            commit()
            _start_session(user)  # this session continues; every other one has ended
            flash(
                _("Your password has been changed. Other devices have been signed out."), "success"
            )
            return redirect(url_for("auth.profile"))
    return render_template(
        "auth/profile.html",
        form=ProfileForm(obj=user),
        person=user,
        password_form=password_form,
        logout_form=EmptyForm(),
    )


@bp.route("/profile/two-factor", methods=["GET", "POST"])
@login_required
def two_factor() -> Any:
    user = _me()
    if user.totp_enabled:
        return render_template(
            "auth/two_factor_status.html",
            person=user,
            remaining=accounts.unused_recovery_code_count(user),
            disable_form=ConfirmPasswordForm(prefix="off"),
            regenerate_form=ConfirmPasswordForm(prefix="re"),
        )
    secret = accounts.enrolment_secret(user)
    form = EnableTotpForm()
    if form.validate_on_submit():
        try:
            codes = accounts.enable_totp(user, secret, form.code.data or "")
        except accounts.AccountError as error:
            form.code.errors = [error.message]
        else:
            commit()
            flash(_("Two-factor authentication is on."), "success")
            return render_template("auth/recovery_codes.html", codes=codes)
    uri = accounts.totp_uri(user, secret)
    qr_svg = segno.make(uri, error="m").svg_inline(
        scale=5, title=_("QR code for your authenticator app")
    )
    return render_template(
        "auth/two_factor_enrol.html",
        form=form,
        secret=secret,
        grouped_secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        qr_svg=qr_svg,
    )


@bp.route("/profile/two-factor/recovery-codes", methods=["POST"])
@login_required
def regenerate_recovery_codes() -> Any:
    user = _me()
    form = ConfirmPasswordForm(prefix="re")
    if form.validate_on_submit():
        if accounts.verify_password(user, form.password.data or ""):
            codes = accounts.regenerate_recovery_codes(user)
            commit()
            return render_template("auth/recovery_codes.html", codes=codes)
        commit()
        flash(_("Your password is not correct."), "error")
    return redirect(url_for("auth.two_factor"))


@bp.route("/profile/two-factor/disable", methods=["POST"])
@login_required
def disable_two_factor() -> Any:
    user = _me()
    form = ConfirmPasswordForm(prefix="off")
    if form.validate_on_submit():
        try:
            accounts.disable_totp(user, form.password.data or "")
        except accounts.AccountError as error:
            flash(error.message, "error")
        else:
            commit()
            flash(_("Two-factor authentication is off."), "success")
    return redirect(url_for("auth.two_factor"))


# Language --------------------------------------------------------------------------------


@bp.route("/language", methods=["POST"])
def set_language() -> Any:
    form = EmptyForm()
    locale = request.form.get("locale", "")
    target = _safe_next(request.form.get("next"))
    if form.validate_on_submit() and locale in current_app.config["LANGUAGES"]:
        session["locale"] = locale
        if current_user.is_authenticated:
            user = current_user._get_current_object()
            accounts.update_profile(user, name=user.name, locale=locale, timezone=user.timezone)
            commit()
    return redirect(target)


# Every request: session limits and required two-factor ----------------------------------

OPEN_ENDPOINTS = {
    "auth.login",
    "auth.logout",
    "auth.second_factor",
    "auth.two_factor",
    "auth.set_language",
    "static",
    "healthz",
}


@bp.before_app_request
def enforce_session_rules() -> Any:
    # A stylesheet or font is the same for everyone and is not activity: no session lookup.
    if request.endpoint == "static" or not current_user.is_authenticated:
        return None
    now = int(time.time())
    config = current_app.config
    # The absolute limit is checked on the server (load_session_user); idleness here.
    seen_at = int(session.get("seen_at", 0))
    if now - seen_at > config["SESSION_IDLE_MINUTES"] * 60:
        logout_user()
        session.clear()
        flash(_("You were signed out because your session expired. Please sign in again."), "info")
        if request.method == "GET":
            session["next"] = _safe_next(request.full_path.rstrip("?"))
        return redirect(url_for("auth.login"))
    if now - seen_at >= 60:
        session["seen_at"] = now
    if (
        policy.must_enrol_totp(current_user, tuple(config["TOTP_REQUIRED_ROLES"]))
        and request.endpoint not in OPEN_ENDPOINTS
    ):
        flash(_("Your role requires two-factor authentication. Set it up to continue."), "info")
        return redirect(url_for("auth.two_factor"))
    return None

"""Forms for signing in, invitations, resets, the profile and two-factor."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from fellowship.auth.services import password_problems, valid_timezones
from fellowship.forms import choices, email_field, language_choices


class NewPasswordCheck:
    """Field validator: the password policy (length, not common)."""

    def __call__(self, form: Any, field: Any) -> None:
        problems = password_problems(field.data or "")
        if problems:
            raise ValidationError(" ".join(problems))


def _new_password_fields() -> tuple[PasswordField, PasswordField]:
    return (
        PasswordField(
            _l("New password"),
            validators=[DataRequired(), NewPasswordCheck()],
            description=_l("At least 12 characters. A short sentence is easy to remember."),
            render_kw={"autocomplete": "new-password"},
        ),
        PasswordField(
            _l("Confirm new password"),
            validators=[
                DataRequired(),
                EqualTo("password", message=_l("The two passwords do not match.")),
            ],
            render_kw={"autocomplete": "new-password"},
        ),
    )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Length(max=254)],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Authentication code"),
        validators=[DataRequired(), Length(max=32)],
        description=_l("The 6-digit code from your authenticator app, or a recovery code."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"},
    )


class ForgotPasswordForm(FlaskForm):
    email = email_field()


class ChoosePasswordForm(FlaskForm):
    password, confirm = _new_password_fields()


class ProfileForm(FlaskForm):
    name = StringField(
        _l("Name"), validators=[DataRequired(), Length(max=120)], render_kw={"autocomplete": "name"}
    )
    locale = SelectField(_l("Language"))
    timezone = SelectField(
        _l("Time zone"),
        description=_l("Dates and times are shown in this time zone."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.locale.choices = language_choices()
        self.timezone.choices = choices((tz, tz.replace("_", " ")) for tz in valid_timezones())


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )
    password, confirm = _new_password_fields()


class EnableTotpForm(FlaskForm):
    code = StringField(
        _l("Code from your app"),
        validators=[DataRequired(), Length(max=16)],
        description=_l("Enter the 6-digit code your authenticator app shows for Fellowship."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired()],
        render_kw={"autocomplete": "current-password"},
    )


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that post."""

"""Forms of the outbox page and the email settings page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

from fellowship.forms import email_field

STATUS_LABELS = {
    "": _l("Failed and queued"),
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}


class OutboxFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    status = SelectField(_l("Show"), default="")


class TestEmailForm(FlaskForm):
    email = email_field()

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.email.label.text = str(_l("Send it to"))
        self.email.description = _l("Any address; yours is filled in.")

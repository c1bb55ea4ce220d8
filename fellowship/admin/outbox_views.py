"""The outbox page (what was sent, what waits, what failed and why), sending a message again,
and the email settings page with the test email. Admins only."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.admin import bp, outbox_queries, outbox_services
from fellowship.admin.outbox_forms import STATUS_LABELS, OutboxFilterForm, TestEmailForm
from fellowship.auth.forms import EmptyForm
from fellowship.db import commit
from fellowship.forms import choices
from fellowship.mail import OutboxMessage, OutboxStatus
from fellowship.web import get_or_404, page_arg, require

OUTBOX_PER_PAGE = 50


@bp.route("/outbox")
@login_required
def outbox() -> Any:
    require(policy.can_manage_outbox(current_user))
    form = OutboxFilterForm(request.args)
    form.status.choices = choices((value, STATUS_LABELS[value]) for value in outbox_queries.FILTERS)
    status = form.status.data if form.validate() else outbox_queries.ATTENTION
    counts = outbox_queries.status_counts()
    page = outbox_queries.messages(status or "", page=page_arg(), per_page=OUTBOX_PER_PAGE)
    return render_template(
        "admin/outbox_index.html",
        form=form,
        status=status or "",
        counts=counts,
        page=page,
        status_labels=STATUS_LABELS,
        statuses=OutboxStatus,
        action_form=EmptyForm(),
    )


@bp.route("/outbox/<int:message_id>")
@login_required
def outbox_message(message_id: int) -> Any:
    require(policy.can_manage_outbox(current_user))
    message = get_or_404(OutboxMessage, message_id)
    return render_template(
        "admin/outbox_message.html",
        # Sign-in mail carries working links (a password reset, an invitation): an admin
        # must not be able to read them and become someone else.
        body_hidden=message.template.startswith("auth/"),
        message=message,
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        status_labels=STATUS_LABELS,
        action_form=EmptyForm(),
    )


@bp.route("/outbox/<int:message_id>/retry", methods=["POST"])
@login_required
def retry_message(message_id: int) -> Any:
    require(policy.can_manage_outbox(current_user))
    message = get_or_404(OutboxMessage, message_id)
    if EmptyForm().validate_on_submit():
        outcome = outbox_services.retry_message(current_user, message)
        commit()
        if outcome == outbox_services.Retry.REQUEUED:
            flash(
                _(
                    "The email to %(to)s is being sent again. Reload the page to see if it went.",
                    to=message.to,
                ),
                "success",
            )
        elif outcome == outbox_services.Retry.SENT:
            flash(_("This email was sent already; it is not sent twice."), "warning")
        else:
            flash(_("This email is being sent at this moment; wait for the result."), "warning")
    return redirect(url_for("admin.outbox_message", message_id=message.id))


@bp.route("/outbox/retry-failed", methods=["POST"])
@login_required
def retry_failed() -> Any:
    require(policy.can_manage_outbox(current_user))
    if EmptyForm().validate_on_submit():
        count = outbox_services.retry_failed(current_user)
        commit()
        if count:
            flash(
                ngettext(
                    "%(num)d failed email is being sent again.",
                    "%(num)d failed emails are being sent again.",
                    count,
                ),
                "success",
            )
        else:
            flash(_("No email had failed: nothing to send again."), "info")
    return redirect(url_for("admin.outbox"))


@bp.route("/email", methods=["GET", "POST"])
@login_required
def email_settings() -> Any:
    require(policy.can_manage_outbox(current_user))
    form = TestEmailForm()
    if request.method == "GET":
        form.email.data = current_user.email
    if form.validate_on_submit():
        address = (form.email.data or "").strip()
        outbox_services.send_test_email(current_user, address)
        commit()
        flash(
            _(
                "A test email to %(to)s is on its way. If it has not arrived in a few minutes, "
                "look for it on the outbox page: it shows the mail server's error.",
                to=address,
            ),
            "success",
        )
        return redirect(url_for("admin.email_settings"))
    config = current_app.config
    return render_template(
        "admin/outbox_email.html",
        form=form,
        counts=outbox_queries.status_counts(),
        status_labels=STATUS_LABELS,
        mail={
            "server": config["MAIL_SERVER"],
            "port": config["MAIL_PORT"],
            "tls": bool(config["MAIL_USE_TLS"]),
            "ssl": bool(config["MAIL_USE_SSL"]),
            "username": config["MAIL_USERNAME"] or "",
            "sender": config["MAIL_DEFAULT_SENDER"],
            "suppressed": bool(config["MAIL_SUPPRESS_SEND"]),
            "base_url": config["BASE_URL"],
            "max_attempts": config["OUTBOX_MAX_ATTEMPTS"],
        },
    )

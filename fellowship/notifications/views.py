"""A person's notifications (the bell's page), their email preferences, and the one-click
unsubscribe link from emails (no sign-in: the signed token is the permission)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_datetime, format_timedelta, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.models import User
from fellowship.db import commit, db, utcnow
from fellowship.extensions import csrf
from fellowship.forms import parse_int
from fellowship.notifications import bp, queries, services
from fellowship.notifications.forms import ActionForm, preferences_form
from fellowship.notifications.labels import CATEGORY_NAMES
from fellowship.notifications.models import Notification
from fellowship.web import get_or_404, page_arg, require, safe_local_path

# Newer than this reads "3 hours ago"; older shows its date.
RELATIVE_FOR = timedelta(days=7)


def when(moment: datetime, now: datetime) -> str:
    """When a notification came, for the list: "just now", "3 hours ago", or its date (in the
    reader's timezone and language)."""
    age = now - moment
    if age < timedelta(minutes=1):
        return _("just now")
    if age < RELATIVE_FOR:
        return str(format_timedelta(moment - now, add_direction=True, threshold=1))
    return str(format_date(moment, "medium"))


def _own_or_404(notification_id: int) -> Notification:
    """The signed-in person's notification; anyone else's is "not found" (its existence is
    nobody else's business), and nothing changes."""
    notification = get_or_404(Notification, notification_id)
    if not policy.can_read_notification(current_user, notification):
        abort(404)
    return notification


def _back_to_list() -> Any:
    """Back to the page of the list the button was on."""
    page = parse_int(request.form.get("page"))
    if page and page > 1:
        return redirect(url_for("notifications.index", page=page))
    return redirect(url_for("notifications.index"))


@bp.route("/")
@login_required
def index() -> Any:
    page = queries.notifications_of(
        current_user.id,
        page=page_arg(),
        per_page=current_app.config["NOTIFICATIONS_PER_PAGE"],
    )
    now = utcnow()
    return render_template(
        "notifications/index.html",
        page=page,
        now=now,
        when=when,
        full_time=lambda moment: format_datetime(moment, "medium"),
        action_form=ActionForm(),
    )


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id: int) -> Any:
    """Mark it read and go to the page it is about (a POST: GET never changes state)."""
    notification = _own_or_404(notification_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.mark_read(current_user, [notification.id])
    commit()
    target = safe_local_path(notification.link) or url_for("notifications.index")
    return redirect(target, code=303)


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int) -> Any:
    notification = _own_or_404(notification_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if services.mark_read(current_user, [notification.id]):
        commit()
        flash(_("Marked as read: “%(subject)s”.", subject=notification.subject), "success")
    return _back_to_list()


@bp.route("/read-all", methods=["POST"])
@login_required
def mark_all_read() -> Any:
    if not ActionForm().validate_on_submit():
        abort(400)
    changed = services.mark_all_read(current_user)
    commit()
    if changed:
        flash(
            ngettext(
                "%(num)d notification marked as read.",
                "%(num)d notifications marked as read.",
                changed,
            ),
            "success",
        )
    return _back_to_list()


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> Any:
    user: User = current_user._get_current_object()
    require(policy.can_edit_profile(user, user))
    form = preferences_form(services.preferences_of(user))
    if form.validate_on_submit():
        services.set_preferences(user, form.chosen())
        commit()
        flash(_("Your email preferences have been saved."), "success")
        return redirect(url_for("notifications.preferences"))
    return render_template(
        "notifications/preferences.html",
        form=form,
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: mail programs POST here without a form; the token is the key
def unsubscribe(token: str) -> Any:
    found = services.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user_id, categories = found
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        abort(404)
    names = [str(CATEGORY_NAMES[category]) for category in categories]
    if request.method == "GET":
        return render_template(
            "notifications/unsubscribe.html",
            token=token,
            names=names,
            done=False,
            action_form=ActionForm(),
        )
    services.unsubscribe(user, categories)
    commit()
    return render_template(
        "notifications/unsubscribe.html", token=token, names=names, done=True, action_form=None
    )

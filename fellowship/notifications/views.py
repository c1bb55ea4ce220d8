"""A person's notifications (the bell's page), their email preferences, and the one-click
unsubscribe link from emails (no sign-in: the signed token is the permission)."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template

from fellowship.auth.models import User
from fellowship.db import commit, db
from fellowship.extensions import csrf
from fellowship.notifications import bp, services


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click: mail programs POST here without a form; the token is the key
def unsubscribe(token: str) -> Any:
    from flask import request

    found = services.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user_id, categories = found
    user = db.session.get(User, user_id)
    if user is None or not user.is_active:
        abort(404)
    if request.method == "GET":
        return render_template(
            "notifications/unsubscribe.html", token=token, categories=categories, done=False
        )
    services.unsubscribe(user, categories)
    commit()
    return render_template(
        "notifications/unsubscribe.html", token=token, categories=categories, done=True
    )


@bp.route("/preferences", methods=["GET", "POST"])
def preferences() -> Any:
    abort(404)  # replaced by the preferences page (helper C)

"""The district's integration settings (admins): which groups count as minority, and the
small-cell threshold N that hides small counts on every page and export."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.db import commit, db
from fellowship.forms import parse_int
from fellowship.integration import bp, settings_services
from fellowship.integration.models import (
    DEFAULT_THRESHOLD,
    MINORITY_CHOICES,
    THRESHOLD_MAX,
    THRESHOLD_MIN,
)
from fellowship.integration.settings_forms import RACE_GROUP_LABELS, SettingsForm
from fellowship.web import require


def _render(form: SettingsForm, current: settings_services.Saved, **extra: Any) -> str:
    return render_template(
        "integration/settings_form.html",
        form=form,
        current=current,
        group_labels=RACE_GROUP_LABELS,
        default_minority=MINORITY_CHOICES,
        default_threshold=DEFAULT_THRESHOLD,
        low=THRESHOLD_MIN,
        high=THRESHOLD_MAX,
        **extra,
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    require(policy.can_manage_integration_settings(current_user))
    current = settings_services.saved()
    if request.method == "GET":
        form = SettingsForm(formdata=None)
        form.minority.data = [g.value for g in current.minority]
        form.threshold.data = str(current.threshold)
        form.version.data = str(current.version)
        return _render(form, current)
    form = SettingsForm()
    conflict = None
    problem = None
    if form.validate_on_submit():
        data = settings_services.SettingsData(
            minority=form.minority.data or [],
            threshold=form.threshold.data or "",
            version=parse_int(form.version.data),
        )
        try:
            changed = settings_services.save_settings(current_user, data)
        except settings_services.StaleSettings as error:
            db.session.rollback()
            current = settings_services.saved()
            conflict = error.message
            # Saving again is now a deliberate choice made after seeing the saved settings.
            form.version.data = str(current.version)
        except settings_services.SettingsError as error:
            db.session.rollback()
            current = settings_services.saved()
            field = getattr(form, error.field, None) if error.field else None
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                problem = error.message
        else:
            commit()
            if changed:
                flash(
                    _(
                        "The integration settings have been saved. Every page and export uses "
                        "them from now on."
                    ),
                    "success",
                )
            else:
                flash(_("The settings were already exactly these: nothing changed."), "info")
            return redirect(url_for("integration.settings"))
    return _render(form, current, conflict=conflict, problem=problem)

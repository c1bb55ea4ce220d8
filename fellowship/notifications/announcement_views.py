"""Staff announcements: the list of those sent, writing one (form → preview with the number of
people it reaches → send), and the page each recipient's notification links to."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.db import commit
from fellowship.forms import choices
from fellowship.notifications import announcement_queries as queries
from fellowship.notifications import announcement_services as services
from fellowship.notifications import bp
from fellowship.notifications.announcement_forms import AUDIENCE_LABELS, AnnouncementForm
from fellowship.notifications.models import Announcement
from fellowship.web import get_or_404, page_arg, require

PER_PAGE = 25


@bp.route("/announcements")
@login_required
def announcements() -> Any:
    require(policy.can_send_announcements(current_user))
    page = queries.sent_announcements(page=page_arg(), per_page=PER_PAGE)
    return render_template("notifications/announcement_index.html", page=page)


def _form() -> AnnouncementForm:
    form = AnnouncementForm()
    form.cohort.choices = choices(
        ((str(cohort_id), label) for cohort_id, label in queries.cohort_choices()),
        empty=_("Choose a cohort"),
    )
    form.school_year.choices = choices(
        (
            (
                str(year_id),
                ngettext(
                    "%(year)s (%(num)d cycle)", "%(year)s (%(num)d cycles)", count, year=label
                ),
            )
            for year_id, label, count in queries.school_year_choices()
        ),
        empty=_("Choose a school year"),
    )
    return form


@bp.route("/announcements/new", methods=["GET", "POST"])
@login_required
def new_announcement() -> Any:
    require(policy.can_send_announcements(current_user))
    form = _form()
    action = request.form.get("action", "preview")
    if form.validate_on_submit() and action != "edit":
        audience, target_id = form.target()
        count = queries.recipient_count(audience, target_id)
        confirmed = action == "send" and services.valid_send_key(form.send_key.data)
        if confirmed and count > 0 and form.expected.data == str(count):
            sent = services.send_announcement(
                current_user,
                audience=audience,
                target_id=target_id,
                subject=(form.subject.data or "").strip(),
                body_md=form.message.data or "",
                send_key=form.send_key.data or "",
            )
            commit()
            _say_sent(sent)
            return redirect(
                url_for("notifications.announcement", announcement_id=sent.announcement.id)
            )
        # The preview (again, when the audience changed since the one that was confirmed):
        # each preview is a new confirmation with its own one-time key.
        changed = confirmed and form.expected.data != str(count)
        form.send_key.data = services.new_send_key()
        form.expected.data = str(count)
        cohort, school_year = _audience_names(form)
        return render_template(
            "notifications/announcement_preview.html",
            form=form,
            count=count,
            changed=changed,
            cohort=cohort,
            school_year=school_year,
        )
    return render_template(
        "notifications/announcement_form.html", form=form, audience_labels=AUDIENCE_LABELS
    )


def _audience_names(form: AnnouncementForm) -> tuple[str | None, str | None]:
    """The labels of the chosen cohort or school year, as the form's selects show them."""
    audience, target_id = form.target()
    field = form.cohort if audience.value == "cohort" else form.school_year
    label = next((str(c.label) for c in field.choices if c.value == str(target_id)), None)
    return (label, None) if audience.value == "cohort" else (None, label)


def _say_sent(sent: services.Sent) -> None:
    count = sent.announcement.recipient_count
    if sent.again:
        flash(_("This announcement was sent already; it was not sent twice."), "warning")
    elif count > services.DELIVER_NOW_MAX:
        flash(
            ngettext(
                "Sent to %(num)d person. It is in the app now; the email goes out within a few "
                "minutes.",
                "Sent to %(num)d people. It is in their notifications now; the emails go out "
                "within a few minutes.",
                count,
            ),
            "success",
        )
    else:
        flash(
            ngettext("Sent to %(num)d person.", "Sent to %(num)d people.", count),
            "success",
        )


@bp.route("/announcements/<int:announcement_id>")
@login_required
def announcement(announcement_id: int) -> Any:
    found = get_or_404(Announcement, announcement_id)
    require(policy.can_read_announcement(current_user, found))
    row = queries.announcement_row(found.id)
    if row is None:
        abort(404)
    return render_template("notifications/announcement_show.html", row=row)

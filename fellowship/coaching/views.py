"""Check-in pages: log, show, edit, share, reply, mark action items done, and the histories.

Private notes are read in one place only (`queries.private_notes_for`), always with the id of
the person signed in, and only after `policy.can_view_checkin_private_notes` said yes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.auth.forms import EmptyForm
from fellowship.auth.models import User
from fellowship.coaching import bp, queries
from fellowship.coaching import services as coaching
from fellowship.coaching.forms import (
    BLANK_ITEM_ROWS,
    MODE_LABELS,
    OWNER_COACH,
    OWNER_FELLOW,
    CheckInForm,
    ReplyForm,
    ToggleItemForm,
)
from fellowship.coaching.models import ActionItem, CheckIn, CheckInMode
from fellowship.cohorts.models import Cohort
from fellowship.db import commit, db
from fellowship.forms import parse_int
from fellowship.web import get_or_404, page_arg, require, safe_local_path

HISTORY_PER_PAGE = 20
LABELS = {"mode_labels": MODE_LABELS}


def _local_today() -> date:
    return datetime.now(ZoneInfo(str(current_user.timezone))).date()


def _strand_choices(cohort: Cohort) -> list[tuple[int, str]]:
    return [(strand.id, strand.name) for strand in cohort.strands]


def _blank_items() -> list[dict[str, Any]]:
    return [{"owner": OWNER_FELLOW} for _ in range(BLANK_ITEM_ROWS)]


def _new_form(cohort: Cohort, fellow: User) -> CheckInForm:
    if request.method != "GET":
        form = CheckInForm()
    else:
        today = _local_today()
        previous = queries.latest_checkin(cohort.id, current_user.id, fellow.id)
        form = CheckInForm(
            data={
                "held_on": today,
                "duration_minutes": previous.duration_minutes if previous else 30,
                "mode": (previous.mode if previous else CheckInMode.IN_PERSON).value,
                "next_checkin_on": today + timedelta(days=cohort.checkin_rhythm_days),
                "items": _blank_items(),
            }
        )
    form.set_choices(_strand_choices(cohort), fellow.name)
    return form


def _edit_form(cohort: Cohort, fellow: User, checkin: CheckIn) -> CheckInForm:
    if request.method != "GET":
        form = CheckInForm()
    else:
        items = queries.action_items([checkin.id])[checkin.id]
        form = CheckInForm(
            data={
                "held_on": checkin.held_on,
                "duration_minutes": checkin.duration_minutes,
                "mode": checkin.mode.value,
                "focus": queries.focus_ids(checkin.id),
                "shared_summary": checkin.shared_summary_md,
                "next_steps": checkin.next_steps_md,
                "private_notes": queries.private_notes_for(checkin.id, current_user.id) or "",
                "next_checkin_on": checkin.next_checkin_on,
                "items": [
                    {
                        "id": str(item.id),
                        "owner": OWNER_FELLOW if item.owner_id == fellow.id else OWNER_COACH,
                        "description": item.description,
                        "due_on": item.due_on,
                    }
                    for item in items
                ]
                + _blank_items(),
                "version": str(checkin.version),
            }
        )
    form.set_choices(_strand_choices(cohort), fellow.name)
    return form


def _data_from(
    form: CheckInForm, *, coach_id: int, fellow_id: int
) -> tuple[coaching.CheckInData, set[int]]:
    """The form as a service call, and the ids of the items whose description was cleared."""
    items: list[coaching.ItemData] = []
    removed: set[int] = set()
    for entry in form.items:
        row = entry.form
        item_id = parse_int(row.id.data)
        description = (row.description.data or "").strip()
        if not description:
            if item_id is not None:
                removed.add(item_id)
            continue
        owner_id = fellow_id if row.owner.data == OWNER_FELLOW else coach_id
        items.append(coaching.ItemData(item_id, owner_id, description, row.due_on.data))
    data = coaching.CheckInData(
        held_on=form.held_on.data,
        duration_minutes=int(form.duration_minutes.data or 0),
        mode=CheckInMode(form.mode.data),
        focus_strand_ids=list(form.focus.data or []),
        shared_summary_md=form.shared_summary.data or "",
        next_steps_md=form.next_steps.data or "",
        private_notes_md=form.private_notes.data or "",
        next_checkin_on=form.next_checkin_on.data,
        items=items,
    )
    return data, removed


def _field_error(form: CheckInForm, error: coaching.CheckInError) -> str | None:
    """Put the message next to its field; an action items problem is returned instead."""
    if error.field == "items" or not hasattr(form, error.field or ""):
        return error.message
    target = getattr(form, error.field or "")
    target.errors = [*target.errors, error.message]
    return None


def _shared_message(checkin: CheckIn, fellow: User) -> str:
    return _(
        "The check-in has been shared with %(name)s, who is notified.",
        name=fellow.name,
    )


@bp.route("/cohorts/<int:cohort_id>/fellows/<int:fellow_id>/checkins/new", methods=["GET", "POST"])
@login_required
def new_checkin(cohort_id: int, fellow_id: int) -> Any:
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_log_checkin(current_user, cohort, fellow_id))
    fellow = get_or_404(User, fellow_id)
    form = _new_form(cohort, fellow)
    items_error = None
    if form.validate_on_submit():
        data, _removed = _data_from(form, coach_id=current_user.id, fellow_id=fellow.id)
        try:
            checkin = coaching.log_checkin(current_user, cohort, fellow, data, share=form.sharing())
        except coaching.CheckInError as error:
            db.session.rollback()
            items_error = _field_error(form, error)
        else:
            commit()
            if checkin.shared_at is not None:
                flash(_shared_message(checkin, fellow), "success")
            else:
                flash(_("The check-in has been saved as a draft. Only you can see it."), "success")
            return redirect(url_for("coaching.checkin", checkin_id=checkin.id))
    return render_template(
        "coaching/checkin_form.html",
        form=form,
        cohort=cohort,
        fellow=fellow,
        checkin=None,
        conflict=None,
        items_error=items_error,
        **LABELS,
    )


@bp.route("/checkins/<int:checkin_id>/edit", methods=["GET", "POST"])
@login_required
def edit_checkin(checkin_id: int) -> Any:
    checkin = get_or_404(CheckIn, checkin_id)
    require(policy.can_edit_checkin(current_user, checkin))
    cohort = get_or_404(Cohort, checkin.cohort_id)
    fellow = get_or_404(User, checkin.fellow_id)
    form = _edit_form(cohort, fellow, checkin)
    conflict = None
    items_error = None
    if form.validate_on_submit():
        version = parse_int(form.version.data)
        data, removed = _data_from(form, coach_id=checkin.coach_id, fellow_id=fellow.id)
        was_shared = checkin.shared_at is not None
        try:
            coaching.update_checkin(
                current_user,
                checkin,
                data,
                version=version,
                removed_items=removed,
                share=form.sharing(),
            )
        except coaching.StaleEdit as error:
            db.session.rollback()
            checkin = get_or_404(CheckIn, checkin_id)
            conflict = error.message
            # Saving again is now a deliberate choice made after seeing the saved check-in.
            form.version.data = str(checkin.version)
        except coaching.CheckInError as error:
            db.session.rollback()
            checkin = get_or_404(CheckIn, checkin_id)
            items_error = _field_error(form, error)
        else:
            commit()
            if checkin.shared_at is not None and not was_shared:
                flash(_shared_message(checkin, fellow), "success")
            else:
                flash(_("Your changes to the check-in have been saved."), "success")
            return redirect(url_for("coaching.checkin", checkin_id=checkin.id))
    return render_template(
        "coaching/checkin_form.html",
        form=form,
        cohort=cohort,
        fellow=fellow,
        checkin=checkin,
        conflict=conflict,
        saved_focus=queries.focus_names([checkin.id])[checkin.id] if conflict else [],
        items_error=items_error,
        **LABELS,
    )


def _render_checkin(checkin: CheckIn, reply_form: ReplyForm) -> Any:
    cohort = get_or_404(Cohort, checkin.cohort_id)
    users = queries.people([checkin.coach_id, checkin.fellow_id])
    shared_parts = policy.can_view_checkin_summary(current_user, checkin)
    private_notes = None
    if policy.can_view_checkin_private_notes(current_user, checkin):
        private_notes = queries.private_notes_for(checkin.id, current_user.id)
    return render_template(
        "coaching/checkin_detail.html",
        checkin=checkin,
        cohort=cohort,
        coach=users.get(checkin.coach_id),
        fellow=users.get(checkin.fellow_id),
        focus=queries.focus_names([checkin.id])[checkin.id],
        shared_parts=shared_parts,
        items=queries.action_items([checkin.id])[checkin.id] if shared_parts else [],
        replies=queries.replies([checkin.id])[checkin.id] if shared_parts else [],
        private_notes=private_notes,
        reply_form=reply_form,
        toggle_form=ToggleItemForm(),
        action_form=EmptyForm(),
        **LABELS,
    )


@bp.route("/checkins/<int:checkin_id>")
@login_required
def checkin(checkin_id: int) -> Any:
    checkin = get_or_404(CheckIn, checkin_id)
    require(policy.can_view_checkin_meta(current_user, checkin))
    return _render_checkin(checkin, ReplyForm())


@bp.route("/checkins/<int:checkin_id>/share", methods=["POST"])
@login_required
def share_checkin(checkin_id: int) -> Any:
    checkin = get_or_404(CheckIn, checkin_id)
    require(policy.can_edit_checkin(current_user, checkin))
    if EmptyForm().validate_on_submit():
        fellow = get_or_404(User, checkin.fellow_id)
        try:
            shared = coaching.share_checkin(current_user, checkin)
        except coaching.StaleEdit as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            commit()
            if shared:
                flash(_shared_message(checkin, fellow), "success")
            else:
                flash(_("This check-in was already shared."), "info")
    return redirect(url_for("coaching.checkin", checkin_id=checkin_id))


@bp.route("/checkins/<int:checkin_id>/replies", methods=["POST"])
@login_required
def reply_to_checkin(checkin_id: int) -> Any:
    checkin = get_or_404(CheckIn, checkin_id)
    require(policy.can_reply_to_checkin(current_user, checkin))
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            coaching.reply_to_checkin(current_user, checkin, form.body.data or "")
        except coaching.CheckInError as error:
            db.session.rollback()
            form.body.errors = [*form.body.errors, error.message]
        else:
            commit()
            flash(_("Your reply has been added."), "success")
            return redirect(url_for("coaching.checkin", checkin_id=checkin.id) + "#replies")
    return _render_checkin(checkin, form)


@bp.route("/action-items/<int:item_id>/done", methods=["POST"])
@login_required
def toggle_action_item(item_id: int) -> Any:
    item = get_or_404(ActionItem, item_id)
    checkin = get_or_404(CheckIn, item.checkin_id)
    require(policy.can_complete_action_item(current_user, item, checkin))
    form = ToggleItemForm()
    if form.validate_on_submit():
        done = coaching.toggle_action_item(current_user, item)
        commit()
        if done:
            flash(_("“%(item)s” is marked done.", item=item.description), "success")
        else:
            flash(_("“%(item)s” is open again.", item=item.description), "success")
    back = safe_local_path(form.next.data) or url_for("coaching.checkin", checkin_id=checkin.id)
    return redirect(back)


@bp.route("/cohorts/<int:cohort_id>/fellows/<int:fellow_id>/checkins")
@login_required
def fellow_checkins(cohort_id: int, fellow_id: int) -> Any:
    """A fellow's coaching history: in full for their coach now (shared check-ins of every
    coach, plus the coach's own drafts); when, how long and which focus areas for staff."""
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_fellow_checkins(current_user, cohort, fellow_id))
    coaches_now = policy.can_log_checkin(current_user, cohort, fellow_id)
    fellow = get_or_404(User, fellow_id)
    history = queries.fellow_history(
        cohort.id,
        fellow.id,
        drafts_of=current_user.id,
        details=coaches_now,
        page=page_arg(),
        per_page=HISTORY_PER_PAGE,
    )
    return render_template(
        "coaching/fellow_checkins.html",
        cohort=cohort,
        fellow=fellow,
        history=history,
        coaches_now=coaches_now,
        **LABELS,
    )


@bp.route("/cohorts/<int:cohort_id>/my-checkins")
@login_required
def my_checkins(cohort_id: int) -> Any:
    """The fellow's shared check-ins and their own action items across all of them."""
    cohort = get_or_404(Cohort, cohort_id)
    require(policy.can_view_own_checkins(current_user, cohort))
    history = queries.fellow_history(
        cohort.id,
        current_user.id,
        drafts_of=None,
        details=True,
        page=page_arg(),
        per_page=HISTORY_PER_PAGE,
    )
    return render_template(
        "coaching/my_checkins.html",
        cohort=cohort,
        history=history,
        my_items=queries.items_of_fellow(cohort.id, current_user.id),
        toggle_form=ToggleItemForm(),
        **LABELS,
    )

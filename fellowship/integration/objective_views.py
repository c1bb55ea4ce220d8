"""Setting a magnet school's integration objective (staff, magnet schools only).

The page shows the form and the school's objectives so far. `?year=2025-26` opens the form
for that year, filled in with the objective in force then.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fellowship import policy
from fellowship.cycles.models import School
from fellowship.db import commit, db, utcnow
from fellowship.forms import optional_id
from fellowship.integration import bp, objective_services
from fellowship.integration.models import DEFAULT_BAND_K, ObjectiveKind
from fellowship.integration.objective_forms import (
    KIND_EXPLANATIONS,
    KIND_LABELS,
    ObjectiveForm,
)
from fellowship.school_years import SchoolYear, label_for
from fellowship.web import get_or_404, require


def _years() -> list[SchoolYear]:
    """Every school year, the latest first."""
    return list(db.session.scalars(sa.select(SchoolYear).order_by(SchoolYear.starts_on.desc())))


def _preferred_year(years: list[SchoolYear]) -> SchoolYear | None:
    """The year the form opens on: `?year=`, else this school year, else the latest."""
    by_label = {year.label: year for year in years}
    asked = (request.args.get("year") or "").strip()
    if asked in by_label:
        return by_label[asked]
    return by_label.get(label_for(utcnow().date())) or (years[0] if years else None)


def _fill(
    form: ObjectiveForm, year: SchoolYear | None, entries: list[objective_services.HistoryEntry]
) -> None:
    """A fresh form: the chosen year, and the objective in force that year when there is one
    (its note only when it is that year's own objective)."""
    form.band_k.data = objective_services.points(DEFAULT_BAND_K)
    if year is None:
        return
    form.year.data = str(year.id)
    # `entries` come the latest year first: the first one not after `year` is in force.
    in_force = next((e.objective for e in entries if e.year_starts_on <= year.starts_on), None)
    if in_force is None:
        return
    form.kind.data = in_force.kind.value
    if in_force.kind == ObjectiveKind.RELATIVE_BAND:
        form.band_k.data = objective_services.points(in_force.band_k)
    if in_force.effective_from_year_id == year.id:
        form.note.data = in_force.note


def _render(
    school: School,
    form: ObjectiveForm,
    entries: list[objective_services.HistoryEntry] | None = None,
    **extra: Any,
) -> str:
    return render_template(
        "integration/objective_form.html",
        school=school,
        form=form,
        history=objective_services.history(school.id) if entries is None else entries,
        kind_labels=KIND_LABELS,
        kind_explanations=KIND_EXPLANATIONS,
        relative_band=ObjectiveKind.RELATIVE_BAND.value,
        points=objective_services.points,
        **extra,
    )


@bp.route("/schools/<int:school_id>/objective", methods=["GET", "POST"])
@login_required
def objective_edit(school_id: int) -> Any:
    school = get_or_404(School, school_id)
    if not policy.can_set_objective(current_user, school):
        # Staff asking for a school that is not a magnet: say why rather than a bare 403.
        require(policy.can_view_integration(current_user) and not school.is_magnet)
        return render_template("integration/objective_form.html", school=school, refused=True), 403
    years = _years()
    year_choices = [(str(year.id), year.label) for year in years]
    if request.method == "GET":
        form = ObjectiveForm(formdata=None, years=year_choices)
        entries = objective_services.history(school.id)
        _fill(form, _preferred_year(years), entries)
        form.revision.data = objective_services.revision(school.id)
        return _render(school, form, entries)
    form = ObjectiveForm(years=year_choices)
    conflict = None
    problem = None
    if form.validate_on_submit():
        data = objective_services.ObjectiveData(
            kind=form.kind.data or "",
            band_k=form.band_k.data or "",
            year_id=optional_id(form.year.data),
            note=form.note.data or "",
            revision=form.revision.data or "",
        )
        try:
            objective, changed = objective_services.set_objective(current_user, school, data)
        except objective_services.StaleObjectives as error:
            db.session.rollback()
            school = get_or_404(School, school_id)
            conflict = error.message
            # Saving again is now a deliberate choice made after seeing the saved objectives.
            form.revision.data = objective_services.revision(school.id)
        except objective_services.ObjectiveError as error:
            db.session.rollback()
            school = get_or_404(School, school_id)
            field = getattr(form, error.field, None) if error.field else None
            if field is not None:
                field.errors = [*field.errors, error.message]
            else:
                problem = error.message
        else:
            commit()
            year = db.session.get(SchoolYear, objective.effective_from_year_id)
            label = year.label if year is not None else ""
            if changed:
                flash(
                    _(
                        "The objective of %(name)s from %(year)s on has been saved.",
                        name=school.name,
                        year=label,
                    ),
                    "success",
                )
            else:
                flash(_("The objective was already exactly this: nothing changed."), "info")
            return redirect(url_for("integration.school", school_id=school.id))
    return _render(school, form, conflict=conflict, problem=problem)

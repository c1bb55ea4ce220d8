"""A school's integration figures for its yearly goals review packet (`cycles.review_queries`):
the published figures of the school and year - never a hidden count - as plain JSON, so the
signed review's snapshot keeps them as they were when it was signed."""

from __future__ import annotations

from typing import Any

from fellowship.integration import figures, queries
from fellowship.integration.models import RACE_GROUPS


def packet_figures(school_id: int, school_year_id: int) -> dict[str, Any] | None:
    """The school's figures in that school year, or None when there are none (no counts that
    year, or the school is not active)."""
    year = next((y for y in queries.years_with_counts() if y.id == school_year_id), None)
    if year is None:
        return None
    district = figures.year_figures(year)
    school = figures.one_school(school_id, year)
    if school is None:
        return None
    objective = school.objective
    return {
        "year": year.label,
        "minority_groups": [group.value for group in district.settings.minority],
        "threshold": district.settings.threshold,
        "groups": [group.value for group in RACE_GROUPS],
        # Published counts (a number, or "small" / "complement"): the groups, then the total.
        "enrollment": list(school.counts.get("enrollment", [])),
        "status": school.status,
        "p": school.p,
        "district_p": district.district_p,
        "gap": school.gap,
        "change": school.change,
        "applicants": school.applicants,
        "low_income": school.low_income,
        "low_income_gap": school.low_income_gap,
        "objective": (
            {
                "kind": objective.kind.value,
                "band_k": str(objective.band_k),
                "since": objective.effective_from_label,
            }
            if objective
            else None
        ),
        "met": school.met,
    }


def packet_view(data: dict[str, Any]) -> dict[str, Any]:
    """The packet's integration figures written out in the reader's language (the page and the
    PDF): the minority definition, the composition and the indicators as (label, text)."""
    from flask_babel import gettext as _

    from fellowship.integration import display
    from fellowship.integration.objective_forms import KIND_LABELS
    from fellowship.integration.settings_forms import RACE_GROUP_LABELS
    from fellowship.integration.views import STATUS_LABELS, met_text

    threshold = int(data.get("threshold") or 10)
    counts = list(data.get("enrollment") or [])
    groups = [str(RACE_GROUP_LABELS.get(g, g)) for g in data.get("groups") or []]
    composition = [
        (label, display.count_text(counts[n] if n < len(counts) else None, threshold))
        for n, label in enumerate([*groups, _("Total")])
    ]
    objective = data.get("objective")
    if objective:
        kind = str(KIND_LABELS.get(objective["kind"], objective["kind"]))
        if objective["kind"] == "relative_band":
            points = display.format_decimal(float(objective["band_k"]) * 100, "0.#")
            kind = _("%(kind)s, k = %(points)s points", kind=kind, points=points)
        objective_text = _("%(kind)s (since %(year)s)", kind=kind, year=objective["since"])
    else:
        objective_text = _("None set")
    indicators = [
        (_("Status"), str(STATUS_LABELS.get(data.get("status", ""), data.get("status", "")))),
        (_("Minority share p"), display.percent_text(data["p"], threshold)),
        (_("District minority share P"), display.percent_text(data["district_p"], threshold)),
        (_("Gap to the district (points)"), display.points_text(data["gap"], threshold)),
        (_("Change since last year (points)"), display.points_text(data["change"], threshold)),
        (_("Applicants' minority share"), display.percent_text(data["applicants"], threshold)),
        (_("Low-income share"), display.percent_text(data["low_income"], threshold)),
        (
            _("Low-income gap to the district (points)"),
            display.points_text(data["low_income_gap"], threshold),
        ),
        (_("Integration objective"), objective_text),
        (_("Objective result"), met_text(data.get("met")) if objective else "—"),
    ]
    minority = ", ".join(
        str(RACE_GROUP_LABELS.get(g, g)) for g in data.get("minority_groups") or []
    )
    return {
        "year": data.get("year", ""),
        "minority": minority,
        "threshold": threshold,
        "composition": composition,
        "indicators": indicators,
    }

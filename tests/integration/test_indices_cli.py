"""`flask integration indices`: the district's indices for a year, the same numbers the
dashboard shows."""

from __future__ import annotations

import json
import re

import pytest

from fellowship.integration import metrics
from fellowship.integration.models import DEFAULT_MINORITY
from tests.factories import StaffFactory
from tests.integration.district_helpers import (
    ENROLLMENT,
    INCOME,
    LAST,
    THIS,
    build_district,
    set_settings,
)

MINORITY = [g.value for g in DEFAULT_MINORITY]
FIELDS = ["share", "dissimilarity", "exposure", "isolation", "separation", "theil_h"]


@pytest.fixture
def district(app):
    return build_district()


def run(app, *args):
    return app.test_cli_runner().invoke(args=["integration", "indices", *args])


def as_json(app, label):
    result = run(app, "--year", label, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_json_holds_the_indices_metrics_computes(app, district):
    document = as_json(app, THIS)
    schools = [ENROLLMENT[THIS][n] for n in ("Alder", "Birch", "Cedar", "Dogwood")]
    race = metrics.race_indices(schools, MINORITY)
    income = metrics.income_indices(list(INCOME[THIS].values()))
    assert document["school_year"] == THIS
    assert document["minority_groups"] == MINORITY
    assert document["suppression_threshold"] == 10
    assert document["schools"] == 4
    assert document["share_p"] == race.share
    for name in FIELDS:
        assert document["race"][name] == getattr(race, name), name
        assert document["income"][name] == getattr(income, name), name
    assert document["race"]["schools"] == 4
    assert document["income"]["schools"] == 4
    assert document["magnet_objectives"] == {"met": 2, "judged": 2, "share": 1.0}


@pytest.mark.parametrize("label", [THIS, LAST])
def test_the_cli_prints_the_numbers_the_dashboard_shows(app, client, login_as, district, label):
    document = as_json(app, label)
    login_as(StaffFactory())
    html = client.get(f"/integration/?year={label}").get_data(as_text=True)
    cells = dict(re.findall(r'data-index="([a-z_-]+)">([^<]*)<', html))
    for dimension in ("race", "income"):
        for name in FIELDS:
            value = document[dimension][name]
            expected = "—" if value is None else f"{round(value, 3):.3f}"
            assert cells[f"{dimension}-{name}"] == expected, (dimension, name)
        assert cells[f"{dimension}-schools"] == str(document[dimension]["schools"])


def test_the_text_format_lists_each_index_with_three_decimals(app, district):
    result = run(app, "--year", THIS)
    assert result.exit_code == 0, result.output
    document = as_json(app, THIS)
    assert f"School year {THIS}" in result.output
    assert "Small-cell threshold N: 10" in result.output
    line = next(x for x in result.output.splitlines() if x.startswith("dissimilarity"))
    assert line.split() == [
        "dissimilarity",
        f"{round(document['race']['dissimilarity'], 3):.3f}",
        f"{round(document['income']['dissimilarity'], 3):.3f}",
    ]


def test_the_minority_setting_is_printed_and_used(app, district):
    set_settings(["black"])
    document = as_json(app, THIS)
    assert document["minority_groups"] == ["black"]
    schools = [ENROLLMENT[THIS][n] for n in ("Alder", "Birch", "Cedar", "Dogwood")]
    assert document["race"]["isolation"] == metrics.race_indices(schools, ["black"]).isolation


@pytest.mark.parametrize("label", ["1999-00", "nonsense", ""])
def test_a_year_without_counts_is_a_clear_error(app, district, label):
    result = run(app, "--year", label, "--format", "json")
    assert result.exit_code == 1
    assert "no enrollment counts for the school year" in result.output
    assert f"years with counts: {LAST}, {THIS}" in result.output


def test_an_unknown_format_is_refused(app, district):
    result = run(app, "--year", THIS, "--format", "xml")
    assert result.exit_code == 2
    assert "xml" in result.output

"""The progress grid: a real table a screen reader can walk, states in words, totals, the
strand filter, extensions respected, who may see it, and a fixed number of queries."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from fellowship.auth.models import User
from fellowship.cohorts.models import Cohort, CohortRole, MembershipStatus
from fellowship.curriculum import facilitation_queries as facilitation
from fellowship.curriculum.models import Module
from fellowship.curriculum.queries import State
from fellowship.db import utcnow
from tests.conftest import sign_in
from tests.curriculum.facilitation_helpers import (
    ago,
    ahead,
    big_grid,
    measure,
    member,
    module,
    reflection,
    reflection_item,
    running_cohort,
    today,
    world,
)
from tests.curriculum.helpers import ExtensionFactory, ItemFactory, ProgressFactory, require_module
from tests.factories import AdminFactory, StaffFactory, UserFactory


def grid_url(cohort) -> str:
    return f"/cohorts/{cohort.id}/curriculum/progress"


def cells(html: str) -> dict[str, list[str]]:
    """{fellow name: [the text of each cell]} from the table body."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    result = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        name = re.sub(r"<[^>]+>", "", re.search(r'<th scope="row">(.*?)</th>', row, re.S)[1])
        texts = [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        result[name.split("(")[0].strip()] = texts
    return result


@dataclass
class Small:
    cohort: Cohort
    facilitator: User
    ana: User
    ben: User
    cy: User
    alum: User
    first: Module
    second: Module


@pytest.fixture
def small(app) -> Small:
    """Three fellows, two modules: one complete, one overdue, one extended, one not started."""
    cohort = running_cohort()
    facilitator = member(cohort, CohortRole.FACILITATOR, "Fay Facilitator")
    ana = member(cohort, CohortRole.FELLOW, "Ana Alvarez")
    ben = member(cohort, CohortRole.FELLOW, "Ben Brooks")
    cy = member(cohort, CohortRole.FELLOW, "Cy Chen")
    member(cohort, CohortRole.FELLOW, "Wes Withdrawn", MembershipStatus.WITHDRAWN)
    alum = member(cohort, CohortRole.FELLOW, "Al Alumnus", MembershipStatus.COMPLETED)
    first = module(cohort, "Coalition mapping", release_on=ago(30), due_on=ago(3))
    second = module(cohort, "Budget basics", release_on=ahead(5), due_on=ahead(20))
    reading = ItemFactory(module_id=first.id)
    prompt = reflection_item(first)
    ItemFactory(module_id=second.id)
    # Ana: complete. Ben: one of two, past due, no extension: overdue. Cy: nothing yet, but an
    # extension to next week: not started, not overdue.
    ProgressFactory(item_id=reading.id, fellow_id=ana.id, completed_at=utcnow())
    reflection(prompt, ana)
    ProgressFactory(item_id=reading.id, fellow_id=ben.id, completed_at=utcnow())
    ExtensionFactory(module_id=first.id, fellow_id=cy.id, due_on=ahead(7))
    return Small(cohort, facilitator, ana, ben, cy, alum, first, second)


def test_the_grid_is_a_table_with_headers_a_caption_and_totals(client, small):
    cohort, ana = small.cohort, small.ana
    sign_in(client, small.facilitator)
    response = client.get(grid_url(cohort))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "<caption" in html
    assert re.search(r'class="usa-table-container--scrollable[^"]*" role="region"', html)
    assert 'tabindex="0"' in html
    header = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert header.count('<th scope="col"') == 2 + 2  # fellow, two modules, totals
    assert header.index("Coalition mapping") < header.index("Budget basics")
    assert "opens " in header  # the unreleased module says when it opens
    assert "due " in header
    assert html.count('<th scope="row">') == 4 + 2  # four fellows, two total rows
    names = list(cells(html))
    assert names == ["Al Alumnus", "Ana Alvarez", "Ben Brooks", "Cy Chen"]  # by name
    assert "Wes" not in html
    assert f'href="/cohorts/{cohort.id}/fellows/{ana.id}/learning"' in html
    grid = cells(html)
    assert grid["Ana Alvarez"] == ["✓ Complete", "Locked : not released yet", "1 of 2"]
    assert grid["Ben Brooks"][0].startswith("Overdue 1/2")
    assert grid["Cy Chen"][0].startswith("— Not started Ext.")
    assert grid["Cy Chen"][1] == "Locked : not released yet"
    assert "<tfoot>" in html
    # Overdue on the first module: Ben, and Al (an alumnus who never did it).
    foot = html.split("<tfoot>", 1)[1].split("</tfoot>", 1)[0]
    assert re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", foot)).split() == (
        ["Complete", "1", "of", "4", "0", "of", "4", "1", "of", "8", "Overdue", "2", "0"]
    )


def test_the_overdue_state_respects_extensions_in_the_grid(client, small):
    cohort, first = small.cohort, small.first
    ExtensionFactory(module_id=first.id, fellow_id=small.ben.id, due_on=ahead(2))
    sign_in(client, small.facilitator)
    grid = cells(client.get(grid_url(cohort)).get_data(as_text=True))
    assert grid["Ben Brooks"][0].startswith("In progress 1/2 Ext.")
    # An extension that has itself passed is overdue again.
    late = member(cohort, CohortRole.FELLOW, "Dee Late")
    ExtensionFactory(module_id=first.id, fellow_id=late.id, due_on=ago(1))
    grid = cells(client.get(grid_url(cohort)).get_data(as_text=True))
    assert grid["Dee Late"][0].startswith("Overdue")


def test_locked_cells_say_so_with_the_reason_for_screen_readers(client, small):
    cohort = small.cohort
    third = module(cohort, "Hiring well", release_on=ago(1), due_on=ahead(30))
    small.second.release_on = ago(2)
    ItemFactory(module_id=third.id)
    require_module(third, small.first)
    sign_in(client, small.facilitator)
    html = client.get(grid_url(cohort)).get_data(as_text=True)
    grid = cells(html)
    assert grid["Ana Alvarez"][1] == "— Not started"  # released now
    assert grid["Ana Alvarez"][2] == "— Not started"  # her prerequisite is complete
    assert grid["Ben Brooks"][2] == "Locked : waiting for an earlier module"
    assert 'class="usa-sr-only">: waiting for an earlier module' in html


def test_the_strand_filter_shows_one_strands_modules(client, small):
    cohort, facilitator = small.cohort, small.facilitator
    strand = cohort.strands[2]
    small.second.strand_id = strand.id
    from fellowship.extensions import db

    db.session.commit()
    sign_in(client, facilitator)
    html = client.get(f"{grid_url(cohort)}?strand={strand.id}").get_data(as_text=True)
    assert "Budget basics" in html
    assert "Coalition mapping" not in html
    assert f'<option selected value="{strand.id}">' in html or f'value="{strand.id}" selected' in (
        html
    )
    html = client.get(f"{grid_url(cohort)}?strand={cohort.strands[3].id}").get_data(as_text=True)
    assert "No module is in the strand" in html
    for odd in ("nonsense", "999999", ""):
        response = client.get(f"{grid_url(cohort)}?strand={odd}")
        assert response.status_code == 200
        assert "Coalition mapping" in response.get_data(as_text=True)


def test_an_empty_cohort_says_what_is_missing(client):
    cohort = running_cohort()
    sign_in(client, StaffFactory())
    assert "This cohort has no modules yet." in client.get(grid_url(cohort)).get_data(True)
    module(cohort)
    assert "This cohort has no fellows yet." in client.get(grid_url(cohort)).get_data(True)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("facilitator", 200),
        ("former facilitator (completed)", 200),
        ("staff", 200),
        ("admin", 200),
        ("fellow", 403),
        ("coach", 403),
        ("reviewer", 403),
        ("withdrawn facilitator", 403),
        ("member without membership", 403),
    ],
)
def test_who_may_see_the_grid(client, who, status):
    w = world()
    reflection(w.item, w.fellow)
    viewer = {
        "facilitator": lambda: w.facilitator,
        "former facilitator (completed)": lambda: member(
            w.cohort, CohortRole.FACILITATOR, status=MembershipStatus.COMPLETED
        ),
        "staff": StaffFactory,
        "admin": AdminFactory,
        "fellow": lambda: w.fellow,
        "coach": lambda: w.coach,
        "reviewer": lambda: w.reviewer,
        "withdrawn facilitator": lambda: member(
            w.cohort, CohortRole.FACILITATOR, status=MembershipStatus.WITHDRAWN
        ),
        "member without membership": UserFactory,
    }[who]()
    sign_in(client, viewer)
    response = client.get(grid_url(w.cohort))
    assert response.status_code == status
    assert ("Olga Otherfellow" in response.get_data(as_text=True)) is (status == 200)


def test_the_grid_query_matches_the_core_rule_for_every_cell(ctx):
    big = big_grid(9, 7, "rule")
    grid = facilitation.progress_grid(big.cohort.id, today())
    from fellowship.curriculum import queries

    states = queries.module_states(queries.modules_for(big.cohort.id), big.fellow_ids, today())
    assert {key: s.state for key, s in grid.states.items()} == {
        key: s.state for key, s in states.items()
    }
    seen = {s.state for s in grid.states.values()}
    assert seen == set(State)  # the big world has every state
    for module_id, totals in grid.per_module.items():
        column = [grid.status(f.id, module_id).state for f in grid.fellows]
        assert totals.complete == column.count(State.COMPLETE)
        assert totals.overdue == column.count(State.OVERDUE)


def test_the_grid_takes_the_same_queries_at_3_by_2_and_60_by_30(client, count_queries):
    staff = StaffFactory()
    results = {}
    for fellows, modules in ((3, 2), (12, 8), (60, 30)):
        big = big_grid(fellows, modules, f"g{fellows}x{modules}")
        sign_in(client, staff)
        results[(fellows, modules)] = measured = measure(
            client, count_queries, grid_url(big.cohort)
        )
        assert measured.status == 200
        assert measured.html.count('<th scope="row">') == fellows + 2
        assert measured.html.count('class="curriculum-cell ') == fellows * modules
        print(
            f"\nprogress grid {fellows} × {modules}: {measured.queries} queries, "
            f"median {measured.median_ms:.1f} ms over 5 runs (test client)"
        )
    assert results[(3, 2)].queries == results[(12, 8)].queries == results[(60, 30)].queries <= 15

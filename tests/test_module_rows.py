"""Rows shared by a module's tests (`rows_for_module`): each test gets them as they were built.

The tests here run in file order on one worker (conftest groups a module with shared rows),
so the second sees what the first left behind, if anything.
"""

from __future__ import annotations

import sqlalchemy as sa

from fellowship.cohorts.models import Cohort
from fellowship.extensions import db
from tests.conftest import rows_for_module
from tests.factories import CohortFactory


def build() -> dict[str, object]:
    return {"cohort": CohortFactory(name="Shared cohort"), "label": "kept as it is"}


shared = rows_for_module(build)


def test_a_test_changes_and_deletes_shared_rows_and_adds_its_own(ctx, shared):
    rows = shared.thaw()
    assert rows["label"] == "kept as it is"
    rows["cohort"].name = "Renamed by a test"
    CohortFactory(name="A test's own cohort")
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Cohort)) == 2
    db.session.delete(rows["cohort"])
    db.session.commit()


def test_the_next_test_gets_the_rows_as_they_were_built(ctx, shared):
    cohort = shared.thaw()["cohort"]
    assert cohort.name == "Shared cohort"
    assert db.session.scalars(sa.select(Cohort.name)).all() == ["Shared cohort"]


def test_a_request_sees_the_shared_rows(app, client, shared):
    from tests.conftest import sign_in
    from tests.factories import StaffFactory

    sign_in(client, StaffFactory())
    with app.test_request_context():
        cohort_id = shared.thaw()["cohort"].id
    assert "Shared cohort" in client.get(f"/cohorts/{cohort_id}").get_data(as_text=True)

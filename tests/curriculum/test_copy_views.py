"""Copying a curriculum through the screens: choose, preview, confirm; who may copy what."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cohorts.models import CohortRole, CohortStatus, Strand
from fellowship.curriculum import queries
from fellowship.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.curriculum.authoring_helpers import items, modules, order, snapshot, world
from tests.curriculum.helpers import ModuleFactory, require_module
from tests.factories import CohortFactory, MembershipFactory


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def copy_path(cohort) -> str:
    return f"/cohorts/{cohort.id}/curriculum/copy"


def apply_path(cohort) -> str:
    return f"/cohorts/{cohort.id}/curriculum/copy/apply"


def source_cohort(**kwargs):
    source = CohortFactory(name="Cohort 2025", starts_on=date(2025, 8, 4), **kwargs)
    first, second = modules(source, ["Coalition mapping", "Budget basics"])
    first.release_on, first.due_on = date(2025, 9, 1), date(2025, 9, 30)
    second.release_on, second.due_on = None, date(2025, 10, 15)
    db.session.commit()
    items(first, ["Read", "Reflect"])
    require_module(second, first)
    return source


def test_the_copy_page_offers_only_cohorts_with_modules_one_may_see(client):
    w = world(name="Cohort 2026")
    visible = source_cohort()
    MembershipFactory(cohort=visible, user=w.facilitator, role=CohortRole.FACILITATOR)
    hidden = CohortFactory(name="Someone else's cohort")
    modules(hidden, ["Secret module"])
    empty = CohortFactory(name="Empty cohort")
    MembershipFactory(cohort=empty, user=w.facilitator, role=CohortRole.FACILITATOR)
    modules(w.cohort, ["Ours"])
    sign_in(client, w.facilitator)
    html = client.get(copy_path(w.cohort)).get_data(as_text=True)
    assert html.count("<h1") == 1
    assert "Cohort 2025 (2 modules)" in html
    assert "Someone else" not in html
    assert "Empty cohort" not in html
    assert f'value="{w.cohort.id}"' not in html
    # Staff see every cohort with modules.
    sign_in(client, w.staff)
    html = client.get(copy_path(w.cohort)).get_data(as_text=True)
    assert "Cohort 2025 (2 modules)" in html
    assert "Secret module" not in html
    assert "(1 module)" in html


def test_without_any_cohort_to_copy_from_the_page_says_so(client):
    w = world()
    sign_in(client, w.facilitator)
    html = client.get(copy_path(w.cohort)).get_data(as_text=True)
    assert "There is no other cohort with modules" in html
    assert "<select" not in html


def test_the_preview_shows_the_shift_every_date_strands_and_counts(client):
    w = world(name="Cohort 2026", starts_on=date(2026, 8, 3))
    source = source_cohort()
    modules(w.cohort, ["Ours 1", "Ours 2", "Ours 3"])
    sign_in(client, w.staff)
    path = copy_path(w.cohort)
    before = snapshot()
    response = client.post(path, data={"csrf_token": csrf_token(client), "source": str(source.id)})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert snapshot() == before  # a preview writes nothing
    assert "Dates move 364 days later" in text
    assert "Cohort 2025 starts on August 4, 2025 and Cohort 2026 on August 3, 2026" in text
    assert "2 modules, 2 items" in text
    assert "They will be added after the 3 modules this cohort already has." in text
    assert "same place in this cohort" in text
    for old, new in [
        ("Sep 1, 2025", "Aug 31, 2026"),
        ("Sep 30, 2025", "Sep 29, 2026"),
        ("Oct 15, 2025", "Oct 14, 2026"),
    ]:
        assert old in html
        assert new in html
    assert "2 required of 2" in html
    assert "From the start" in html
    assert "<caption>" in html
    assert 'scope="col"' in html
    assert f'name="source" type="hidden" value="{source.id}"' in html
    assert f'action="/cohorts/{w.cohort.id}/curriculum/copy/apply"' in html
    assert "Copy 2 modules" in html


def test_a_negative_shift_and_a_strand_fallback_are_said_in_the_preview(client):
    w = world(starts_on=date(2026, 8, 1))
    w.cohort.strands = [Strand(name="Only strand", position=0)]
    db.session.commit()
    source = CohortFactory(starts_on=date(2026, 8, 11))
    ModuleFactory(
        cohort_id=source.id,
        position=0,
        title="Late",
        strand_id=source.strands[3].id,
        release_on=date(2026, 9, 1),
        due_on=None,
    )
    sign_in(client, w.staff)
    path = copy_path(w.cohort)
    html = client.post(
        path, data={"csrf_token": csrf_token(client), "source": str(source.id)}
    ).get_data(as_text=True)
    text = text_of(html)
    assert "Dates move 10 days earlier" in text
    assert "Aug 22, 2026" in html
    assert "goes into its first strand, Only strand" in text
    assert "first strand: no strand at the same place" in text
    assert "This cohort has no modules yet; they will be its first." in text


def test_confirming_copies_after_the_existing_modules_and_recomputes_the_dates(client):
    w = world(starts_on=date(2026, 8, 3))
    source = source_cohort()
    modules(w.cohort, ["Ours"])
    sign_in(client, w.facilitator)
    MembershipFactory(cohort=source, user=w.facilitator, role=CohortRole.FACILITATOR)
    token = csrf_token(client)
    response = client.post(
        apply_path(w.cohort),
        data={
            "csrf_token": token,
            "source": str(source.id),
            # Crafted fields are ignored: the plan is made again on the server.
            "release_on": "1999-01-01",
            "shift_days": "-10000",
        },
    )
    assert response.status_code == 302
    assert f"/cohorts/{w.cohort.id}/curriculum#module-" in response.headers["Location"]
    assert order(w.cohort.id) == [(0, "Ours"), (1, "Coalition mapping"), (2, "Budget basics")]
    copied = queries.modules_for(w.cohort.id)
    assert (copied[1].release_on, copied[1].due_on) == (date(2026, 8, 31), date(2026, 9, 29))
    assert (copied[2].release_on, copied[2].due_on) == (None, date(2026, 10, 14))
    assert queries.prerequisites_for([copied[2].id])[copied[2].id] == [copied[1].id]
    assert len(queries.items_for([copied[1].id])[copied[1].id]) == 2
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "curriculum_copied"))
    assert event.details["source_cohort_id"] == source.id
    assert event.details["modules"] == 2
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 modules have been copied from Cohort 2025" in html


def test_a_confirmation_sent_twice_copies_once(client):
    w = world(starts_on=date(2026, 8, 3))
    source = source_cohort()
    sign_in(client, w.facilitator)
    MembershipFactory(cohort=source, user=w.facilitator, role=CohortRole.FACILITATOR)
    token = csrf_token(client)
    preview = client.post(copy_path(w.cohort), data={"csrf_token": token, "source": source.id})
    before = re.search(r'name="modules_before" type="hidden" value="(\d+)"', preview.text)
    assert before is not None
    assert before.group(1) == "0"
    confirm = {"csrf_token": token, "source": str(source.id), "modules_before": "0"}
    assert client.post(apply_path(w.cohort), data=confirm).status_code == 302
    again = client.post(apply_path(w.cohort), data=confirm, follow_redirects=True)
    assert "changed after the preview was shown" in again.text
    assert [title for _, title in order(w.cohort.id)] == ["Coalition mapping", "Budget basics"]


def test_copying_from_a_cohort_one_cannot_see_is_forbidden(client):
    w = world()
    source = source_cohort()  # the facilitator is not in it
    theirs = CohortFactory(name="Their own other cohort")
    modules(theirs, ["Visible module"])
    MembershipFactory(cohort=theirs, user=w.facilitator, role=CohortRole.FACILITATOR)
    sign_in(client, w.facilitator)
    before = snapshot()
    token = csrf_token(client)
    response = client.post(
        apply_path(w.cohort), data={"csrf_token": token, "source": str(source.id)}
    )
    assert response.status_code == 403
    # Choosing it on the copy page is refused as not one of the choices.
    response = client.post(
        copy_path(w.cohort), data={"csrf_token": token, "source": str(source.id)}
    )
    assert response.status_code == 200
    assert "Choose one of the cohorts listed." in response.get_data(as_text=True)
    assert snapshot() == before


def test_copying_into_an_archived_cohort_or_from_itself_is_forbidden(client):
    w = world()
    source = source_cohort()
    sign_in(client, w.staff)
    token = csrf_token(client)
    before = snapshot()
    response = client.post(
        apply_path(w.cohort), data={"csrf_token": token, "source": str(w.cohort.id)}
    )
    assert response.status_code == 403
    w.cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    assert client.get(copy_path(w.cohort)).status_code == 403
    response = client.post(
        apply_path(w.cohort), data={"csrf_token": token, "source": str(source.id)}
    )
    assert response.status_code == 403
    assert snapshot() == before


def test_a_confirmation_without_a_source_goes_back_to_the_copy_page(client):
    w = world()
    sign_in(client, w.staff)
    token = csrf_token(client)
    for fields in ({}, {"source": "abc"}, {"source": ""}):
        response = client.post(apply_path(w.cohort), data={"csrf_token": token, **fields})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(copy_path(w.cohort))
    assert (
        client.post(
            apply_path(w.cohort), data={"csrf_token": token, "source": "999999"}
        ).status_code
        == 404
    )
    empty = CohortFactory()
    response = client.post(
        apply_path(w.cohort), data={"csrf_token": token, "source": str(empty.id)}
    )
    assert response.status_code == 302
    assert "no modules to copy" in client.get(copy_path(w.cohort)).get_data(as_text=True)

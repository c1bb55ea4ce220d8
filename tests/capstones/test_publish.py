"""The practice library from the fellow's side: consent, choosing files, publishing,
updating, withdrawing (which unpublishes at once)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from fellowship.audit import AuditEvent
from fellowship.capstones.models import (
    Capstone,
    CapstoneStatus,
    CapstoneVersionFile,
    Recommendation,
    Stage,
)
from fellowship.cohorts.models import CohortMembership, MembershipStatus
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.capstones.test_fellow_helpers import (
    attach,
    capstone,
    decide,
    snapshot,
    stored_file,
    version,
    world,
)
from tests.conftest import csrf_token, sign_in
from tests.factories import StaffFactory
from tests.upload_attacks import valid_pdf


def approved(app: Flask):
    """An approved capstone: proposal v1 approved, final v2 approved with two files (and v1
    with its own file)."""
    w = world()
    cap = capstone(w, CapstoneStatus.APPROVED, title="A school for everyone")
    v1 = version(cap, 1, Stage.PROPOSAL)
    old = attach(v1, stored_file(app, "old sketch.pdf", valid_pdf("old")))
    decide(v1, Recommendation.APPROVE)
    v2 = version(cap, 2, Stage.FINAL, narrative_md="The final plan.")
    slides = attach(v2, stored_file(app, "slides.pdf", valid_pdf("slides")), 0)
    budget = attach(v2, stored_file(app, "budget.pdf", valid_pdf("budget")), 1)
    decide(v2, Recommendation.APPROVE)
    return w, cap, slides, budget, old


def in_library(*links: CapstoneVersionFile) -> list[bool]:
    db.session.expire_all()
    return [db.session.get(CapstoneVersionFile, link.id).in_library for link in links]


def audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_publish_page_explains_the_library_and_lists_the_final_files(client, app: Flask):
    w, cap, slides, budget, _old = approved(app)
    sign_in(client, w.fellow)
    before = snapshot()
    html = client.get(f"/capstones/{cap.id}/library").get_data(as_text=True)
    assert snapshot() == before
    assert html.count("<h1") == 1
    assert "every person signed in to Fellowship can browse it" in html
    assert "You can withdraw it at any time" in html
    assert "Not in the library." in html
    assert f'value="{slides.id}"' in html
    assert f'value="{budget.id}"' in html
    assert "old sketch.pdf" not in html
    assert "Publish to the library" in html
    assert "Withdraw from the library" not in html


def test_publishing_needs_consent_and_changes_nothing_without_it(client, app: Flask):
    w, cap, slides, _budget, _ = approved(app)
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/library"
    before = snapshot()
    response = client.post(path, data={"csrf_token": csrf_token(client), "files": [str(slides.id)]})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Tick the box to agree to publish" in html
    assert 'id="consent-error"' in html
    assert f'value="{slides.id}" checked' in html  # the choice is kept
    assert snapshot() == before


def test_publishing_puts_the_chosen_files_in_the_library_and_is_audited(client, app: Flask):
    w, cap, slides, budget, old = approved(app)
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/library"
    response = client.post(
        path,
        data={"csrf_token": csrf_token(client), "consent": "y", "files": [str(slides.id)]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Capstone, cap.id)
    assert saved.published_at is not None
    assert saved.consent_at is not None
    assert in_library(slides, budget, old) == [True, False, False]
    assert audit_actions()[-1] == "capstone_published"
    html = client.get(path).get_data(as_text=True)
    assert "Your capstone is published in the practice library." in html
    assert "In the library since" in html
    assert f'href="/library/{cap.id}"' in html
    detail = client.get(f"/capstones/{cap.id}").get_data(as_text=True)
    assert "Published in the practice library on" in detail
    sign_in(client, w.other_fellow)
    assert client.get(f"/library/{cap.id}").status_code == 200


def test_updating_the_files_keeps_the_first_publication_date(client, app: Flask):
    w, cap, slides, budget, _ = approved(app)
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/library"
    client.post(
        path,
        data={"csrf_token": csrf_token(client), "consent": "y", "files": [str(slides.id)]},
    )
    db.session.expire_all()
    first = db.session.get(Capstone, cap.id).published_at
    assert first is not None
    response = client.post(
        path,
        data={"csrf_token": csrf_token(client), "consent": "y", "files": [str(budget.id)]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Capstone, cap.id).published_at == first
    assert in_library(slides, budget) == [False, True]
    assert "Your library entry is updated." in client.get(path).get_data(as_text=True)


def test_withdrawing_unpublishes_at_once_and_is_audited(client, app: Flask):
    w, cap, slides, _budget, _ = approved(app)
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/library"
    client.post(
        path,
        data={"csrf_token": csrf_token(client), "consent": "y", "files": [str(slides.id)]},
    )
    html = client.get(path).get_data(as_text=True)
    assert "Withdraw from the library" in html
    response = client.post(f"{path}/withdraw", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Capstone, cap.id)
    assert (saved.published_at, saved.consent_at) == (None, None)
    assert audit_actions()[-2:] == ["capstone_published", "capstone_withdrawn"]
    assert "no longer in the practice library" in client.get(path).get_data(as_text=True)
    sign_in(client, w.other_fellow)
    assert client.get(f"/library/{cap.id}").status_code in (403, 404)


def test_withdrawing_what_is_not_published_is_refused_and_changes_nothing(client, app: Flask):
    w, cap, *_ = approved(app)
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/library"
    before = snapshot()
    response = client.post(f"{path}/withdraw", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("who", ["the fellow, withdrawn from the cohort", "staff"])
def test_consent_can_be_withdrawn_by_a_withdrawn_fellow_and_by_staff(client, app: Flask, who):
    w, cap, _slides, _budget, _ = approved(app)
    cap.published_at = cap.consent_at = utcnow()
    db.session.commit()
    if who == "staff":
        person = StaffFactory()
    else:
        person = w.fellow
        membership = db.session.scalar(
            sa.select(CohortMembership).where(
                CohortMembership.cohort_id == cap.cohort_id,
                CohortMembership.user_id == w.fellow.id,
            )
        )
        membership.status = MembershipStatus.WITHDRAWN
        db.session.commit()
    sign_in(client, person)
    response = client.post(
        f"/capstones/{cap.id}/library/withdraw",
        data={"csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Capstone, cap.id).published_at is None
    assert audit_actions()[-1] == "capstone_withdrawn"


def test_another_fellow_cannot_withdraw_a_capstone(client, app: Flask):
    w, cap, *_ = approved(app)
    cap.published_at = cap.consent_at = utcnow()
    db.session.commit()
    sign_in(client, w.other_fellow)
    response = client.post(
        f"/capstones/{cap.id}/library/withdraw",
        data={"csrf_token": csrf_token(client)},
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Capstone, cap.id).published_at is not None


@pytest.mark.parametrize("which", ["a file of an earlier version", "no such file", "not a number"])
def test_only_the_final_versions_files_can_be_chosen(client, app: Flask, which):
    w, cap, _slides, _budget, old = approved(app)
    value = {"a file of an earlier version": str(old.id), "no such file": "99999999"}.get(
        which, "abc"
    )
    sign_in(client, w.fellow)
    path = f"/capstones/{cap.id}/library"
    before = snapshot()
    response = client.post(
        path, data={"csrf_token": csrf_token(client), "consent": "y", "files": [value]}
    )
    assert response.status_code == 200
    assert "Choose files among those of your approved final version." in response.get_data(
        as_text=True
    )
    assert snapshot() == before


@pytest.mark.parametrize(
    "status",
    [s for s in CapstoneStatus if s != CapstoneStatus.APPROVED],
)
def test_a_capstone_is_published_only_once_approved(client, app: Flask, status):
    w, cap, *_ = approved(app)
    cap.status = status
    db.session.commit()
    sign_in(client, w.fellow)
    assert client.get(f"/capstones/{cap.id}/library").status_code == 403
    assert f'href="/capstones/{cap.id}/library"' not in client.get(f"/capstones/{cap.id}").get_data(
        as_text=True
    )

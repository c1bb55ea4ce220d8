"""A signed-off review never changes: its snapshot, its page and its PDF stay exactly as they
were signed when the goals behind them are edited, measured or deleted afterwards."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from fellowship.cycles import review_services as services
from fellowship.cycles.models import Goal, GoalsReview
from fellowship.extensions import db
from tests.conftest import sign_in
from tests.cycles.helpers import GoalFactory, MeasurementFactory, ProposedGoalFactory
from tests.cycles.review_helpers import (
    fresh,
    post,
    rate_all,
    review_url,
    text_of,
    world,
)


def _frozen_part(page: str) -> str:
    """The part of the review page drawn from the record (the packet to the sign-off)."""
    start = page.index('<section aria-labelledby="packet"')
    return page[start : page.index("</main>")]


def _ready():
    w = world(goals=3)
    rate_all(w.review, w.goals)
    ProposedGoalFactory(review_id=w.review.id, goal_id=w.goals[0].id, title="Carry on")
    w.review.notes_md = "We agreed on *three* things."
    db.session.commit()
    return w


def _signed_review():
    """A review signed by both through the services (inside a request context: `ctx`)."""
    w = _ready()
    services.sign_review(w.lead, w.review, "lead", w.review.version, today=date(2027, 5, 20))
    services.sign_review(w.staff, w.review, "staff", w.review.version, today=date(2027, 5, 20))
    db.session.commit()
    return w


def _signed_in_the_browser(client):
    """A review the lead teacher and the staff member sign on its page."""
    w = _ready()
    for person, side in ((w.lead, "lead"), (w.staff, "staff")):
        sign_in(client, person)
        version = str(fresh(w.review).version)
        response = post(client, review_url(w.review, "/sign"), {"side": side, "version": version})
        assert response.status_code == 302
    assert fresh(w.review).frozen_at is not None
    return w


def _snapshot_json(review: GoalsReview) -> str:
    db.session.expire_all()
    stored = db.session.scalar(sa.select(GoalsReview.snapshot).where(GoalsReview.id == review.id))
    return json.dumps(stored, sort_keys=True, ensure_ascii=False)


def test_a_signed_reviews_snapshot_page_and_pdf_are_unchanged_after_its_goals_are_edited(
    app, client
):
    w = _signed_in_the_browser(client)
    app.config["PDF_PAGE_COMPRESSION"] = 0
    try:
        sign_in(client, w.staff)
        before_json = _snapshot_json(w.review)
        before_page = _frozen_part(client.get(review_url(w.review)).get_data(as_text=True))
        before_pdf = client.get(review_url(w.review, "/packet.pdf")).data
        assert "Goal number 1" in before_page
        assert "Goal number 3" in before_page

        # The goals change in every way they can.
        first, second, third = (db.session.get(Goal, g.id) for g in w.goals)
        first.title = "Renamed after signing"
        first.target_value = 99.0
        MeasurementFactory(goal_id=second.id, measured_on=date(2027, 6, 1), value=77.0)
        db.session.delete(third)
        GoalFactory(cycle_id=w.cycle.id, title="A goal added later")
        db.session.commit()

        after_json = _snapshot_json(w.review)
        after_page = _frozen_part(client.get(review_url(w.review)).get_data(as_text=True))
        after_pdf = client.get(review_url(w.review, "/packet.pdf")).data
    finally:
        app.config.pop("PDF_PAGE_COMPRESSION", None)

    assert after_json == before_json  # byte-identical
    assert after_page == before_page
    assert after_pdf == before_pdf
    plain = text_of(after_page)
    assert "Goal number 1" in plain
    assert "Goal number 3" in plain
    assert "Renamed after signing" not in plain
    assert "A goal added later" not in plain
    assert "99" not in plain.split("Goal number 1")[1].split("Goal number 2")[0]
    assert b"Renamed after signing" not in after_pdf
    assert b"Goal number 3" in after_pdf
    # The live data did change: an open review of the cycle would show it.
    assert db.session.get(Goal, first.id).title == "Renamed after signing"


def test_the_snapshot_is_written_once_and_an_amendment_does_not_touch_it(ctx):
    w = _signed_review()
    before = _snapshot_json(w.review)
    amendment = services.start_amendment(w.lead, fresh(w.review))
    services.save_notes(w.lead, amendment, "A correction.", version=amendment.version)
    services.sign_review(w.lead, amendment, "lead", amendment.version)
    services.sign_review(w.admin, amendment, "staff", amendment.version)
    db.session.commit()
    assert _snapshot_json(w.review) == before
    assert fresh(amendment).snapshot["notes_md"] == "A correction."


def test_a_frozen_review_shows_the_snapshot_even_when_the_rows_behind_it_are_gone(client):
    w = _signed_in_the_browser(client)
    for goal in w.goals:
        db.session.delete(db.session.get(Goal, goal.id))  # ratings go with them
    db.session.commit()
    sign_in(client, w.member)
    plain = text_of(client.get(review_url(w.review)).get_data(as_text=True))
    assert "Goal number 2" in plain
    assert "Progressing" in plain
    assert "We agreed on three things." in plain
    assert "Continues “Goal number 1”" in plain


def test_the_demo_builder_can_sign_reviews_outside_a_request(app):
    """`flask demo load` runs in an app context only: signing (mail included) works there."""
    with app.app_context():
        w = _ready()
        services.sign_review(w.lead, w.review, "lead", w.review.version)
        services.sign_review(w.staff, w.review, "staff", w.review.version)
        db.session.commit()
        review = fresh(w.review)
        assert review.frozen_at is not None
        assert review.snapshot["signed"]["lead"]["name"] == "Luis Lead"

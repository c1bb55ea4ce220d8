"""The feedback queue, giving feedback and one fellow's progress: who may, what they see,
bad input, stale forms, fixed query counts, and the email through a real SMTP server."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fellowship.cohorts.models import CohortRole, MembershipStatus
from fellowship.curriculum.models import ItemProgress
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from tests.conftest import body_of, csrf_token, rows_for_module, sign_in, subject_of
from tests.curriculum.facilitation_helpers import (
    ahead,
    member,
    module,
    reflection,
    reflection_item,
    running_cohort,
    world,
)
from tests.curriculum.helpers import ExtensionFactory, ItemFactory, ProgressFactory
from tests.factories import AdminFactory, StaffFactory, UserFactory

shared_world = rows_for_module(world)


@pytest.fixture
def w(shared_world, request):
    """The world most tests here read, built once for the module."""
    return shared_world.thaw_for(request)


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage)))


def feedback_of(progress_id: int) -> tuple[str, int | None]:
    db.session.expire_all()
    row = db.session.get(ItemProgress, progress_id)
    return row.feedback_md, row.feedback_by_id


def post_feedback(client, row: ItemProgress, text: str, version: int | None = None):
    path = f"/reflections/{row.id}/feedback"
    token = csrf_token(client)
    return client.post(
        path,
        data={
            "csrf_token": token,
            "feedback": text,
            "version": str(row.version if version is None else version),
        },
    )


READERS = {
    "the fellow": lambda w: w.fellow,
    "another fellow": lambda w: w.other_fellow,
    "the fellow's coach now": lambda w: w.coach,
    "another coach": lambda w: w.other_coach,
    "a facilitator": lambda w: w.facilitator,
    "a reviewer": lambda w: w.reviewer,
    "staff": lambda w: StaffFactory(),
    "an admin": lambda w: AdminFactory(),
    "a member without membership": lambda w: UserFactory(),
}
# who: (may read the reflection and the fellow's progress, may give feedback)
ACCESS = {
    "the fellow": (True, False),
    "another fellow": (False, False),
    "the fellow's coach now": (True, False),
    "another coach": (False, False),
    "a facilitator": (True, True),
    "a reviewer": (False, False),
    "staff": (True, True),
    "an admin": (True, True),
    "a member without membership": (False, False),
}


# Who may -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", list(READERS))
def test_who_may_read_a_reflection_and_who_may_give_feedback(w, client, who):
    row = reflection(w.item, w.fellow, "Our **PTA** matters most.")
    may_read, may_give = ACCESS[who]
    sign_in(client, READERS[who](w))
    response = client.get(f"/reflections/{row.id}/feedback")
    if not may_read:
        assert response.status_code == 403
        assert "PTA" not in response.get_data(as_text=True)
    else:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "Our <strong>PTA</strong> matters most." in html
        assert ('name="feedback"' in html) is may_give
    response = post_feedback(client, row, "Good thinking.")
    assert response.status_code == (302 if may_give else 403)
    if not may_give:
        assert feedback_of(row.id) == ("", None)
        assert outbox() == []


@pytest.mark.parametrize("who", list(READERS))
def test_who_may_see_a_fellows_progress(w, client, who):
    reflection(w.item, w.fellow, "Our PTA matters most.")
    may_read, may_give = ACCESS[who]
    sign_in(client, READERS[who](w))
    response = client.get(f"/cohorts/{w.cohort.id}/fellows/{w.fellow.id}/learning")
    assert response.status_code == (200 if may_read else 403)
    html = response.get_data(as_text=True)
    assert ("Our PTA matters most." in html) is may_read
    assert ("Give feedback" in html) is may_give


def test_a_former_coach_and_a_withdrawn_fellow_no_longer_read_the_reflection(w, client):
    row = reflection(w.item, w.fellow)
    db.session.execute(sa.text("UPDATE coach_assignments SET ends_on = starts_on"))
    db.session.commit()
    sign_in(client, w.coach)
    page(client, f"/reflections/{row.id}/feedback", 403)
    page(client, f"/cohorts/{w.cohort.id}/fellows/{w.fellow.id}/learning", 403)
    gone = member(w.cohort, CohortRole.FELLOW, status=MembershipStatus.WITHDRAWN)
    own = reflection(w.item, gone)
    sign_in(client, gone)
    page(client, f"/reflections/{own.id}/feedback", 403)


@pytest.mark.parametrize("who", ["a facilitator", "staff", "the fellow", "the fellow's coach now"])
def test_a_draft_is_not_found_on_the_feedback_page_for_anyone(w, client, who):
    draft = reflection(w.item, w.fellow, "Half a thought", submitted=None)
    sign_in(client, READERS[who](w))
    page(client, f"/reflections/{draft.id}/feedback", 404)
    assert post_feedback(client, draft, "Premature.").status_code in (403, 404)
    assert feedback_of(draft.id) == ("", None)


def test_progress_on_a_reading_is_not_a_reflection(w, client):
    reading = ItemFactory(module_id=w.module.id)
    row = ProgressFactory(item_id=reading.id, fellow_id=w.fellow.id, submitted_at=None)
    sign_in(client, w.facilitator)
    page(client, f"/reflections/{row.id}/feedback", 404)
    page(client, "/reflections/999999/feedback", 404)


def test_a_facilitator_of_another_cohort_may_not_give_feedback(w, client):
    row = reflection(w.item, w.fellow)
    elsewhere = member(running_cohort(), CohortRole.FACILITATOR)
    sign_in(client, elsewhere)
    page(client, f"/reflections/{row.id}/feedback", 403)
    assert post_feedback(client, row, "Hello").status_code == 403
    assert feedback_of(row.id) == ("", None)


def test_nobody_gives_feedback_in_an_archived_cohort_but_staff_still_read(client):
    from fellowship.cohorts.models import CohortStatus

    w = world()
    row = reflection(w.item, w.fellow)
    w.cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    sign_in(client, StaffFactory())
    html = page(client, f"/reflections/{row.id}/feedback")
    assert 'name="feedback"' not in html
    assert post_feedback(client, row, "Late").status_code == 403
    assert feedback_of(row.id) == ("", None)


# The queue -----------------------------------------------------------------------------------


def test_the_queue_lists_submitted_reflections_without_feedback_oldest_first(w, client):
    second = reflection_item(w.module, "Your allies")
    reflection(w.item, w.fellow, submitted=2)
    reflection(second, w.other_fellow, submitted=9)
    reflection(second, w.fellow, submitted=None)  # a draft
    reflection(w.item, w.other_fellow, feedback="Done.", feedback_by=w.facilitator)
    gone = member(w.cohort, CohortRole.FELLOW, "Wanda Withdrawn", MembershipStatus.WITHDRAWN)
    reflection(w.item, gone, submitted=30)
    elsewhere = running_cohort()
    their_fellow = member(elsewhere, CohortRole.FELLOW, "Elsa Elsewhere")
    reflection(reflection_item(module(elsewhere)), their_fellow, submitted=40)
    sign_in(client, w.facilitator)
    html = page(client, f"/cohorts/{w.cohort.id}/curriculum/feedback")
    assert html.count("<h1") == 1
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = [text_of(r) for r in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    assert len(rows) == 2
    assert "Olga Otherfellow" in rows[0]
    assert "Your allies" in rows[0]
    assert "waiting 9 days" in rows[0]
    assert "Felix Fellow" in rows[1]
    assert "waiting 2 days" in rows[1]
    assert "Wanda" not in html
    assert "Elsa" not in html
    assert "Give feedback to Felix Fellow on “Your coalition”" in text_of(html)
    # Given recently, with who gave it.
    recent = text_of(html.split("Feedback given in the last 14 days", 1)[1])
    assert "Olga Otherfellow: “Your coalition”" in recent
    assert "by Fay Facilitator" in recent


def test_an_empty_queue_says_nothing_is_waiting(w, client):
    sign_in(client, w.facilitator)
    html = page(client, f"/cohorts/{w.cohort.id}/curriculum/feedback")
    assert "Nothing is waiting." in html
    assert "No feedback in the last 14 days." in html


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("a facilitator", 200),
        ("staff", 200),
        ("an admin", 200),
        ("the fellow", 403),
        ("the fellow's coach now", 403),
        ("a reviewer", 403),
        ("a member without membership", 403),
    ],
)
def test_who_may_see_the_queue(w, client, who, status):
    reflection(w.item, w.fellow, "Private words")
    sign_in(client, READERS[who](w))
    html = page(client, f"/cohorts/{w.cohort.id}/curriculum/feedback", status)
    assert ("Your coalition" in html) is (status == 200)


def test_the_queue_is_paginated(w, client):
    items = [reflection_item(w.module, f"Prompt {n:02d}") for n in range(27)]
    for n, item in enumerate(items):
        reflection(item, w.fellow, submitted=30 - n)
    sign_in(client, w.facilitator)
    first = page(client, f"/cohorts/{w.cohort.id}/curriculum/feedback")
    assert "Prompt 00" in first
    assert "Prompt 26" not in first
    assert 'aria-label="Page 2"' in first
    second = page(client, f"/cohorts/{w.cohort.id}/curriculum/feedback?page=2")
    assert "Prompt 26" in second
    assert "Prompt 00" not in second


def test_the_queue_takes_the_same_queries_for_2_and_20_waiting(client, count_queries):
    counts = {}
    for waiting in (2, 20):
        w = world()
        fellows = [member(w.cohort, CohortRole.FELLOW) for _ in range(waiting // 2)]
        second = reflection_item(w.module, "Your allies")
        for fellow in fellows:
            reflection(w.item, fellow)
            reflection(second, fellow, feedback="Thanks", feedback_by=w.facilitator)
        extra = reflection_item(w.module, "Extra")
        for fellow in fellows:
            reflection(extra, fellow)
        sign_in(client, w.facilitator)
        url = f"/cohorts/{w.cohort.id}/curriculum/feedback"
        client.get(url)
        with count_queries() as counter:
            html = page(client, url)
        assert f"{waiting} submitted reflections have no feedback yet" in html
        counts[waiting] = counter.count
    print(f"\nfeedback queue: {counts} queries for 2 and 20 waiting")
    assert counts[2] == counts[20] <= 15


# Giving feedback -------------------------------------------------------------------------------


def test_the_feedback_page_shows_the_prompt_the_reflection_and_a_labelled_form(w, client):
    row = reflection(w.item, w.fellow, "# My map\n\n<script>alert(1)</script> and **allies**")
    sign_in(client, w.facilitator)
    html = page(client, f"/reflections/{row.id}/feedback")
    assert html.count("<h1") == 1
    assert "Felix Fellow’s reflection: “Your coalition”" in html
    assert "<strong>coalition map</strong>" in html  # the prompt, as Markdown
    assert "<h3>My map</h3>" in html  # the fellow's heading never becomes a second h1
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    assert "Submitted " in html
    assert f'href="/modules/{w.module.id}#item-{w.item.id}"' in html
    assert '<label class="usa-label" for="feedback">Your feedback' in html
    assert f'name="version" type="hidden" value="{row.version}"' in html
    assert "Save feedback" in html  # nothing else waits: no "go to the next"


def test_saving_feedback_goes_to_the_next_waiting_reflection_then_to_the_queue(w, client):
    older = reflection(reflection_item(w.module, "Older"), w.other_fellow, submitted=5)
    row = reflection(w.item, w.fellow, submitted=1)
    sign_in(client, w.facilitator)
    assert "Save and go to the next" in page(client, f"/reflections/{row.id}/feedback")
    response = post_feedback(client, row, "Name two allies by name.")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/reflections/{older.id}/feedback")
    assert feedback_of(row.id) == ("Name two allies by name.", w.facilitator.id)
    html = page(client, f"/reflections/{older.id}/feedback")
    assert "Your feedback has been saved. Felix Fellow is notified." in html
    response = post_feedback(client, older, "Clear and honest.")
    assert response.headers["Location"].endswith(f"/cohorts/{w.cohort.id}/curriculum/feedback")
    html = page(client, f"/cohorts/{w.cohort.id}/curriculum/feedback")
    assert "No other reflection is waiting for feedback." in html
    assert len(outbox()) == 2


def test_changing_feedback_shows_the_earlier_feedback_and_sends_no_second_email(w, client):
    row = reflection(w.item, w.fellow)
    sign_in(client, w.facilitator)
    post_feedback(client, row, "First **thoughts**.")
    db.session.expire_all()
    row = db.session.get(ItemProgress, row.id)
    html = page(client, f"/reflections/{row.id}/feedback")
    assert "Feedback given" in html
    assert "First <strong>thoughts</strong>." in html
    assert "By Fay Facilitator on" in html
    assert "Change the feedback" in html
    assert re.search(r">\s*First \*\*thoughts\*\*\.</textarea>", html)
    post_feedback(client, row, "Second thoughts.")
    assert feedback_of(row.id)[0] == "Second thoughts."
    assert len(outbox()) == 1
    assert "Your changes to the feedback have been saved." in page(
        client, f"/cohorts/{w.cohort.id}/curriculum/feedback"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write your feedback before saving it."),
        ("   ", "Write your feedback before saving it."),
        ("z" * 20_001, "Feedback can be at most 20,000 characters."),
    ],
)
def test_bad_feedback_is_refused_next_to_the_field_and_kept(w, client, text, message):
    row = reflection(w.item, w.fellow)
    sign_in(client, w.facilitator)
    response = post_feedback(client, row, text)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<span class="usa-error-message" id="feedback-error">{message}' in html
    assert 'aria-invalid="true"' in html
    if text.strip():
        assert text in html
    assert feedback_of(row.id) == ("", None)
    assert outbox() == []


def test_a_stale_form_shows_the_new_reflection_and_keeps_the_typed_feedback(w, client):
    row = reflection(w.item, w.fellow, "First version.")
    opened_at = row.version
    row.response_md = "Second version, with the union."
    row.response_saved_at = row.submitted_at.replace(year=row.submitted_at.year + 1)
    db.session.commit()
    sign_in(client, w.facilitator)
    response = post_feedback(client, row, "My careful feedback.", version=opened_at)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert (
        "The fellow changed their reflection after you opened it; read the new version below"
        in html
    )
    assert "Second version, with the union." in html
    assert re.search(r">\s*My careful feedback\.</textarea>", html)
    db.session.expire_all()
    current = db.session.get(ItemProgress, row.id)
    assert f'name="version" type="hidden" value="{current.version}"' in html
    assert feedback_of(row.id) == ("", None)
    # Saving again, now knowingly, works.
    assert post_feedback(client, current, "My careful feedback.").status_code == 302
    assert feedback_of(row.id)[0] == "My careful feedback."


def test_a_crafted_post_without_a_csrf_token_changes_nothing(w, client):
    row = reflection(w.item, w.fellow)
    sign_in(client, w.facilitator)
    response = client.post(
        f"/reflections/{row.id}/feedback", data={"feedback": "x", "version": str(row.version)}
    )
    assert response.status_code in (200, 400)
    assert feedback_of(row.id) == ("", None)


def test_the_fellow_gets_exactly_one_email_in_their_language_with_a_link(w, client, smtp_server):
    w.fellow.locale = "es"
    db.session.commit()
    row = reflection(w.item, w.fellow)
    sign_in(client, w.facilitator)
    with post_feedback(client, row, "Muy buen análisis.") as response:
        assert response.status_code == 302
    db.session.expire_all()
    row = db.session.get(ItemProgress, row.id)
    with post_feedback(client, row, "Muy buen análisis, y una pregunta.") as response:
        assert response.status_code == 302
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == w.fellow.email
    assert message["X-Envelope-To"] == w.fellow.email
    link = f"http://localhost/modules/{w.module.id}#item-{w.item.id}"
    text = body_of(message, "plain")
    html = body_of(message, "html")
    assert link in text
    assert f'href="{link}"' in html
    assert '<html lang="es">' in html
    assert re.search(r"\d+ de \w+ de \d{4}", text)  # the date the Spanish way
    assert "Fay Facilitator" in subject_of(message)
    assert "Muy buen" not in text  # the feedback itself is read in the app


# One fellow's progress -------------------------------------------------------------------------


def test_the_progress_page_shows_states_reflections_feedback_and_extensions(w, client):
    reflection(
        w.item, w.fellow, "Submitted words", feedback="Feedback words", feedback_by=w.facilitator
    )
    later = module(w.cohort, "Budget basics", due_on=ahead(20))
    ExtensionFactory(module_id=later.id, fellow_id=w.fellow.id, due_on=ahead(40))
    draft_item = reflection_item(later, "Budget reflection")
    reflection(draft_item, w.fellow, "Secret draft words", submitted=None)
    ItemFactory(module_id=later.id)
    sign_in(client, w.facilitator)
    html = page(client, f"/cohorts/{w.cohort.id}/fellows/{w.fellow.id}/learning")
    plain = text_of(html)
    assert html.count("<h1") == 1
    assert "Progress of Felix Fellow" in html
    assert "Submitted words" in html
    assert "Feedback words" in html
    assert "Feedback from Fay Facilitator" in plain
    assert "Secret draft words" not in html
    assert "Not submitted yet." in html
    assert "Complete" in plain
    assert "In progress" in plain
    assert "(extended from" in plain
    assert "1 of 2 modules complete" in plain
    assert "Change the feedback" in plain  # the facilitator may change it
    assert f"/modules/{later.id}/extensions?fellow={w.fellow.id}" in html


def test_the_fellow_sees_their_own_progress_but_never_their_drafts_here(w, client):
    reflection(w.item, w.fellow, "Secret draft words", submitted=None)
    sign_in(client, w.fellow)
    html = page(client, f"/cohorts/{w.cohort.id}/fellows/{w.fellow.id}/learning")
    assert "My progress in" in html
    assert "Secret draft words" not in html
    assert "Drafts are not shown here" in html
    assert "Give feedback" not in html
    assert "extension" not in html.lower()


def test_a_coach_reads_their_fellows_progress_without_any_control(w, client):
    reflection(w.item, w.fellow, "Submitted words")
    sign_in(client, w.coach)
    html = page(client, f"/cohorts/{w.cohort.id}/fellows/{w.fellow.id}/learning")
    assert "Submitted words" in html
    assert "Waiting for feedback." in html
    assert "Give feedback" not in html
    assert "<form" not in html.split("<main", 1)[1].split("</main>", 1)[0]


@pytest.mark.parametrize("who", ["fellow", "coach"])
def test_the_progress_page_shows_no_prompt_of_a_module_not_released_yet(w, client, who):
    later = module(w.cohort, "Next term", release_on=ahead(20), due_on=ahead(40))
    reflection_item(later, "SECRET PROMPT TITLE")
    sign_in(client, getattr(w, who))
    html = page(client, f"/cohorts/{w.cohort.id}/fellows/{w.fellow.id}/learning")
    assert "Next term" in html
    assert "SECRET PROMPT TITLE" not in html


def test_someone_who_is_not_a_fellow_of_the_cohort_has_no_progress_page(w, client):
    sign_in(client, StaffFactory())
    page(client, f"/cohorts/{w.cohort.id}/fellows/{w.coach.id}/learning", 404)
    page(client, f"/cohorts/{w.cohort.id}/fellows/999999/learning", 404)


def test_the_progress_page_takes_the_same_queries_for_1_and_12_modules(client, count_queries):
    counts = {}
    for size in (1, 12):
        w = world()
        for n in range(size - 1):
            extra = module(w.cohort, f"Extra {n}")
            ItemFactory(module_id=extra.id)
            item = reflection_item(extra, f"Reflect {n}")
            reflection(item, w.fellow, feedback="Ok" if n % 2 else None, feedback_by=w.coach)
        reflection(w.item, w.fellow, feedback="Good", feedback_by=w.facilitator)
        sign_in(client, w.facilitator)
        url = f"/cohorts/{w.cohort.id}/fellows/{w.fellow.id}/learning"
        client.get(url)
        with count_queries() as counter:
            page(client, url)
        counts[size] = counter.count
    print(f"\nfellow progress: {counts} queries for 1 and 12 modules")
    assert counts[1] == counts[12] <= 15


@pytest.mark.parametrize(
    "query",
    [
        "curriculum/progress?strand=%C2%B2",
        "curriculum/feedback?page=%C2%B2",
        "curriculum/progress?strand=" + "9" * 5000,
    ],
)
def test_odd_numbers_in_the_address_are_ignored_not_a_server_error(w, client, query):
    sign_in(client, w.facilitator)
    assert client.get(f"/cohorts/{w.cohort.id}/{query}").status_code == 200

"""The fellow's learning screens: My learning, a module's page, mark done, reflections,
downloads - who sees what, crafted posts, bad input, stale forms and query counts."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from fellowship.cohorts.models import CohortMembership, CohortRole, CohortStatus, MembershipStatus
from fellowship.curriculum.models import ItemKind, ItemProgress
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import rows_for_module, sign_in
from tests.curriculum.helpers import ExtensionFactory, require_module
from tests.curriculum.learning_helpers import (
    days,
    done,
    item,
    learning_world,
    member,
    open_module,
    page_csrf,
    progress_of,
    stored_pdf,
    submitted,
)
from tests.factories import CohortFactory, UserFactory
from tests.upload_attacks import valid_pdf


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def progress_rows() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ItemProgress)) or 0


def text_of(html: str) -> str:
    """The page as words, tags removed (to read sentences split by links and tags)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def reflection_data(client, item_id: int, text: str, *, submit: bool, version="") -> dict:
    data = {
        f"item{item_id}-csrf_token": page_csrf(client, "/"),
        f"item{item_id}-response": text,
        f"item{item_id}-version": str(version),
    }
    data[f"item{item_id}-submit_reflection" if submit else f"item{item_id}-save_draft"] = "1"
    return data


def _course():
    """A cohort with three modules: the first open, the second needing the first, the third
    not released yet; the fellow has started the first."""
    world = learning_world()
    strand = world.cohort.strands[2]
    first = open_module(
        world.cohort,
        title="Coalition mapping",
        strand_id=strand.id,
        position=1,
        estimated_minutes=90,
    )
    reading = item(first, title="Read the case", body_md="## Allies\n\n<script>alert(1)</script>")
    item(first, title="Optional extra", required=False)
    reflection = item(first, ItemKind.REFLECTION, title="Who are your allies?")
    second = open_module(world.cohort, title="Budget advocacy", position=2, due_on=days(20))
    item(second, title="Budget basics")
    require_module(second, first)
    third = open_module(
        world.cohort, title="Board meetings", position=3, release_on=days(40), due_on=days(60)
    )
    item(third, title="Hidden reading", body_md="Secret board plans")
    done(reading, world.fellow)
    return world, first, second, third, reading, reflection


built_course = rows_for_module(_course)


@pytest.fixture
def course(built_course, request):
    return built_course.thaw_for(request)


# My learning ---------------------------------------------------------------------------------


def test_my_learning_lists_the_modules_in_order_with_their_states(client, course):
    world, first, second, third, _reading, _reflection = course
    sign_in(client, world.fellow)
    html = page(client, "/learning")
    assert html.count("<h1") == 1
    assert "<caption" in html
    assert 'scope="row"' in html
    words = text_of(html)
    assert words.index("Coalition mapping") < words.index("Budget advocacy")
    assert words.index("Budget advocacy") < words.index("Board meetings")
    assert world.cohort.strands[2].name in html
    assert "In progress" in html
    assert "Locked" in html
    assert "1 h 30 min" in html
    assert "1 of 2 required items done" in html
    assert '<progress id="progress-' in html
    # Locked with the reason, the prerequisite linked.
    assert "Complete “Coalition mapping” first" in words
    assert f'href="/modules/{first.id}">“Coalition mapping”</a>' in html
    assert f'href="/modules/{second.id}"' in html
    # Not released: its title and opening date, no link and nothing of its content.
    assert "Opens on" in html
    assert f'href="/modules/{third.id}"' not in html
    assert "Secret board plans" not in html
    assert "Hidden reading" not in html
    assert "<details" in html
    assert "How a module’s state is decided" in html


def test_the_fellows_extension_is_shown_as_their_due_date(client, course):
    world, first, _second, _third, _reading, _reflection = course
    ExtensionFactory(module_id=first.id, fellow_id=world.fellow.id, due_on=days(25))
    sign_in(client, world.fellow)
    words = text_of(page(client, "/learning"))
    assert "(extended from" in words
    sign_in(client, world.other_fellow)
    assert "extended" not in text_of(page(client, "/learning"))


def test_an_overdue_module_says_so_in_words(client):
    world = learning_world()
    late = open_module(world.cohort, title="Late module", due_on=days(-3))
    item(late)
    sign_in(client, world.fellow)
    html = page(client, "/learning")
    assert "curriculum-learning-state--overdue" in html
    assert ">Overdue</span>" in html


@pytest.mark.parametrize("role", ["coach", "facilitator", "reviewer", "staff", "outsider"])
def test_someone_who_is_no_fellow_gets_a_friendly_empty_page(client, course, role):
    world = course[0]
    person = getattr(world, role, None) or UserFactory()
    sign_in(client, person)
    html = page(client, "/learning")
    assert html.count("<h1") == 1
    assert "you are not a fellow in any cohort" in html
    assert "Coalition mapping" not in html


def test_alumni_see_their_cohort_and_withdrawn_fellows_do_not(client, course):
    world = course[0]
    membership = db.session.scalar(
        sa.select(CohortMembership).filter_by(user_id=world.fellow.id, cohort_id=world.cohort.id)
    )
    membership.status = MembershipStatus.COMPLETED
    db.session.commit()
    sign_in(client, world.fellow)
    html = page(client, "/learning")
    assert "(completed)" in html
    assert "Coalition mapping" in html
    membership.status = MembershipStatus.WITHDRAWN
    db.session.commit()
    html = page(client, "/learning")
    assert "Coalition mapping" not in html
    page(client, f"/cohorts/{world.cohort.id}/learning", status=403)


def test_my_learning_shows_every_cohort_where_the_person_is_a_fellow(client, course):
    world = course[0]
    later = CohortFactory(name="Second cohort")
    member_row = CohortMembership(
        cohort_id=later.id, user_id=world.fellow.id, role=CohortRole.FELLOW
    )
    db.session.add(member_row)
    db.session.commit()
    item(open_module(later, title="Another cohort's module"))
    coached = CohortFactory(name="Coached elsewhere")
    db.session.add(
        CohortMembership(cohort_id=coached.id, user_id=world.fellow.id, role=CohortRole.COACH)
    )
    db.session.commit()
    item(open_module(coached, title="Not for this fellow"))
    sign_in(client, world.fellow)
    html = page(client, "/learning")
    assert "Second cohort" in html
    assert "Another cohort&#39;s module" in html
    assert "Not for this fellow" not in html


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("fellow", 200),
        ("coach", 403),
        ("facilitator", 403),
        ("reviewer", 403),
        ("staff", 403),
        ("stranger", 403),
    ],
)
def test_a_cohorts_learning_page_is_for_its_fellows(client, course, who, status):
    world = course[0]
    person = member(CohortFactory(), CohortRole.FELLOW) if who == "stranger" else None
    sign_in(client, person or getattr(world, who))
    html = page(client, f"/cohorts/{world.cohort.id}/learning", status=status)
    if status == 200:
        assert f"My learning in {world.cohort.name}" in html
        assert "Coalition mapping" in html


@pytest.mark.parametrize("path", ["/learning", "/cohorts/{cohort}/learning"])
def test_my_learning_takes_the_same_queries_for_2_and_20_modules(client, count_queries, path):
    counts = {}
    for size in (2, 20):
        world = learning_world()
        modules = [open_module(world.cohort, position=n) for n in range(size)]
        for n, module in enumerate(modules):
            first = item(module)
            item(module, ItemKind.REFLECTION)
            if n % 2:
                done(first, world.fellow)
            if n:
                require_module(module, modules[n - 1])
        ExtensionFactory(module_id=modules[-1].id, fellow_id=world.fellow.id, due_on=days(30))
        sign_in(client, world.fellow)
        url = path.format(cohort=world.cohort.id)
        client.get(url)
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        assert response.get_data(as_text=True).count('scope="row"') == size
        counts[size] = counter.count
    assert counts[2] == counts[20] <= 15


# The module page --------------------------------------------------------------------------


@pytest.fixture
def every_kind(app, course):
    world, first, *_rest = course
    stored = stored_pdf(app, valid_pdf("Guide"), "Reading guide.pdf")
    file_item = item(first, ItemKind.FILE, title="The guide", stored_file_id=stored, body_md="")
    link = item(
        first,
        ItemKind.LINK,
        title="District page",
        url="https://schools.example.org/budget?year=2026",
        body_md="Look at **page 3**.",
        required=False,
    )
    video = item(
        first,
        ItemKind.VIDEO,
        title="Keynote",
        url="https://video.example.com/watch?v=abc",
        body_md="Watch the first ten minutes.",
    )
    sneaky = item(first, ItemKind.LINK, title="Sneaky", url="javascript:alert(1)", body_md="")
    return world, first, stored, file_item, link, video, sneaky


def test_a_fellow_sees_every_kind_of_item_with_their_controls(client, every_kind, course):
    world, first, _stored, file_item, link, video, sneaky = every_kind
    reading, reflection = course[4], course[5]
    sign_in(client, world.fellow)
    html = page(client, f"/modules/{first.id}")
    assert html.count("<h1") == 1
    assert "Coalition mapping" in html
    assert world.cohort.strands[2].name in html
    assert "1 h 30 min" in html
    assert "Your due date" in html
    # Reading: Markdown rendered, raw HTML shown as text, never run.
    assert "<h5>Allies</h5>" in html  # "##" under the item's h3
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    # Link and video: a plain link naming the host, never a frame.
    assert (
        '<a class="usa-link" href="https://schools.example.org/budget?year=2026" '
        'rel="noopener noreferrer">Open the page on schools.example.org</a>'
    ) in html
    assert "<strong>page 3</strong>" in html
    assert "Watch the video on video.example.com" in html
    assert "<iframe" not in html
    assert "javascript:" not in html
    assert "The address of this item is missing." in html
    # File: download link with name, type and size.
    assert f'href="/items/{file_item.id}/file">Reading guide.pdf</a>' in html
    assert "(PDF," in html
    assert "bytes)" in html
    # Required and optional, the fellow's own state of each item.
    assert "Optional" in html
    assert "Required" in html
    assert "Mark as not done" in html  # the reading is done
    assert f'aria-label="Mark as done: {link.title}"' in html
    # Reflection: a form with both buttons, the prompt above it.
    assert f'action="/items/{reflection.id}/reflection"' in html
    assert f'name="item{reflection.id}-save_draft"' in html
    assert f'name="item{reflection.id}-submit_reflection"' in html
    assert f'<label class="usa-label" for="item{reflection.id}-response">' in html
    assert f'id="item-{reading.id}"' in html
    assert '<progress id="module-progress"' in html
    assert "Edit this module" not in html
    for item_ in (file_item, video, sneaky):
        assert f'id="item-{item_.id}"' in html


@pytest.mark.parametrize("who", ["coach", "staff"])
def test_coaches_and_staff_read_the_content_without_controls(client, course, who):
    world, first, *_rest = course
    sign_in(client, getattr(world, who))
    html = page(client, f"/modules/{first.id}")
    assert "Read the case" in html
    assert "Who are your allies?" in html
    assert "Mark as done" not in html
    assert "Mark as not done" not in html
    assert "/reflection" not in html
    assert "<textarea" not in html
    assert "Your due date" not in html
    assert "<progress" not in html


@pytest.mark.parametrize("who", ["facilitator", "staff"])
def test_editors_see_the_module_as_fellows_do_with_a_link_to_edit_it(client, course, who):
    world, first, *_rest = course
    sign_in(client, getattr(world, who))
    html = page(client, f"/modules/{first.id}")
    assert "You are seeing the module as fellows see it." in html
    assert f'href="/modules/{first.id}/items">Edit this module</a>' in html


def test_a_coach_sees_no_edit_link(client, course):
    world, first, *_rest = course
    sign_in(client, world.coach)
    assert "Edit this module" not in page(client, f"/modules/{first.id}")


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("fellow", 403),
        ("coach", 403),
        ("reviewer", 403),
        ("facilitator", 200),
        ("staff", 200),
    ],
)
def test_an_unreleased_module_is_only_for_its_editors(client, course, who, status):
    world, _first, _second, third, *_rest = course
    sign_in(client, getattr(world, who))
    html = page(client, f"/modules/{third.id}", status=status)
    if status == 403:
        assert "Secret board plans" not in html
        assert "Hidden reading" not in html
    else:
        assert "Opens to fellows" in html


@pytest.mark.parametrize("who", ["reviewer", "outsider", "stranger_fellow", "withdrawn"])
def test_people_outside_the_curriculum_cannot_open_a_module(client, course, who):
    world, first, *_rest = course
    if who == "reviewer":
        person = world.reviewer
    elif who == "stranger_fellow":
        person = member(CohortFactory(), CohortRole.FELLOW)
    elif who == "withdrawn":
        person = member(world.cohort, CohortRole.FELLOW, status=MembershipStatus.WITHDRAWN)
    else:
        person = UserFactory()
    sign_in(client, person)
    assert "Read the case" not in page(client, f"/modules/{first.id}", status=403)


def test_a_module_locked_by_a_prerequisite_says_why_and_has_no_controls(client, course):
    world, first, second, *_rest = course
    sign_in(client, world.fellow)
    html = page(client, f"/modules/{second.id}")
    assert "Budget basics" in html
    assert "Locked" in html
    assert f'href="/modules/{first.id}">“Coalition mapping”</a>' in html
    assert "Mark as done" not in html
    assert "<textarea" not in html


def test_the_module_page_never_shows_another_fellows_reflection(client, course):
    world, first, _second, _third, _reading, reflection = course
    secret = "Olive thinks the principal is the real obstacle here."
    submitted(reflection, world.other_fellow, secret)
    for person in (world.fellow, world.coach, world.facilitator, world.staff):
        sign_in(client, person)
        assert secret not in page(client, f"/modules/{first.id}")
    sign_in(client, world.other_fellow)
    assert secret in page(client, f"/modules/{first.id}")


def test_the_module_page_takes_the_same_queries_for_2_and_20_items(app, client, count_queries):
    counts = {}
    for size in (2, 20):
        world = learning_world()
        first = open_module(world.cohort, position=0)
        module = open_module(world.cohort, position=1)
        require_module(module, first)
        done(item(first), world.fellow)
        for n in range(size):
            kind = [ItemKind.READING, ItemKind.REFLECTION, ItemKind.FILE, ItemKind.LINK][n % 4]
            extra = {}
            if kind == ItemKind.FILE:
                extra["stored_file_id"] = stored_pdf(app, valid_pdf())
            if kind == ItemKind.LINK:
                extra["url"] = "https://example.org/"
            row = item(module, kind, **extra)
            if kind == ItemKind.REFLECTION:
                submitted(
                    row,
                    world.fellow,
                    "Answer",
                    feedback_md="Good",
                    feedback_at=utcnow(),
                    feedback_by_id=world.facilitator.id,
                )
            elif kind != ItemKind.READING:
                done(row, world.fellow)
        # Only the first prerequisite is done: the fellow may work on the module.
        done(item(module, ItemKind.REFLECTION), world.other_fellow)
        sign_in(client, world.fellow)
        client.get(f"/modules/{module.id}")
        with count_queries() as counter:
            response = client.get(f"/modules/{module.id}")
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "Mark as done" in html or "Mark as not done" in html
        counts[size] = counter.count
    # 15 with a prerequisite: 5 to load the page's objects, 5 for the fellow's status, 3 for
    # `policy.can_work_on_module` (the prerequisites' completion), 1 for the items, 1 for the
    # menu (whether the person belongs to a school cycle).
    assert counts[2] == counts[20] == 15


# Marking items done -----------------------------------------------------------------------


def test_a_fellow_marks_an_item_done_and_not_done_again(client, course):
    world, first, _second, _third, reading, _reflection = course
    extra = item(first, title="Second reading")
    sign_in(client, world.fellow)
    token = page_csrf(client, f"/modules/{first.id}")
    response = client.post(f"/items/{extra.id}/done", data={"csrf_token": token, "done": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/modules/{first.id}#item-{extra.id}")
    assert progress_of(extra, world.fellow).completed_at is not None
    assert "“Second reading” is marked as done." in page(client, f"/modules/{first.id}")
    client.post(f"/items/{reading.id}/done", data={"csrf_token": token, "done": "0"})
    assert progress_of(reading, world.fellow).completed_at is None


@pytest.mark.parametrize("value", ["", "2", "yes"])
def test_a_strange_done_value_changes_nothing(client, course, value):
    world, first, _second, _third, _reading, _reflection = course
    extra = item(first)
    sign_in(client, world.fellow)
    token = page_csrf(client, f"/modules/{first.id}")
    response = client.post(f"/items/{extra.id}/done", data={"csrf_token": token, "done": value})
    assert response.status_code == 302
    assert progress_of(extra, world.fellow) is None


def test_a_reflection_cannot_be_marked_done_by_a_crafted_post(client, course):
    world, first, _second, _third, _reading, reflection = course
    sign_in(client, world.fellow)
    token = page_csrf(client, f"/modules/{first.id}")
    client.post(f"/items/{reflection.id}/done", data={"csrf_token": token, "done": "1"})
    assert progress_of(reflection, world.fellow) is None
    assert "done once you submit it" in page(client, f"/modules/{first.id}")


def denied_people(world, course):
    """Everyone who must get 403 on the fellow's work, with the module they post to."""
    first, second, third = course[1], course[2], course[3]
    alumni = member(world.cohort, CohortRole.FELLOW, status=MembershipStatus.COMPLETED)
    withdrawn = member(world.cohort, CohortRole.FELLOW, status=MembershipStatus.WITHDRAWN)
    return {
        "prerequisite missing": (world.fellow, second),
        "not released": (world.fellow, third),
        "alumni": (alumni, first),
        "withdrawn fellow": (withdrawn, first),
        "coach": (world.coach, first),
        "facilitator": (world.facilitator, first),
        "reviewer": (world.reviewer, first),
        "staff": (world.staff, first),
        "fellow of another cohort": (member(CohortFactory(), CohortRole.FELLOW), first),
    }


DENIED = [
    "prerequisite missing",
    "not released",
    "alumni",
    "withdrawn fellow",
    "coach",
    "facilitator",
    "reviewer",
    "staff",
    "fellow of another cohort",
]


@pytest.mark.parametrize("case", DENIED)
def test_crafted_posts_on_work_someone_may_not_do_are_refused(client, course, case):
    world = course[0]
    person, module = denied_people(world, course)[case]
    reading = item(module, title="A reading")
    reflection = item(module, ItemKind.REFLECTION, title="A reflection")
    before = progress_rows()
    sign_in(client, person)
    token = page_csrf(client, "/")
    done_post = client.post(f"/items/{reading.id}/done", data={"csrf_token": token, "done": "1"})
    reflection_post = client.post(
        f"/items/{reflection.id}/reflection",
        data=reflection_data(client, reflection.id, "Sneaked in", submit=True),
    )
    assert done_post.status_code == 403
    assert reflection_post.status_code == 403
    assert progress_rows() == before


def test_nothing_can_be_done_in_an_archived_cohort(client):
    world = learning_world(status=CohortStatus.ARCHIVED)
    module = open_module(world.cohort)
    reading = item(module)
    reflection = item(module, ItemKind.REFLECTION)
    sign_in(client, world.fellow)
    html = page(client, f"/modules/{module.id}")
    assert "it can no longer be changed" in html
    assert "Mark as done" not in html
    assert "<textarea" not in html
    token = page_csrf(client, "/")
    assert (
        client.post(f"/items/{reading.id}/done", data={"csrf_token": token, "done": "1"})
    ).status_code == 403
    assert (
        client.post(
            f"/items/{reflection.id}/reflection",
            data=reflection_data(client, reflection.id, "Late", submit=True),
        )
    ).status_code == 403
    assert progress_rows() == 0


def test_posts_without_a_csrf_token_are_refused(client, course):
    world, first, _second, _third, _reading, reflection = course
    extra = item(first)
    sign_in(client, world.fellow)
    assert client.post(f"/items/{extra.id}/done", data={"done": "1"}).status_code == 400
    data = reflection_data(client, reflection.id, "Text", submit=True)
    del data[f"item{reflection.id}-csrf_token"]
    assert client.post(f"/items/{reflection.id}/reflection", data=data).status_code == 400
    assert progress_of(extra, world.fellow) is None
    assert progress_of(reflection, world.fellow) is None


# Reflections ------------------------------------------------------------------------------


def test_a_fellow_saves_a_draft_submits_it_and_revises_it(client, course):
    world, first, _second, _third, _reading, reflection = course
    sign_in(client, world.fellow)
    path = f"/items/{reflection.id}/reflection"

    response = client.post(path, data=reflection_data(client, reflection.id, "Draft", submit=False))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#item-{reflection.id}")
    row = progress_of(reflection, world.fellow)
    assert (row.response_md, row.submitted_at) == ("Draft", None)
    html = page(client, f"/modules/{first.id}")
    assert "Your draft of “Who are your allies?” is saved." in html
    assert "\nDraft</textarea>" in html
    assert "Draft saved" in html

    data = reflection_data(client, reflection.id, "My allies", submit=True, version=row.version)
    assert client.post(path, data=data).status_code == 302
    row = progress_of(reflection, world.fellow)
    assert row.submitted_at is not None
    assert row.completed_at is not None
    html = page(client, f"/modules/{first.id}")
    assert "Your reflection on “Who are your allies?” is submitted." in html
    assert "Save changes" in html
    assert "Save draft" not in html
    assert "2 of 2 required items done" in html
    assert ">Complete</span>" in html

    data = reflection_data(
        client, reflection.id, "My allies, revised", submit=True, version=row.version
    )
    assert client.post(path, data=data).status_code == 302
    revised = progress_of(reflection, world.fellow)
    assert revised.response_md == "My allies, revised"
    assert revised.submitted_at == row.submitted_at
    assert "Your reflection stays submitted." in page(client, f"/modules/{first.id}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Write your reflection before submitting it."),
        ("é" * 20_001, "at most 20,000 characters"),
    ],
    ids=["empty", "too long"],
)
def test_a_refused_reflection_keeps_what_was_typed(client, course, text, message):
    world, _first, _second, _third, _reading, reflection = course
    sign_in(client, world.fellow)
    response = client.post(
        f"/items/{reflection.id}/reflection",
        data=reflection_data(client, reflection.id, text, submit=True),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert 'id="error-summary"' in html
    assert (
        f'aria-describedby="item{reflection.id}-response-hint item{reflection.id}-response-error"'
        in html
    )
    if text:
        assert text in html
    assert html.count("<h1") == 1
    assert progress_of(reflection, world.fellow) is None


def test_a_stale_form_keeps_the_typed_text_and_shows_the_saved_version(client, course):
    world, _first, _second, _third, _reading, reflection = course
    sign_in(client, world.fellow)
    path = f"/items/{reflection.id}/reflection"
    client.post(path, data=reflection_data(client, reflection.id, "From tab two", submit=False))
    saved = progress_of(reflection, world.fellow)
    # Tab one was opened before anything was saved.
    response = client.post(
        path, data=reflection_data(client, reflection.id, "From tab one", submit=False)
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "saved in another tab or window" in html
    assert "\nFrom tab one</textarea>" in html
    assert "Your saved reflection" in html
    assert "From tab two" in html
    assert f'name="item{reflection.id}-version" type="hidden" value="{saved.version}"' in html
    assert progress_of(reflection, world.fellow).response_md == "From tab two"


def test_feedback_given_meanwhile_refuses_the_save_and_keeps_the_text(client, course):
    world, _first, _second, _third, _reading, reflection = course
    row = submitted(reflection, world.fellow, "First answer")
    opened = row.version
    row.feedback_md, row.feedback_at, row.feedback_by_id = "Good.", utcnow(), world.facilitator.id
    db.session.commit()
    sign_in(client, world.fellow)
    response = client.post(
        f"/items/{reflection.id}/reflection",
        data=reflection_data(client, reflection.id, "Second answer", submit=True, version=opened),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "gave feedback on this reflection while you were writing" in html
    assert ">Second answer</textarea>" in html
    assert "readonly" in html
    assert progress_of(reflection, world.fellow).response_md == "First answer"


def test_after_feedback_the_reflection_is_read_only_with_the_feedback_under_it(client, course):
    world, first, _second, _third, _reading, reflection = course
    submitted(
        reflection,
        world.fellow,
        "I mapped the **PTA**.",
        feedback_md="Now add the *union*.",
        feedback_at=utcnow(),
        feedback_by_id=world.facilitator.id,
    )
    sign_in(client, world.fellow)
    html = page(client, f"/modules/{first.id}")
    assert "<strong>PTA</strong>" in html
    assert "<em>union</em>" in html
    assert "From Farah Facilitator on" in html
    assert "Feedback received" in html
    assert f'action="/items/{reflection.id}/reflection"' not in html
    assert html.index("PTA") < html.index("union")


def test_a_written_answer_to_an_item_that_is_no_reflection_is_not_found(client, course):
    world, _first, _second, _third, reading, _reflection = course
    sign_in(client, world.fellow)
    response = client.post(
        f"/items/{reading.id}/reflection",
        data=reflection_data(client, reading.id, "Text", submit=True),
    )
    assert response.status_code == 404


def test_alumni_read_their_reflection_without_controls(client, course):
    world, first, _second, _third, _reading, reflection = course
    submitted(reflection, world.fellow, "What I wrote back then")
    membership = db.session.scalar(
        sa.select(CohortMembership).filter_by(user_id=world.fellow.id, cohort_id=world.cohort.id)
    )
    membership.status = MembershipStatus.COMPLETED
    db.session.commit()
    sign_in(client, world.fellow)
    html = page(client, f"/modules/{first.id}")
    assert "What I wrote back then" in html
    assert "<textarea" not in html
    assert "Mark as" not in html


# Downloads --------------------------------------------------------------------------------


@pytest.fixture
def file_item(app, course):
    world, first, _second, third, *_rest = course
    data = valid_pdf("Our guide")
    stored = stored_pdf(app, data, "Guide to coalitions.pdf")
    released = item(first, ItemKind.FILE, title="Guide", stored_file_id=stored)
    hidden = item(third, ItemKind.FILE, title="Board pack", stored_file_id=stored)
    return world, released, hidden, data


@pytest.mark.parametrize("who", ["fellow", "coach", "facilitator", "staff"])
def test_people_who_may_read_the_module_download_its_file_byte_for_byte(client, file_item, who):
    world, released, _hidden, data = file_item
    sign_in(client, getattr(world, who))
    with client.get(f"/items/{released.id}/file") as response:
        response.get_data()
    assert response.status_code == 200
    assert hashlib.sha256(response.data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "Guide to coalitions.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("who", ["reviewer", "stranger", "outsider"])
def test_people_outside_the_module_cannot_download_its_file(client, file_item, who):
    world, released, _hidden, _data = file_item
    person = {
        "reviewer": world.reviewer,
        "stranger": member(CohortFactory(), CohortRole.FELLOW),
        "outsider": UserFactory(),
    }[who]
    sign_in(client, person)
    assert client.get(f"/items/{released.id}/file").status_code == 403


def test_a_fellow_cannot_download_a_file_before_its_module_opens(client, file_item):
    world, _released, hidden, _data = file_item
    sign_in(client, world.fellow)
    assert client.get(f"/items/{hidden.id}/file").status_code == 403
    sign_in(client, world.facilitator)
    with client.get(f"/items/{hidden.id}/file") as response:
        assert response.status_code == 200


def test_an_item_without_a_file_has_nothing_to_download(client, course):
    world, _first, _second, _third, reading, _reflection = course
    sign_in(client, world.fellow)
    assert client.get(f"/items/{reading.id}/file").status_code == 404
    assert client.get("/items/999999/file").status_code == 404

"""A cohort's rubric: the default, creating it only when something is saved, and the rules
for changing it (names, descriptors, adding, moving, removing, the optimistic lock), on the
service and on the staff page; who may read and who may change it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.capstones import rubric as rubrics
from fellowship.capstones.models import Review, Rubric, RubricCriterion
from fellowship.cohorts.models import CohortRole, CohortStatus, MembershipStatus
from fellowship.extensions import db
from tests.capstones.helpers import rubric_for
from tests.capstones.test_review_helpers import (
    World,
    audit_actions,
    criteria_of,
    levels_of,
    member,
    page,
    post,
    submitted_review,
    world,
)
from tests.conftest import rows_for_module, sign_in
from tests.factories import AdminFactory, CohortFactory, StaffFactory, UserFactory

shared_w = rows_for_module(world)


@pytest.fixture
def w(shared_w, request):
    """What most tests here start from, built once for the module."""
    return shared_w.thaw_for(request)


def rubric_count(cohort=None) -> int:
    """Rubrics stored: the cohort's, or all of them."""
    query = sa.select(sa.func.count(Rubric.id))
    if cohort is not None:
        query = query.where(Rubric.cohort_id == cohort.id)
    return db.session.scalar(query) or 0


def names(cohort) -> list[str]:
    db.session.expire_all()
    return [c.name for c in criteria_of(cohort)]


# The default ------------------------------------------------------------------------------


def test_the_default_rubric_has_four_or_five_criteria_each_with_real_descriptors_for_1_to_4():
    assert 4 <= len(rubrics.DEFAULT_RUBRIC) <= 5
    names_seen = set()
    for criterion in rubrics.DEFAULT_RUBRIC:
        name = str(criterion.name)
        assert name
        assert name not in names_seen
        names_seen.add(name)
        assert len(str(criterion.description)) > 40
        descriptors = [str(text) for text in criterion.levels]
        assert len(descriptors) == 4
        assert len(set(descriptors)) == 4
        for text in descriptors:
            assert len(text) > 30
            assert not re.fullmatch(r"(?i)level \d", text)
    assert {"Problem and evidence", "Design for diversity and integration"} <= names_seen


def test_ensure_rubric_creates_the_default_once(ctx):
    cohort = CohortFactory()
    first = rubrics.ensure_rubric(cohort)
    second = rubrics.ensure_rubric(cohort)
    assert first.id == second.id
    criteria = criteria_of(cohort)
    assert [c.name for c in criteria] == [str(d.name) for d in rubrics.DEFAULT_RUBRIC]
    assert [c.position for c in criteria] == list(range(len(rubrics.DEFAULT_RUBRIC)))
    assert levels_of(criteria[0]) == {
        score: str(text)
        for score, text in zip((1, 2, 3, 4), rubrics.DEFAULT_RUBRIC[0].levels, strict=True)
    }


def test_a_cohort_without_a_rubric_reads_as_the_default_without_creating_it(ctx):
    cohort = CohortFactory()
    view = rubrics.rubric_view(cohort.id)
    assert view.is_default
    assert view.version is None
    assert [c.key for c in view.criteria] == [f"new{i}" for i in range(len(view.criteria))]
    assert view.scores == [1, 2, 3, 4]
    assert rubric_count(cohort) == 0


def test_the_default_rubric_is_stored_as_plain_text_in_the_current_language(ctx):
    cohort = CohortFactory()
    rubrics.ensure_rubric(cohort)
    stored = criteria_of(cohort)
    assert all(type(c.name) is str and type(c.description) is str for c in stored)
    assert all(type(text) is str for text in levels_of(stored[0]).values())


# Changing: rules as a table ---------------------------------------------------------------


def edit(criterion: RubricCriterion, **changes: object) -> rubrics.CriterionData:
    levels = levels_of(criterion)
    levels.update(changes.pop("levels", {}))  # type: ignore[call-overload]
    return rubrics.CriterionData(
        key=str(criterion.id),
        name=str(changes.pop("name", criterion.name)),
        description=str(changes.pop("description", criterion.description)),
        levels=levels,
    )


def new(name: str = "Equity of outcomes", **levels: str) -> rubrics.CriterionData:
    texts = {1: "Absent.", 2: "Named.", 3: "Planned.", 4: "Planned and measured."}
    texts.update({int(k.removeprefix("l")): v for k, v in levels.items()})
    return rubrics.CriterionData(key="new", name=name, description="", levels=texts)


REFUSED = [
    (
        "a blank name",
        lambda c: rubrics.RubricChange(edits=[edit(c[0], name="  ")]),
        "name_0",
        "Give the criterion a name.",
    ),
    (
        "a name of 201 characters",
        lambda c: rubrics.RubricChange(edits=[edit(c[0], name="x" * 201)]),
        "name_0",
        "at most 200 characters",
    ),
    (
        "a name another criterion has",
        lambda c: rubrics.RubricChange(edits=[edit(c[1], name="criterion 1")]),
        "name_1",
        "Another criterion already has this name",
    ),
    (
        "an empty level descriptor",
        lambda c: rubrics.RubricChange(edits=[edit(c[0], levels={2: " "})]),
        "level_0_2",
        "Describe what work at this level looks like.",
    ),
    (
        "a descriptor of 1,001 characters",
        lambda c: rubrics.RubricChange(edits=[edit(c[2], levels={4: "y" * 1001})]),
        "level_2_4",
        "at most 1,000 characters",
    ),
    (
        "a description of 2,001 characters",
        lambda c: rubrics.RubricChange(edits=[edit(c[1], description="z" * 2001)]),
        "description_1",
        "at most 2,000 characters",
    ),
    (
        "a new criterion without a name",
        lambda c: rubrics.RubricChange(new=new(name="")),
        "new_name",
        "Name the new criterion",
    ),
    (
        "a new criterion with an empty level",
        lambda c: rubrics.RubricChange(new=new(l3="")),
        "new_level_3",
        "Describe what work at this level looks like.",
    ),
    (
        "a new criterion named like another",
        lambda c: rubrics.RubricChange(new=new(name="Criterion 2")),
        "new_name",
        "Another criterion already has this name",
    ),
    ("removing the last criterion", None, None, "at least one criterion"),
]


def _field(name: str | None, criteria: list[RubricCriterion]) -> str | None:
    """`name_0` in the table means the field of the first criterion."""
    if name is None or name.startswith("new_"):
        return name
    return re.sub(r"_(\d)(?=_|$)", lambda m: f"_{criteria[int(m.group(1))].id}", name, count=1)


@pytest.mark.parametrize(("case", "make", "field", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_rubric_change_is_refused_with_the_message_next_to_its_field(
    ctx, case, make, field, message
):
    staff = StaffFactory()
    if make is None:  # removing the last criterion
        cohort = CohortFactory()
        rubric = rubric_for(cohort.id, criteria=1)
        criteria = criteria_of(cohort)
        change = rubrics.RubricChange(remove=str(criteria[0].id))
    else:
        cohort = CohortFactory()
        rubric = rubric_for(cohort.id, criteria=3)
        criteria = criteria_of(cohort)
        change = make(criteria)
    before = (names(cohort), rubric.version)
    with pytest.raises(rubrics.RubricError) as refused:
        rubrics.change_rubric(staff, cohort, change, rubric.version)
    db.session.rollback()
    assert message in " ".join(m for _f, m in refused.value.problems)
    if field is not None:
        assert refused.value.field == _field(field, criteria)
    db.session.expire_all()
    assert (names(cohort), db.session.get(Rubric, rubric.id).version) == before
    assert "rubric_changed" not in audit_actions()


CHANGES = [
    # (what, change, names after, what changed)
    (
        "renaming",
        lambda c: rubrics.RubricChange(edits=[edit(c[0], name="Evidence")]),
        ["Evidence", "Criterion 2", "Criterion 3"],
        ["edited"],
    ),
    (
        "adding",
        lambda c: rubrics.RubricChange(new=new()),
        ["Criterion 1", "Criterion 2", "Criterion 3", "Equity of outcomes"],
        ["added"],
    ),
    (
        "moving the second up",
        lambda c: rubrics.RubricChange(move=(str(c[1].id), "up")),
        ["Criterion 2", "Criterion 1", "Criterion 3"],
        ["moved"],
    ),
    (
        "moving the second down",
        lambda c: rubrics.RubricChange(move=(str(c[1].id), "down")),
        ["Criterion 1", "Criterion 3", "Criterion 2"],
        ["moved"],
    ),
    (
        "moving the first up",
        lambda c: rubrics.RubricChange(move=(str(c[0].id), "up")),
        ["Criterion 1", "Criterion 2", "Criterion 3"],
        [],
    ),
    (
        "moving the last down",
        lambda c: rubrics.RubricChange(move=(str(c[2].id), "down")),
        ["Criterion 1", "Criterion 2", "Criterion 3"],
        [],
    ),
    (
        "removing one",
        lambda c: rubrics.RubricChange(remove=str(c[1].id)),
        ["Criterion 1", "Criterion 3"],
        ["removed"],
    ),
    (
        "saving unchanged text",
        lambda c: rubrics.RubricChange(edits=[edit(x) for x in c]),
        ["Criterion 1", "Criterion 2", "Criterion 3"],
        [],
    ),
    (
        "renaming while moving",
        lambda c: rubrics.RubricChange(edits=[edit(c[2], name="Plan")], move=(str(c[2].id), "up")),
        ["Criterion 1", "Plan", "Criterion 2"],
        ["edited", "moved"],
    ),
]


@pytest.mark.parametrize(("what", "make", "after", "done"), CHANGES, ids=[c[0] for c in CHANGES])
def test_rubric_changes_bump_the_version_and_are_audited_only_when_something_changed(
    ctx, what, make, after, done
):
    staff = StaffFactory()
    cohort = CohortFactory()
    rubric = rubric_for(cohort.id, criteria=3)
    version = rubric.version
    _rubric, changed = rubrics.change_rubric(staff, cohort, make(criteria_of(cohort)), version)
    db.session.commit()
    assert changed == done
    assert names(cohort) == after
    assert [c.position for c in criteria_of(cohort)] == list(range(len(after)))
    rubric = db.session.get(Rubric, rubric.id)
    assert rubric.version == (version + 1 if done else version)
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "rubric_changed")
    ).all()
    assert len(events) == (1 if done else 0)
    if done:
        assert events[0].actor_id == staff.id
        assert events[0].details["changes"] == done
        assert events[0].details["cohort_id"] == cohort.id


def test_a_new_criterion_gets_levels_1_to_4_with_their_descriptors(ctx):
    cohort = CohortFactory()
    rubric = rubric_for(cohort.id, criteria=2)
    rubrics.change_rubric(StaffFactory(), cohort, rubrics.RubricChange(new=new()), rubric.version)
    added = criteria_of(cohort)[-1]
    assert added.name == "Equity of outcomes"
    assert levels_of(added) == {
        1: "Absent.",
        2: "Named.",
        3: "Planned.",
        4: "Planned and measured.",
    }


@pytest.mark.parametrize(
    ("review", "removable"),
    [("none", True), ("a draft scored it", True), ("a submitted review scored it", False)],
)
def test_a_criterion_a_submitted_review_scored_cannot_be_removed(w, ctx, review, removable):
    if review == "a draft scored it":
        submitted_review(w.assignment, w).submitted_at = None
        db.session.commit()
    elif review == "a submitted review scored it":
        submitted_review(w.assignment, w)
    target = w.criteria[1]
    rubric = db.session.scalar(sa.select(Rubric).where(Rubric.cohort_id == w.cohort.id))
    change = rubrics.RubricChange(remove=str(target.id))
    if removable:
        rubrics.change_rubric(StaffFactory(), w.cohort, change, rubric.version)
        assert target.id not in [c.id for c in criteria_of(w.cohort)]
    else:
        with pytest.raises(rubrics.CriterionScored) as refused:
            rubrics.change_rubric(StaffFactory(), w.cohort, change, rubric.version)
        assert "cannot be removed: submitted reviews have scored it" in refused.value.message
        db.session.rollback()
        assert target.id in [c.id for c in criteria_of(w.cohort)]


def test_a_review_of_another_cohort_does_not_keep_a_criterion(w, ctx):
    elsewhere = world()
    submitted_review(elsewhere.assignment, elsewhere)
    rubric = db.session.scalar(sa.select(Rubric).where(Rubric.cohort_id == w.cohort.id))
    assert rubrics.scored_criteria(w.cohort.id) == set()
    assert rubrics.scored_criteria(elsewhere.cohort.id) == {c.id for c in elsewhere.criteria}
    rubrics.change_rubric(
        StaffFactory(), w.cohort, rubrics.RubricChange(remove=str(w.criteria[0].id)), rubric.version
    )


@pytest.mark.parametrize("opened_at", ["an older version", "no version (the default)"])
def test_a_stale_rubric_form_is_refused(ctx, opened_at):
    cohort = CohortFactory()
    rubric = rubric_for(cohort.id, criteria=2)
    criteria = criteria_of(cohort)
    staff = StaffFactory()
    rubrics.change_rubric(
        staff, cohort, rubrics.RubricChange(edits=[edit(criteria[0], name="First")]), rubric.version
    )
    db.session.commit()
    expected = 1 if opened_at == "an older version" else None
    with pytest.raises(rubrics.StaleRubric):
        rubrics.change_rubric(
            staff, cohort, rubrics.RubricChange(edits=[edit(criteria[1], name="Mine")]), expected
        )
    db.session.rollback()
    assert names(cohort) == ["First", "Criterion 2"]


def test_the_first_save_creates_the_default_with_the_edits_keyed_by_position(ctx):
    cohort = CohortFactory()
    view = rubrics.rubric_view(cohort.id)
    first = view.criteria[0]
    change = rubrics.RubricChange(
        edits=[
            rubrics.CriterionData(
                key=first.key,
                name="Evidence of the problem",
                description=first.description,
                levels={level.score: level.descriptor for level in first.levels},
            )
        ],
        move=(view.criteria[2].key, "up"),
    )
    rubric, done = rubrics.change_rubric(StaffFactory(), cohort, change, None)
    assert done == ["created", "edited", "moved"]
    assert names(cohort)[:3] == [
        "Evidence of the problem",
        str(rubrics.DEFAULT_RUBRIC[2].name),
        str(rubrics.DEFAULT_RUBRIC[1].name),
    ]
    assert rubric.version == 2


# The page -----------------------------------------------------------------------------------


READERS = {
    "staff": lambda w: StaffFactory(),
    "an admin": lambda w: AdminFactory(),
    "a facilitator": lambda w: w.facilitator,
    "a fellow": lambda w: w.fellow,
    "a coach": lambda w: w.coach,
    "a reviewer": lambda w: w.reviewer,
    "a fellow who completed the cohort": lambda w: member(
        w.cohort, CohortRole.FELLOW, status=MembershipStatus.COMPLETED
    ),
    "a withdrawn fellow": lambda w: member(
        w.cohort, CohortRole.FELLOW, status=MembershipStatus.WITHDRAWN
    ),
    "a member of another cohort": lambda w: member(CohortFactory(), CohortRole.FACILITATOR),
    "a member without membership": lambda w: UserFactory(),
}
# who: (may read, may change)
ACCESS = {
    "staff": (True, True),
    "an admin": (True, True),
    "a facilitator": (True, False),
    "a fellow": (True, False),
    "a coach": (True, False),
    "a reviewer": (True, False),
    "a fellow who completed the cohort": (True, False),
    "a withdrawn fellow": (False, False),
    "a member of another cohort": (False, False),
    "a member without membership": (False, False),
}


def rubric_post(w: World, **extra: object) -> dict:
    """The staff form as it is on the page, with `extra` changes."""
    data: dict[str, object] = {"version": "1", "action": "save"}
    for c in w.criteria:
        data[f"name_{c.id}"] = c.name
        data[f"description_{c.id}"] = c.description
        for score, text in levels_of(c).items():
            data[f"level_{c.id}_{score}"] = text
    for score in (1, 2, 3, 4):
        data[f"new_level_{score}"] = ""
    data.update({"new_name": "", "new_description": ""})
    data.update(extra)
    return data


@pytest.mark.parametrize("who", list(READERS))
def test_who_may_read_and_who_may_change_the_rubric(w, client, who):
    may_read, may_change = ACCESS[who]
    sign_in(client, READERS[who](w))
    path = f"/cohorts/{w.cohort.id}/rubric"
    response = client.get(path)
    assert response.status_code == (200 if may_read else 403)
    html = response.get_data(as_text=True)
    if may_read:
        assert html.count("<h1") == 1
        assert "Criterion 1" in html
        assert ('name="name_' in html) is may_change
    before = names(w.cohort)
    response = post(client, path, rubric_post(w, **{f"name_{w.criteria[0].id}": "Changed"}))
    assert response.status_code == (302 if may_change else 403)
    if not may_change:
        assert names(w.cohort) == before
        assert "rubric_changed" not in audit_actions()
    else:
        assert names(w.cohort)[0] == "Changed"


def test_an_archived_cohorts_rubric_is_read_only_even_for_staff(w, client):
    w.cohort.status = CohortStatus.ARCHIVED
    db.session.commit()
    sign_in(client, StaffFactory())
    html = page(client, f"/cohorts/{w.cohort.id}/rubric")
    assert 'name="name_' not in html
    assert "<caption>3 criteria, each with its levels</caption>" in html
    response = post(client, f"/cohorts/{w.cohort.id}/rubric", rubric_post(w))
    assert response.status_code == 403


def test_the_read_only_rubric_is_a_grid_of_criteria_and_levels(w, client):
    sign_in(client, w.fellow)
    html = page(client, f"/cohorts/{w.cohort.id}/rubric")
    assert '<th scope="col">Level 4</th>' in html
    assert re.search(r'<th scope="row">Criterion 2', html)
    assert 'class="usa-table-container--scrollable" tabindex="0"' in html


def test_a_get_on_a_cohort_without_a_rubric_shows_the_default_and_writes_nothing(client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    html = page(client, f"/cohorts/{cohort.id}/rubric")
    assert "This cohort has no rubric of its own yet" in html
    assert str(rubrics.DEFAULT_RUBRIC[0].levels[3]) in html
    assert 'name="name_new0"' in html
    assert rubric_count(cohort) == 0


def test_saving_the_default_page_creates_the_cohorts_rubric_with_the_edits(client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    html = page(client, f"/cohorts/{cohort.id}/rubric")
    data = {
        name: value for name, value in re.findall(r'name="([a-z_0-9]+)"[^>]*value="([^"]*)"', html)
    }
    data.update(
        {
            name: text
            for name, text in re.findall(
                r'<textarea[^>]*name="([a-z_0-9]+)"[^>]*>\s*([^<]*)</textarea>', html
            )
        }
    )
    data.update({"version": "", "action": "save", "name_new1": "Integration by design"})
    response = post(client, f"/cohorts/{cohort.id}/rubric", data)
    assert response.status_code == 302
    assert names(cohort)[1] == "Integration by design"
    assert len(names(cohort)) == len(rubrics.DEFAULT_RUBRIC)
    assert "rubric_changed" in audit_actions()


def test_a_move_button_saves_what_was_typed_and_moves_the_criterion(w, client):
    sign_in(client, StaffFactory())
    second = w.criteria[1]
    response = post(
        client,
        f"/cohorts/{w.cohort.id}/rubric",
        rubric_post(w, **{f"name_{w.criteria[0].id}": "Evidence", "action": f"up:{second.id}"}),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#criterion-{second.id}")
    assert names(w.cohort) == ["Criterion 2", "Evidence", "Criterion 3"]
    html = page(client, response.headers["Location"])
    assert "The rubric is saved." in html


def test_the_move_buttons_are_keyboard_buttons_named_for_their_criterion(w, client):
    sign_in(client, StaffFactory())
    html = page(client, f"/cohorts/{w.cohort.id}/rubric")
    form = html.split('class="usa-form usa-form--large capstone-rubric-form"', 1)[1]
    first_button = re.search(r'<button type="submit"[^>]*value="([^"]*)"', form)
    assert first_button
    assert first_button.group(1) == "save"
    assert f'value="up:{w.criteria[0].id}"' not in html
    assert f'value="down:{w.criteria[2].id}"' not in html
    assert 'Move up<span class="usa-sr-only"> criterion 2</span>' in html


def test_removing_asks_first_then_removes(w, client):
    sign_in(client, StaffFactory())
    path = f"/cohorts/{w.cohort.id}/rubric"
    target = w.criteria[2]
    response = post(client, path, rubric_post(w, action=f"remove:{target.id}"))
    assert response.status_code == 302
    assert f"remove={target.id}" in response.headers["Location"]
    assert len(names(w.cohort)) == 3
    html = page(client, response.headers["Location"])
    assert "Remove “Criterion 3”?" in html
    response = post(client, path, {"criterion": str(target.id), "version": "1"})
    assert response.status_code == 302
    assert names(w.cohort) == ["Criterion 1", "Criterion 2"]
    assert "The criterion “Criterion 3” is removed" in page(client, response.headers["Location"])


def test_the_page_says_a_scored_criterion_cannot_be_removed_and_a_forced_post_is_refused(w, client):
    submitted_review(w.assignment, w)
    sign_in(client, StaffFactory())
    path = f"/cohorts/{w.cohort.id}/rubric"
    html = page(client, path)
    assert html.count("Scored in submitted reviews, so it cannot be removed.") == 3
    assert "remove:" not in html
    html = page(client, f"{path}?remove={w.criteria[0].id}")
    assert "It cannot be removed: submitted reviews have scored it." in html
    response = post(client, path, {"criterion": str(w.criteria[0].id), "version": "1"})
    html = page(client, response.headers["Location"])
    assert "“Criterion 1” cannot be removed: submitted reviews have scored it." in html
    assert len(names(w.cohort)) == 3


def test_bad_input_is_shown_next_to_the_field_with_what_was_typed(w, client):
    sign_in(client, StaffFactory())
    first = w.criteria[0]
    response = post(
        client,
        f"/cohorts/{w.cohort.id}/rubric",
        rubric_post(
            w,
            **{
                f"name_{first.id}": "",
                f"level_{first.id}_2": "Typed by me",
                "new_level_1": "Half a new criterion",
            },
        ),
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="name_{first.id}-error">Give the criterion a name.' in html
    assert 'id="new_name-error">Name the new criterion' in html
    assert "Typed by me" in html
    assert "Half a new criterion" in html
    assert names(w.cohort) == ["Criterion 1", "Criterion 2", "Criterion 3"]


def test_a_stale_rubric_form_keeps_what_was_typed_and_shows_the_current_rubric(w, client):
    sign_in(client, StaffFactory())
    path = f"/cohorts/{w.cohort.id}/rubric"
    rubrics.change_rubric(
        StaffFactory(), w.cohort, rubrics.RubricChange(new=new("Added meanwhile")), 1
    )
    db.session.commit()
    response = post(client, path, rubric_post(w, **{f"name_{w.criteria[1].id}": "My new name"}))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Someone changed this rubric while you were editing it" in html
    assert 'value="My new name"' in html
    assert 'value="Added meanwhile"' in html
    assert 'name="version" type="hidden" value="2"' in html
    assert names(w.cohort)[1] == "Criterion 2"


def test_adding_a_criterion_from_the_page(w, client):
    sign_in(client, StaffFactory())
    response = post(
        client,
        f"/cohorts/{w.cohort.id}/rubric",
        rubric_post(
            w,
            action="add",
            new_name="Equity of outcomes",
            new_level_1="a",
            new_level_2="b",
            new_level_3="c",
            new_level_4="d",
        ),
    )
    assert response.status_code == 302
    assert names(w.cohort)[-1] == "Equity of outcomes"
    # "Add" with nothing typed says what is missing.
    response = post(
        client, f"/cohorts/{w.cohort.id}/rubric", rubric_post(w, action="add", version="2")
    )
    assert response.status_code == 200
    assert 'id="new_name-error"' in response.get_data(as_text=True)


def test_a_draft_keeps_a_removed_criterions_score_until_the_reviewer_saves_again(ctx):
    """Removing a criterion leaves drafts as they are (no reviewer's open form goes stale);
    the reviewer's next save keeps only scores of the current rubric."""
    from fellowship.capstones import review_services

    w = world()
    draft = submitted_review(w.assignment, w)
    draft.submitted_at = None
    db.session.commit()
    rubric = db.session.scalar(sa.select(Rubric).where(Rubric.cohort_id == w.cohort.id))
    gone = w.criteria[0]
    rubrics.change_rubric(
        StaffFactory(), w.cohort, rubrics.RubricChange(remove=str(gone.id)), rubric.version
    )
    db.session.commit()
    draft = db.session.get(Review, draft.id)
    assert str(gone.id) in draft.scores
    review_services.save_review(
        w.reviewer,
        w.assignment,
        review_services.ReviewData(scores={str(w.criteria[1].id): "4"}),
        False,
        draft.version,
    )
    assert draft.scores == {str(w.criteria[1].id): 4}

"""A coach's caseload: the rhythm rule, which check-ins count, who is on it, sorting, access."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.coaching import caseload as rules
from fellowship.coaching.caseload import CaseloadRow, RhythmStatus
from fellowship.coaching.demo import load_demo_checkins
from fellowship.coaching.models import ActionItem, CheckIn, CheckInPrivateNote
from fellowship.cohorts.models import Cohort, CohortRole, MembershipStatus
from fellowship.db import utcnow
from fellowship.demo import DEMO_COHORT_NAME, load_demo
from fellowship.extensions import db
from tests.coaching.caseload_helpers import (
    action_item,
    ago,
    assign,
    big_cohort,
    checkin,
    measure,
    member,
    running_cohort,
    today,
)
from tests.conftest import sign_in
from tests.factories import StaffFactory

ON, SOON, OVER = RhythmStatus.ON_TRACK, RhythmStatus.DUE_SOON, RhythmStatus.OVERDUE

# The rule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "rhythm", "status"),
    [
        (0, 14, ON),
        (11, 14, ON),  # the last day before the three days of notice
        (12, 14, SOON),  # due within three days
        (14, 14, SOON),  # due today
        (15, 14, OVER),
        (60, 14, OVER),
        (4, 7, ON),
        (5, 7, SOON),
        (7, 7, SOON),
        (8, 7, OVER),
        (27, 30, ON),
        (28, 30, SOON),
        (31, 30, OVER),
        (0, 3, ON),
        (1, 3, SOON),
        (0, 1, SOON),
        (2, 1, OVER),
    ],
)
def test_the_status_compares_the_days_with_the_cohorts_rhythm(days, rhythm, status):
    assert rules.rhythm_status(days, rhythm) is status


@pytest.mark.parametrize(
    ("last", "assigned", "days"),
    [
        (date(2026, 11, 20), date(2026, 9, 1), 10),
        (None, date(2026, 11, 1), 29),  # never checked in: since the assignment
        (date(2026, 12, 3), date(2026, 9, 1), 0),  # a date in the future counts as today
        (None, date(2026, 12, 10), 0),  # an assignment starting later
    ],
)
def test_days_count_from_the_last_check_in_or_else_the_assignment(last, assigned, days):
    assert rules.days_since(date(2026, 11, 30), last, assigned) == days


def test_today_is_the_viewers_day():
    late_evening_in_new_york = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert rules.local_today(late_evening_in_new_york, "America/New_York") == date(2026, 11, 30)
    assert rules.local_today(late_evening_in_new_york, "Asia/Tokyo") == date(2026, 12, 1)
    assert rules.local_today(late_evening_in_new_york, "Not/AZone") == date(2026, 12, 1)


def row(name: str, days: int, status: RhythmStatus, open_items=0, overdue=0) -> CaseloadRow:
    return CaseloadRow(
        fellow_id=ord(name[0]),
        name=name,
        assigned_on=date(2026, 9, 1),
        last_checkin_on=None,
        days=days,
        status=status,
        open_items=open_items,
        overdue_items=overdue,
    )


ROWS = [
    row("Bea", 5, ON, open_items=3),
    row("ana", 20, OVER, overdue=1),
    row("Cal", 12, SOON, open_items=1, overdue=2),
    row("Dee", 40, OVER),
    row("Eve", 5, ON),
]


@pytest.mark.parametrize(
    ("sort", "direction", "names"),
    [
        ("status", "desc", ["Dee", "ana", "Cal", "Bea", "Eve"]),  # the default
        ("status", "asc", ["Bea", "Eve", "Cal", "ana", "Dee"]),
        ("name", "asc", ["ana", "Bea", "Cal", "Dee", "Eve"]),
        ("name", "desc", ["Eve", "Dee", "Cal", "Bea", "ana"]),
        ("days", "desc", ["Dee", "ana", "Cal", "Bea", "Eve"]),
        ("days", "asc", ["Bea", "Eve", "Cal", "ana", "Dee"]),
        ("open", "desc", ["Bea", "Cal", "ana", "Dee", "Eve"]),
        ("overdue", "desc", ["Cal", "ana", "Bea", "Dee", "Eve"]),
        ("overdue", "asc", ["Bea", "Dee", "Eve", "ana", "Cal"]),
    ],
)
def test_the_caseload_sorts_by_any_column_with_ties_by_name(sort, direction, names):
    assert [r.name for r in rules.sort_caseload(ROWS, sort, direction)] == names


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ((None, None), ("status", "desc")),
        (("name", None), ("name", "asc")),
        (("days", None), ("days", "desc")),
        (("open", "asc"), ("open", "asc")),
        (("password", "asc"), ("status", "desc")),
        (("name", "sideways"), ("name", "asc")),
    ],
)
def test_unknown_sort_choices_fall_back_to_the_defaults(given, expected):
    assert rules.parse_sort(*given) == expected


# Who is on it, and which check-ins count --------------------------------------------------


@pytest.fixture
def team(app):
    # No request context here: the pages' requests must each get their own `g`.
    cohort = running_cohort()
    coach = member(cohort, CohortRole.COACH, "Carmen Coach")
    other_coach = member(cohort, CohortRole.COACH, "Grace Obi")
    return cohort, coach, other_coach


def by_name(cohort, coach) -> dict[str, CaseloadRow]:
    return {r.name: r for r in rules.caseload(cohort, coach.id, today())}


def test_a_fellow_never_checked_in_counts_from_their_assignment(team):
    cohort, coach, _ = team
    recent = member(cohort, CohortRole.FELLOW, "Recently Assigned")
    waiting = member(cohort, CohortRole.FELLOW, "Long Waiting")
    assign(cohort, recent, coach, ago(5))
    assign(cohort, waiting, coach, ago(20))
    rows = by_name(cohort, coach)
    assert (rows["Recently Assigned"].days, rows["Recently Assigned"].status) == (5, ON)
    assert (rows["Long Waiting"].days, rows["Long Waiting"].status) == (20, OVER)
    assert rows["Long Waiting"].last_checkin_on is None


def test_a_draft_of_another_coach_does_not_count_but_its_shared_check_ins_do(team):
    cohort, coach, other_coach = team
    fellow = member(cohort, CohortRole.FELLOW, "Femi Fellow")
    assign(cohort, fellow, coach, ago(100))
    checkin(cohort, coach, fellow, ago(30))
    checkin(cohort, other_coach, fellow, ago(2), shared=False)  # nobody else knows of it
    assert by_name(cohort, coach)["Femi Fellow"].days == 30
    checkin(cohort, other_coach, fellow, ago(20))  # a shared one, by anyone, counts
    assert by_name(cohort, coach)["Femi Fellow"].days == 20
    checkin(cohort, coach, fellow, ago(3), shared=False)  # the coach's own draft counts
    row = by_name(cohort, coach)["Femi Fellow"]
    assert (row.days, row.status, row.last_checkin_on) == (3, ON, ago(3))


def test_check_ins_in_another_cohort_do_not_count(team):
    cohort, coach, _ = team
    fellow = member(cohort, CohortRole.FELLOW, "Femi Fellow")
    assign(cohort, fellow, coach, ago(100))
    checkin(cohort, coach, fellow, ago(40))
    elsewhere = running_cohort()
    checkin(elsewhere, coach, fellow, ago(1))
    assert by_name(cohort, coach)["Femi Fellow"].status is OVER


def test_a_reassigned_fellow_moves_to_the_new_coachs_caseload(team):
    cohort, coach, other_coach = team
    fellow = member(cohort, CohortRole.FELLOW, "Diego Ramírez")
    assign(cohort, fellow, coach, ago(150), ends_on=ago(10))
    assign(cohort, fellow, other_coach, ago(10))
    checkin(cohort, coach, fellow, ago(16))
    assert "Diego Ramírez" not in by_name(cohort, coach)
    row = by_name(cohort, other_coach)["Diego Ramírez"]
    # The previous coach's shared check-in still counts: the fellow has waited 16 days.
    assert (row.days, row.status) == (16, OVER)


def test_only_active_fellows_are_on_the_caseload(team):
    cohort, coach, _ = team
    active = member(cohort, CohortRole.FELLOW, "Active Fellow")
    gone = member(cohort, CohortRole.FELLOW, "Withdrawn Fellow", MembershipStatus.WITHDRAWN)
    assign(cohort, active, coach, ago(10))
    assign(cohort, gone, coach, ago(10))
    assert list(by_name(cohort, coach)) == ["Active Fellow"]


def test_open_and_overdue_action_items_of_either_owner_are_counted(team):
    cohort, coach, other_coach = team
    fellow = member(cohort, CohortRole.FELLOW, "Femi Fellow")
    assign(cohort, fellow, coach, ago(100))
    first = checkin(cohort, coach, fellow, ago(20))
    action_item(first, fellow, ago(6))  # open, overdue
    action_item(first, coach, ago(1))  # the coach's own, open, overdue
    action_item(first, fellow, ago(8), done=True)  # done: neither
    action_item(first, fellow, today())  # due today: open, not overdue
    action_item(first, fellow, None)  # no due date: open
    draft = checkin(cohort, other_coach, fellow, ago(5), shared=False)
    action_item(draft, fellow, ago(1))  # on another coach's draft: not counted
    row = by_name(cohort, coach)["Femi Fellow"]
    assert (row.open_items, row.overdue_items) == (4, 2)


def test_the_caseload_never_reads_private_notes(team, count_queries):
    cohort, coach, _ = team
    fellow = member(cohort, CohortRole.FELLOW, "Femi Fellow")
    assign(cohort, fellow, coach, ago(100))
    note = checkin(cohort, coach, fellow, ago(3))
    db.session.add(CheckInPrivateNote(checkin_id=note.id, coach_id=coach.id, body_md="Tired."))
    db.session.commit()
    coach_id, _ = coach.id, cohort.checkin_rhythm_days  # load them before counting
    with count_queries() as counter:
        rules.caseload(cohort, coach_id, today())
    assert counter.count == 1
    assert not any(CheckInPrivateNote.__tablename__ in s for s in counter.statements)


# The page ----------------------------------------------------------------------------------


@pytest.fixture
def caseload_world(team):
    cohort, coach, other_coach = team
    names = {"Amara Okafor": 40, "Hannah Kim": 12, "Jamal Washington": 3}
    for name, days in names.items():
        fellow = member(cohort, CohortRole.FELLOW, name)
        assign(cohort, fellow, coach, ago(150))
        last = checkin(cohort, coach, fellow, ago(days))
        if name == "Jamal Washington":
            action_item(last, fellow, ago(1))
    theirs = member(cohort, CohortRole.FELLOW, "Someone Else's Fellow")
    assign(cohort, theirs, other_coach, ago(150))
    return cohort, coach, other_coach


def fellows_in_order(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r'<th scope="row">(.*?)</th>', body, re.S)
    ]


def test_a_coach_sees_their_caseload_overdue_first(client, caseload_world):
    cohort, coach, _ = caseload_world
    sign_in(client, coach)
    response = client.get(f"/cohorts/{cohort.id}/caseload")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count("<h1") == 1
    assert f"My caseload in {cohort.name}" in html
    assert fellows_in_order(html) == ["Amara Okafor", "Hannah Kim", "Jamal Washington"]
    assert "Someone Else" not in html
    assert 'aria-sort="descending"' in html
    assert html.count("aria-sort=") == 1
    assert ">Overdue<" in html
    assert ">Due soon<" in html
    assert ">On track<" in html
    assert "How the status is worked out" in html


def test_the_caseload_sorts_from_the_query_string_and_links_flip_the_direction(
    client, caseload_world
):
    cohort, coach, _ = caseload_world
    sign_in(client, coach)
    html = client.get(f"/cohorts/{cohort.id}/caseload?sort=name&dir=desc").get_data(as_text=True)
    assert fellows_in_order(html) == ["Jamal Washington", "Hannah Kim", "Amara Okafor"]
    sorted_header = re.search(r'<th scope="col" aria-sort="(\w+)">\s*<a [^>]*href="([^"]+)"', html)
    assert sorted_header is not None
    assert sorted_header.group(1) == "descending"
    assert "sort=name" in sorted_header.group(2)
    assert "dir=asc" in sorted_header.group(2)
    html = client.get(f"/cohorts/{cohort.id}/caseload?sort=overdue").get_data(as_text=True)
    assert fellows_in_order(html)[0] == "Jamal Washington"
    html = client.get(f"/cohorts/{cohort.id}/caseload?sort=nonsense").get_data(as_text=True)
    assert fellows_in_order(html) == ["Amara Okafor", "Hannah Kim", "Jamal Washington"]


def test_the_caseload_works_without_the_check_in_pages(app, client, caseload_world, monkeypatch):
    cohort, coach, _ = caseload_world
    for endpoint in ("coaching.new_checkin", "coaching.fellow_checkins"):
        if endpoint in app.view_functions:
            monkeypatch.delitem(app.view_functions, endpoint)
    sign_in(client, coach)
    response = client.get(f"/cohorts/{cohort.id}/caseload")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert fellows_in_order(html) == ["Amara Okafor", "Hannah Kim", "Jamal Washington"]
    assert "Log a check-in" not in html


def test_staff_may_look_at_any_coachs_caseload(client, caseload_world):
    cohort, coach, _ = caseload_world
    sign_in(client, StaffFactory())
    response = client.get(f"/cohorts/{cohort.id}/coaches/{coach.id}/caseload")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"Caseload of Carmen Coach in {cohort.name}" in html
    assert "Amara Okafor" in html
    assert "Log a check-in" not in html  # staff do not log check-ins


def test_a_staff_member_who_coaches_nobody_sees_an_empty_caseload(client, caseload_world):
    cohort, _, _ = caseload_world
    sign_in(client, StaffFactory())
    response = client.get(f"/cohorts/{cohort.id}/caseload")
    assert response.status_code == 200
    assert "You coach no fellows in this cohort right now." in response.get_data(as_text=True)


def test_a_caseload_of_someone_unknown_is_not_found_for_staff(client, caseload_world):
    cohort, _, _ = caseload_world
    sign_in(client, StaffFactory())
    assert client.get(f"/cohorts/{cohort.id}/coaches/999999/caseload").status_code == 404
    assert client.get("/cohorts/999999/caseload").status_code == 404


@pytest.mark.parametrize("who", ["another coach", "a fellow", "a facilitator", "a former coach"])
def test_nobody_else_sees_a_coachs_caseload(client, caseload_world, who):
    cohort, coach, other_coach = caseload_world
    viewer = {
        "another coach": lambda: other_coach,
        "a fellow": lambda: member(cohort, CohortRole.FELLOW),
        "a facilitator": lambda: member(cohort, CohortRole.FACILITATOR),
        "a former coach": lambda: member(
            cohort, CohortRole.COACH, status=MembershipStatus.WITHDRAWN
        ),
    }[who]()
    sign_in(client, viewer)
    assert client.get(f"/cohorts/{cohort.id}/coaches/{coach.id}/caseload").status_code == 403
    if who != "another coach":
        assert client.get(f"/cohorts/{cohort.id}/caseload").status_code == 403


def test_the_cohort_page_links_a_coach_to_their_caseload(client, caseload_world):
    cohort, coach, _ = caseload_world
    sign_in(client, coach)
    html = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert f'href="/cohorts/{cohort.id}/caseload"' in html
    assert f'href="/cohorts/{cohort.id}/rhythm"' not in html
    sign_in(client, member(cohort, CohortRole.FELLOW))
    html = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "/caseload" not in html


# Demo --------------------------------------------------------------------------------------


def test_the_demo_coach_has_one_clearly_overdue_fellow(ctx):
    load_demo()
    db.session.commit()
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == DEMO_COHORT_NAME))
    carmen = db.session.scalar(sa.select(User).where(User.email == "coach@example.org"))
    day = rules.local_today(utcnow(), carmen.timezone)
    rows = rules.caseload(cohort, carmen.id, day)
    overdue = [r for r in rows if r.status is OVER]
    assert len(overdue) == 1
    assert 34 <= overdue[0].days <= 40
    assert overdue[0].overdue_items >= 1
    every = rules.cohort_rhythm(cohort, day)
    assert [f.name for f in every.overdue] == [overdue[0].name]
    assert {f.status for f in every.fellows if f.status} == {ON, SOON, OVER}
    assert len(every.without_coach) == 1
    counts = db.session.execute(
        sa.select(
            sa.func.count(CheckIn.id),
            sa.func.count(CheckIn.id).filter(CheckIn.shared_at.is_(None)),
        ).where(CheckIn.cohort_id == cohort.id)
    ).one()
    assert counts[0] >= 11 * 5
    assert counts[1] == 2  # two drafts
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckInPrivateNote)) > 0
    items = db.session.execute(
        sa.select(ActionItem.done_at.is_not(None), ActionItem.due_on)
        .join(CheckIn)
        .where(CheckIn.cohort_id == cohort.id)
    ).all()
    assert any(done for done, _ in items)
    assert any(not done and due >= day for done, due in items)
    assert 2 <= sum(1 for done, due in items if not done and due < day) <= 5
    assert load_demo_checkins(cohort) == 0  # idempotent


# Scale -------------------------------------------------------------------------------------


def test_the_caseload_takes_the_same_queries_for_10_and_200_fellows(client, count_queries):
    results = {}
    for fellows in (10, 200):
        big = big_cohort(fellows, coaches=1, label=f"caseload{fellows}")
        coach = big.coaches[0]
        sign_in(client, coach)
        url = f"/cohorts/{big.cohort.id}/caseload"
        results[fellows] = measure(client, count_queries, url)
        html = client.get(url).get_data(as_text=True)
        assert html.count('<th scope="row">') == fellows
        print(
            f"\ncaseload, {fellows} fellows (26 check-ins each): "
            f"{results[fellows].queries} queries, median {results[fellows].median_ms:.1f} ms"
        )
    assert results[10].status == results[200].status == 200
    assert results[10].queries == results[200].queries <= 15


def test_staff_looking_at_a_caseload_never_learn_that_a_draft_exists(ctx):
    from datetime import date, timedelta

    from tests.factories import (
        CheckInFactory,
        CoachAssignmentFactory,
        CohortFactory,
        MembershipFactory,
    )

    cohort = CohortFactory()
    coach = MembershipFactory(cohort=cohort, role=CohortRole.COACH)
    fellow = MembershipFactory(cohort=cohort)
    CoachAssignmentFactory(
        cohort_id=cohort.id,
        fellow_id=fellow.user_id,
        coach_id=coach.user_id,
        starts_on=date(2026, 8, 1),
    )
    today = date(2026, 11, 29)
    ids = {"cohort_id": cohort.id, "coach_id": coach.user_id, "fellow_id": fellow.user_id}
    CheckInFactory(**ids, held_on=today - timedelta(days=20))
    CheckInFactory(**ids, held_on=today - timedelta(days=2), shared_at=None)
    [own] = rules.caseload(cohort, coach.user_id, today, include_drafts=True)
    [seen_by_staff] = rules.caseload(cohort, coach.user_id, today, include_drafts=False)
    assert (own.days, own.last_checkin_on) == (2, today - timedelta(days=2))
    assert (seen_by_staff.days, seen_by_staff.last_checkin_on) == (20, today - timedelta(days=20))


# Module progress (read-only, from the curriculum) ---------------------------------------------


def _modules_with_progress(cohort, fellow_ids: list[int], count: int = 4) -> None:
    """`count` modules of two required readings; module j is due j*7 - 10 days from today,
    and fellow i has done both readings of the modules j < i % (count + 1) (in bulk)."""
    from datetime import timedelta

    from fellowship.curriculum.models import ItemKind, ItemProgress, Module, ModuleItem

    now = utcnow()
    db.session.execute(
        sa.insert(Module),
        [
            {
                "cohort_id": cohort.id,
                "position": j,
                "title": f"Module {j}",
                "summary": "",
                "outcomes_md": "",
                "release_on": ago(60),
                "due_on": today() + timedelta(days=j * 7 - 10),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for j in range(count)
        ],
    )
    module_ids = list(
        db.session.scalars(
            sa.select(Module.id).where(Module.cohort_id == cohort.id).order_by(Module.position)
        )
    )
    db.session.execute(
        sa.insert(ModuleItem),
        [
            {
                "module_id": module_id,
                "position": k,
                "kind": ItemKind.READING,
                "title": f"Reading {k}",
                "body_md": "Text",
                "required": True,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for module_id in module_ids
            for k in range(2)
        ],
    )
    items = db.session.execute(
        sa.select(ModuleItem.id, ModuleItem.module_id).where(ModuleItem.module_id.in_(module_ids))
    ).all()
    position = {module_id: j for j, module_id in enumerate(module_ids)}
    rows = [
        {
            "item_id": item_id,
            "fellow_id": fellow_id,
            "completed_at": now,
            "response_md": "",
            "version": 1,
            "feedback_md": "",
        }
        for i, fellow_id in enumerate(fellow_ids)
        for item_id, module_id in items
        if position[module_id] < i % (count + 1)
    ]
    if rows:
        db.session.execute(sa.insert(ItemProgress), rows)
    db.session.commit()


def test_the_caseload_shows_each_fellows_module_progress_with_a_link(client, caseload_world):
    cohort, coach, _ = caseload_world
    fellows = {r.name: r.fellow_id for r in rules.caseload(cohort, coach.id, today())}
    # Both modules are past due. Amara has done nothing, Hannah the first, Jamal both.
    ordered = [fellows["Amara Okafor"], fellows["Hannah Kim"], fellows["Jamal Washington"]]
    _modules_with_progress(cohort, ordered, count=2)
    sign_in(client, coach)
    html = client.get(f"/cohorts/{cohort.id}/caseload").get_data(as_text=True)
    assert '<th scope="col">Modules</th>' in html
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "0 of 2 complete (modules of Amara Okafor) 2 overdue" in text
    assert "1 of 2 complete (modules of Hannah Kim) 1 overdue" in text
    assert "2 of 2 complete (modules of Jamal Washington) " in text
    assert "2 of 2 complete (modules of Jamal Washington) 0 overdue" not in text
    assert f'href="/cohorts/{cohort.id}/fellows/{fellows["Hannah Kim"]}/learning"' in html
    # The coach may follow the link: it is their fellow's progress, read-only.
    page = client.get(f"/cohorts/{cohort.id}/fellows/{fellows['Hannah Kim']}/learning")
    assert page.status_code == 200


def test_a_caseload_without_modules_has_no_modules_column(client, caseload_world):
    cohort, coach, _ = caseload_world
    sign_in(client, coach)
    html = client.get(f"/cohorts/{cohort.id}/caseload").get_data(as_text=True)
    assert ">Modules<" not in html


def test_the_caseload_with_modules_takes_the_same_queries_for_10_and_200_fellows(
    client, count_queries
):
    results = {}
    for fellows in (10, 200):
        big = big_cohort(fellows, coaches=1, label=f"modules{fellows}")
        fellow_ids = [r.fellow_id for r in rules.caseload(big.cohort, big.coaches[0].id, today())]
        _modules_with_progress(big.cohort, fellow_ids, count=8)
        sign_in(client, big.coaches[0])
        url = f"/cohorts/{big.cohort.id}/caseload"
        results[fellows] = measure(client, count_queries, url)
        html = client.get(url).get_data(as_text=True)
        assert html.count(" of 8 complete") == fellows
        print(
            f"\ncaseload with 8 modules, {fellows} fellows: "
            f"{results[fellows].queries} queries, median {results[fellows].median_ms:.1f} ms"
        )
    assert results[10].status == results[200].status == 200
    assert results[10].queries == results[200].queries <= 15

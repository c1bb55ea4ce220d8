"""Creating, editing and archiving cohorts; the cohort page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fellowship.cohorts.models import (
    CoachAssignment,
    Cohort,
    CohortMembership,
    CohortRole,
    CohortStatus,
)
from fellowship.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.factories import (
    CoachAssignmentFactory,
    CohortFactory,
    MembershipFactory,
    StaffFactory,
    UserFactory,
)


def cohort_form(**overrides):
    data = {
        "name": "Cohort 7",
        "school_year": "2026-27",
        "starts_on": "2026-08-15",
        "ends_on": "2027-06-10",
        "status": "planning",
        "checkin_rhythm_days": "21",
        "strands": "The school model\nFoundational leadership skills\nCoalition building\n"
        "Personal development",
    }
    data.update(overrides)
    return data


def test_staff_create_a_cohort_with_the_four_default_strands(client):
    sign_in(client, StaffFactory())
    page = client.get("/cohorts/new").get_data(as_text=True)
    assert "Coalition building" in page  # the defaults are offered
    response = client.post("/cohorts/new", data={**cohort_form(), "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.name == "Cohort 7"))
    assert cohort.school_year.label == "2026-27"
    assert cohort.checkin_rhythm_days == 21
    assert [s.name for s in cohort.strands] == [
        "The school model",
        "Foundational leadership skills",
        "Coalition building",
        "Personal development",
    ]


def test_an_end_date_before_the_start_is_refused_and_the_form_keeps_what_was_typed(client):
    sign_in(client, StaffFactory())
    response = client.post(
        "/cohorts/new",
        data={
            **cohort_form(name="Backwards", ends_on="2026-08-01"),
            "csrf_token": csrf_token(client),
        },
    )
    body = response.get_data(as_text=True)
    assert "The end date must be on or after the start date." in body
    assert 'value="Backwards"' in body
    assert db.session.scalar(sa.select(Cohort).where(Cohort.name == "Backwards")) is None


def test_a_school_year_that_is_not_one_is_refused(client):
    sign_in(client, StaffFactory())
    response = client.post(
        "/cohorts/new",
        data={
            **cohort_form(school_year="2026-28"),
            "csrf_token": csrf_token(client),
        },
    )
    assert "Enter a school year like 2026-27." in response.get_data(as_text=True)


def test_editing_renames_strands_in_place_and_adds_new_ones(client):
    cohort = CohortFactory()
    first_strand_id = cohort.strands[0].id
    sign_in(client, StaffFactory())
    url = f"/cohorts/{cohort.id}/edit"
    client.post(
        url,
        data={
            **cohort_form(
                status="active",
                strands="School design\nLeadership\nCoalitions\nSelf\nFamily partnership",
            ),
            "version": str(cohort.version),
            "csrf_token": csrf_token(client),
        },
    )
    db.session.expire_all()
    cohort = db.session.get(Cohort, cohort.id)
    assert [s.name for s in cohort.strands] == [
        "School design",
        "Leadership",
        "Coalitions",
        "Self",
        "Family partnership",
    ]
    assert cohort.strands[0].id == first_strand_id
    assert cohort.status == CohortStatus.ACTIVE


def save_twice_from_one_form(client, cohort, first, second):
    """Two tabs opened on the same version: the first save wins; returns the second reply."""
    url = f"/cohorts/{cohort.id}/edit"
    stale_version = str(cohort.version)
    responses = [
        client.post(
            url,
            data={**form, "version": stale_version, "csrf_token": csrf_token(client)},
        )
        for form in (first, second)
    ]
    return responses[1]


def test_two_people_editing_the_same_cohort_the_second_is_told(client):
    cohort = CohortFactory(name="Original")
    sign_in(client, StaffFactory())
    response = save_twice_from_one_form(
        client, cohort, cohort_form(name="First save"), cohort_form(name="Second save")
    )
    body = response.get_data(as_text=True)
    assert "Someone else changed this cohort" in body
    assert 'value="Second save"' in body  # what they typed is still there
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).name == "First save"


def test_staff_archive_a_cohort(client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    client.post(
        f"/cohorts/{cohort.id}/archive",
        data={"csrf_token": csrf_token(client)},
    )
    db.session.expire_all()
    assert db.session.get(Cohort, cohort.id).status == CohortStatus.ARCHIVED


def test_a_member_sees_their_cohort_and_not_another(client):
    mine = CohortFactory(name="Mine")
    other = CohortFactory(name="Other")
    membership = MembershipFactory(cohort=mine, role=CohortRole.FELLOW)
    sign_in(
        client,
        db.session.get(
            __import__("fellowship.auth.models", fromlist=["User"]).User, membership.user_id
        ),
    )
    listing = client.get("/cohorts/").get_data(as_text=True)
    assert "Mine" in listing
    assert "Other" not in listing
    assert client.get(f"/cohorts/{mine.id}").status_code == 200
    assert client.get(f"/cohorts/{other.id}").status_code == 403
    assert client.get(f"/cohorts/{mine.id}/members").status_code == 403
    assert client.get(f"/cohorts/{mine.id}/edit").status_code == 403


def test_the_cohort_page_shows_people_by_role_with_each_fellows_coach(client):
    cohort = CohortFactory()
    coach = MembershipFactory(
        cohort=cohort, role=CohortRole.COACH, user=UserFactory(name="Carla Coach")
    )
    fellow = MembershipFactory(cohort=cohort, user=UserFactory(name="Fela Fellow"))
    MembershipFactory(cohort=cohort, user=UserFactory(name="Nadia Nocoach"))
    CoachAssignmentFactory(cohort_id=cohort.id, fellow_id=fellow.user_id, coach_id=coach.user_id)
    sign_in(client, StaffFactory())
    page = client.get(f"/cohorts/{cohort.id}").get_data(as_text=True)
    assert "Fellows (2)" in page
    assert "Coaches (1)" in page
    assert "1 fellow has no coach." in page
    fela_row = page[page.index("Fela Fellow") : page.index("Fela Fellow") + 300]
    assert "Carla Coach" in fela_row


def test_the_cohort_page_loads_in_the_same_number_of_queries_for_12_and_1200_members(
    client, count_queries
):
    from fellowship.auth.models import Role, User

    counts = []
    for size in (12, 1200):
        cohort = CohortFactory()
        users = [
            {
                "email": f"p{size}-{i}@example.org",
                "name": f"P {i}",
                "role": Role.MEMBER,
                "locale": "en",
                "timezone": "UTC",
                "is_active": True,
            }
            for i in range(size)
        ]
        db.session.execute(sa.insert(User), users)
        ids = db.session.scalars(sa.select(User.id).where(User.email.like(f"p{size}-%"))).all()
        db.session.execute(
            sa.insert(CohortMembership),
            [
                {
                    "cohort_id": cohort.id,
                    "user_id": uid,
                    "role": CohortRole.COACH if i % 10 == 0 else CohortRole.FELLOW,
                    "status": "active",
                    "joined_on": cohort.starts_on,
                }
                for i, uid in enumerate(ids)
            ],
        )
        db.session.execute(
            sa.insert(CoachAssignment),
            [
                {
                    "cohort_id": cohort.id,
                    "fellow_id": uid,
                    "coach_id": ids[0],
                    "starts_on": cohort.starts_on,
                }
                for i, uid in enumerate(ids)
                if i % 10 and i % 7
            ],
        )
        db.session.commit()
        sign_in(client, StaffFactory())
        client.get(f"/cohorts/{cohort.id}")
        with count_queries() as counter:
            response = client.get(f"/cohorts/{cohort.id}")
        assert response.status_code == 200
        counts.append(counter.count)
    print(f"cohort page queries with 12 and 1,200 members: {counts}")
    assert counts[0] == counts[1], counts
    assert counts[0] <= 8, counts


def test_a_stale_form_cannot_put_old_strands_back(client):
    cohort = CohortFactory(name="Strands")
    sign_in(client, StaffFactory())
    response = save_twice_from_one_form(
        client,
        cohort,
        cohort_form(name="Strands", strands="One\nTwo"),
        cohort_form(name="Strands", strands="Old\nNames"),
    )
    assert "Someone else changed this cohort" in response.get_data(as_text=True)
    db.session.expire_all()
    assert [s.name for s in db.session.get(Cohort, cohort.id).strands] == ["One", "Two"]


@pytest.mark.parametrize("label", ["0000-01", "9999-00", "2026-28", "26-27", "twenty"])
def test_impossible_school_years_get_a_message_not_an_error(client, label):
    sign_in(client, StaffFactory())
    response = client.post(
        "/cohorts/new",
        data={**cohort_form(school_year=label), "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 200
    assert "Enter a school year like 2026-27." in response.get_data(as_text=True)

"""Adding people to a cohort, changing their role and status, assigning coaches."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from fellowship.auth.models import User
from fellowship.cohorts import services
from fellowship.cohorts.models import (
    CoachAssignment,
    CohortMembership,
    CohortRole,
    MembershipStatus,
)
from fellowship.extensions import db
from fellowship.mail import OutboxMessage
from tests.conftest import csrf_token, sign_in
from tests.factories import CohortFactory, MembershipFactory, StaffFactory, UserFactory


def add(client, cohort, **fields):
    url = f"/cohorts/{cohort.id}/members"
    data = {"email": "", "name": "", "role": "fellow", "locale": "en"}
    data.update(fields)
    return client.post(url, data={**data, "csrf_token": csrf_token(client)})


def membership(cohort, user_id):
    db.session.expire_all()
    return db.session.scalar(
        sa.select(CohortMembership).where(
            CohortMembership.cohort_id == cohort.id, CohortMembership.user_id == user_id
        )
    )


def test_staff_add_an_existing_person_as_a_coach(client):
    cohort = CohortFactory()
    person = UserFactory(email="kim@example.org")
    sign_in(client, StaffFactory())
    response = add(client, cohort, email="Kim@Example.org", role="coach")
    assert response.status_code == 302
    assert membership(cohort, person.id).role == CohortRole.COACH


def test_someone_without_an_account_is_invited_when_added(client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    add(client, cohort, email="newfellow@example.org", name="Nuevo Fellow", locale="es")
    person = db.session.scalar(sa.select(User).where(User.email == "newfellow@example.org"))
    assert person.password_hash is None
    assert membership(cohort, person.id).role == CohortRole.FELLOW
    mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to == person.email))
    assert mail is not None


def test_adding_someone_new_without_a_name_asks_for_it_and_changes_nothing(client):
    cohort = CohortFactory()
    sign_in(client, StaffFactory())
    response = add(client, cohort, email="noname@example.org")
    assert "enter the person&#39;s name" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.email == "noname@example.org")) is None


def test_a_person_holds_one_role_per_cohort(client):
    cohort = CohortFactory()
    existing = MembershipFactory(cohort=cohort)
    person = db.session.get(User, existing.user_id)
    sign_in(client, StaffFactory())
    response = add(client, cohort, email=person.email, role="coach")
    assert "already in the cohort" in response.get_data(as_text=True)
    assert membership(cohort, person.id).role == CohortRole.FELLOW


def test_a_person_can_be_a_coach_in_one_cohort_and_a_fellow_in_the_next(client):
    first, second = CohortFactory(), CohortFactory()
    person = UserFactory(email="both@example.org")
    sign_in(client, StaffFactory())
    add(client, first, email="both@example.org", role="coach")
    add(client, second, email="both@example.org", role="fellow")
    assert membership(first, person.id).role == CohortRole.COACH
    assert membership(second, person.id).role == CohortRole.FELLOW


def test_reassigning_a_coach_keeps_the_history(ctx):
    cohort = CohortFactory()
    staff = StaffFactory()
    fellow = MembershipFactory(cohort=cohort)
    first = MembershipFactory(cohort=cohort, role=CohortRole.COACH)
    second = MembershipFactory(cohort=cohort, role=CohortRole.COACH)
    services.assign_coach(staff, fellow, first, on=date(2026, 9, 1))
    services.assign_coach(staff, fellow, second, on=date(2027, 1, 15))
    rows = db.session.scalars(sa.select(CoachAssignment).order_by(CoachAssignment.starts_on)).all()
    assert [(r.coach_id, r.starts_on, r.ends_on) for r in rows] == [
        (first.user_id, date(2026, 9, 1), date(2027, 1, 15)),
        (second.user_id, date(2027, 1, 15), None),
    ]


def test_only_an_active_coach_of_the_cohort_can_be_assigned(ctx):
    import pytest

    cohort, other = CohortFactory(), CohortFactory()
    staff = StaffFactory()
    fellow = MembershipFactory(cohort=cohort)
    outsider = MembershipFactory(cohort=other, role=CohortRole.COACH)
    not_a_coach = MembershipFactory(cohort=cohort, role=CohortRole.REVIEWER)
    for wrong in (outsider, not_a_coach):
        with pytest.raises(services.CohortError):
            services.assign_coach(staff, fellow, wrong)


def test_a_coach_who_withdraws_stops_coaching_their_fellows(ctx):
    cohort = CohortFactory()
    staff = StaffFactory()
    fellow = MembershipFactory(cohort=cohort)
    coach = MembershipFactory(cohort=cohort, role=CohortRole.COACH)
    services.assign_coach(staff, fellow, coach)
    services.update_membership(
        staff, coach, role=CohortRole.COACH, status=MembershipStatus.WITHDRAWN
    )
    assert services.current_assignment(cohort.id, fellow.user_id) is None


def test_staff_change_a_members_status_and_assign_a_coach_in_the_browser(client):
    cohort = CohortFactory()
    fellow = MembershipFactory(cohort=cohort, user=UserFactory(name="Faye Fellow"))
    coach = MembershipFactory(
        cohort=cohort, role=CohortRole.COACH, user=UserFactory(name="Cora Coach")
    )
    sign_in(client, StaffFactory())
    url = f"/cohorts/{cohort.id}/members/{fellow.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Cora Coach" in page
    client.post(
        f"{url}/coach",
        data={"c-coach": str(coach.user_id), "c-csrf_token": csrf_token(client)},
    )
    assert services.current_assignment(cohort.id, fellow.user_id).coach_id == coach.user_id
    client.post(
        url,
        data={"m-role": "fellow", "m-status": "completed", "m-csrf_token": csrf_token(client)},
    )
    assert membership(cohort, fellow.user_id).status == MembershipStatus.COMPLETED


def test_a_membership_of_another_cohort_is_not_found_through_this_one(client):
    cohort, other = CohortFactory(), CohortFactory()
    foreign = MembershipFactory(cohort=other)
    sign_in(client, StaffFactory())
    assert client.get(f"/cohorts/{cohort.id}/members/{foreign.id}").status_code == 404

"""Taking attendance in one form, reading the rates, and who may do either."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.auth.models import Role, User
from fellowship.cohorts.models import CohortMembership, CohortRole, MembershipStatus
from fellowship.convenings import queries
from fellowship.convenings.models import Attendance, AttendanceStatus
from fellowship.db import utcnow
from fellowship.extensions import db
from tests.conftest import csrf_token, sign_in
from tests.convenings.helpers import AttendanceFactory, ConveningFactory, cohort_setup, member
from tests.factories import CohortFactory, StaffFactory

P, A, E = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED


def attendance_rows(convening_id: int) -> dict[int, tuple[str, str]]:
    return {
        row.user_id: (row.status.value, row.note)
        for row in db.session.scalars(
            sa.select(Attendance).where(Attendance.convening_id == convening_id)
        )
    }


def test_a_facilitator_takes_attendance_for_every_fellow_in_one_form(client):
    setup = cohort_setup(fellows=3)
    first, second, third = setup.fellows
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    sign_in(client, setup.facilitator)
    path = f"/convenings/{convening.id}/attendance"
    page = client.get(path).get_data(as_text=True)
    # One row per fellow, its name as the row header, a labelled radio group and a note.
    assert page.count('<th scope="row">') == 3
    assert page.count("<legend") == 3
    assert "Attendance of Fellow 00" in page
    assert f'<label class="usa-sr-only" for="note_{first.id}">Note for Fellow 00</label>' in page
    assert page.count('type="submit" class="usa-button') >= 1
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            f"status_{first.id}": "present",
            f"status_{second.id}": "excused",
            f"note_{second.id}": "At a district hearing",
            f"status_{third.id}": "absent",
        },
    )
    assert response.status_code == 302
    assert attendance_rows(convening.id) == {
        first.id: ("present", ""),
        second.id: ("excused", "At a district hearing"),
        third.id: ("absent", ""),
    }
    row = db.session.scalar(sa.select(Attendance).where(Attendance.user_id == first.id))
    assert row.recorded_by_id == setup.facilitator.id
    assert row.recorded_at is not None
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == "attendance_recorded"
            )
        )
        == 1
    )
    again = client.get(path).get_data(as_text=True)
    assert re.search(
        rf'id="status_{second.id}-2"[^>]*checked|checked[^>]*id="status_{second.id}-2"', again
    )
    assert 'value="At a district hearing"' in again
    assert "1 present of 3 fellows recorded" in again


def test_saving_again_updates_rows_instead_of_adding_them(client):
    setup = cohort_setup(fellows=1)
    fellow = setup.fellows[0]
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    AttendanceFactory(convening_id=convening.id, user_id=fellow.id, status=A)
    sign_in(client, StaffFactory())
    path = f"/convenings/{convening.id}/attendance"
    client.post(path, data={"csrf_token": csrf_token(client), f"status_{fellow.id}": "present"})
    assert attendance_rows(convening.id) == {fellow.id: ("present", "")}
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 1


def test_a_note_without_a_choice_is_refused_and_keeps_what_was_typed(client):
    setup = cohort_setup(fellows=2)
    first, second = setup.fellows
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    sign_in(client, setup.facilitator)
    path = f"/convenings/{convening.id}/attendance"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            f"status_{first.id}": "present",
            f"note_{second.id}": "Called in sick",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Choose present, absent or excused to save a note." in page
    assert 'value="Called in sick"' in page
    assert f'aria-describedby="note_{second.id}-error"' in page
    assert re.search(
        rf'id="status_{first.id}-0"[^>]*checked|checked[^>]*id="status_{first.id}-0"', page
    )
    assert attendance_rows(convening.id) == {}


def test_an_unknown_status_is_refused_and_changes_nothing(client):
    setup = cohort_setup(fellows=1)
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    sign_in(client, setup.facilitator)
    path = f"/convenings/{convening.id}/attendance"
    response = client.post(
        path,
        data={"csrf_token": csrf_token(client), f"status_{setup.fellows[0].id}": "asleep"},
    )
    assert response.status_code == 200
    assert attendance_rows(convening.id) == {}


def test_fields_for_people_who_are_not_fellows_are_ignored(client):
    setup = cohort_setup(fellows=1)
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    sign_in(client, setup.facilitator)
    path = f"/convenings/{convening.id}/attendance"
    client.post(
        path,
        data={"csrf_token": csrf_token(client), f"status_{setup.coach.id}": "present"},
    )
    assert attendance_rows(convening.id) == {}


@pytest.mark.parametrize("who", ["fellow", "outsider", "other_facilitator"])
def test_people_who_may_not_take_attendance_get_403_and_nothing_changes(client, who):
    setup = cohort_setup(fellows=1)
    other = cohort_setup(fellows=0)
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    person = {
        "fellow": setup.fellows[0],
        "outsider": member(CohortFactory(), CohortRole.FELLOW),
        "other_facilitator": other.facilitator,
    }[who]
    sign_in(client, person)
    path = f"/convenings/{convening.id}/attendance"
    assert client.get(path).status_code == 403
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            f"status_{setup.fellows[0].id}": "present",
        },
    )
    assert response.status_code == 403
    assert attendance_rows(convening.id) == {}
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(
                AuditEvent.action == "attendance_recorded"
            )
        )
        == 0
    )


def test_a_coach_reads_attendance_but_cannot_change_it(client):
    setup = cohort_setup(fellows=1)
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    AttendanceFactory(convening_id=convening.id, user_id=setup.fellows[0].id, status=E, note="Ill")
    sign_in(client, setup.coach)
    path = f"/convenings/{convening.id}/attendance"
    page = client.get(path).get_data(as_text=True)
    assert "Excused" in page
    assert "Ill" in page
    assert 'type="radio"' not in page
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            f"status_{setup.fellows[0].id}": "absent",
        },
    )
    assert response.status_code == 403
    assert attendance_rows(convening.id) == {setup.fellows[0].id: ("excused", "Ill")}


def _add_fellows(cohort_id: int, count: int) -> list[int]:
    db.session.execute(
        sa.insert(User),
        [
            {
                "email": f"bulk-{cohort_id}-{i}@example.org",
                "name": f"Bulk Fellow {i:03d}",
                "role": Role.MEMBER,
                "locale": "en",
                "timezone": "UTC",
                "is_active": True,
            }
            for i in range(count)
        ],
    )
    ids = db.session.scalars(sa.select(User.id).where(User.email.like(f"bulk-{cohort_id}-%"))).all()
    db.session.execute(
        sa.insert(CohortMembership),
        [
            {
                "cohort_id": cohort_id,
                "user_id": user_id,
                "role": CohortRole.FELLOW,
                "status": MembershipStatus.ACTIVE,
            }
            for user_id in ids
        ],
    )
    db.session.commit()
    return list(ids)


def _queries_for_attendance_page(client, count_queries, fellows: int) -> int:
    setup = cohort_setup(fellows=0)
    ids = _add_fellows(setup.cohort.id, fellows)
    earlier = ConveningFactory(
        cohort_id=setup.cohort.id,
        starts_at=utcnow() - timedelta(days=30),
        ends_at=utcnow() - timedelta(days=30, hours=-2),
    )
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    for user_id in ids:
        AttendanceFactory(convening_id=earlier.id, user_id=user_id, status=P)
    AttendanceFactory(convening_id=convening.id, user_id=ids[0], status=E, note="Travel")
    sign_in(client, setup.facilitator)
    path = f"/convenings/{convening.id}/attendance"
    client.get(path)
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('<th scope="row">') == fellows
    return counter.count


def test_the_attendance_page_uses_the_same_number_of_queries_for_3_and_30_fellows(
    client, count_queries
):
    small = _queries_for_attendance_page(client, count_queries, 3)
    large = _queries_for_attendance_page(client, count_queries, 30)
    assert small == large
    assert small <= 10


def test_rates_count_present_out_of_recorded_with_excused_apart(ctx):
    setup = cohort_setup(fellows=2)
    first, second = setup.fellows
    convenings = [ConveningFactory(cohort_id=setup.cohort.id) for _ in range(4)]
    for convening, status in zip(convenings, [P, P, E, A], strict=True):
        AttendanceFactory(convening_id=convening.id, user_id=first.id, status=status)
    AttendanceFactory(convening_id=convenings[0].id, user_id=second.id, status=A)
    other = ConveningFactory(cohort_id=CohortFactory().id)
    AttendanceFactory(convening_id=other.id, user_id=first.id, status=P)

    rates = queries.attendance_rates_for_cohort(setup.cohort.id)
    assert rates[first.id] == queries.AttendanceCounts(present=2, absent=1, excused=1)
    assert rates[first.id].rate == 0.5
    assert rates[first.id].recorded == 4
    assert rates[second.id].rate == 0
    assert setup.coach.id not in rates
    assert queries.AttendanceCounts().rate is None

    summaries = queries.attendance_summaries([c.id for c in convenings])
    assert summaries[convenings[0].id] == queries.AttendanceCounts(present=1, absent=1)
    assert summaries[convenings[0].id].rate == 0.5
    assert summaries[convenings[2].id].excused == 1


def test_the_cohort_attendance_page_shows_rates_per_fellow_and_per_convening(client):
    setup = cohort_setup(fellows=2)
    first, second = setup.fellows
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="Fall convening")
    AttendanceFactory(convening_id=convening.id, user_id=first.id, status=P)
    AttendanceFactory(convening_id=convening.id, user_id=second.id, status=E)
    ConveningFactory(cohort_id=setup.cohort.id, title="Not taken yet")
    for person in (StaffFactory(), setup.facilitator, setup.coach):
        sign_in(client, person)
        page = client.get(f"/cohorts/{setup.cohort.id}/attendance").get_data(as_text=True)
        assert "Fellow 00" in page
        assert "Fellow 01" in page
        assert "100%" in page
        assert "0%" in page
        assert "50%" in page
        assert "Fall convening" in page
        assert "Not taken yet" not in page


def test_fellows_cannot_see_the_cohort_attendance_rates(client):
    setup = cohort_setup(fellows=1)
    sign_in(client, setup.fellows[0])
    assert client.get(f"/cohorts/{setup.cohort.id}/attendance").status_code == 403


def test_upcoming_for_cohort_lists_the_next_convenings_soonest_first(ctx):
    setup = cohort_setup(fellows=0)
    now = utcnow()
    ConveningFactory(
        cohort_id=setup.cohort.id,
        title="Past",
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(days=2) + timedelta(hours=1),
    )
    ConveningFactory(
        cohort_id=setup.cohort.id,
        title="Under way",
        starts_at=now - timedelta(minutes=30),
        ends_at=now + timedelta(minutes=30),
    )
    for days in (9, 3, 5):
        ConveningFactory(
            cohort_id=setup.cohort.id,
            title=f"In {days} days",
            starts_at=now + timedelta(days=days),
            ends_at=now + timedelta(days=days, hours=1),
        )
    ConveningFactory(cohort_id=CohortFactory().id, title="Other cohort")
    upcoming = queries.upcoming_for_cohort(setup.cohort.id, now=now, limit=3)
    assert [c.title for c in upcoming] == ["Under way", "In 3 days", "In 5 days"]


def test_a_tampered_status_is_explained_in_the_row(client):
    setup = cohort_setup(fellows=1)
    fellow = setup.fellows[0]
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    sign_in(client, setup.facilitator)
    path = f"/convenings/{convening.id}/attendance"
    page = client.post(
        path, data={"csrf_token": csrf_token(client), f"status_{fellow.id}": "asleep"}
    ).get_data(as_text=True)
    assert f'id="status_{fellow.id}-error"' in page
    assert f'href="#status_{fellow.id}"' in page


def test_once_a_convening_has_started_every_fellow_needs_a_status(client):
    from datetime import timedelta

    from fellowship.db import utcnow

    setup = cohort_setup(fellows=3)
    first = setup.fellows[0]
    started = utcnow().replace(microsecond=0) - timedelta(hours=1)
    convening = ConveningFactory(
        cohort_id=setup.cohort.id, starts_at=started, ends_at=started + timedelta(hours=2)
    )
    sign_in(client, setup.facilitator)
    path = f"/convenings/{convening.id}/attendance"
    response = client.post(
        path, data={"csrf_token": csrf_token(client), f"status_{first.id}": "present"}
    )
    assert response.status_code == 200
    assert "Choose present, absent or excused for every fellow." in response.get_data(as_text=True)
    assert attendance_rows(convening.id) == {}


def test_before_a_convening_an_excused_absence_can_be_recorded_alone(client):
    setup = cohort_setup(fellows=3)
    first = setup.fellows[0]
    convening = ConveningFactory(cohort_id=setup.cohort.id)  # a week from now
    sign_in(client, setup.facilitator)
    path = f"/convenings/{convening.id}/attendance"
    response = client.post(
        path,
        data={
            "csrf_token": csrf_token(client),
            f"status_{first.id}": "excused",
            f"note_{first.id}": "Board meeting",
        },
    )
    assert response.status_code == 302
    assert attendance_rows(convening.id) == {first.id: ("excused", "Board meeting")}

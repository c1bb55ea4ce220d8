"""Convening rules: times, checks, optimistic locking, attendance upserts, deletion."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.convenings import services
from fellowship.convenings.models import (
    Attendance,
    AttendanceStatus,
    Convening,
    ConveningFacilitator,
    ConveningKind,
)
from fellowship.extensions import db
from tests.convenings.helpers import AttendanceFactory, ConveningFactory, cohort_setup, utc
from tests.factories import StaffFactory, UserFactory

pytestmark = pytest.mark.usefixtures("ctx")


def data(**overrides) -> services.ConveningData:
    values = {
        "title": "Coalition building workshop",
        "kind": ConveningKind.WORKSHOP,
        "starts_at": utc(2026, 9, 15, 13, 0),
        "ends_at": utc(2026, 9, 15, 15, 0),
        "location": "Room 4",
        "online_url": "",
        "agenda_md": "- one\n- two",
        "facilitator_ids": [],
    }
    values.update(overrides)
    return services.ConveningData(**values)


@pytest.mark.parametrize(
    ("day", "expected_hour"),
    [(date(2026, 7, 15), 16), (date(2026, 1, 15), 17)],
    ids=["summer-PDT", "winter-PST"],
)
def test_nine_in_the_morning_in_los_angeles_is_stored_as_utc_with_daylight_saving(
    day, expected_hour
):
    moment = services.local_to_utc(day, time(9, 0), "America/Los_Angeles", field="starts_time")
    assert moment == utc(day.year, day.month, day.day, expected_hour, 0)


def test_a_time_skipped_when_clocks_go_forward_is_refused():
    with pytest.raises(services.ConveningError) as caught:
        services.local_to_utc(
            date(2026, 3, 8), time(2, 30), "America/New_York", field="starts_time"
        )
    assert caught.value.field == "starts_time"


def test_scheduling_stores_the_convening_with_its_facilitators():
    setup = cohort_setup()
    staff = StaffFactory()
    convening = services.schedule_convening(
        staff, setup.cohort, data(facilitator_ids=[setup.facilitator.id], location="  Room 4 ")
    )
    db.session.commit()
    assert convening.cohort_id == setup.cohort.id
    assert convening.location == "Room 4"
    assert convening.online_url is None
    assert convening.created_by_id == staff.id
    assert db.session.scalars(
        sa.select(ConveningFacilitator.user_id).where(
            ConveningFacilitator.convening_id == convening.id
        )
    ).all() == [setup.facilitator.id]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": utc(2026, 9, 15, 12, 0)}, "ends_time"),
        ({"ends_at": utc(2026, 9, 15, 13, 0)}, "ends_time"),
        ({"title": "   "}, "title"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
    ],
    ids=["end-before-start", "no-length", "blank-title", "not-a-web-address"],
)
def test_scheduling_refuses_bad_details_and_adds_nothing(overrides, field):
    setup = cohort_setup()
    with pytest.raises(services.ConveningError) as caught:
        services.schedule_convening(StaffFactory(), setup.cohort, data(**overrides))
    assert caught.value.field == field
    assert db.session.scalar(sa.select(sa.func.count(Convening.id))) == 0


def test_only_the_cohorts_facilitators_can_be_chosen():
    setup = cohort_setup()
    outsider = UserFactory()
    with pytest.raises(services.ConveningError) as caught:
        services.schedule_convening(
            StaffFactory(), setup.cohort, data(facilitator_ids=[setup.fellows[0].id, outsider.id])
        )
    assert caught.value.field == "facilitators"


def test_an_edit_made_on_an_older_version_is_refused_and_changes_nothing():
    setup = cohort_setup()
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="Original")
    opened_at = convening.version
    services.update_convening(
        StaffFactory(), convening, data(title="First save"), version=opened_at
    )
    db.session.commit()
    with pytest.raises(services.StaleEdit):
        services.update_convening(
            StaffFactory(), convening, data(title="Second save"), version=opened_at
        )
    db.session.rollback()
    assert db.session.get(Convening, convening.id).title == "First save"


def test_every_save_moves_the_version_on_even_when_only_facilitators_change():
    setup = cohort_setup()
    convening = ConveningFactory(cohort_id=setup.cohort.id, title="Coalition building workshop")
    services.update_convening(
        StaffFactory(),
        convening,
        data(
            starts_at=convening.starts_at,
            ends_at=convening.ends_at,
            location=convening.location,
            agenda_md=convening.agenda_md,
            facilitator_ids=[setup.facilitator.id],
        ),
        version=1,
    )
    db.session.commit()
    assert db.session.get(Convening, convening.id).version == 2


def test_a_facilitator_who_left_can_stay_on_a_convening_they_were_chosen_for():
    setup = cohort_setup()
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    db.session.add(ConveningFacilitator(convening_id=convening.id, user_id=setup.facilitator.id))
    from fellowship.cohorts.models import CohortMembership, MembershipStatus

    membership = db.session.scalar(
        sa.select(CohortMembership).where(CohortMembership.user_id == setup.facilitator.id)
    )
    membership.status = MembershipStatus.WITHDRAWN
    db.session.commit()
    chosen = services.facilitator_choices(setup.cohort.id, convening)
    assert [u.id for u in chosen] == [setup.facilitator.id]
    assert services.facilitator_choices(setup.cohort.id) == []


def test_recording_attendance_upserts_one_row_per_fellow_and_audits_once():
    setup = cohort_setup(fellows=3)
    first, second, third = setup.fellows
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    AttendanceFactory(convening_id=convening.id, user_id=first.id, status=AttendanceStatus.ABSENT)
    AttendanceFactory(convening_id=convening.id, user_id=second.id, status=AttendanceStatus.PRESENT)
    result = services.record_attendance(
        setup.facilitator,
        convening,
        {
            first.id: (AttendanceStatus.PRESENT, ""),
            second.id: (AttendanceStatus.PRESENT, ""),
            third.id: (AttendanceStatus.EXCUSED, "  Sick, sent a note  "),
        },
        fellow_ids=[f.id for f in setup.fellows],
    )
    db.session.commit()
    assert (result.added, result.changed, result.unchanged) == (1, 1, 1)
    rows = {
        row.user_id: row
        for row in db.session.scalars(
            sa.select(Attendance).where(Attendance.convening_id == convening.id)
        )
    }
    assert rows[first.id].status == AttendanceStatus.PRESENT
    assert rows[first.id].recorded_by_id == setup.facilitator.id
    assert rows[third.id].note == "Sick, sent a note"
    assert rows[second.id].recorded_by_id is None  # unchanged rows keep who recorded them
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "attendance_recorded")
    ).all()
    assert len(events) == 1
    assert events[0].target_id == convening.id
    assert events[0].details["added"] == 1


def test_attendance_cannot_be_recorded_for_someone_who_is_not_an_active_fellow():
    setup = cohort_setup()
    convening = ConveningFactory(cohort_id=setup.cohort.id)
    with pytest.raises(services.ConveningError):
        services.record_attendance(
            setup.facilitator,
            convening,
            {setup.coach.id: (AttendanceStatus.PRESENT, "")},
            fellow_ids=[f.id for f in setup.fellows],
        )


def test_deleting_a_convening_removes_its_attendance_and_is_audited():
    setup = cohort_setup()
    convening = ConveningFactory(
        cohort_id=setup.cohort.id, starts_at=utc(2026, 1, 1, 9), ends_at=utc(2026, 1, 1, 10)
    )
    AttendanceFactory(convening_id=convening.id, user_id=setup.fellows[0].id)
    services.delete_convening(StaffFactory(), convening)
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Attendance.id))) == 0
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "convening_deleted"))
    assert event.details["attendance_rows"] == 1
    assert event.details["title"] == convening.title


def test_times_must_be_timezone_aware():
    setup = cohort_setup()
    naive = utc(2026, 9, 15, 13).replace(tzinfo=None)
    with pytest.raises(ValueError, match="timezone-aware"):
        services.schedule_convening(
            StaffFactory(), setup.cohort, data(starts_at=naive, ends_at=naive + timedelta(hours=1))
        )

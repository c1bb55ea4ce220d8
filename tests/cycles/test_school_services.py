"""Adding and editing one school: the rules as a table, the free code, the stale edit."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from fellowship.audit import AuditEvent
from fellowship.cycles import school_services as schools
from fellowship.cycles.models import School, SchoolLevel
from fellowship.extensions import db
from tests.cycles.helpers import SchoolFactory
from tests.cycles.school_helpers import schools_table
from tests.factories import StaffFactory


def data(**overrides: object) -> schools.SchoolData:
    values: dict[str, Any] = {
        "code": "NC-0101",
        "name": "Hillside Magnet Elementary",
        "level": "elementary",
        "is_magnet": True,
        "magnet_theme": "STEM",
        "is_pilot": False,
        "region": "North",
        "is_active": True,
    }
    values.update(overrides)
    return schools.SchoolData(**values)


RULES = [
    # (what is wrong, data, field, start of the message)
    ("no code", {"code": "  "}, "code", "Enter the school's state code."),
    ("a long code", {"code": "A" * 33}, "code", "Keep the code to 32 characters"),
    ("a space in the code", {"code": "NC 01"}, "code", "Use only letters, digits, - and _"),
    ("a slash in the code", {"code": "NC/01"}, "code", "Use only letters, digits, - and _"),
    ("an accent in the code", {"code": "NCé1"}, "code", "Use only letters, digits, - and _"),
    ("no name", {"name": " \t "}, "name", "Enter the school's name."),
    ("a long name", {"name": "x" * 201}, "name", "Keep the name to 200 characters"),
    ("no level", {"level": ""}, "level", "Choose the school's level."),
    ("an unknown level", {"level": "primary"}, "level", "Choose the school's level."),
    ("a magnet without a theme", {"magnet_theme": "  "}, "magnet_theme", "Enter the magnet theme"),
    ("a long theme", {"magnet_theme": "t" * 121}, "magnet_theme", "Keep the magnet theme"),
    ("a long region", {"region": "r" * 81}, "region", "Keep the region to 80"),
]


@pytest.mark.parametrize(
    ("case", "overrides", "field", "message"), RULES, ids=[r[0] for r in RULES]
)
def test_a_school_that_breaks_a_rule_is_refused_next_to_its_field(
    ctx, case, overrides, field, message
):
    staff = StaffFactory()
    before = schools_table()
    with pytest.raises(schools.SchoolError) as raised:
        schools.create_school(staff, data(**overrides))
    assert raised.value.field == field
    assert raised.value.message.startswith(message)
    db.session.rollback()
    assert schools_table() == before


def test_a_new_school_is_saved_tidied_and_audited(ctx):
    staff = StaffFactory()
    school = schools.create_school(
        staff, data(code=" NC-0101 ", name="  Hillside\tMagnet   Elementary ", region=" North ")
    )
    db.session.commit()
    assert (school.code, school.name, school.region, school.level) == (
        "NC-0101",
        "Hillside Magnet Elementary",
        "North",
        SchoolLevel.ELEMENTARY,
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "school.created"))
    assert (event.actor_id, event.target_type, event.target_id) == (staff.id, "School", school.id)


def test_a_school_that_is_not_a_magnet_keeps_no_theme(ctx):
    school = schools.create_school(StaffFactory(), data(is_magnet=False, magnet_theme="STEM"))
    assert school.magnet_theme == ""


def test_a_code_that_another_school_has_is_refused_and_names_that_school(ctx):
    SchoolFactory(code="NC-0101", name="Lakeview Middle")
    with pytest.raises(schools.SchoolError) as raised:
        schools.create_school(StaffFactory(), data())
    assert raised.value.field == "code"
    assert "Lakeview Middle" in raised.value.message


def test_an_edit_saves_changes_moves_the_version_and_lists_the_changed_fields(ctx):
    school = SchoolFactory(code="NC-0101", name="Old name", region="North")
    version = school.version
    schools.update_school(
        StaffFactory(), school, data(name="New name", is_pilot=True), version=version
    )
    db.session.commit()
    assert (school.name, school.is_pilot, school.version) == ("New name", True, version + 1)
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "school.updated"))
    assert event.details == {"changed": ["is_pilot", "name"]}


def test_an_edit_may_keep_the_schools_own_code(ctx):
    school = SchoolFactory(code="NC-0101")
    schools.update_school(StaffFactory(), school, data(), version=school.version)


def test_an_edit_made_on_an_old_version_is_refused_as_stale(ctx):
    school = SchoolFactory(code="NC-0101", name="Saved by someone else")
    with pytest.raises(schools.StaleSchool) as raised:
        schools.update_school(StaffFactory(), school, data(), version=school.version - 1)
    assert raised.value.message.startswith("Someone changed this school while you were editing")
    assert "still has what you typed" in raised.value.message
    db.session.rollback()
    assert db.session.get(School, school.id).name == "Saved by someone else"

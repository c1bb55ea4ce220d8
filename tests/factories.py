"""factory_boy factories; each commits (into the test's savepoint) so requests see the rows."""

from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from fellowship.auth.models import Role, User
from fellowship.auth.services import hash_password
from fellowship.extensions import db

PASSWORD = "a long and unusual test passphrase"
_PASSWORD_HASH = hash_password(PASSWORD)


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    name = factory.Faker("name")
    role = Role.MEMBER
    is_active = True
    locale = "en"
    timezone = "America/New_York"
    password_hash = _PASSWORD_HASH


class AdminFactory(UserFactory):
    role = Role.ADMIN


class StaffFactory(UserFactory):
    role = Role.STAFF

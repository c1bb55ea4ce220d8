"""Migrations build the schema the models describe, on both databases, and go back down."""

from __future__ import annotations

import os

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from fellowship.extensions import db
from tests.conftest import DATABASES, TEST_DATABASE_URL, database_url_from, make_app

# One scratch database per pytest-xdist worker: two workers dropping the same one would break
# each other's run.
MIGRATION_DB = "fellowship_migrations_test_" + os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(params=DATABASES)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    admin_url = database_url_from(TEST_DATABASE_URL)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {MIGRATION_DB}")
    yield (
        sa.engine.make_url(admin_url)
        .set(database=MIGRATION_DB)
        .render_as_string(hide_password=False)
    )
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)")
    admin.dispose()


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(empty_database):
    app = make_app(empty_database)
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}), db.metadata
            )
        db.engine.dispose()
    assert diff == []


def test_the_migrations_go_down_to_nothing_and_up_again_with_data_kept_on_the_way_up(
    empty_database,
):
    app = make_app(empty_database)
    with app.app_context():
        flask_migrate.upgrade()
        db.session.execute(
            sa.text(
                "INSERT INTO users (email, name, role, is_active, locale, timezone,"
                " created_at, updated_at) VALUES ('a@example.org', 'A',"
                " 'member', true, 'en', 'UTC', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        db.session.commit()
        flask_migrate.upgrade()  # already at head: the data stays
        assert db.session.scalar(sa.text("SELECT count(*) FROM users")) == 1
        db.session.remove()
        flask_migrate.downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        flask_migrate.upgrade()
        assert "users" in sa.inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()

"""Cohorts (strands, memberships, coach assignments), convenings, attendance, calendar feeds

Revision ID: 795dff1c0519
Revises: 2b602bdd334f
Create Date: 2026-11-29 13:58:59.479666

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '795dff1c0519'
down_revision = '2b602bdd334f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('school_years',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=16), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_years')),
    sa.UniqueConstraint('label', name=op.f('uq_school_years_label'))
    )
    op.create_table('calendar_feeds',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_feeds_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_calendar_feeds'))
    )
    op.create_table('cohorts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('school_year_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('planning', 'active', 'completed', 'archived', name='cohort_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('checkin_rhythm_days', sa.Integer(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('checkin_rhythm_days > 0', name=op.f('ck_cohorts_rhythm_positive')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_cohorts_dates_in_order')),
    sa.ForeignKeyConstraint(['school_year_id'], ['school_years.id'], name=op.f('fk_cohorts_school_year_id_school_years')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohorts'))
    )
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohorts_school_year_id'), ['school_year_id'], unique=False)

    op.create_table('coach_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('fellow_id', sa.Integer(), nullable=False),
    sa.Column('coach_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_coach_assignments_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['coach_id'], ['users.id'], name=op.f('fk_coach_assignments_coach_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_coach_assignments_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fellow_id'], ['users.id'], name=op.f('fk_coach_assignments_fellow_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_coach_assignments'))
    )
    with op.batch_alter_table('coach_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_coach_assignments_coach_id'), ['coach_id'], unique=False)
        batch_op.create_index('ix_coach_assignments_cohort_fellow', ['cohort_id', 'fellow_id'], unique=False)
        batch_op.create_index('uq_coach_assignments_current', ['cohort_id', 'fellow_id'], unique=True, sqlite_where=sa.text('ends_on IS NULL'), postgresql_where=sa.text('ends_on IS NULL'))

    op.create_table('cohort_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('fellow', 'coach', 'facilitator', 'reviewer', name='cohort_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('active', 'withdrawn', 'completed', name='membership_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_memberships_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cohort_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_memberships')),
    sa.UniqueConstraint('cohort_id', 'user_id', name=op.f('uq_cohort_memberships_cohort_id_user_id'))
    )
    with op.batch_alter_table('cohort_memberships', schema=None) as batch_op:
        batch_op.create_index('ix_cohort_memberships_cohort_role', ['cohort_id', 'role'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_memberships_user_id'), ['user_id'], unique=False)

    op.create_table('convenings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('national_convening', 'regional_convening', 'workshop', 'school_visit', 'panel_discussion', 'book_study', 'peer_checkin', name='convening_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=True),
    sa.Column('online_url', sa.String(length=500), nullable=True),
    sa.Column('agenda_md', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at >= starts_at', name=op.f('ck_convenings_times_in_order')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_convenings_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_convenings_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_convenings'))
    )
    with op.batch_alter_table('convenings', schema=None) as batch_op:
        batch_op.create_index('ix_convenings_cohort_starts', ['cohort_id', 'starts_at'], unique=False)

    op.create_table('strands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_strands_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_strands'))
    )
    with op.batch_alter_table('strands', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_strands_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('attendances',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('convening_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('present', 'absent', 'excused', name='attendance_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['convening_id'], ['convenings.id'], name=op.f('fk_attendances_convening_id_convenings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_attendances_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attendances_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendances')),
    sa.UniqueConstraint('convening_id', 'user_id', name=op.f('uq_attendances_convening_id_user_id'))
    )
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendances_user_id'), ['user_id'], unique=False)

    op.create_table('convening_facilitators',
    sa.Column('convening_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['convening_id'], ['convenings.id'], name=op.f('fk_convening_facilitators_convening_id_convenings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_convening_facilitators_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('convening_id', 'user_id', name=op.f('pk_convening_facilitators'))
    )
    with op.batch_alter_table('convening_facilitators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_convening_facilitators_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('convening_facilitators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_convening_facilitators_user_id'))

    op.drop_table('convening_facilitators')
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendances_user_id'))

    op.drop_table('attendances')
    with op.batch_alter_table('strands', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_strands_cohort_id'))

    op.drop_table('strands')
    with op.batch_alter_table('convenings', schema=None) as batch_op:
        batch_op.drop_index('ix_convenings_cohort_starts')

    op.drop_table('convenings')
    with op.batch_alter_table('cohort_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_memberships_user_id'))
        batch_op.drop_index('ix_cohort_memberships_cohort_role')

    op.drop_table('cohort_memberships')
    with op.batch_alter_table('coach_assignments', schema=None) as batch_op:
        batch_op.drop_index('uq_coach_assignments_current', sqlite_where=sa.text('ends_on IS NULL'), postgresql_where=sa.text('ends_on IS NULL'))
        batch_op.drop_index('ix_coach_assignments_cohort_fellow')
        batch_op.drop_index(batch_op.f('ix_coach_assignments_coach_id'))

    op.drop_table('coach_assignments')
    with op.batch_alter_table('cohorts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohorts_school_year_id'))

    op.drop_table('cohorts')
    op.drop_table('calendar_feeds')
    op.drop_table('school_years')

"""Equity improvement cycles: schools, cycles and members, drivers, goals, measurements, PDSA,
support and engagement logs, yearly goals reviews with ratings and next year's goals.

Revision ID: 244dabdb9c0f
Revises: 165f9e73d0be
Create Date: 2026-11-29 18:59:29.056782

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '244dabdb9c0f'
down_revision = '165f9e73d0be'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('schools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('level', sa.Enum('elementary', 'middle', 'high', 'k8', 'k12', 'other', name='school_level', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('is_magnet', sa.Boolean(), nullable=False),
    sa.Column('magnet_theme', sa.String(length=120), nullable=False),
    sa.Column('is_pilot', sa.Boolean(), nullable=False),
    sa.Column('region', sa.String(length=80), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schools')),
    sa.UniqueConstraint('code', name=op.f('uq_schools_code'))
    )
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.create_index('ix_schools_name', ['name'], unique=False)

    op.create_table('cycles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('school_year_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Enum('planning', 'implementing', 'yearly_review', 'closed', name='cycle_stage', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('initiative_title', sa.String(length=200), nullable=False),
    sa.Column('equity_challenge_md', sa.Text(), nullable=False),
    sa.Column('root_causes_md', sa.Text(), nullable=False),
    sa.Column('aim_md', sa.Text(), nullable=False),
    sa.Column('previous_cycle_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['previous_cycle_id'], ['cycles.id'], name=op.f('fk_cycles_previous_cycle_id_cycles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_cycles_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_year_id'], ['school_years.id'], name=op.f('fk_cycles_school_year_id_school_years'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycles')),
    sa.UniqueConstraint('school_id', 'school_year_id', name=op.f('uq_cycles_school_id_school_year_id'))
    )
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycles_school_year_id'), ['school_year_id'], unique=False)

    op.create_table('cycle_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('lead_teacher', 'team_member', 'partner', 'staff_liaison', name='cycle_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_cycle_memberships_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_cycle_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_memberships')),
    sa.UniqueConstraint('cycle_id', 'user_id', name=op.f('uq_cycle_memberships_cycle_id_user_id'))
    )
    with op.batch_alter_table('cycle_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cycle_memberships_user_id'), ['user_id'], unique=False)

    op.create_table('drivers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('primary', 'secondary', 'change_idea', name='driver_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_drivers_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['drivers.id'], name=op.f('fk_drivers_parent_id_drivers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drivers'))
    )
    with op.batch_alter_table('drivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_drivers_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_drivers_parent_id'), ['parent_id'], unique=False)

    op.create_table('engagement_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('group', sa.Enum('advisory_council', 'families', 'students', 'staff', 'community', name='engagement_group', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('heard_md', sa.Text(), nullable=False),
    sa.Column('changed_md', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('participants >= 0', name=op.f('ck_engagement_sessions_participants_not_negative')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_engagement_sessions_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_engagement_sessions_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engagement_sessions'))
    )
    with op.batch_alter_table('engagement_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engagement_sessions_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('category', sa.Enum('enrollment_diversity', 'achievement', 'climate', 'family_engagement', 'other', name='goal_category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('metric', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('baseline_value', sa.Float(), nullable=False),
    sa.Column('baseline_on', sa.Date(), nullable=False),
    sa.Column('target_value', sa.Float(), nullable=False),
    sa.Column('direction', sa.Enum('raise', 'lower', 'hold', name='goal_direction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status_override', sa.Enum('met', 'on_track', 'at_risk', 'off_track', 'no_data', name='goal_status', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.Column('override_by_id', sa.Integer(), nullable=True),
    sa.Column('override_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('carried_from_goal_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['carried_from_goal_id'], ['goals.id'], name=op.f('fk_goals_carried_from_goal_id_goals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_goals_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['override_by_id'], ['users.id'], name=op.f('fk_goals_override_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goals'))
    )
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goals_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('goals_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_for', sa.Date(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('participants', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'in_meeting', 'signed', 'amended', name='goals_review_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('notes_md', sa.Text(), nullable=False),
    sa.Column('scheduled_by_id', sa.Integer(), nullable=True),
    sa.Column('lead_signed_by_id', sa.Integer(), nullable=True),
    sa.Column('lead_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('staff_signed_by_id', sa.Integer(), nullable=True),
    sa.Column('staff_signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_digest', sa.String(length=64), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=True),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('amends_review_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['amends_review_id'], ['goals_reviews.id'], name=op.f('fk_goals_reviews_amends_review_id_goals_reviews'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_goals_reviews_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_signed_by_id'], ['users.id'], name=op.f('fk_goals_reviews_lead_signed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['scheduled_by_id'], ['users.id'], name=op.f('fk_goals_reviews_scheduled_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_signed_by_id'], ['users.id'], name=op.f('fk_goals_reviews_staff_signed_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goals_reviews'))
    )
    with op.batch_alter_table('goals_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_goals_reviews_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('goal_ratings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.Enum('met', 'progressing', 'not_met', name='goal_rating', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('rated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_goal_ratings_goal_id_goals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['rated_by_id'], ['users.id'], name=op.f('fk_goal_ratings_rated_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['review_id'], ['goals_reviews.id'], name=op.f('fk_goal_ratings_review_id_goals_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_goal_ratings')),
    sa.UniqueConstraint('review_id', 'goal_id', name=op.f('uq_goal_ratings_review_id_goal_id'))
    )
    op.create_table('improvement_tests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('driver_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('plan_md', sa.Text(), nullable=False),
    sa.Column('prediction_md', sa.Text(), nullable=False),
    sa.Column('do_md', sa.Text(), nullable=False),
    sa.Column('study_md', sa.Text(), nullable=False),
    sa.Column('decision', sa.Enum('adopt', 'adapt', 'abandon', name='pdsa_decision', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_improvement_tests_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_improvement_tests_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['driver_id'], ['drivers.id'], name=op.f('fk_improvement_tests_driver_id_drivers'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_improvement_tests'))
    )
    with op.batch_alter_table('improvement_tests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_improvement_tests_cycle_id'), ['cycle_id'], unique=False)

    op.create_table('measurements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=False),
    sa.Column('measured_on', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('evidence_file_id', sa.Integer(), nullable=True),
    sa.Column('evidence_url', sa.String(length=2000), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['evidence_file_id'], ['stored_files.id'], name=op.f('fk_measurements_evidence_file_id_stored_files'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_measurements_goal_id_goals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_measurements_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_measurements'))
    )
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.create_index('ix_measurements_goal_measured_on', ['goal_id', 'measured_on'], unique=False)

    op.create_table('proposed_goals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('category', sa.Enum('enrollment_diversity', 'achievement', 'climate', 'family_engagement', 'other', name='goal_category', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('metric', sa.String(length=300), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('baseline_value', sa.Float(), nullable=True),
    sa.Column('baseline_on', sa.Date(), nullable=True),
    sa.Column('target_value', sa.Float(), nullable=False),
    sa.Column('direction', sa.Enum('raise', 'lower', 'hold', name='goal_direction', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_proposed_goals_goal_id_goals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['review_id'], ['goals_reviews.id'], name=op.f('fk_proposed_goals_review_id_goals_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposed_goals'))
    )
    with op.batch_alter_table('proposed_goals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposed_goals_review_id'), ['review_id'], unique=False)

    op.create_table('support_activities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('provider_name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('technical_assistance', 'professional_development', 'coaching', name='support_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=300), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('goal_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('hours > 0', name=op.f('ck_support_activities_hours_positive')),
    sa.CheckConstraint('participants >= 0', name=op.f('ck_support_activities_participants_not_negative')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_support_activities_cycle_id_cycles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_support_activities_goal_id_goals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['users.id'], name=op.f('fk_support_activities_provider_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_support_activities_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_activities'))
    )
    with op.batch_alter_table('support_activities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_activities_cycle_id'), ['cycle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_activities_provider_id'), ['provider_id'], unique=False)



def downgrade():
    with op.batch_alter_table('support_activities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_activities_provider_id'))
        batch_op.drop_index(batch_op.f('ix_support_activities_cycle_id'))

    op.drop_table('support_activities')
    with op.batch_alter_table('proposed_goals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposed_goals_review_id'))

    op.drop_table('proposed_goals')
    with op.batch_alter_table('measurements', schema=None) as batch_op:
        batch_op.drop_index('ix_measurements_goal_measured_on')

    op.drop_table('measurements')
    with op.batch_alter_table('improvement_tests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_improvement_tests_cycle_id'))

    op.drop_table('improvement_tests')
    op.drop_table('goal_ratings')
    with op.batch_alter_table('goals_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goals_reviews_cycle_id'))

    op.drop_table('goals_reviews')
    with op.batch_alter_table('goals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_goals_cycle_id'))

    op.drop_table('goals')
    with op.batch_alter_table('engagement_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engagement_sessions_cycle_id'))

    op.drop_table('engagement_sessions')
    with op.batch_alter_table('drivers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drivers_parent_id'))
        batch_op.drop_index(batch_op.f('ix_drivers_cycle_id'))

    op.drop_table('drivers')
    with op.batch_alter_table('cycle_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycle_memberships_user_id'))

    op.drop_table('cycle_memberships')
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cycles_school_year_id'))

    op.drop_table('cycles')
    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_index('ix_schools_name')

    op.drop_table('schools')

"""Integration data: enrollment counts, magnet schools' objectives, the district's settings.

Revision ID: 1eb207a68977
Revises: 244dabdb9c0f
Create Date: 2026-11-29 21:50:35.109183

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1eb207a68977'
down_revision = '244dabdb9c0f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('enrollment_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('school_year_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=4), nullable=True),
    sa.Column('measure', sa.Enum('enrollment', 'applicants', 'applied_enrolled', 'new_not_applied', 'continuing', name='enrollment_measure', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('student_group', sa.Enum('american_indian_alaska_native', 'asian', 'black', 'hispanic_latino', 'native_hawaiian_pacific_islander', 'white', 'two_or_more', 'unknown', 'low_income', 'not_low_income', name='student_group', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.CheckConstraint('count >= 0', name=op.f('ck_enrollment_counts_count_not_negative')),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_enrollment_counts_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_year_id'], ['school_years.id'], name=op.f('fk_enrollment_counts_school_year_id_school_years'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_counts'))
    )
    with op.batch_alter_table('enrollment_counts', schema=None) as batch_op:
        batch_op.create_index('ix_enrollment_counts_year_measure', ['school_year_id', 'measure'], unique=False)
        batch_op.create_index('uq_enrollment_counts_all_grades', ['school_id', 'school_year_id', 'measure', 'student_group'], unique=True, sqlite_where=sa.text('grade IS NULL'), postgresql_where=sa.text('grade IS NULL'))
        batch_op.create_index('uq_enrollment_counts_grade', ['school_id', 'school_year_id', 'grade', 'measure', 'student_group'], unique=True, sqlite_where=sa.text('grade IS NOT NULL'), postgresql_where=sa.text('grade IS NOT NULL'))

    op.create_table('integration_objectives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('absolute', 'relative_band', 'applicant_pool', 'prevent', name='objective_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('band_k', sa.Numeric(precision=4, scale=3), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=True),
    sa.Column('effective_from_year_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('band_k > 0 AND band_k <= 0.5', name=op.f('ck_integration_objectives_band_k_range')),
    sa.ForeignKeyConstraint(['effective_from_year_id'], ['school_years.id'], name=op.f('fk_integration_objectives_effective_from_year_id_school_years'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_integration_objectives_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_integration_objectives_set_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_objectives')),
    sa.UniqueConstraint('school_id', 'effective_from_year_id', name=op.f('uq_integration_objectives_school_id_effective_from_year_id'))
    )
    op.create_table('integration_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('minority_groups', sa.String(length=400), nullable=False),
    sa.Column('suppression_threshold', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('suppression_threshold BETWEEN 5 AND 100', name=op.f('ck_integration_settings_threshold_range')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_integration_settings_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_settings'))
    )
    op.create_table('integration_counts_versions',
    sa.Column('school_year_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['school_year_id'], ['school_years.id'], name=op.f('fk_integration_counts_versions_school_year_id_school_years'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('school_year_id', name=op.f('pk_integration_counts_versions'))
    )
    op.create_table('integration_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_year_id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('list_position', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('objectives', sa.JSON(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_integration_figures_school_id_schools'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['school_year_id'], ['school_years.id'], name=op.f('fk_integration_figures_school_year_id_school_years'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_figures'))
    )
    with op.batch_alter_table('integration_figures', schema=None) as batch_op:
        batch_op.create_index('ix_integration_figures_list', ['school_year_id', 'list_position'], unique=False)
        batch_op.create_index('ix_integration_figures_position', ['school_year_id', 'position'], unique=False)
        batch_op.create_index('ix_integration_figures_status', ['school_year_id', 'status', 'list_position'], unique=False)
        batch_op.create_index('uq_integration_figures_district', ['school_year_id'], unique=True, sqlite_where=sa.text('school_id IS NULL'), postgresql_where=sa.text('school_id IS NULL'))
        batch_op.create_index('uq_integration_figures_school', ['school_id', 'school_year_id'], unique=True, sqlite_where=sa.text('school_id IS NOT NULL'), postgresql_where=sa.text('school_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('integration_figures', schema=None) as batch_op:
        batch_op.drop_index('uq_integration_figures_school', sqlite_where=sa.text('school_id IS NOT NULL'), postgresql_where=sa.text('school_id IS NOT NULL'))
        batch_op.drop_index('uq_integration_figures_district', sqlite_where=sa.text('school_id IS NULL'), postgresql_where=sa.text('school_id IS NULL'))
        batch_op.drop_index('ix_integration_figures_status')
        batch_op.drop_index('ix_integration_figures_position')
        batch_op.drop_index('ix_integration_figures_list')

    op.drop_table('integration_figures')
    op.drop_table('integration_counts_versions')
    op.drop_table('integration_settings')
    op.drop_table('integration_objectives')
    with op.batch_alter_table('enrollment_counts', schema=None) as batch_op:
        batch_op.drop_index('uq_enrollment_counts_grade', sqlite_where=sa.text('grade IS NOT NULL'), postgresql_where=sa.text('grade IS NOT NULL'))
        batch_op.drop_index('uq_enrollment_counts_all_grades', sqlite_where=sa.text('grade IS NULL'), postgresql_where=sa.text('grade IS NULL'))
        batch_op.drop_index('ix_enrollment_counts_year_measure')

    op.drop_table('enrollment_counts')

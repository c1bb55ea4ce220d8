"""Capstones: versions, files, rubrics, reviews, decisions, outcomes

Revision ID: 165f9e73d0be
Revises: 141ba5a9c67f
Create Date: 2026-11-29 16:42:24.604400

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '165f9e73d0be'
down_revision = '141ba5a9c67f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('graduate_outcomes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('fellow_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('launched_school', 'leadership_role', 'other', name='graduate_outcome_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('school_name', sa.String(length=200), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=True),
    sa.Column('diverse_by_design', sa.Boolean(), nullable=True),
    sa.Column('role_title', sa.String(length=200), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_graduate_outcomes_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fellow_id'], ['users.id'], name=op.f('fk_graduate_outcomes_fellow_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_graduate_outcomes_recorded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_graduate_outcomes')),
    sa.UniqueConstraint('cohort_id', 'fellow_id', name=op.f('uq_graduate_outcomes_cohort_id_fellow_id'))
    )
    with op.batch_alter_table('graduate_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_graduate_outcomes_fellow_id'), ['fellow_id'], unique=False)

    op.create_table('rubrics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_rubrics_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubrics')),
    sa.UniqueConstraint('cohort_id', name=op.f('uq_rubrics_cohort_id'))
    )
    op.create_table('capstones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('fellow_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('problem_md', sa.Text(), nullable=False),
    sa.Column('community_md', sa.Text(), nullable=False),
    sa.Column('strand_id', sa.Integer(), nullable=True),
    sa.Column('school_level', sa.Enum('elementary', 'middle', 'high', 'k8', 'k12', 'other', name='capstone_school_level', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('topics', sa.String(length=300), nullable=False),
    sa.Column('status', sa.Enum('draft', 'proposal_submitted', 'proposal_revisions', 'proposal_approved', 'final_submitted', 'final_revisions', 'approved', name='capstone_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_capstones_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fellow_id'], ['users.id'], name=op.f('fk_capstones_fellow_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['strand_id'], ['strands.id'], name=op.f('fk_capstones_strand_id_strands'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capstones')),
    sa.UniqueConstraint('cohort_id', 'fellow_id', name=op.f('uq_capstones_cohort_id_fellow_id'))
    )
    with op.batch_alter_table('capstones', schema=None) as batch_op:
        batch_op.create_index('ix_capstones_cohort_status', ['cohort_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_capstones_fellow_id'), ['fellow_id'], unique=False)
        batch_op.create_index('ix_capstones_published', ['published_at'], unique=False)

    op.create_table('rubric_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rubric_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['rubric_id'], ['rubrics.id'], name=op.f('fk_rubric_criteria_rubric_id_rubrics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric_criteria'))
    )
    with op.batch_alter_table('rubric_criteria', schema=None) as batch_op:
        batch_op.create_index('ix_rubric_criteria_rubric_position', ['rubric_id', 'position'], unique=False)

    op.create_table('capstone_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('capstone_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('stage', sa.Enum('proposal', 'final', name='capstone_stage', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('narrative_md', sa.Text(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('problem_md', sa.Text(), nullable=True),
    sa.Column('community_md', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('number > 0', name=op.f('ck_capstone_versions_number_positive')),
    sa.ForeignKeyConstraint(['capstone_id'], ['capstones.id'], name=op.f('fk_capstone_versions_capstone_id_capstones'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capstone_versions')),
    sa.UniqueConstraint('capstone_id', 'number', name=op.f('uq_capstone_versions_capstone_id_number'))
    )
    op.create_table('rubric_levels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('descriptor', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['rubric_criteria.id'], name=op.f('fk_rubric_levels_criterion_id_rubric_criteria'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rubric_levels')),
    sa.UniqueConstraint('criterion_id', 'score', name=op.f('uq_rubric_levels_criterion_id_score'))
    )
    with op.batch_alter_table('rubric_levels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rubric_levels_criterion_id'), ['criterion_id'], unique=False)

    op.create_table('capstone_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('outcome', sa.Enum('approve', 'revise', name='capstone_decision_outcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('message_md', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_capstone_decisions_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['capstone_versions.id'], name=op.f('fk_capstone_decisions_version_id_capstone_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capstone_decisions')),
    sa.UniqueConstraint('version_id', name=op.f('uq_capstone_decisions_version_id'))
    )
    op.create_table('capstone_version_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('stored_file_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('in_library', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['stored_file_id'], ['stored_files.id'], name=op.f('fk_capstone_version_files_stored_file_id_stored_files'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['version_id'], ['capstone_versions.id'], name=op.f('fk_capstone_version_files_version_id_capstone_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_capstone_version_files')),
    sa.UniqueConstraint('version_id', 'stored_file_id', name=op.f('uq_capstone_version_files_version_id_stored_file_id'))
    )
    with op.batch_alter_table('capstone_version_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_capstone_version_files_stored_file_id'), ['stored_file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_capstone_version_files_version_id'), ['version_id'], unique=False)

    op.create_table('review_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_review_assignments_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_review_assignments_reviewer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['capstone_versions.id'], name=op.f('fk_review_assignments_version_id_capstone_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_assignments')),
    sa.UniqueConstraint('version_id', 'reviewer_id', name=op.f('uq_review_assignments_version_id_reviewer_id'))
    )
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_assignments_reviewer_id'), ['reviewer_id'], unique=False)

    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('comments_md', sa.Text(), nullable=False),
    sa.Column('recommendation', sa.Enum('approve', 'revise', name='review_recommendation', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['review_assignments.id'], name=op.f('fk_reviews_assignment_id_review_assignments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_reviews_assignment_id'))
    )


def downgrade():
    op.drop_table('reviews')
    with op.batch_alter_table('review_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_assignments_reviewer_id'))

    op.drop_table('review_assignments')
    with op.batch_alter_table('capstone_version_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_capstone_version_files_version_id'))
        batch_op.drop_index(batch_op.f('ix_capstone_version_files_stored_file_id'))

    op.drop_table('capstone_version_files')
    op.drop_table('capstone_decisions')
    with op.batch_alter_table('rubric_levels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rubric_levels_criterion_id'))

    op.drop_table('rubric_levels')
    op.drop_table('capstone_versions')
    with op.batch_alter_table('rubric_criteria', schema=None) as batch_op:
        batch_op.drop_index('ix_rubric_criteria_rubric_position')

    op.drop_table('rubric_criteria')
    with op.batch_alter_table('capstones', schema=None) as batch_op:
        batch_op.drop_index('ix_capstones_published')
        batch_op.drop_index(batch_op.f('ix_capstones_fellow_id'))
        batch_op.drop_index('ix_capstones_cohort_status')

    op.drop_table('capstones')
    op.drop_table('rubrics')
    with op.batch_alter_table('graduate_outcomes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_graduate_outcomes_fellow_id'))

    op.drop_table('graduate_outcomes')

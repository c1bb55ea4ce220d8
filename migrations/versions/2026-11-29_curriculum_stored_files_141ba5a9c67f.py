"""Curriculum: modules, items, progress, extensions; stored files

Revision ID: 141ba5a9c67f
Revises: c4c6330ddb11
Create Date: 2026-11-29 15:55:07.837374

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '141ba5a9c67f'
down_revision = 'c4c6330ddb11'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('original_name', sa.String(length=255), nullable=False),
    sa.Column('storage_key', sa.String(length=80), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_stored_files_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_stored_files_storage_key'))
    )
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_files_sha256'), ['sha256'], unique=False)

    op.create_table('modules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('strand_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('outcomes_md', sa.Text(), nullable=False),
    sa.Column('release_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('estimated_minutes', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('estimated_minutes IS NULL OR estimated_minutes > 0', name=op.f('ck_modules_minutes_positive')),
    sa.CheckConstraint('release_on IS NULL OR due_on IS NULL OR due_on >= release_on', name=op.f('ck_modules_due_after_release')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_modules_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['strand_id'], ['strands.id'], name=op.f('fk_modules_strand_id_strands'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_modules'))
    )
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.create_index('ix_modules_cohort_position', ['cohort_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_modules_strand_id'), ['strand_id'], unique=False)

    op.create_table('due_date_extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('fellow_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['fellow_id'], ['users.id'], name=op.f('fk_due_date_extensions_fellow_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_due_date_extensions_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_due_date_extensions_module_id_modules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_due_date_extensions')),
    sa.UniqueConstraint('module_id', 'fellow_id', name=op.f('uq_due_date_extensions_module_id_fellow_id'))
    )
    with op.batch_alter_table('due_date_extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_due_date_extensions_fellow_id'), ['fellow_id'], unique=False)

    op.create_table('module_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('reading', 'link', 'file', 'video', 'reflection', name='module_item_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=True),
    sa.Column('stored_file_id', sa.Integer(), nullable=True),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_module_items_module_id_modules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stored_file_id'], ['stored_files.id'], name=op.f('fk_module_items_stored_file_id_stored_files'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_module_items'))
    )
    with op.batch_alter_table('module_items', schema=None) as batch_op:
        batch_op.create_index('ix_module_items_module_position', ['module_id', 'position'], unique=False)

    op.create_table('module_prerequisites',
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('requires_module_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('module_id <> requires_module_id', name=op.f('ck_module_prerequisites_not_itself')),
    sa.ForeignKeyConstraint(['module_id'], ['modules.id'], name=op.f('fk_module_prerequisites_module_id_modules'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requires_module_id'], ['modules.id'], name=op.f('fk_module_prerequisites_requires_module_id_modules'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('module_id', 'requires_module_id', name=op.f('pk_module_prerequisites'))
    )
    with op.batch_alter_table('module_prerequisites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_module_prerequisites_requires_module_id'), ['requires_module_id'], unique=False)

    op.create_table('item_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('fellow_id', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response_md', sa.Text(), nullable=False),
    sa.Column('response_saved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_md', sa.Text(), nullable=False),
    sa.Column('feedback_by_id', sa.Integer(), nullable=True),
    sa.Column('feedback_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['feedback_by_id'], ['users.id'], name=op.f('fk_item_progress_feedback_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fellow_id'], ['users.id'], name=op.f('fk_item_progress_fellow_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['module_items.id'], name=op.f('fk_item_progress_item_id_module_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_progress')),
    sa.UniqueConstraint('item_id', 'fellow_id', name=op.f('uq_item_progress_item_id_fellow_id'))
    )
    with op.batch_alter_table('item_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_progress_fellow_id'), ['fellow_id'], unique=False)
        batch_op.create_index('ix_item_progress_waiting', ['submitted_at', 'feedback_at'], unique=False)



def downgrade():
    with op.batch_alter_table('item_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_item_progress_waiting')
        batch_op.drop_index(batch_op.f('ix_item_progress_fellow_id'))

    op.drop_table('item_progress')
    with op.batch_alter_table('module_prerequisites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_module_prerequisites_requires_module_id'))

    op.drop_table('module_prerequisites')
    with op.batch_alter_table('module_items', schema=None) as batch_op:
        batch_op.drop_index('ix_module_items_module_position')

    op.drop_table('module_items')
    with op.batch_alter_table('due_date_extensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_due_date_extensions_fellow_id'))

    op.drop_table('due_date_extensions')
    with op.batch_alter_table('modules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_modules_strand_id'))
        batch_op.drop_index('ix_modules_cohort_position')

    op.drop_table('modules')
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_files_sha256'))

    op.drop_table('stored_files')

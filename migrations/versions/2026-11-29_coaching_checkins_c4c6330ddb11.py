"""Coaching: check-ins, private notes (own table), focus areas, replies, action items

Revision ID: c4c6330ddb11
Revises: 795dff1c0519
Create Date: 2026-11-29 14:27:51.254184

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4c6330ddb11'
down_revision = '795dff1c0519'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('coach_id', sa.Integer(), nullable=False),
    sa.Column('fellow_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('mode', sa.Enum('in_person', 'video', 'phone', name='checkin_mode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('shared_summary_md', sa.Text(), nullable=False),
    sa.Column('next_steps_md', sa.Text(), nullable=False),
    sa.Column('next_checkin_on', sa.Date(), nullable=True),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('duration_minutes > 0', name=op.f('ck_checkins_duration_positive')),
    sa.ForeignKeyConstraint(['coach_id'], ['users.id'], name=op.f('fk_checkins_coach_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_checkins_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['fellow_id'], ['users.id'], name=op.f('fk_checkins_fellow_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkins'))
    )
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.create_index('ix_checkins_coach_held', ['coach_id', 'held_on'], unique=False)
        batch_op.create_index('ix_checkins_cohort_fellow_held', ['cohort_id', 'fellow_id', 'held_on'], unique=False)

    op.create_table('action_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], name=op.f('fk_action_items_checkin_id_checkins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['done_by_id'], ['users.id'], name=op.f('fk_action_items_done_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_action_items_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_items'))
    )
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_items_checkin_id'), ['checkin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_action_items_owner_id'), ['owner_id'], unique=False)

    op.create_table('checkin_focuses',
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('strand_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], name=op.f('fk_checkin_focuses_checkin_id_checkins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['strand_id'], ['strands.id'], name=op.f('fk_checkin_focuses_strand_id_strands'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('checkin_id', 'strand_id', name=op.f('pk_checkin_focuses'))
    )
    op.create_table('checkin_private_notes',
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('coach_id', sa.Integer(), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], name=op.f('fk_checkin_private_notes_checkin_id_checkins'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['coach_id'], ['users.id'], name=op.f('fk_checkin_private_notes_coach_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('checkin_id', name=op.f('pk_checkin_private_notes'))
    )
    op.create_table('checkin_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_checkin_replies_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkins.id'], name=op.f('fk_checkin_replies_checkin_id_checkins'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_replies'))
    )
    with op.batch_alter_table('checkin_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_replies_checkin_id'), ['checkin_id'], unique=False)



def downgrade():
    with op.batch_alter_table('checkin_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_replies_checkin_id'))

    op.drop_table('checkin_replies')
    op.drop_table('checkin_private_notes')
    op.drop_table('checkin_focuses')
    with op.batch_alter_table('action_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_items_owner_id'))
        batch_op.drop_index(batch_op.f('ix_action_items_checkin_id'))

    op.drop_table('action_items')
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_checkins_cohort_fellow_held')
        batch_op.drop_index('ix_checkins_coach_held')

    op.drop_table('checkins')

"""sent marks: periodic messages sent once per person and period (the lead's Monday 团队周报)

Revision ID: 0028_sent_marks
Revises: 0027_team_memberships
Create Date: 2026-12-03 15:10:00

A periodic task that tells each lead about last week must tell them once, whatever runs it twice (a
retry, a second worker). ``sent_marks`` holds one row per (kind, user, period) under a unique
constraint: the task claims the row before it notifies, in the same transaction.
"""
import sqlalchemy as sa
from alembic import op

import kdcs.models.types

# revision identifiers, used by Alembic.
revision = '0028_sent_marks'
down_revision = '0027_team_memberships'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sent_marks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('sent_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sent_marks_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_marks')),
    sa.UniqueConstraint('kind', 'user_id', 'period', name='uq_sent_marks_kind_user_period')
    )


def downgrade():
    op.drop_table('sent_marks')

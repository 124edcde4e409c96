"""overtime: hours agents worked for an outlet, decided by their lead, billed at the outlet's agreed rate

Revision ID: 0020_overtime
Revises: 0019_fine_agent
Create Date: 2026-12-03 02:40:00

The domain: "Overtime is billed to the outlet at an agreed rate." ``outlets.overtime_rate`` is that
rate (元/小时; empty: none agreed yet). ``overtime_entries`` holds each day's overtime for one outlet:
recorded by the agent, approved or rejected by their lead; an approved entry keeps the rate of the
day it was approved, so a later change of the agreement does not rewrite a billed month.
"""
import sqlalchemy as sa
from alembic import op

import kdcs.models.types

# revision identifiers, used by Alembic.
revision = '0020_overtime'
down_revision = '0019_fine_agent'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN on both databases (no batch rebuild of a table others reference).
    op.add_column('outlets', sa.Column('overtime_rate', kdcs.models.types.Money(precision=10, scale=2), nullable=True))
    op.create_table('overtime_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('work_date', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('rate', kdcs.models.types.Money(precision=10, scale=2), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.String(length=200), nullable=False),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_overtime_entries_decided_by_id_users')),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_overtime_entries_outlet_id_outlets')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_overtime_entries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_overtime_entries'))
    )
    with op.batch_alter_table('overtime_entries', schema=None) as batch_op:
        batch_op.create_index('ix_overtime_entries_outlet_day', ['outlet_id', 'work_date'], unique=False)
        batch_op.create_index('ix_overtime_entries_status', ['status'], unique=False)
        batch_op.create_index('ix_overtime_entries_user_day', ['user_id', 'work_date'], unique=False)


def downgrade():
    with op.batch_alter_table('overtime_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_overtime_entries_user_day')
        batch_op.drop_index('ix_overtime_entries_status')
        batch_op.drop_index('ix_overtime_entries_outlet_day')
    op.drop_table('overtime_entries')
    op.drop_column('outlets', 'overtime_rate')

"""follow-ups (跟进): what an agent promised on a ticket, to whom and by when; reminded once when due, the lead told once when an hour late

Revision ID: 0023_follow_ups
Revises: 0022_fined_at
Create Date: 2026-12-03 07:00:00

A new table only: no batch rebuild of ``tickets`` (its counter triggers stay).
"""
import sqlalchemy as sa
from alembic import op

import kdcs.models.types

# revision identifiers, used by Alembic.
revision = '0023_follow_ups'
down_revision = '0022_fined_at'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ticket_follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.String(length=16), nullable=False),
    sa.Column('promise', sa.Text(), nullable=False),
    sa.Column('due_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), server_default='open', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), server_default='', nullable=False),
    sa.Column('reminded_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_ticket_follow_ups_closed_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_ticket_follow_ups_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_follow_ups_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_follow_ups'))
    )
    with op.batch_alter_table('ticket_follow_ups', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_follow_ups_state_due', ['state', 'due_at'], unique=False)
        batch_op.create_index('ix_ticket_follow_ups_ticket', ['ticket_id', 'state'], unique=False)


def downgrade():
    with op.batch_alter_table('ticket_follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_follow_ups_ticket')
        batch_op.drop_index('ix_ticket_follow_ups_state_due')
    op.drop_table('ticket_follow_ups')

"""the month a fine counts in: when it was first recorded

Revision ID: 0022_fined_at
Revises: 0021_reply_agent
Create Date: 2026-12-03 03:20:00

罚款, the lead's 本月罚款, 团队表现 and 网点月报 counted a fine in every month it was recorded *or
corrected* in, at its current amount: a fine corrected a month later was counted in both months.
``tickets.fined_at`` is when it was first recorded; a correction changes the amount, not the month.
Existing fines take their first fine event's time.
"""
import sqlalchemy as sa
from alembic import op

import kdcs.models.types

# revision identifiers, used by Alembic.
revision = '0022_fined_at'
down_revision = '0021_reply_agent'
branch_labels = None
depends_on = None


def upgrade():
    # As 0019: a plain ADD COLUMN (no batch rebuild of tickets: its counter triggers would be dropped).
    op.add_column('tickets', sa.Column('fined_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE tickets SET fined_at = (SELECT min(e.at) FROM ticket_events e"
               " WHERE e.ticket_id = tickets.id AND e.kind = 'fine') WHERE fine_amount IS NOT NULL")
    op.create_index('ix_tickets_fined_at', 'tickets', ['fined_at'], unique=False)


def downgrade():
    op.drop_index('ix_tickets_fined_at', table_name='tickets')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE tickets DROP COLUMN fined_at')
    else:
        op.drop_column('tickets', 'fined_at')

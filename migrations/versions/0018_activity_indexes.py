"""activity indexes: ticket events by kind and time, replies by time

Revision ID: 0018_activity_indexes
Revises: 0017_worker_heartbeat
Create Date: 2026-12-01 07:20:00

The lead's home counts "fined this month" from the fine events and "replied today" from
the replies; without these indexes both read every event / reply ever recorded (the
events grow with every note, status change and assignment).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0018_activity_indexes'
down_revision = '0017_worker_heartbeat'
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX (no batch mode: nothing here may rebuild a table and drop its triggers).
    op.create_index('ix_ticket_events_kind_at', 'ticket_events', ['kind', 'at', 'ticket_id'], unique=False)
    op.create_index('ix_ticket_replies_sent', 'ticket_replies', ['sent_at', 'ticket_id'], unique=False)


def downgrade():
    op.drop_index('ix_ticket_replies_sent', table_name='ticket_replies')
    op.drop_index('ix_ticket_events_kind_at', table_name='ticket_events')

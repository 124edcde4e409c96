"""task worker heartbeat

Revision ID: 0017_worker_heartbeat
Revises: 0016_ticket_counts
Create Date: 2026-12-01 03:00:00

One row per running task worker process (host:pid), its beat refreshed every
20 seconds; the admin home page and /healthz read the newest one.
"""
from alembic import op
import sqlalchemy as sa

import kdcs.models.types


# revision identifiers, used by Alembic.
revision = '0017_worker_heartbeat'
down_revision = '0016_ticket_counts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('worker_heartbeats',
    sa.Column('worker', sa.String(length=200), nullable=False),
    sa.Column('started_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beat_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('worker', name=op.f('pk_worker_heartbeats'))
    )
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_heartbeats_beat_at'), ['beat_at'], unique=False)


def downgrade():
    with op.batch_alter_table('worker_heartbeats', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_heartbeats_beat_at'))
    op.drop_table('worker_heartbeats')

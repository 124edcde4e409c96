"""idempotency keys for ticket writes

Revision ID: 0015_idempotency_keys
Revises: 0014_import_value_maps
Create Date: 2026-12-01 03:00:00

One row per (user, action, key) a form sent with a write (notes, replies, fines, evidence
uploads): a second submit of the same form answers the stored result instead of storing it
twice. Rows older than a day are purged by a periodic task. The older per-table unique
``idempotency_key`` columns of ticket_replies and ticket_attachments stay (unused from now on:
dropping them would rebuild both tables on SQLite).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import kdcs.models.types  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0015_idempotency_keys'
down_revision = '0014_import_value_maps'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('result_ids', sa.String(length=400), nullable=False),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_idempotency_keys_ticket_id_tickets'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('user_id', 'action', 'key', name='uq_idempotency_keys_user_action_key')
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_idempotency_keys_ticket_id'), ['ticket_id'], unique=False)


def downgrade():
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_ticket_id'))
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')

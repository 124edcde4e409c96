"""whom a ticket's first reply deadline counts for: the assignee when it passed or was met

Revision ID: 0021_reply_agent
Revises: 0020_overtime
Create Date: 2026-12-03 03:00:00

团队表现 and 我的表现 counted every reply deadline for the ticket's current assignee, so a ticket
reassigned after its deadline (a lead clearing an absent agent's queue) moved the miss to the
agent who received it. ``reply_agent_id`` keeps the agent who held the ticket when the deadline
passed without a reply (stamped by the escalation task) or when the first reply was recorded.
Existing tickets keep NULL: the pages count their assignee, as before.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_reply_agent'
down_revision = '0020_overtime'
branch_labels = None
depends_on = None


def upgrade():
    # As 0019: no batch rebuild of tickets (its counter triggers would be dropped on SQLite).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE tickets ADD COLUMN reply_agent_id INTEGER REFERENCES users (id)')
    else:
        op.add_column('tickets', sa.Column('reply_agent_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_tickets_reply_agent_id_users', 'tickets', 'users', ['reply_agent_id'], ['id'])
    op.create_index('ix_tickets_reply_agent_id', 'tickets', ['reply_agent_id'], unique=False)


def downgrade():
    op.drop_index('ix_tickets_reply_agent_id', table_name='tickets')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE tickets DROP COLUMN reply_agent_id')
    else:
        op.drop_constraint('fk_tickets_reply_agent_id_users', 'tickets', type_='foreignkey')
        op.drop_column('tickets', 'reply_agent_id')

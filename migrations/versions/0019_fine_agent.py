"""who bears a ticket's fine: the agent it was assigned to when the fine was first recorded

Revision ID: 0019_fine_agent
Revises: 0018_activity_indexes
Create Date: 2026-12-02 15:20:00

The fines of a month (/tickets/fines) attribute each fine to an agent. The ticket's current
assignee is not that agent once the ticket has been reassigned, so the fine keeps the agent it
was first recorded against. Existing fines take their ticket's assignee (what the pages showed).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_fine_agent'
down_revision = '0018_activity_indexes'
branch_labels = None
depends_on = None


def upgrade():
    # No batch mode: rebuilding tickets on SQLite would drop its counter triggers. SQLite adds the
    # column with its REFERENCES clause in place (ALTER TABLE … ADD COLUMN … REFERENCES); a column
    # clause carries no name or ON DELETE that SQLite's reflection would read back, so the key has
    # neither on either database (users are deactivated, never deleted: a fine keeps its agent).
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE tickets ADD COLUMN fine_agent_id INTEGER REFERENCES users (id)')
    else:
        op.add_column('tickets', sa.Column('fine_agent_id', sa.Integer(), nullable=True))
        op.create_foreign_key('fk_tickets_fine_agent_id_users', 'tickets', 'users', ['fine_agent_id'], ['id'])
    op.execute('UPDATE tickets SET fine_agent_id = assignee_id WHERE fine_amount IS NOT NULL')


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE tickets DROP COLUMN fine_agent_id')
    else:
        op.drop_constraint('fk_tickets_fine_agent_id_users', 'tickets', type_='foreignkey')
        op.drop_column('tickets', 'fine_agent_id')

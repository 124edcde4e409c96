"""outlet assignments: who was an outlet's primary agent from when (人均毛利's past months)

Revision ID: 0026_outlet_assignments
Revises: 0025_labour_costs
Create Date: 2026-12-03 12:40:00

``outlets.primary_agent_id`` says who has an outlet now; a past month's fee went to whoever had it
then. ``outlet_assignments`` keeps one row per change (written by ``kdcs.outlets.assignments`` on
every flush that creates an outlet or changes its agent). Each existing outlet starts with one row:
the agent it has now, since it was created (what every page assumed until now).
"""
import sqlalchemy as sa
from alembic import op

import kdcs.models.types

# revision identifiers, used by Alembic.
revision = '0026_outlet_assignments'
down_revision = '0025_labour_costs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outlet_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('since', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_outlet_assignments_agent_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_outlet_assignments_outlet_id_outlets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlet_assignments'))
    )
    op.create_index('ix_outlet_assignments_outlet_since', 'outlet_assignments', ['outlet_id', 'since'], unique=False)
    op.execute("INSERT INTO outlet_assignments (outlet_id, agent_id, since) "
               "SELECT id, primary_agent_id, created_at FROM outlets ORDER BY id")


def downgrade():
    op.drop_index('ix_outlet_assignments_outlet_since', table_name='outlet_assignments')
    op.drop_table('outlet_assignments')

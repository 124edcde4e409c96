"""labour costs: what each person costs a month, from a month on (人均毛利)

Revision ID: 0025_labour_costs
Revises: 0024_category_queue_covering
Create Date: 2026-12-03 12:20:00

The domain: "Gross margin per agent = fees of their outlets − labour cost." The fees are known
(volumes × the rate in force); the labour cost is new data. ``labour_costs`` keeps it as a history
like ``outlet_rates``: one entry per person and month it changes from. A new table only: nothing
else is rebuilt.
"""
import sqlalchemy as sa
from alembic import op

import kdcs.models.types

# revision identifiers, used by Alembic.
revision = '0025_labour_costs'
down_revision = '0024_category_queue_covering'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('labour_costs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('amount', kdcs.models.types.Money(precision=12, scale=2), nullable=False),
    sa.Column('note', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_labour_costs_created_by_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_labour_costs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labour_costs')),
    sa.UniqueConstraint('user_id', 'month', name='uq_labour_costs_user_month')
    )
    op.create_index(op.f('ix_labour_costs_user_id'), 'labour_costs', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_labour_costs_user_id'), table_name='labour_costs')
    op.drop_table('labour_costs')

"""leave proof state: whether a request's proof (病假条 ...) is pending, promised for later, or received

Revision ID: 0009_leave_proof
Revises: 0008_leave
Create Date: 2026-12-01 01:05:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_leave_proof'
down_revision = '0008_leave'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proof_status', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('leave_requests', schema=None) as batch_op:
        batch_op.drop_column('proof_status')

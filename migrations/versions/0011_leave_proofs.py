"""leave proofs: files (病假条 ...) uploaded by the requester, stored by kdcs.storage

Revision ID: 0011_leave_proofs
Revises: 0010_ticket_desk
Create Date: 2026-12-01 02:00:00

"""
from alembic import op
import sqlalchemy as sa

import kdcs.models.types


# revision identifiers, used by Alembic.
revision = '0011_leave_proofs'
down_revision = '0010_ticket_desk'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('leave_proofs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['leave_requests.id'], name=op.f('fk_leave_proofs_request_id_leave_requests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_leave_proofs_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_leave_proofs'))
    )
    with op.batch_alter_table('leave_proofs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_leave_proofs_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('leave_proofs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_leave_proofs_request_id'))
    op.drop_table('leave_proofs')

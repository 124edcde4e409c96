"""import value mapping remembered per brand

Revision ID: 0014_import_value_maps
Revises: 0013_outlet_rates
Create Date: 2026-12-01 03:00:00

Brand values the import learned (import_value_maps), the checked header, the distinct values
and the error groups of a job, and the cells of each rejected row (for the rejected-rows file).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import kdcs.models.types  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0014_import_value_maps'
down_revision = '0013_outlet_rates'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_value_maps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('brand_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=16), nullable=False),
    sa.Column('context', sa.String(length=16), server_default='', nullable=False),
    sa.Column('source_key', sa.String(length=64), nullable=False),
    sa.Column('source_text', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=32), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['brand_id'], ['brands.id'], name=op.f('fk_import_value_maps_brand_id_brands'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_import_value_maps_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_value_maps')),
    sa.UniqueConstraint('brand_id', 'field', 'context', 'source_key', name='uq_import_value_maps_brand_field_context_key')
    )
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('header_names', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('value_counts', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('error_groups', sa.JSON(), nullable=True))
    with op.batch_alter_table('import_job_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('raw', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('import_job_rows', schema=None) as batch_op:
        batch_op.drop_column('raw')
    with op.batch_alter_table('import_jobs', schema=None) as batch_op:
        batch_op.drop_column('error_groups')
        batch_op.drop_column('value_counts')
        batch_op.drop_column('header_names')
    op.drop_table('import_value_maps')

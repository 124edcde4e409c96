"""outlet rate history (rates per 票 from a month on)

Revision ID: 0013_outlet_rates
Revises: 0012_training
Create Date: 2026-12-01 03:00:00

Creates ``outlet_rates`` and turns each outlet's single ``rate_per_parcel``
into its first history entry, from the outlet's earliest month (its first
recorded volume month, or the month it was created if earlier), so every fee
shown before the migration stays the same figure after it.
"""
from datetime import UTC, date, datetime

from alembic import op
import sqlalchemy as sa

import kdcs.models.types


# revision identifiers, used by Alembic.
revision = '0013_outlet_rates'
down_revision = '0012_training'
branch_labels = None
depends_on = None

FIRST_NOTE = "迁移前的单一费率"


def upgrade():
    op.create_table('outlet_rates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outlet_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('rate', kdcs.models.types.Money(precision=12, scale=4), nullable=False),
    sa.Column('note', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_outlet_rates_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outlet_id'], ['outlets.id'], name=op.f('fk_outlet_rates_outlet_id_outlets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outlet_rates')),
    sa.UniqueConstraint('outlet_id', 'month', name='uq_outlet_rates_outlet_month')
    )
    with op.batch_alter_table('outlet_rates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outlet_rates_outlet_id'), ['outlet_id'], unique=False)

    # Data: today's single rate becomes the first entry, covering every month billed so far.
    bind = op.get_bind()
    outlets = sa.table('outlets', sa.column('id', sa.Integer()), sa.column('rate_per_parcel', kdcs.models.types.Money(12, 4)),
                       sa.column('created_at', kdcs.models.types.UTCDateTime(timezone=True)))
    volumes = sa.table('outlet_volumes', sa.column('outlet_id', sa.Integer()), sa.column('month', sa.Date()))
    first_volume = dict(bind.execute(
        sa.select(volumes.c.outlet_id, sa.func.min(volumes.c.month)).group_by(volumes.c.outlet_id)).all())
    now = datetime.now(UTC)
    rows = []
    for outlet_id, rate, created_at in bind.execute(sa.select(outlets.c.id, outlets.c.rate_per_parcel, outlets.c.created_at)):
        months = [m for m in (first_volume.get(outlet_id), created_at.date() if created_at else None) if m is not None]
        first = min(months) if months else now.date()
        if isinstance(first, str):  # SQLite's min() over a DATE column comes back as text
            first = date.fromisoformat(first[:10])
        rows.append({"outlet_id": outlet_id, "month": first.replace(day=1), "rate": rate, "note": FIRST_NOTE,
                     "created_by_id": None, "created_at": now, "updated_at": now})
    if rows:
        rates = sa.table('outlet_rates', sa.column('outlet_id', sa.Integer()), sa.column('month', sa.Date()),
                         sa.column('rate', kdcs.models.types.Money(12, 4)), sa.column('note', sa.String()),
                         sa.column('created_by_id', sa.Integer()),
                         sa.column('created_at', kdcs.models.types.UTCDateTime(timezone=True)),
                         sa.column('updated_at', kdcs.models.types.UTCDateTime(timezone=True)))
        op.bulk_insert(rates, rows)


def downgrade():
    # The newest entry's rate is what ``outlets.rate_per_parcel`` holds already; the history goes.
    with op.batch_alter_table('outlet_rates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outlet_rates_outlet_id'))
    op.drop_table('outlet_rates')

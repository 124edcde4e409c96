"""outlet rate history (rates per 票 from a month on)

Revision ID: 0013_outlet_rates
Revises: 0012_training
Create Date: 2026-12-01 03:00:00

PLACEHOLDER: no-op until its owner fills it (keep revision/down_revision as they are).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import kdcs.models.types  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0013_outlet_rates'
down_revision = '0012_training'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

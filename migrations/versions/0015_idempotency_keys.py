"""idempotency keys for ticket writes

Revision ID: 0015_idempotency_keys
Revises: 0014_import_value_maps
Create Date: 2026-12-01 03:00:00

PLACEHOLDER: no-op until its owner fills it (keep revision/down_revision as they are).
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
    pass


def downgrade():
    pass

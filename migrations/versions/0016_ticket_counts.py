"""ticket counters for fast tab counts

Revision ID: 0016_ticket_counts
Revises: 0015_idempotency_keys
Create Date: 2026-12-01 03:00:00

PLACEHOLDER: no-op until its owner fills it (keep revision/down_revision as they are).
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401

import kdcs.models.types  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0016_ticket_counts'
down_revision = '0015_idempotency_keys'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

"""team memberships: which team each person was in from when (team figures of past periods)

Revision ID: 0027_team_memberships
Revises: 0026_outlet_assignments
Create Date: 2026-12-03 15:00:00

``users.team_id`` says which team someone is in now; a past week's 团队表现, a month's fines by team
and 人均毛利 by team should count the people who were in the team then. ``team_memberships`` keeps one
row per change (written by ``kdcs.org.memberships`` on every flush that creates an account or changes
its team). Each existing account starts with one row: the team it has now, since it was created (what
every page assumed until now).
"""
import sqlalchemy as sa
from alembic import op

import kdcs.models.types

# revision identifiers, used by Alembic.
revision = '0027_team_memberships'
down_revision = '0026_outlet_assignments'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('team_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('since', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_memberships_team_id_teams'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_team_memberships_user_id_users'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_memberships'))
    )
    op.create_index('ix_team_memberships_user_since', 'team_memberships', ['user_id', 'since'], unique=False)
    op.create_index(op.f('ix_team_memberships_team_id'), 'team_memberships', ['team_id'], unique=False)
    op.execute("INSERT INTO team_memberships (user_id, team_id, since) "
               "SELECT id, team_id, created_at FROM users ORDER BY id")


def downgrade():
    op.drop_index(op.f('ix_team_memberships_team_id'), table_name='team_memberships')
    op.drop_index('ix_team_memberships_user_since', table_name='team_memberships')
    op.drop_table('team_memberships')

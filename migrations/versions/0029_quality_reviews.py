"""quality reviews (质检): the scorecard, reviews of recorded replies and their scored criteria, appeals

Revision ID: 0029_quality_reviews
Revises: 0028_sent_marks
Create Date: 2026-12-04 01:20:00

The scorecard starts with five criteria worth 100 points together (admins and trainers change it in
the app): a fresh installation can review replies on its first day.
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import kdcs.models.types

# revision identifiers, used by Alembic.
revision = '0029_quality_reviews'
down_revision = '0028_sent_marks'
branch_labels = None
depends_on = None

DEFAULT_CRITERIA = [  # name, points, what earns them
    ("开场与称呼", 10, "问候客户、报出身份，称呼得体"),
    ("共情与服务态度", 20, "先安抚情绪，语气礼貌，不推诿、不争辩"),
    ("按SOP处理", 30, "话术与处理步骤符合该场景的SOP，未越权承诺"),
    ("信息准确完整", 20, "运单号、时效、赔付等信息准确，回答了客户的问题"),
    ("承诺与跟进", 20, "给出明确时限，需要跟进的已记录跟进"),
]


def upgrade():
    criteria = op.create_table('quality_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('hint', sa.String(length=200), server_default='', nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_criteria')),
    sa.UniqueConstraint('name', name=op.f('uq_quality_criteria_name'))
    )
    op.create_table('quality_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reply_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('reply_sent_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('awarded', sa.Integer(), nullable=False),
    sa.Column('possible', sa.Integer(), nullable=False),
    sa.Column('fatal', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('appeal_state', sa.String(length=16), nullable=True),
    sa.Column('appeal_reason', sa.Text(), server_default='', nullable=False),
    sa.Column('appealed_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('appeal_decided_by_id', sa.Integer(), nullable=True),
    sa.Column('appeal_decided_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('appeal_note', sa.Text(), server_default='', nullable=False),
    sa.Column('original_score', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['appeal_decided_by_id'], ['users.id'],
                            name=op.f('fk_quality_reviews_appeal_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_quality_reviews_agent_id_users'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reply_id'], ['ticket_replies.id'], name=op.f('fk_quality_reviews_reply_id_ticket_replies'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_quality_reviews_reviewer_id_users'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_quality_reviews_ticket_id_tickets'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_reviews')),
    sa.UniqueConstraint('reply_id', name=op.f('uq_quality_reviews_reply_id'))
    )
    op.create_index('ix_quality_reviews_agent_sent', 'quality_reviews', ['agent_id', 'reply_sent_at'], unique=False)
    op.create_index('ix_quality_reviews_created', 'quality_reviews', ['created_at'], unique=False)
    op.create_index('ix_quality_reviews_appeal_state', 'quality_reviews', ['appeal_state'], unique=False)
    op.create_index(op.f('ix_quality_reviews_ticket_id'), 'quality_reviews', ['ticket_id'], unique=False)
    op.create_table('quality_review_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('criterion_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('awarded', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['criterion_id'], ['quality_criteria.id'],
                            name=op.f('fk_quality_review_items_criterion_id_quality_criteria'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['review_id'], ['quality_reviews.id'],
                            name=op.f('fk_quality_review_items_review_id_quality_reviews'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_review_items'))
    )
    op.create_index(op.f('ix_quality_review_items_review_id'), 'quality_review_items', ['review_id'], unique=False)
    now = datetime.now(UTC)
    op.bulk_insert(criteria, [
        {"name": name, "points": points, "hint": hint, "position": n, "is_active": True, "created_at": now,
         "version": 1}
        for n, (name, points, hint) in enumerate(DEFAULT_CRITERIA)])


def downgrade():
    op.drop_index(op.f('ix_quality_review_items_review_id'), table_name='quality_review_items')
    op.drop_table('quality_review_items')
    op.drop_index(op.f('ix_quality_reviews_ticket_id'), table_name='quality_reviews')
    op.drop_index('ix_quality_reviews_appeal_state', table_name='quality_reviews')
    op.drop_index('ix_quality_reviews_created', table_name='quality_reviews')
    op.drop_index('ix_quality_reviews_agent_sent', table_name='quality_reviews')
    op.drop_table('quality_reviews')
    op.drop_table('quality_criteria')

"""training: courses, lessons, attachments, question banks, quiz attempts, practical items and
sign-offs, programmes and enrollments, assignments, lesson progress, course results, agent
certification, reminder markers; users.start_date (入职日期)

Revision ID: 0012_training
Revises: 0011_leave_proofs
Create Date: 2026-12-01 03:00:00

"""
from alembic import op
import sqlalchemy as sa

import kdcs.models.types


# revision identifiers, used by Alembic.
revision = '0012_training'
down_revision = '0011_leave_proofs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agent_certifications',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('certified_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('flagged_until', sa.Date(), nullable=True),
    sa.Column('lapsed_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('updated_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_agent_certifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_agent_certifications'))
    )
    with op.batch_alter_table('agent_certifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_certifications_state'), ['state'], unique=False)

    op.create_table('training_courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('required_for_live', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), server_default='0', nullable=False),
    sa.Column('revision_note', sa.String(length=500), nullable=False),
    sa.Column('published_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('quiz_size', sa.Integer(), server_default='10', nullable=False),
    sa.Column('quiz_per_tag', sa.JSON(), nullable=False),
    sa.Column('pass_percent', sa.Integer(), server_default='90', nullable=False),
    sa.Column('time_limit_minutes', sa.Integer(), nullable=True),
    sa.Column('max_attempts', sa.Integer(), nullable=True),
    sa.Column('retry_wait_minutes', sa.Integer(), server_default='0', nullable=False),
    sa.Column('review_policy', sa.String(length=16), nullable=False),
    sa.Column('recert_days', sa.Integer(), server_default='14', nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_training_courses_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_courses'))
    )
    with op.batch_alter_table('training_courses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_courses_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_courses_required_for_live'), ['required_for_live'], unique=False)
        batch_op.create_index(batch_op.f('ix_training_courses_status'), ['status'], unique=False)

    op.create_table('training_programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('is_default', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_training_programmes_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_programmes'))
    )
    op.create_table('course_results',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('passed_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('passed_revision', sa.Integer(), nullable=True),
    sa.Column('quiz_passed_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recert_due_on', sa.Date(), nullable=True),
    sa.Column('expires_on', sa.Date(), nullable=True),
    sa.Column('lapsed_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_course_results_course_id_training_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_course_results_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_results')),
    sa.UniqueConstraint('user_id', 'course_id', name='uq_course_results_user_course')
    )
    with op.batch_alter_table('course_results', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_course_results_course_id'), ['course_id'], unique=False)

    op.create_table('practical_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('sop_scenario_id', sa.Integer(), nullable=True),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('pass_score', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_practical_items_course_id_training_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sop_scenario_id'], ['sop_scenarios.id'], name=op.f('fk_practical_items_sop_scenario_id_sop_scenarios'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practical_items'))
    )
    with op.batch_alter_table('practical_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_practical_items_course_id'), ['course_id'], unique=False)

    op.create_table('programme_enrollments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_programme_enrollments_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['programme_id'], ['training_programmes.id'], name=op.f('fk_programme_enrollments_programme_id_training_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_programme_enrollments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_enrollments')),
    sa.UniqueConstraint('programme_id', 'user_id', name='uq_programme_enrollments_programme_user')
    )
    with op.batch_alter_table('programme_enrollments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_enrollments_user_id'), ['user_id'], unique=False)

    op.create_table('quiz_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('course_revision', sa.Integer(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('started_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('timed_out', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('correct_count', sa.Integer(), nullable=True),
    sa.Column('score_percent', sa.Integer(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('wrong_question_ids', sa.JSON(), nullable=False),
    sa.Column('is_archived', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('archived_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('archive_note', sa.String(length=500), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_quiz_attempts_course_id_training_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_quiz_attempts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempts')),
    sa.UniqueConstraint('course_id', 'user_id', 'number', name='uq_quiz_attempts_course_user_number')
    )
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_quiz_attempts_user_course', ['user_id', 'course_id'], unique=False)

    op.create_table('training_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_training_assignments_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_training_assignments_course_id_training_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['training_programmes.id'], name=op.f('fk_training_assignments_programme_id_training_programmes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_training_assignments_team_id_teams'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_training_assignments_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_assignments')),
    sa.UniqueConstraint('user_id', 'course_id', name='uq_training_assignments_user_course')
    )
    with op.batch_alter_table('training_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_assignments_course_id'), ['course_id'], unique=False)

    op.create_table('training_lessons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sop_scenario_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_training_lessons_course_id_training_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sop_scenario_id'], ['sop_scenarios.id'], name=op.f('fk_training_lessons_sop_scenario_id_sop_scenarios'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_lessons'))
    )
    with op.batch_alter_table('training_lessons', schema=None) as batch_op:
        batch_op.create_index('ix_training_lessons_course_position', ['course_id', 'position'], unique=False)

    op.create_table('training_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('correct', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_training_questions_course_id_training_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_training_questions_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_questions'))
    )
    with op.batch_alter_table('training_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_questions_course_id'), ['course_id'], unique=False)

    op.create_table('training_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('sent_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_training_reminders_course_id_training_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_training_reminders_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_reminders')),
    sa.UniqueConstraint('kind', 'user_id', 'course_id', 'key', name='uq_training_reminders_kind_user_course_key')
    )
    with op.batch_alter_table('training_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_reminders_user_id'), ['user_id'], unique=False)

    op.create_table('lesson_progress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('first_opened_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['lesson_id'], ['training_lessons.id'], name=op.f('fk_lesson_progress_lesson_id_training_lessons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lesson_progress_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_progress')),
    sa.UniqueConstraint('user_id', 'lesson_id', name='uq_lesson_progress_user_lesson')
    )
    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesson_progress_lesson_id'), ['lesson_id'], unique=False)

    op.create_table('practical_signoffs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('course_revision', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('checklist', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=True),
    sa.Column('signed_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('is_archived', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['practical_items.id'], name=op.f('fk_practical_signoffs_item_id_practical_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_practical_signoffs_signed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_practical_signoffs_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practical_signoffs'))
    )
    with op.batch_alter_table('practical_signoffs', schema=None) as batch_op:
        batch_op.create_index('ix_practical_signoffs_user_item', ['user_id', 'item_id'], unique=False)

    op.create_table('programme_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('day_offset', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=True),
    sa.Column('practical_item_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['training_courses.id'], name=op.f('fk_programme_items_course_id_training_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practical_item_id'], ['practical_items.id'], name=op.f('fk_programme_items_practical_item_id_practical_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['training_programmes.id'], name=op.f('fk_programme_items_programme_id_training_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_items'))
    )
    with op.batch_alter_table('programme_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_programme_items_programme_id'), ['programme_id'], unique=False)

    op.create_table('training_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('stored_name', sa.String(length=80), nullable=False),
    sa.Column('original_name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('uploaded_at', kdcs.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lesson_id'], ['training_lessons.id'], name=op.f('fk_training_attachments_lesson_id_training_lessons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_training_attachments_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_attachments'))
    )
    with op.batch_alter_table('training_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_training_attachments_lesson_id'), ['lesson_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('start_date', sa.Date(), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('start_date')

    with op.batch_alter_table('training_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_attachments_lesson_id'))

    op.drop_table('training_attachments')
    with op.batch_alter_table('programme_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_items_programme_id'))

    op.drop_table('programme_items')
    with op.batch_alter_table('practical_signoffs', schema=None) as batch_op:
        batch_op.drop_index('ix_practical_signoffs_user_item')

    op.drop_table('practical_signoffs')
    with op.batch_alter_table('lesson_progress', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesson_progress_lesson_id'))

    op.drop_table('lesson_progress')
    with op.batch_alter_table('training_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_reminders_user_id'))

    op.drop_table('training_reminders')
    with op.batch_alter_table('training_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_questions_course_id'))

    op.drop_table('training_questions')
    with op.batch_alter_table('training_lessons', schema=None) as batch_op:
        batch_op.drop_index('ix_training_lessons_course_position')

    op.drop_table('training_lessons')
    with op.batch_alter_table('training_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_assignments_course_id'))

    op.drop_table('training_assignments')
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_quiz_attempts_user_course')

    op.drop_table('quiz_attempts')
    with op.batch_alter_table('programme_enrollments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_programme_enrollments_user_id'))

    op.drop_table('programme_enrollments')
    with op.batch_alter_table('practical_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_practical_items_course_id'))

    op.drop_table('practical_items')
    with op.batch_alter_table('course_results', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_course_results_course_id'))

    op.drop_table('course_results')
    op.drop_table('training_programmes')
    with op.batch_alter_table('training_courses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_training_courses_status'))
        batch_op.drop_index(batch_op.f('ix_training_courses_required_for_live'))
        batch_op.drop_index(batch_op.f('ix_training_courses_kind'))

    op.drop_table('training_courses')
    with op.batch_alter_table('agent_certifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_certifications_state'))

    op.drop_table('agent_certifications')

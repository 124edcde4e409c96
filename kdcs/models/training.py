"""Training (培训) and going live (上岗): courses, lessons, question banks, quizzes, practical
sign-off, the 30-day programme, assignments, progress, results and certification.

A course (课程) has ordered lessons (Markdown, may embed an SOP scenario's current version,
may carry attachments), a question bank and practical items (情景模拟 / 实战带教). A course's
``revision`` counts its published content: publishing a *required change* of a 上岗必修 course
bumps it, and agents who passed an older revision must re-pass by a due date (待复训).

A quiz attempt fixes its questions and the order of their options when it starts; the
correct answers live only in ``TrainingQuestion.correct`` and never reach the browser before
submission. An attempt is submitted once (its ``version`` guards the race) and kept: resets
archive attempts, never delete them.

``CourseResult`` (one row per agent and course) and ``AgentCertification`` (one row per
agent) are maintained by the certification service in the same transaction as the event
that changes them (quiz submitted, practical signed off, required change published, reset,
periodic lapse); the gates (outlet primary agent, ticket assignment, leave substitute) read
``AgentCertification`` only.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow
from .user import User


class CourseKind(StrEnum):
    ONBOARDING = "onboarding"  # 新人入职
    QUARTERLY = "quarterly"  # 季度提升
    SPECIAL = "special"  # 专项


class CourseStatus(StrEnum):
    DRAFT = "draft"  # 草稿 (never published)
    PUBLISHED = "published"  # 已发布
    ARCHIVED = "archived"  # 已归档


class QuestionKind(StrEnum):
    SINGLE = "single"  # 单选
    MULTIPLE = "multiple"  # 多选
    TRUE_FALSE = "true_false"  # 判断


class ReviewPolicy(StrEnum):
    SCORE = "score"  # 只显示分数
    WRONG = "wrong"  # 显示错题
    FULL = "full"  # 显示正确答案和解析


class PracticalKind(StrEnum):
    ROLE_PLAY = "role_play"  # 情景模拟 (of a named SOP scenario)
    SUPERVISED = "supervised"  # 实战带教 (N days of supervised work)


class AssignmentSource(StrEnum):
    PROGRAMME = "programme"  # from a 30-day programme
    COURSE = "course"  # assigned to this agent
    TEAM = "team"  # assigned to the agent's whole team
    RECERT = "recert"  # a required change of a course they had passed


class CertificationState(StrEnum):
    NONE = "none"  # 未上岗: never certified (or no required course passed yet)
    CERTIFIED = "certified"  # 已上岗
    FLAGGED = "flagged"  # 待复训: live, but must re-pass a changed course by a due date
    LAPSED = "lapsed"  # 已失效: recertification missed or certificate expired


class TrainingCourse(db.Model):
    """One course: its lessons, question bank, practical items and quiz settings."""

    __tablename__ = "training_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(16), default=CourseKind.ONBOARDING, index=True)
    required_for_live: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0", index=True)  # 上岗必修
    status: Mapped[str] = mapped_column(String(16), default=CourseStatus.DRAFT, index=True)
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # published content revision
    revision_note: Mapped[str] = mapped_column(String(500), default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Quiz settings
    quiz_size: Mapped[int] = mapped_column(Integer, default=10, server_default="10")  # N questions drawn
    quiz_per_tag: Mapped[dict] = mapped_column(JSON, default=dict)  # {"破损": 3, ...}: N per tag (optional)
    pass_percent: Mapped[int] = mapped_column(Integer, default=90, server_default="90")
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer)
    max_attempts: Mapped[int | None] = mapped_column(Integer)  # None: unlimited
    retry_wait_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    review_policy: Mapped[str] = mapped_column(String(16), default=ReviewPolicy.WRONG)
    # Certification settings
    recert_days: Mapped[int] = mapped_column(Integer, default=14, server_default="14")  # after a required change
    valid_days: Mapped[int | None] = mapped_column(Integer)  # a pass expires after this many days (None: never)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    lessons: Mapped[list[TrainingLesson]] = relationship(
        back_populates="course", order_by="TrainingLesson.position", cascade="all, delete-orphan")
    practical_items: Mapped[list[PracticalItem]] = relationship(
        back_populates="course", order_by="PracticalItem.position", cascade="all, delete-orphan")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    __mapper_args__ = {"version_id_col": version}


class TrainingLesson(db.Model):
    """One lesson of a course, in order: Markdown, optionally an embedded SOP scenario."""

    __tablename__ = "training_lessons"
    __table_args__ = (Index("ix_training_lessons_course_position", "course_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown (kdcs.markdown pipeline)
    sop_scenario_id: Mapped[int | None] = mapped_column(ForeignKey("sop_scenarios.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    course: Mapped[TrainingCourse] = relationship(back_populates="lessons")
    attachments: Mapped[list[TrainingAttachment]] = relationship(
        back_populates="lesson", order_by="TrainingAttachment.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class TrainingAttachment(db.Model):
    """A file of a lesson (PDF, image, spreadsheet, short video), stored by kdcs.storage."""

    __tablename__ = "training_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("training_lessons.id", ondelete="CASCADE"), index=True)
    stored_name: Mapped[str] = mapped_column(String(80))
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lesson: Mapped[TrainingLesson] = relationship(back_populates="attachments")


class TrainingQuestion(db.Model):
    """One question of a course's bank. ``options`` are ``[{"key": "k3f9", "text": "..."}]``
    with keys that say nothing about correctness; ``correct`` lists the right keys and is
    only ever read on the server."""

    __tablename__ = "training_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=QuestionKind.SINGLE)
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list] = mapped_column(JSON, default=list)
    correct: Mapped[list] = mapped_column(JSON, default=list)
    explanation: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class QuizAttempt(db.Model):
    """One attempt at a course's quiz: questions and option order fixed at start, answers saved
    as the agent goes, scored once on the server at submission (or when time ran out)."""

    __tablename__ = "quiz_attempts"
    __table_args__ = (
        UniqueConstraint("course_id", "user_id", "number", name="uq_quiz_attempts_course_user_number"),
        Index("ix_quiz_attempts_user_course", "user_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, 3 ... per agent and course (archived ones included)
    course_revision: Mapped[int] = mapped_column(Integer, default=0)
    questions: Mapped[list] = mapped_column(JSON, default=list)  # [{"id": 12, "options": ["k3f9", ...]}] in shown order
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # {"12": ["k3f9"]}: saved so far
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # time limit, enforced on the server
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    timed_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    total: Mapped[int] = mapped_column(Integer, default=0)
    correct_count: Mapped[int | None] = mapped_column(Integer)
    score_percent: Mapped[int | None] = mapped_column(Integer)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    wrong_question_ids: Mapped[list] = mapped_column(JSON, default=list)  # for review and per-question stats
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archive_note: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    course: Mapped[TrainingCourse] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    __mapper_args__ = {"version_id_col": version}


class PracticalItem(db.Model):
    """A practical requirement of a course: 情景模拟 of an SOP scenario or N days of 实战带教."""

    __tablename__ = "practical_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16), default=PracticalKind.ROLE_PLAY)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    sop_scenario_id: Mapped[int | None] = mapped_column(ForeignKey("sop_scenarios.id", ondelete="SET NULL"))
    days: Mapped[int | None] = mapped_column(Integer)  # 实战带教: supervised days
    checklist: Mapped[list] = mapped_column(JSON, default=list)  # ["开场白规范", "核实运单号", ...]
    pass_score: Mapped[int | None] = mapped_column(Integer)  # out of 100; None: the signer's verdict only
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    course: Mapped[TrainingCourse] = relationship(back_populates="practical_items")

    __mapper_args__ = {"version_id_col": version}


class PracticalSignoff(db.Model):
    """A trainer's or lead's recorded outcome of one practical item for one agent."""

    __tablename__ = "practical_signoffs"
    __table_args__ = (Index("ix_practical_signoffs_user_item", "user_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("practical_items.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_revision: Mapped[int] = mapped_column(Integer, default=0)
    passed: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[int | None] = mapped_column(Integer)
    checklist: Mapped[list] = mapped_column(JSON, default=list)  # [{"text": "...", "ok": true}]
    comment: Mapped[str] = mapped_column(Text, default="")
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    item: Mapped[PracticalItem] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])


class TrainingProgramme(db.Model):
    """An ordered plan (e.g. 新人30天计划) of courses and practical items by day offset."""

    __tablename__ = "training_programmes"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")  # auto-assigned to new agents
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    items: Mapped[list[ProgrammeItem]] = relationship(
        back_populates="programme", order_by="(ProgrammeItem.day_offset, ProgrammeItem.position)",
        cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class ProgrammeItem(db.Model):
    """One step of a programme: a course or a practical item, due on 第 N 天."""

    __tablename__ = "programme_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("training_programmes.id", ondelete="CASCADE"), index=True)
    day_offset: Mapped[int] = mapped_column(Integer, default=1)  # 1..30
    position: Mapped[int] = mapped_column(Integer, default=0)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"))
    practical_item_id: Mapped[int | None] = mapped_column(ForeignKey("practical_items.id", ondelete="CASCADE"))
    note: Mapped[str] = mapped_column(String(200), default="")

    programme: Mapped[TrainingProgramme] = relationship(back_populates="items")
    course: Mapped[TrainingCourse | None] = relationship()
    practical_item: Mapped[PracticalItem | None] = relationship()


class ProgrammeEnrollment(db.Model):
    """An agent following a programme from a start date (item due = start + day_offset - 1)."""

    __tablename__ = "programme_enrollments"
    __table_args__ = (UniqueConstraint("programme_id", "user_id", name="uq_programme_enrollments_programme_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("training_programmes.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    programme: Mapped[TrainingProgramme] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class TrainingAssignment(db.Model):
    """A course an agent must complete by a due date (one row per agent and course)."""

    __tablename__ = "training_assignments"
    __table_args__ = (UniqueConstraint("user_id", "course_id", name="uq_training_assignments_user_course"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"), index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default=AssignmentSource.COURSE)
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("training_programmes.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    course: Mapped[TrainingCourse] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class LessonProgress(db.Model):
    """An agent's progress in one lesson: opened, then marked done (once)."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("user_id", "lesson_id", name="uq_lesson_progress_user_lesson"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("training_lessons.id", ondelete="CASCADE"), index=True)
    first_opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CourseResult(db.Model):
    """Where one agent stands in one course: passed (which revision, when), re-pass due, expiry."""

    __tablename__ = "course_results"
    __table_args__ = (UniqueConstraint("user_id", "course_id", name="uq_course_results_user_course"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"), index=True)
    passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # quiz and every practical item passed
    passed_revision: Mapped[int | None] = mapped_column(Integer)
    quiz_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recert_due_on: Mapped[date | None] = mapped_column(Date)  # a required change since the pass: re-pass by
    expires_on: Mapped[date | None] = mapped_column(Date)  # the pass lapses after this day (valid_days)
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AgentCertification(db.Model):
    """An agent's going-live state (上岗), read by every gate (outlets, tickets, leave)."""

    __tablename__ = "agent_certifications"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=CertificationState.NONE, index=True)
    certified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the date shown on the profile
    flagged_until: Mapped[date | None] = mapped_column(Date)  # earliest re-pass due date while FLAGGED
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(500), default="")  # why not certified (missing courses)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class TrainingReminder(db.Model):
    """A reminder sent (due soon, overdue, re-pass due, expiry): a marker so it is sent once."""

    __tablename__ = "training_reminders"
    __table_args__ = (
        UniqueConstraint("kind", "user_id", "course_id", "key", name="uq_training_reminders_kind_user_course_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("training_courses.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64), default="")  # e.g. the due date or revision it is about
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

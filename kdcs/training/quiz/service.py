"""Question banks and quizzes: the rules (no request objects here).

* **Banks**: a course's questions (单选 / 多选 / 判断), each with options whose keys are random
  short tokens (they say nothing about correctness), the correct keys, an explanation and tags.
  Trainers (EDIT_TRAINING) add, edit and deactivate them; questions are never deleted (old
  attempts point at them).
* **Attempts**: ``start_attempt`` draws N random active questions (or N per tag) and shuffles
  each question's options; both are fixed in the attempt. Answers are saved one question at a
  time (``save_answer``); ``submit_attempt`` scores once, on the server, guarded by the
  attempt's version (a second submit finds it submitted and only shows the result). An attempt
  past its deadline scores what was saved (opened, answered or submitted late, or closed by the
  periodic task). Scoring calls ``certification.service.on_quiz_scored`` in the same transaction.
* **Limits**: attempts per agent (archived ones do not count), a wait after a failed attempt,
  no new attempt once passed at the course's current revision.
"""

from __future__ import annotations

import random
import secrets
import string
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from ... import auditing
from ...extensions import db
from ...filters import SHANGHAI
from ...models.training import (
    CourseStatus,
    QuestionKind,
    QuizAttempt,
    ReviewPolicy,
    TrainingCourse,
    TrainingQuestion,
)
from ...permissions import Permission, ensure
from ...service_errors import NotFound, StaleEdit, ValidationError
from ..certification import service as certification
from ..courses import service as courses
from ..courses.service import get_visible_course

KEY_ALPHABET = string.ascii_lowercase + string.digits
KEY_LENGTH = 5
MAX_OPTIONS = 6
MIN_OPTIONS = 2
MAX_TAGS = 8
MAX_TAG_LENGTH = 20
MAX_TEXT = 2000
MAX_OPTION_TEXT = 300
MAX_EXPLANATION = 2000
MAX_QUIZ_SIZE = 100
MAX_TIME_LIMIT = 24 * 60
MAX_RETRY_WAIT = 30 * 24 * 60
MAX_ATTEMPTS = 100
# A save or submit this many seconds after the deadline still counts (the request was on its way).
GRACE_SECONDS = 5
TRUE_FALSE_TEXTS = ("正确", "错误")


auditing.register_labels(
    actions={
        "training_question.create": _l("Question added"),
        "training_question.update": _l("Question changed"),
        "training_question.import": _l("Questions imported from Excel"),
        "training_question.activate": _l("Question activated"),
        "training_question.deactivate": _l("Question deactivated"),
        "training_course.quiz_settings": _l("Quiz settings changed"),
    },
    entities={"training_question": _l("Question")},
    fields={
        "training_question.kind": _l("Question kind"), "training_question.text": _l("Question"),
        "training_question.options": _l("Options"), "training_question.correct": _l("Correct options"),
        "training_question.explanation": _l("Explanation"), "training_question.tags": _l("Tags"),
        "quiz_size": _l("Questions per attempt"), "quiz_per_tag": _l("Questions per tag (optional)"),
        "pass_percent": _l("Pass mark (%)"), "time_limit_minutes": _l("Time limit (minutes, empty: none)"),
        "max_attempts": _l("Attempts allowed (empty: unlimited)"),
        "retry_wait_minutes": _l("Wait after a failed attempt (minutes)"),
        "review_policy": _l("After submitting, agents see"),
    },
)


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def kind_label(kind: str) -> str:
    """单选 / 多选 / 判断."""
    return {QuestionKind.SINGLE: _("Single choice"), QuestionKind.MULTIPLE: _("Multiple choice"),
            QuestionKind.TRUE_FALSE: _("True or false")}.get(kind, kind)


def review_label(policy: str) -> str:
    """What the agent sees after submitting, in words."""
    return {ReviewPolicy.SCORE: _("Score only"), ReviewPolicy.WRONG: _("Which questions were wrong"),
            ReviewPolicy.FULL: _("Right answers and explanations")}.get(policy, policy)


# --------------------------------------------------------------------------- courses


def get_editable_course(user, course_id: int) -> TrainingCourse:
    """A course whose bank and quiz settings ``user`` may edit (EDIT_TRAINING), else NotFound/403."""
    return courses.get_course_for_edit(user, course_id)


# --------------------------------------------------------------------------- the bank


def new_key(taken=()) -> str:
    """A random option key (5 lowercase letters/digits) not in ``taken``."""
    while True:
        key = "".join(secrets.choice(KEY_ALPHABET) for _i in range(KEY_LENGTH))
        if key not in taken:
            return key


def questions_of(course_id: int, *, active_only: bool = False) -> list[TrainingQuestion]:
    """The course's questions, oldest first (active ones only if asked)."""
    query = select(TrainingQuestion).where(TrainingQuestion.course_id == course_id)
    if active_only:
        query = query.where(TrainingQuestion.is_active.is_(True))
    return list(db.session.scalars(query.order_by(TrainingQuestion.id)))


def get_question(user, question_id: int) -> TrainingQuestion:
    """A question ``user`` may edit (EDIT_TRAINING), else NotFound."""
    ensure(user, Permission.EDIT_TRAINING)
    question = db.session.get(TrainingQuestion, question_id)
    if question is None:
        raise NotFound()
    return question


def parse_tags(text: str) -> list[str]:
    """'破损, 时效；理赔' → ['破损', '时效', '理赔'] (commas, 顿号, semicolons or spaces; no repeats)."""
    for separator in "，、；;\n\t ":
        text = text.replace(separator, ",")
    tags: list[str] = []
    for tag in (t.strip() for t in text.split(",")):
        if tag and tag not in tags:
            tags.append(tag)
    return tags


@dataclass
class QuestionDraft:
    """A question as typed (form or spreadsheet row), checked by ``check_question``."""

    kind: str
    text: str
    options: list[str]  # texts, in order (blank ones dropped)
    correct: list[int]  # 0-based positions in ``options``
    explanation: str = ""
    tags: list[str] = field(default_factory=list)


def check_question(draft: QuestionDraft) -> dict[str, str]:
    """Chinese messages per field for a draft that cannot be saved; {} when it is fine."""
    errors: dict[str, str] = {}
    if draft.kind not in set(QuestionKind):
        errors["kind"] = _("Choose single choice, multiple choice or true/false.")
    text = draft.text.strip()
    if not text:
        errors["text"] = _("Write the question.")
    elif len(text) > MAX_TEXT:
        errors["text"] = _("The question is longer than %(n)d characters.", n=MAX_TEXT)
    options = draft.options
    if len(options) < MIN_OPTIONS:
        errors["options"] = _("A question needs at least %(n)d options.", n=MIN_OPTIONS)
    elif len(options) > MAX_OPTIONS:
        errors["options"] = _("A question has at most %(n)d options.", n=MAX_OPTIONS)
    elif draft.kind == QuestionKind.TRUE_FALSE and len(options) != 2:
        errors["options"] = _("A true/false question has exactly two options.")
    elif any(len(o) > MAX_OPTION_TEXT for o in options):
        errors["options"] = _("An option is longer than %(n)d characters.", n=MAX_OPTION_TEXT)
    elif len(set(options)) != len(options):
        errors["options"] = _("Two options have the same text.")
    if "options" not in errors and "kind" not in errors:
        correct = sorted(set(draft.correct))
        if any(i < 0 or i >= len(options) for i in correct):
            errors["correct"] = _("A correct answer points at an option that does not exist.")
        elif draft.kind == QuestionKind.MULTIPLE and len(correct) < 2:
            errors["correct"] = _("A multiple-choice question needs at least two correct options.")
        elif draft.kind == QuestionKind.MULTIPLE and len(correct) == len(options):
            errors["correct"] = _("Not every option can be correct.")
        elif draft.kind != QuestionKind.MULTIPLE and len(correct) != 1:
            errors["correct"] = _("Mark exactly one correct option.")
    if len(draft.explanation) > MAX_EXPLANATION:
        errors["explanation"] = _("The explanation is longer than %(n)d characters.", n=MAX_EXPLANATION)
    if len(draft.tags) > MAX_TAGS:
        errors["tags"] = _("At most %(n)d tags.", n=MAX_TAGS)
    elif any(len(t) > MAX_TAG_LENGTH for t in draft.tags):
        errors["tags"] = _("A tag is longer than %(n)d characters.", n=MAX_TAG_LENGTH)
    return errors


def _apply_draft(question: TrainingQuestion, draft: QuestionDraft) -> None:
    """Options keep their keys (attempts in progress point at them): an unchanged text keeps its
    key wherever it moved; an option edited in place keeps the key of its position, unless that
    key went with its text elsewhere; anything else gets a new random key."""
    old = list(question.options or [])
    by_text = {o["text"]: o["key"] for o in old}
    moved = {by_text[text] for text in draft.options if text in by_text}
    taken = {o["key"] for o in old}
    keys: list[str] = []
    for index, text in enumerate(draft.options):
        key = by_text.get(text)
        if key is None and index < len(old) and old[index]["key"] not in moved:
            key = old[index]["key"]
        if key is None or key in keys:
            key = new_key(taken | set(keys))
        keys.append(key)
    question.kind = draft.kind
    question.text = draft.text.strip()
    question.options = [{"key": key, "text": text} for key, text in zip(keys, draft.options, strict=True)]
    question.correct = [keys[i] for i in sorted(set(draft.correct))]
    question.explanation = draft.explanation.strip()
    question.tags = list(draft.tags)


def _commit_or_stale() -> None:
    """Commit; a row someone else saved meanwhile (version check) is StaleEdit (409), nothing written."""
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        raise StaleEdit() from None


def _question_snapshot(question: TrainingQuestion) -> dict:
    return auditing.snapshot(question, ["kind", "text", "options", "correct", "explanation", "tags"])


def create_question(actor, course: TrainingCourse, draft: QuestionDraft) -> TrainingQuestion:
    """Add a question to the course's bank (audited); ValidationError with Chinese messages."""
    ensure(actor, Permission.EDIT_TRAINING)
    errors = check_question(draft)
    if errors:
        raise ValidationError(errors)
    question = TrainingQuestion(course_id=course.id, created_by_id=actor.id, options=[], correct=[], tags=[])
    _apply_draft(question, draft)
    db.session.add(question)
    db.session.flush()
    auditing.record(actor, "training_question.create", "training_question", question.id,
                    summary=question.text[:80], after=_question_snapshot(question))
    db.session.commit()
    return question


def update_question(actor, question: TrainingQuestion, draft: QuestionDraft, *, version: int | None) -> TrainingQuestion:
    """Save an edited question; a stale ``version`` is StaleEdit (409), a bad draft ValidationError."""
    ensure(actor, Permission.EDIT_TRAINING)
    if version is None or version != question.version:
        raise StaleEdit()
    errors = check_question(draft)
    if errors:
        raise ValidationError(errors)
    before = _question_snapshot(question)
    _apply_draft(question, draft)
    auditing.record(actor, "training_question.update", "training_question", question.id,
                    summary=question.text[:80], before=before, after=_question_snapshot(question))
    _commit_or_stale()
    return question


def set_question_active(actor, question: TrainingQuestion, active: bool) -> bool:
    """Activate or deactivate a question (inactive ones are never drawn); audited; False if unchanged."""
    ensure(actor, Permission.EDIT_TRAINING)
    changed = auditing.record_active_change(actor, question, active, "training_question", question.text[:80])
    if changed:
        db.session.commit()
    return changed


def import_questions(actor, course: TrainingCourse, drafts: list[QuestionDraft]) -> list[TrainingQuestion]:
    """Add checked drafts to the bank, all in one transaction (the caller checked every row first)."""
    ensure(actor, Permission.EDIT_TRAINING)
    for draft in drafts:
        errors = check_question(draft)
        if errors:
            raise ValidationError(errors)
    made = []
    for draft in drafts:
        question = TrainingQuestion(course_id=course.id, created_by_id=actor.id, options=[], correct=[], tags=[])
        _apply_draft(question, draft)
        db.session.add(question)
        made.append(question)
    db.session.flush()
    auditing.record(actor, "training_question.import", "training_course", course.id,
                    summary=_("%(n)d questions imported", n=len(made)), after={"questions": [q.id for q in made]})
    db.session.commit()
    return made


def bank_tags(course_id: int) -> Counter:
    """Tag → number of active questions carrying it."""
    counts: Counter = Counter()
    for question in questions_of(course_id, active_only=True):
        counts.update(question.tags or [])
    return counts


# --------------------------------------------------------------------------- settings


@dataclass
class QuizSettings:
    quiz_size: int
    quiz_per_tag: dict[str, int]
    pass_percent: int
    time_limit_minutes: int | None
    max_attempts: int | None
    retry_wait_minutes: int
    review_policy: str


def parse_per_tag(text: str) -> dict[str, int]:
    """'破损:3, 时效：2' → {'破损': 3, '时效': 2}; ValueError with a Chinese message if malformed."""
    result: dict[str, int] = {}
    for separator in "，、；;\n":
        text = text.replace(separator, ",")
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        tag, colon, number = part.replace("：", ":").rpartition(":")
        tag = tag.strip()
        if not colon or not tag or not number.strip().isdigit():
            raise ValueError(_("Write each tag as 标签:题数, e.g. 破损:3, 时效:2."))
        count = int(number.strip())
        if not 1 <= count <= MAX_QUIZ_SIZE:
            raise ValueError(_("A tag draws between 1 and %(n)d questions.", n=MAX_QUIZ_SIZE))
        result[tag] = count
    return result


def format_per_tag(per_tag: dict | None) -> str:
    """{'破损': 3} → '破损:3, ...' (the settings form's text)."""
    return ", ".join(f"{tag}:{count}" for tag, count in (per_tag or {}).items())


def update_settings(actor, course: TrainingCourse, settings: QuizSettings, *, version: int | None) -> TrainingCourse:
    """Save a course's quiz settings (audited); StaleEdit when the course changed meanwhile."""
    ensure(actor, Permission.EDIT_TRAINING)
    if version is None or version != course.version:
        raise StaleEdit()
    errors: dict[str, str] = {}
    if not 1 <= settings.quiz_size <= MAX_QUIZ_SIZE:
        errors["quiz_size"] = _("Between 1 and %(n)d questions.", n=MAX_QUIZ_SIZE)
    if sum(settings.quiz_per_tag.values()) > MAX_QUIZ_SIZE:
        errors["quiz_per_tag"] = _("At most %(n)d questions in all.", n=MAX_QUIZ_SIZE)
    if not 1 <= settings.pass_percent <= 100:
        errors["pass_percent"] = _("Between 1 and 100.")
    if settings.time_limit_minutes is not None and not 1 <= settings.time_limit_minutes <= MAX_TIME_LIMIT:
        errors["time_limit_minutes"] = _("Between 1 and %(n)d minutes, or empty for no limit.", n=MAX_TIME_LIMIT)
    if settings.max_attempts is not None and not 1 <= settings.max_attempts <= MAX_ATTEMPTS:
        errors["max_attempts"] = _("Between 1 and %(n)d, or empty for no limit.", n=MAX_ATTEMPTS)
    if not 0 <= settings.retry_wait_minutes <= MAX_RETRY_WAIT:
        errors["retry_wait_minutes"] = _("Between 0 and %(n)d minutes.", n=MAX_RETRY_WAIT)
    if settings.review_policy not in set(ReviewPolicy):
        errors["review_policy"] = _("Choose what agents see after submitting.")
    if errors:
        raise ValidationError(errors)
    fields = ["quiz_size", "quiz_per_tag", "pass_percent", "time_limit_minutes", "max_attempts",
              "retry_wait_minutes", "review_policy"]
    before = auditing.snapshot(course, fields)
    for name in fields:
        setattr(course, name, getattr(settings, name))
    auditing.record(actor, "training_course.quiz_settings", "training_course", course.id, summary=course.title,
                    before=before, after=auditing.snapshot(course, fields))
    _commit_or_stale()
    return course


# --------------------------------------------------------------------------- attempts: who may start


def attempts_of(user_id: int, course_id: int, *, include_archived: bool = True) -> list[QuizAttempt]:
    """A person's attempts at a course, newest first."""
    query = select(QuizAttempt).where(QuizAttempt.user_id == user_id, QuizAttempt.course_id == course_id)
    if not include_archived:
        query = query.where(QuizAttempt.is_archived.is_(False))
    return list(db.session.scalars(query.order_by(QuizAttempt.number.desc())))


def is_expired(attempt: QuizAttempt, now: datetime | None = None) -> bool:
    """An open attempt whose deadline (plus a few seconds' grace) has passed."""
    return (attempt.submitted_at is None and attempt.deadline_at is not None
            and _now(now) > attempt.deadline_at + timedelta(seconds=GRACE_SECONDS))


def open_attempt(user_id: int, course_id: int, now: datetime | None = None) -> QuizAttempt | None:
    """The person's attempt in progress at this course (not submitted, not archived, not expired)."""
    for attempt in attempts_of(user_id, course_id, include_archived=False):
        if attempt.submitted_at is None and not is_expired(attempt, now):
            return attempt
    return None


def _local_hhmm(moment: datetime, now: datetime) -> str:
    local = moment.astimezone(SHANGHAI)
    today = now.astimezone(SHANGHAI).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")


@dataclass
class StartCheck:
    can_start: bool
    reason: str = ""  # Chinese, when it cannot
    available_at: datetime | None = None  # the wait after a failed attempt ends


def start_check(user, course: TrainingCourse, now: datetime | None = None) -> StartCheck:
    """Whether ``user`` may start a new attempt now, and if not why (in Chinese).

    Not when the course is unpublished or its bank empty, when passed at the current revision,
    when ``max_attempts`` attempts at the current revision are used (archived ones never count),
    or within ``retry_wait_minutes`` of the last failed attempt ("请于 HH:MM 后再试")."""
    now = _now(now)
    published = course.status == CourseStatus.PUBLISHED
    closed = _closed(course, len(_draw_plan(course)) if published else 0)
    if closed is not None:
        return closed
    return _start_check_of(course, attempts_of(user.id, course.id, include_archived=False), now)


def _closed(course: TrainingCourse, question_count: int) -> StartCheck | None:
    """Why nobody can start the course's quiz (unpublished, or no active question), else None."""
    if course.status != CourseStatus.PUBLISHED:
        return StartCheck(False, _("The course is not published: its quiz cannot be taken yet."))
    if not question_count:
        return StartCheck(False, _("The question bank has no active questions yet."))
    return None


def _start_check_of(course: TrainingCourse, unarchived: list[QuizAttempt], now: datetime) -> StartCheck:
    """``start_check`` of a published course with active questions, from the person's attempts
    that are not archived (read once by the caller)."""
    attempts = [a for a in unarchived if a.submitted_at is not None or is_expired(a, now)]
    if any(a.passed and a.course_revision == course.revision for a in attempts):
        return StartCheck(False, _("You have passed this quiz."))
    this_revision = [a for a in attempts if a.course_revision == course.revision]  # a required change: new tries
    if course.max_attempts is not None and len(this_revision) >= course.max_attempts:
        return StartCheck(False, _("All %(n)d attempts are used. Ask your trainer to reset your attempts.",
                                   n=course.max_attempts))
    last = max(attempts, key=lambda a: a.number) if attempts else None
    if last is not None and not last.passed and course.retry_wait_minutes:
        ended = last.submitted_at or last.deadline_at or last.started_at
        available = ended + timedelta(minutes=course.retry_wait_minutes)
        if now < available:
            return StartCheck(False, _("Please try again after %(t)s.", t=_local_hhmm(available, now)), available)
    return StartCheck(True)


# --------------------------------------------------------------------------- attempts: drawing


def _draw_plan(course: TrainingCourse) -> list[int]:
    """The question ids an attempt would be drawn from (any active question), for 'is there anything'."""
    return [q.id for q in questions_of(course.id, active_only=True)]


def draw_questions(course: TrainingCourse, rng: random.Random | None = None) -> list[TrainingQuestion]:
    """N random active questions, or N per tag (``quiz_per_tag``); fewer when the bank is smaller."""
    rng = rng or random.SystemRandom()
    pool = questions_of(course.id, active_only=True)
    per_tag = course.quiz_per_tag or {}
    if not per_tag:
        return rng.sample(pool, min(course.quiz_size, len(pool)))
    chosen: list[TrainingQuestion] = []
    taken: set[int] = set()
    for tag, count in per_tag.items():
        candidates = [q for q in pool if tag in (q.tags or []) and q.id not in taken]
        picked = rng.sample(candidates, min(int(count), len(candidates)))
        chosen += picked
        taken.update(q.id for q in picked)
    rng.shuffle(chosen)
    return chosen


def start_attempt(user, course_id: int, now: datetime | None = None,
                  rng: random.Random | None = None) -> QuizAttempt:
    """Start (or continue) ``user``'s attempt at a visible course's quiz.

    An attempt in progress is returned as it is. Otherwise ``start_check`` must allow a new
    one (ValidationError with the reason under ``attempt``); its questions and each question's
    option order are drawn now and fixed in the attempt.
    """
    ensure(user, Permission.VIEW_TRAINING)
    course = get_visible_course(user, course_id)
    now = _now(now)
    close_expired_of(user.id, course.id, now)
    current = open_attempt(user.id, course.id, now)
    if current is not None:
        return current
    check = start_check(user, course, now)
    if not check.can_start:
        raise ValidationError({"attempt": check.reason})
    rng = rng or random.SystemRandom()
    drawn = []
    for question in draw_questions(course, rng):
        keys = [o["key"] for o in question.options]
        rng.shuffle(keys)
        drawn.append({"id": question.id, "options": keys})
    number = (db.session.scalar(select(func.max(QuizAttempt.number)).where(
        QuizAttempt.user_id == user.id, QuizAttempt.course_id == course.id)) or 0) + 1
    attempt = QuizAttempt(
        course_id=course.id, user_id=user.id, number=number, course_revision=course.revision,
        questions=drawn, answers={}, started_at=now, total=len(drawn),
        deadline_at=now + timedelta(minutes=course.time_limit_minutes) if course.time_limit_minutes else None,
    )
    db.session.add(attempt)
    db.session.commit()
    return attempt


# --------------------------------------------------------------------------- attempts: answering and scoring


def get_own_attempt(user, attempt_id: int) -> QuizAttempt:
    """The attempt if it is ``user``'s own, else NotFound (nobody else sees it here, not even admins)."""
    ensure(user, Permission.VIEW_TRAINING)
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != user.id:
        raise NotFound()
    return attempt


def attempt_questions(attempt: QuizAttempt) -> list[dict]:
    """The attempt's questions in its order, each with its options in the attempt's order:
    ``{"question": TrainingQuestion, "options": [{"key", "text"}], "chosen": [...]}``."""
    ids = [item["id"] for item in attempt.questions]
    by_id = {q.id: q for q in db.session.scalars(select(TrainingQuestion).where(TrainingQuestion.id.in_(ids)))}
    shown = []
    for position, item in enumerate(attempt.questions, start=1):
        question = by_id.get(item["id"])
        if question is None:  # the course went away; nothing to show
            continue
        texts = {o["key"]: o["text"] for o in question.options}
        options = [{"key": key, "text": texts[key]} for key in item["options"] if key in texts]
        shown.append({"position": position, "question": question, "options": options,
                      "chosen": list((attempt.answers or {}).get(str(question.id), []))})
    return shown


def _check_answer(attempt: QuizAttempt, question_id, keys) -> tuple[str, list[str]]:
    """(question id as stored, keys) if they belong to this attempt, else ValidationError."""
    item = next((i for i in attempt.questions if str(i["id"]) == str(question_id)), None)
    if item is None:
        raise ValidationError({"answer": _("This question is not part of your attempt. Reload the page.")})
    keys = [k for k in dict.fromkeys(str(k) for k in keys) if k]
    if any(k not in item["options"] for k in keys):
        raise ValidationError({"answer": _("That option does not belong to this question. Reload the page.")})
    question = db.session.get(TrainingQuestion, item["id"])
    if question is not None and question.kind != QuestionKind.MULTIPLE and len(keys) > 1:
        raise ValidationError({"answer": _("Choose one option for this question.")})
    return str(item["id"]), keys


class AttemptClosed(Exception):
    """The attempt was already submitted (or has just been closed because its time ran out)."""

    def __init__(self, attempt: QuizAttempt, timed_out: bool = False):
        super().__init__(attempt.id)
        self.attempt = attempt
        self.timed_out = timed_out


def save_answer(user, attempt_id: int, question_id, keys, now: datetime | None = None) -> QuizAttempt:
    """Save the answer to one question of the user's open attempt.

    Unknown questions or options: ValidationError (Chinese). A submitted attempt, or one past its
    deadline (it is scored with what was saved before), raises AttemptClosed; nothing is saved.
    """
    attempt = get_own_attempt(user, attempt_id)
    now = _now(now)
    if attempt.submitted_at is not None:
        raise AttemptClosed(attempt)
    if is_expired(attempt, now):
        raise AttemptClosed(close_attempt(attempt, now, timed_out=True), timed_out=True)
    qid, keys = _check_answer(attempt, question_id, keys)
    for _try in range(2):
        answers = dict(attempt.answers or {})
        answers[qid] = keys
        attempt.answers = answers
        try:
            db.session.commit()
            return attempt
        except StaleDataError:  # another tab saved (or submitted) meanwhile: look again
            db.session.rollback()
            db.session.refresh(attempt)
            if attempt.submitted_at is not None:
                raise AttemptClosed(attempt) from None
    raise StaleEdit()


def _score(attempt: QuizAttempt) -> tuple[int, list[int]]:
    ids = [item["id"] for item in attempt.questions]
    by_id = {q.id: q for q in db.session.scalars(select(TrainingQuestion).where(TrainingQuestion.id.in_(ids)))}
    answers = attempt.answers or {}
    correct, wrong = 0, []
    for question_id in ids:
        question = by_id.get(question_id)
        chosen = set(answers.get(str(question_id), []))
        if question is not None and chosen and chosen == set(question.correct or []):
            correct += 1
        else:
            wrong.append(question_id)
    return correct, wrong


def close_attempt(attempt: QuizAttempt, now: datetime | None = None, *, timed_out: bool = False) -> QuizAttempt:
    """Score an open attempt once (server side), record it and tell certification, in one transaction.

    The attempt's version guards the race: when someone else closed it first (a second submit,
    another tab, the periodic task) this reloads and returns it as they left it, scored once.
    """
    if attempt.submitted_at is not None:
        return attempt
    now = _now(now)
    try:
        with db.session.no_autoflush:
            correct, wrong = _score(attempt)
            course = db.session.get(TrainingCourse, attempt.course_id)
        total = len(attempt.questions)
        attempt.total = total
        attempt.correct_count = correct
        attempt.score_percent = correct * 100 // total if total else 0
        attempt.passed = bool(total) and attempt.score_percent >= course.pass_percent
        attempt.wrong_question_ids = wrong
        attempt.timed_out = timed_out
        attempt.submitted_at = min(now, attempt.deadline_at) if timed_out and attempt.deadline_at else now
        db.session.flush()  # the version check: only one closer gets past this line
        certification.on_quiz_scored(attempt)
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        db.session.refresh(attempt)
    return attempt


def submit_attempt(user, attempt_id: int, answers: dict | None = None, now: datetime | None = None) -> QuizAttempt:
    """Submit the user's attempt: save ``answers`` posted with it ({question id: [keys]}), then score once.

    A submitted attempt is returned as it is (a second submit never scores again). Past the
    deadline the posted answers are ignored and what was saved is scored (timed out).
    Unknown question or option ids: ValidationError, nothing saved.
    """
    attempt = get_own_attempt(user, attempt_id)
    now = _now(now)
    if attempt.submitted_at is not None:
        return attempt
    if is_expired(attempt, now):
        return close_attempt(attempt, now, timed_out=True)
    if answers:
        merged = dict(attempt.answers or {})
        with db.session.no_autoflush:
            for question_id, keys in answers.items():
                qid, checked = _check_answer(attempt, question_id, keys)
                merged[qid] = checked
        attempt.answers = merged
    return close_attempt(attempt, now)


def open_for_viewing(user, attempt_id: int, now: datetime | None = None) -> QuizAttempt:
    """The user's own attempt for its page; one past its deadline is scored first (timed out)."""
    attempt = get_own_attempt(user, attempt_id)
    if is_expired(attempt, now):
        attempt = close_attempt(attempt, now, timed_out=True)
    return attempt


def close_expired_of(user_id: int, course_id: int, now: datetime | None = None) -> None:
    """Score the person's expired open attempts at a course (before deciding on a new one)."""
    for attempt in attempts_of(user_id, course_id, include_archived=False):
        if is_expired(attempt, now):
            close_attempt(attempt, now, timed_out=True)


def close_expired_attempts(now: datetime | None = None) -> int:
    """Score every open attempt past its deadline (the periodic task); idempotent. Returns how many."""
    now = _now(now)
    cutoff = now - timedelta(seconds=GRACE_SECONDS)
    ids = list(db.session.scalars(select(QuizAttempt.id).where(
        QuizAttempt.submitted_at.is_(None), QuizAttempt.deadline_at.is_not(None),
        QuizAttempt.deadline_at < cutoff)))
    closed = 0
    for attempt_id in ids:
        attempt = db.session.get(QuizAttempt, attempt_id)
        if attempt is not None and attempt.submitted_at is None:
            close_attempt(attempt, now, timed_out=True)
            closed += 1
    return closed


# --------------------------------------------------------------------------- review, summaries, statistics


def review(attempt: QuizAttempt) -> dict:
    """What the owner sees after submitting, by the course's review policy.

    ``{"policy", "items"}``: with policy ``score`` no items; ``wrong``: each question with the
    agent's answer and whether it was right (no right answers); ``full``: also the right keys and
    the explanation. Never call this for an open attempt.
    """
    if attempt.submitted_at is None:
        raise ValueError("review of an open attempt")
    course = db.session.get(TrainingCourse, attempt.course_id)
    policy = course.review_policy
    if policy == ReviewPolicy.SCORE:
        return {"policy": policy, "items": []}
    wrong = set(attempt.wrong_question_ids or [])
    items = []
    for shown in attempt_questions(attempt):
        question = shown["question"]
        item = {**shown, "is_wrong": question.id in wrong}
        if policy == ReviewPolicy.FULL:
            item["correct"] = list(question.correct or [])
            item["explanation"] = question.explanation
        items.append(item)
    return {"policy": policy, "items": items}


def quiz_summary(user_id: int, course: TrainingCourse, now: datetime | None = None) -> dict:
    """One person's quiz at a course, for course pages, 我的培训 and certification.

    Keys: ``attempts_used`` (finished, not archived, at the course's current revision), ``max_attempts``, ``best_score``,
    ``last_score`` (percent or None), ``passed`` (at the current revision), ``open_attempt_id``,
    ``can_start`` and ``reason`` (Chinese, when it cannot), ``available_at``, ``attempts``
    (all, newest first, archived included), ``question_count`` (active questions in the bank).
    """
    return quiz_summaries(user_id, [course], now)[course.id]


def quiz_summaries(user_id: int, courses: list[TrainingCourse], now: datetime | None = None) -> dict[int, dict]:
    """``{course id: quiz_summary}`` for many courses in two statements whatever their number (the
    person's attempts, the banks' active question ids): 我的培训 lists every assigned course."""
    from ...models import User

    now = _now(now)
    if not courses:
        return {}
    course_ids = [course.id for course in courses]
    attempts_by_course: dict[int, list[QuizAttempt]] = {course_id: [] for course_id in course_ids}
    for attempt in db.session.scalars(
            select(QuizAttempt).where(QuizAttempt.user_id == user_id, QuizAttempt.course_id.in_(course_ids))
            .order_by(QuizAttempt.course_id, QuizAttempt.number.desc())):
        attempts_by_course[attempt.course_id].append(attempt)
    active_questions: dict[int, int] = dict.fromkeys(course_ids, 0)
    for course_id, count in db.session.execute(
            select(TrainingQuestion.course_id, func.count()).where(
                TrainingQuestion.course_id.in_(course_ids), TrainingQuestion.is_active.is_(True))
            .group_by(TrainingQuestion.course_id)):
        active_questions[course_id] = count
    user = db.session.get(User, user_id)
    return {course.id: _summary_of(course, user, attempts_by_course[course.id], active_questions[course.id], now)
            for course in courses}


def _summary_of(course: TrainingCourse, user, attempts: list[QuizAttempt], question_count: int,
                now: datetime) -> dict:
    """``quiz_summary`` from what ``quiz_summaries`` read: the attempts (newest first) and the
    number of active questions."""
    current = [a for a in attempts if not a.is_archived]
    finished = [a for a in current if a.submitted_at is not None or is_expired(a, now)]
    scored = [a for a in finished if a.score_percent is not None]
    in_progress = next((a for a in current if a.submitted_at is None and not is_expired(a, now)), None)
    if user is None:
        check = StartCheck(False)
    else:
        check = _closed(course, question_count) or _start_check_of(course, current, now)
    return {
        "attempts_used": sum(1 for a in finished if a.course_revision == course.revision),
        "max_attempts": course.max_attempts,
        "best_score": max((a.score_percent for a in scored), default=None),
        "last_score": scored[0].score_percent if scored else None,
        "passed": any(a.passed and a.course_revision == course.revision for a in scored),
        "open_attempt_id": in_progress.id if in_progress else None,
        "can_start": in_progress is None and check.can_start,
        "reason": "" if in_progress is not None else check.reason,
        "available_at": check.available_at,
        "attempts": attempts,
        "question_count": question_count,
    }


@dataclass
class QuestionStat:
    question: TrainingQuestion
    asked: int
    wrong: int

    @property
    def wrong_percent(self) -> int:
        return self.wrong * 100 // self.asked if self.asked else 0


def question_stats(actor, course: TrainingCourse) -> list[QuestionStat]:
    """Per question of the bank: how often it was asked and answered wrong in submitted attempts
    (archived ones included), worst first (then most asked). Trainers only."""
    ensure(actor, Permission.EDIT_TRAINING)
    asked: Counter = Counter()
    wrong: Counter = Counter()
    rows = db.session.execute(select(QuizAttempt.questions, QuizAttempt.wrong_question_ids).where(
        QuizAttempt.course_id == course.id, QuizAttempt.submitted_at.is_not(None)))
    for questions, wrong_ids in rows:
        asked.update(int(item["id"]) for item in questions or [])
        wrong.update(int(i) for i in wrong_ids or [])
    stats = [QuestionStat(q, asked[q.id], wrong[q.id]) for q in questions_of(course.id)]
    return sorted(stats, key=lambda s: (-s.wrong_percent, -s.wrong, -s.asked, s.question.id))

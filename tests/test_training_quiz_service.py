"""Quiz rules: banks, drawing, saving, scoring once, time limits, limits and waits, summaries, statistics."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import AuditLog
from kdcs.models.training import QuestionKind, QuizAttempt, ReviewPolicy, TrainingQuestion
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import NotFound, StaleEdit, ValidationError
from kdcs.training.quiz import service
from kdcs.training.quiz.tasks import close_expired_quiz_attempts
from tests.quiz_data import make_bank, make_course, right_answers, wrong_answers

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _draft(**kw):
    base = dict(kind=QuestionKind.SINGLE, text="问题", options=["甲", "乙", "丙"], correct=[1], explanation="因为", tags=["时效"])
    return service.QuestionDraft(**{**base, **kw})


# --------------------------------------------------------------------------- bank


def test_create_question_with_random_keys_and_audit(users):
    course = make_course()
    q = service.create_question(users.trainer, course, _draft())
    keys = [o["key"] for o in q.options]
    assert len(set(keys)) == 3 and all(len(k) == service.KEY_LENGTH for k in keys)
    assert q.correct == [keys[1]]
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "training_question.create")) is not None


def test_agents_may_not_edit_banks(users):
    course = make_course()
    with pytest.raises(PermissionDenied):
        service.create_question(users.agent, course, _draft())
    with pytest.raises(PermissionDenied):
        service.get_editable_course(users.lead, course.id)


@pytest.mark.parametrize("draft, field", [
    (dict(text=" "), "text"),
    (dict(options=["甲"]), "options"),
    (dict(options=["甲", "甲"]), "options"),
    (dict(correct=[]), "correct"),
    (dict(correct=[0, 1]), "correct"),
    (dict(kind=QuestionKind.MULTIPLE, correct=[1]), "correct"),
    (dict(kind=QuestionKind.MULTIPLE, correct=[0, 1, 2]), "correct"),
    (dict(kind=QuestionKind.TRUE_FALSE), "options"),
    (dict(kind="essay"), "kind"),
    (dict(tags=["x" * 30]), "tags"),
])
def test_bad_questions_are_refused_in_chinese(users, draft, field):
    course = make_course()
    with pytest.raises(ValidationError) as exc:
        service.create_question(users.trainer, course, _draft(**draft))
    assert field in exc.value.errors


def test_update_keeps_keys_and_checks_the_version(users):
    course = make_course()
    q = service.create_question(users.trainer, course, _draft())
    keys = [o["key"] for o in q.options]
    service.update_question(users.trainer, q, _draft(options=["甲2", "乙", "丙", "丁"], correct=[3]), version=q.version)
    assert [o["key"] for o in q.options][:3] == keys
    assert q.correct == [q.options[3]["key"]]
    with pytest.raises(StaleEdit):
        service.update_question(users.trainer, q, _draft(), version=1)


def test_deactivated_questions_are_not_drawn(users):
    course = make_course(quiz_size=10)
    bank = make_bank(course, 4)
    service.set_question_active(users.trainer, bank[0], False)
    attempt = service.start_attempt(users.agent, course.id)
    assert bank[0].id not in {i["id"] for i in attempt.questions}
    assert len(attempt.questions) == 3


# --------------------------------------------------------------------------- drawing


def test_start_draws_n_questions_and_shuffles_options_once(users):
    course = make_course(quiz_size=5)
    make_bank(course, 12)
    attempt = service.start_attempt(users.agent, course.id, rng=random.Random(3))
    assert len(attempt.questions) == 5 and attempt.total == 5 and attempt.number == 1
    for item in attempt.questions:
        question = db.session.get(TrainingQuestion, item["id"])
        assert sorted(item["options"]) == sorted(o["key"] for o in question.options)
    # Opening again gives the same attempt, same order.
    again = service.start_attempt(users.agent, course.id)
    assert again.id == attempt.id and again.questions == attempt.questions


def test_per_tag_draw(users):
    course = make_course(quiz_per_tag={"时效": 2, "破损": 3})
    make_bank(course, 12)
    attempt = service.start_attempt(users.agent, course.id)
    tags = [db.session.get(TrainingQuestion, i["id"]).tags[0] for i in attempt.questions]
    assert sorted(tags) == ["时效", "时效", "破损", "破损", "破损"]


def test_options_are_shuffled_across_attempts(users):
    course = make_course(quiz_size=10, retry_wait_minutes=0)
    make_bank(course, 10)
    orders = set()
    for _i in range(4):
        attempt = service.start_attempt(users.agent, course.id)
        orders.add(tuple(tuple(i["options"]) for i in sorted(attempt.questions, key=lambda i: i["id"])))
        service.submit_attempt(users.agent, attempt.id, wrong_answers(attempt))
    assert len(orders) > 1


def test_unpublished_course_cannot_be_started_by_agents(users):
    course = make_course(status="draft")
    make_bank(course, 3)
    with pytest.raises(NotFound):
        service.start_attempt(users.agent, course.id)


def test_empty_bank_says_why(users):
    course = make_course()
    with pytest.raises(ValidationError) as exc:
        service.start_attempt(users.agent, course.id)
    assert "题库" in exc.value.errors["attempt"]


# --------------------------------------------------------------------------- answering and scoring


def test_save_and_submit_scores_on_the_server_once(users):
    course = make_course(quiz_size=10, pass_percent=90)
    make_bank(course, 10)
    attempt = service.start_attempt(users.agent, course.id)
    right = right_answers(attempt)
    for qid, keys in right.items():
        service.save_answer(users.agent, attempt.id, qid, keys)
    done = service.submit_attempt(users.agent, attempt.id)
    assert done.passed and done.score_percent == 100 and done.correct_count == 10 and done.wrong_question_ids == []
    first_submitted = done.submitted_at
    # A second submit changes nothing (not even with other answers).
    again = service.submit_attempt(users.agent, attempt.id, wrong_answers(attempt))
    assert again.score_percent == 100 and again.submitted_at == first_submitted
    with pytest.raises(service.AttemptClosed):
        service.save_answer(users.agent, attempt.id, next(iter(right)), [])


def test_multiple_choice_needs_exactly_the_right_set(users):
    course = make_course(quiz_size=10, pass_percent=90)
    make_bank(course, 3)
    attempt = service.start_attempt(users.agent, course.id)
    answers = right_answers(attempt)
    multiple = next(qid for qid in answers if len(answers[qid]) == 2)
    answers[multiple] = answers[multiple][:1]
    done = service.submit_attempt(users.agent, attempt.id, answers)
    assert done.correct_count == 2 and done.wrong_question_ids == [int(multiple)] and done.score_percent == 66
    assert done.passed is False


def test_unknown_ids_are_rejected_and_nothing_saved(users):
    course = make_course(quiz_size=2)
    bank = make_bank(course, 4)
    attempt = service.start_attempt(users.agent, course.id)
    drawn = {i["id"] for i in attempt.questions}
    outside = next(q for q in bank if q.id not in drawn)
    with pytest.raises(ValidationError) as exc:
        service.save_answer(users.agent, attempt.id, outside.id, [outside.correct[0]])
    assert "不属于" in exc.value.errors["answer"] or exc.value.errors["answer"]
    qid = attempt.questions[0]["id"]
    with pytest.raises(ValidationError):
        service.save_answer(users.agent, attempt.id, qid, ["zzzzz"])
    with pytest.raises(ValidationError):
        service.submit_attempt(users.agent, attempt.id, {str(outside.id): outside.correct})
    db.session.refresh(attempt)
    assert attempt.answers == {} and attempt.submitted_at is None


def test_someone_elses_attempt_is_not_found(users):
    course = make_course()
    make_bank(course, 3)
    attempt = service.start_attempt(users.agent, course.id)
    for other in (users.lead, users.admin, users.trainer):
        with pytest.raises(NotFound):
            service.get_own_attempt(other, attempt.id)
        with pytest.raises(NotFound):
            service.submit_attempt(other, attempt.id)


# --------------------------------------------------------------------------- time limits


def test_late_answers_are_not_saved_and_saved_ones_are_scored(users):
    course = make_course(quiz_size=4, time_limit_minutes=10, pass_percent=50)
    make_bank(course, 4)
    attempt = service.start_attempt(users.agent, course.id, now=T0)
    right = right_answers(attempt)
    qids = list(right)
    service.save_answer(users.agent, attempt.id, qids[0], right[qids[0]], now=T0 + timedelta(minutes=5))
    with pytest.raises(service.AttemptClosed) as closed:
        service.save_answer(users.agent, attempt.id, qids[1], right[qids[1]], now=T0 + timedelta(minutes=11))
    assert closed.value.timed_out
    db.session.refresh(attempt)
    assert attempt.timed_out and attempt.correct_count == 1 and attempt.score_percent == 25
    assert attempt.submitted_at == attempt.deadline_at
    assert list(attempt.answers) == [qids[0]]


def test_late_submit_ignores_the_posted_answers(users):
    course = make_course(quiz_size=4, time_limit_minutes=10)
    make_bank(course, 4)
    attempt = service.start_attempt(users.agent, course.id, now=T0)
    done = service.submit_attempt(users.agent, attempt.id, right_answers(attempt), now=T0 + timedelta(minutes=30))
    assert done.timed_out and done.correct_count == 0


def test_the_periodic_task_closes_expired_attempts_once(users):
    course = make_course(quiz_size=3, time_limit_minutes=5)
    make_bank(course, 3)
    attempt = service.start_attempt(users.agent, course.id, now=T0)
    open_one = service.start_attempt(users.lead, course.id, now=T0 + timedelta(minutes=3))
    assert close_expired_quiz_attempts.call_local(T0 + timedelta(minutes=6)) == 1
    assert close_expired_quiz_attempts.call_local(T0 + timedelta(minutes=6)) == 0
    db.session.refresh(attempt)
    db.session.refresh(open_one)
    assert attempt.timed_out and attempt.submitted_at is not None
    assert open_one.submitted_at is None


# --------------------------------------------------------------------------- limits and waits


def test_wait_after_a_failed_attempt_and_attempt_limit(users):
    course = make_course(quiz_size=3, retry_wait_minutes=30, max_attempts=2)
    make_bank(course, 3)
    first = service.start_attempt(users.agent, course.id, now=T0)
    service.submit_attempt(users.agent, first.id, wrong_answers(first), now=T0 + timedelta(minutes=1))
    with pytest.raises(ValidationError) as exc:
        service.start_attempt(users.agent, course.id, now=T0 + timedelta(minutes=10))
    assert "请于" in exc.value.errors["attempt"] and "后再试" in exc.value.errors["attempt"]
    second = service.start_attempt(users.agent, course.id, now=T0 + timedelta(minutes=32))
    assert second.number == 2
    service.submit_attempt(users.agent, second.id, wrong_answers(second), now=T0 + timedelta(minutes=33))
    with pytest.raises(ValidationError) as exc:
        service.start_attempt(users.agent, course.id, now=T0 + timedelta(days=1))
    assert "2" in exc.value.errors["attempt"]
    summary = service.quiz_summary(users.agent.id, course, now=T0 + timedelta(days=1))
    assert summary["attempts_used"] == 2 and not summary["can_start"] and summary["reason"]
    # Archived attempts (a trainer's reset) do not count.
    for a in db.session.scalars(select(QuizAttempt)):
        a.is_archived = True
    db.session.commit()
    assert service.start_attempt(users.agent, course.id, now=T0 + timedelta(days=1)).number == 3


def test_passed_means_no_new_attempt(users):
    course = make_course(quiz_size=3)
    make_bank(course, 3)
    attempt = service.start_attempt(users.agent, course.id)
    service.submit_attempt(users.agent, attempt.id, right_answers(attempt))
    with pytest.raises(ValidationError) as exc:
        service.start_attempt(users.agent, course.id)
    assert exc.value.errors["attempt"]
    summary = service.quiz_summary(users.agent.id, course)
    assert summary["passed"] and summary["best_score"] == 100 and summary["last_score"] == 100


# --------------------------------------------------------------------------- review and statistics


@pytest.mark.parametrize("policy", list(ReviewPolicy))
def test_review_policy(users, policy):
    course = make_course(quiz_size=3, review_policy=policy)
    make_bank(course, 3)
    attempt = service.start_attempt(users.agent, course.id)
    with pytest.raises(ValueError):
        service.review(attempt)
    done = service.submit_attempt(users.agent, attempt.id, wrong_answers(attempt))
    result = service.review(done)
    if policy == ReviewPolicy.SCORE:
        assert result["items"] == []
    else:
        assert len(result["items"]) == 3 and all(i["is_wrong"] for i in result["items"])
        assert all(("correct" in i) == (policy == ReviewPolicy.FULL) for i in result["items"])


def test_question_stats_worst_first(users):
    course = make_course(quiz_size=3)
    bank = make_bank(course, 3)
    for user in (users.agent, users.lead):
        attempt = service.start_attempt(user, course.id)
        answers = right_answers(attempt)
        answers[str(bank[1].id)] = wrong_answers(attempt)[str(bank[1].id)]
        service.submit_attempt(user, attempt.id, answers)
    stats = service.question_stats(users.trainer, course)
    assert stats[0].question.id == bank[1].id and stats[0].wrong == 2 and stats[0].asked == 2
    assert stats[0].wrong_percent == 100 and stats[1].wrong == 0
    with pytest.raises(PermissionDenied):
        service.question_stats(users.agent, course)


def test_scoring_tells_certification(users, monkeypatch):
    seen = []
    monkeypatch.setattr(service.certification, "on_quiz_scored", lambda attempt: seen.append(attempt.id))
    course = make_course(quiz_size=2)
    make_bank(course, 2)
    attempt = service.start_attempt(users.agent, course.id)
    service.submit_attempt(users.agent, attempt.id, right_answers(attempt))
    service.submit_attempt(users.agent, attempt.id, right_answers(attempt))
    assert seen == [attempt.id]


@pytest.mark.parametrize("text, expected", [("破损:3, 时效：2", {"破损": 3, "时效": 2}), ("", {})])
def test_parse_per_tag(text, expected):
    assert service.parse_per_tag(text) == expected


@pytest.mark.parametrize("text", ["破损", "破损:x", "破损:0", ":3"])
def test_parse_per_tag_refuses(text):
    with pytest.raises(ValueError):
        service.parse_per_tag(text)


def test_a_required_change_gives_new_attempts(users):
    course = make_course(quiz_size=3, max_attempts=1, retry_wait_minutes=60, revision=1)
    make_bank(course, 3)
    attempt = service.start_attempt(users.agent, course.id, now=T0)
    service.submit_attempt(users.agent, attempt.id, right_answers(attempt), now=T0)
    course.revision = 2  # published again with a required change
    db.session.commit()
    summary = service.quiz_summary(users.agent.id, course, now=T0 + timedelta(minutes=1))
    assert summary["passed"] is False and summary["attempts_used"] == 0 and summary["can_start"]
    again = service.start_attempt(users.agent, course.id, now=T0 + timedelta(minutes=1))  # no wait after a pass
    assert again.number == 2 and again.course_revision == 2


def test_option_keys_follow_their_text(users):
    course = make_course()
    q = service.create_question(users.trainer, course, _draft(options=["甲", "乙", "丙", "丁"], correct=[2]))
    key = {o["text"]: o["key"] for o in q.options}
    # 乙 removed, 丙 edited to 丙2 (now at 乙's old place), 丁 moved up, 戊 added.
    service.update_question(users.trainer, q, _draft(options=["甲", "丙2", "丁", "戊"], correct=[1]), version=q.version)
    now = {o["text"]: o["key"] for o in q.options}
    assert now["甲"] == key["甲"] and now["丁"] == key["丁"]
    assert now["丙2"] == key["乙"]  # edited in place keeps its position's key
    assert now["戊"] not in key.values() and len(set(now.values())) == 4
    assert q.correct == [now["丙2"]]


# --------------------------------------------------------------------------- summaries of many courses


def _reference_summary(user, course, now):
    """``quiz_summary`` as it read one course before ``quiz_summaries``: attempts, the start check
    and the active bank, each from its own query."""
    attempts = service.attempts_of(user.id, course.id)
    current = [a for a in attempts if not a.is_archived]
    finished = [a for a in current if a.submitted_at is not None or service.is_expired(a, now)]
    scored = [a for a in finished if a.score_percent is not None]
    in_progress = next((a for a in current if a.submitted_at is None and not service.is_expired(a, now)), None)
    check = service.start_check(user, course, now)
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
        "question_count": len(service.questions_of(course.id, active_only=True)),
    }


def test_summaries_of_many_courses_read_as_one_course_at_a_time_and_in_two_statements(users):
    from sqlalchemy import event

    from kdcs.models.training import CourseStatus

    passed = make_course("已通过", quiz_size=2)
    make_bank(passed, 2)
    waiting = make_course("等待重考", quiz_size=2, retry_wait_minutes=30, max_attempts=3)
    make_bank(waiting, 3)
    answering = make_course("答题中", quiz_size=2, time_limit_minutes=20)
    make_bank(answering, 2)
    used_up = make_course("次数用完", quiz_size=2, max_attempts=1)
    make_bank(used_up, 2)
    reset = make_course("已重置", quiz_size=2)
    make_bank(reset, 2)
    empty = make_course("题库为空")
    inactive = make_course("题目停用")
    for question in make_bank(inactive, 2):
        question.is_active = False
    draft = make_course("未发布", status=CourseStatus.DRAFT)
    make_bank(draft, 2)
    db.session.commit()
    attempt = service.start_attempt(users.agent, passed.id, now=T0)
    service.submit_attempt(users.agent, attempt.id, right_answers(attempt), now=T0)
    attempt = service.start_attempt(users.agent, waiting.id, now=T0)
    service.submit_attempt(users.agent, attempt.id, wrong_answers(attempt), now=T0 + timedelta(minutes=1))
    service.start_attempt(users.agent, answering.id, now=T0 + timedelta(minutes=2))
    attempt = service.start_attempt(users.agent, used_up.id, now=T0)
    service.submit_attempt(users.agent, attempt.id, wrong_answers(attempt), now=T0)
    attempt = service.start_attempt(users.agent, reset.id, now=T0)
    service.submit_attempt(users.agent, attempt.id, wrong_answers(attempt), now=T0)
    attempt.is_archived = True
    db.session.commit()
    courses = [passed, waiting, answering, used_up, reset, empty, inactive, draft]

    for now in (T0 + timedelta(minutes=5), T0 + timedelta(hours=2)):  # within the wait and the time limit, after
        expected = {course.id: _reference_summary(users.agent, course, now) for course in courses}
        statements: list[str] = []
        engine = db.engine

        def listener(*args, seen=statements):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", listener)
        try:
            got = service.quiz_summaries(users.agent.id, courses, now)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        assert got == expected
        assert len(statements) <= 2, statements  # the attempts and the banks (the user is in the session)
    assert got[waiting.id]["can_start"] and not got[used_up.id]["can_start"] and got[reset.id]["can_start"]
    assert service.quiz_summary(users.agent.id, waiting, T0 + timedelta(minutes=5)) == \
        _reference_summary(users.agent, waiting, T0 + timedelta(minutes=5))


def test_retry_time_names_the_day_when_it_is_not_today():
    """After 23:30 the 30-minute wait ends tomorrow: the time says which day (the tests' regexes allow both)."""
    from datetime import UTC, datetime

    from kdcs.training.quiz.service import _local_hhmm

    now = datetime(2026, 12, 2, 15, 40, tzinfo=UTC)  # 23:40 in Shanghai
    assert _local_hhmm(datetime(2026, 12, 2, 15, 55, tzinfo=UTC), now) == "23:55"
    assert _local_hhmm(datetime(2026, 12, 2, 16, 10, tzinfo=UTC), now) == "12-03 00:10"

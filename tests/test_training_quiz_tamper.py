"""The quiz cannot be passed by cheating: not by reading the page source (no right answers or
"correct" markers in the HTML or the htmx answers before submission), not by resubmitting, not by
replaying another attempt's answers, not by editing the form (unknown option keys, extra questions,
several keys for a single-choice question, score fields, someone else's attempt), not after the
time limit."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models.training import QuestionKind, QuizAttempt, ReviewPolicy, TrainingQuestion
from kdcs.training.quiz import service
from tests import factories
from tests.quiz_data import make_bank, make_course, right_answers, wrong_answers

HX = {"HX-Request": "true"}
# Words that would give the answer away if they were in the page before submission.
TELLS = re.compile(r"correct|正确答案|right answer|data-answer|is-right|is-wrong|解析", re.IGNORECASE)


@pytest.fixture
def quiz(users):
    course = make_course(quiz_size=5, review_policy=ReviewPolicy.FULL, retry_wait_minutes=0)
    make_bank(course, 12)
    return course


def _start(client, auth, user, course) -> QuizAttempt:
    auth.login(user)
    response = client.post(f"/training/courses/{course.id}/quiz/start")
    assert response.status_code == 303
    attempt_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return db.session.get(QuizAttempt, attempt_id)


def _form(answers: dict) -> dict:
    return {f"answer-{qid}": keys for qid, keys in answers.items()}


def _refresh(attempt) -> QuizAttempt:
    db.session.expire_all()
    return db.session.get(QuizAttempt, attempt.id)


# --------------------------------------------------------------------------- reading the page source


def test_the_page_source_does_not_tell_the_right_answers(client, auth, users, quiz):
    attempt = _start(client, auth, users.agent, quiz)
    html = client.get(f"/training/quiz/{attempt.id}").text
    assert not TELLS.search(html), TELLS.search(html).group(0)
    assert "checked" not in html  # nothing preselected
    for item in attempt.questions:
        question = db.session.get(TrainingQuestion, item["id"])
        assert question.explanation not in html or question.explanation == ""
        # Every option of the question is on the page, each exactly once, in the attempt's order.
        counts = {key: html.count(f'value="{key}"') for key in item["options"]}
        assert set(counts.values()) == {1}, counts
        positions = [html.index(f'value="{key}"') for key in item["options"]]
        assert positions == sorted(positions)
        # A right key looks like any other: same length, same alphabet.
        assert {len(k) for k in item["options"]} == {service.KEY_LENGTH}
    # The htmx answer fragment says "saved", nothing about right or wrong.
    item = attempt.questions[0]
    for key in item["options"]:
        fragment = client.post(f"/training/quiz/{attempt.id}/answer", headers=HX,
                               data={"question": str(item["id"]), f"answer-{item['id']}": key})
        assert fragment.status_code == 200 and not TELLS.search(fragment.text)
        assert fragment.headers.get("HX-Trigger", "").find("correct") == -1
    # The quiz page (rules, history, the course box) shows no option key at all.
    home = client.get(f"/training/courses/{quiz.id}/quiz").text
    assert not any(key in home for item in attempt.questions for key in item["options"])


def test_option_keys_are_random_not_positional(users):
    course = make_course()
    questions = make_bank(course, 30)
    right_positions = {[o["key"] for o in q.options].index(q.correct[0]) for q in questions}
    keys = {o["key"] for q in questions for o in q.options}
    assert len(keys) == sum(len(q.options) for q in questions)  # no key repeats across the bank
    assert all(re.fullmatch(r"[a-z0-9]{5}", k) for k in keys)
    assert right_positions  # sanity
    # Drawn option order is shuffled: over attempts, the right key is not always first.
    firsts = set()
    for _i in range(6):
        agent = factories.make_user("agent")
        attempt = service.start_attempt(agent, course.id)
        for item in attempt.questions:
            question = db.session.get(TrainingQuestion, item["id"])
            firsts.add(item["options"][0] in question.correct)
    assert firsts == {True, False}


# --------------------------------------------------------------------------- resubmitting


def test_a_second_submit_does_not_score_again(client, auth, users, quiz, monkeypatch):
    scored = []
    original = service.certification.on_quiz_scored
    monkeypatch.setattr(service.certification, "on_quiz_scored", lambda a: (scored.append(a.id), original(a)))
    attempt = _start(client, auth, users.agent, quiz)
    first = client.post(f"/training/quiz/{attempt.id}/submit", data=_form(wrong_answers(attempt)))
    assert first.status_code == 303
    done = _refresh(attempt)
    assert done.passed is False and done.score_percent == 0
    submitted_at, version = done.submitted_at, done.version
    # Resubmit with the right answers (they are shown by the FULL review now): nothing changes.
    second = client.post(f"/training/quiz/{attempt.id}/submit", data=_form(right_answers(attempt)))
    assert second.status_code == 303 and second.headers["Location"].endswith(f"/training/quiz/{attempt.id}")
    htmx = client.post(f"/training/quiz/{attempt.id}/submit", data=_form(right_answers(attempt)), headers=HX)
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].endswith(f"/training/quiz/{attempt.id}")
    answer = client.post(f"/training/quiz/{attempt.id}/answer", headers=HX, data={
        "question": str(attempt.questions[0]["id"]),
        f"answer-{attempt.questions[0]['id']}": right_answers(attempt)[str(attempt.questions[0]["id"])]})
    assert answer.status_code == 204 and "HX-Redirect" in answer.headers
    again = _refresh(attempt)
    assert (again.passed, again.score_percent, again.submitted_at, again.version) == (False, 0, submitted_at, version)
    assert again.answers == wrong_answers(attempt)
    assert scored == [attempt.id]


def test_two_simultaneous_submits_score_once(app, users, quiz, monkeypatch):
    """Two requests submit the same open attempt at once: the second one's write finds a newer
    version (the first committed in between), so it does not score again; it returns the first's result."""
    attempt = service.start_attempt(users.agent, quiz.id)
    attempt_id, wrong, right = attempt.id, wrong_answers(attempt), right_answers(attempt)
    scored = []
    monkeypatch.setattr(service.certification, "on_quiz_scored", lambda a: scored.append(a.id))
    real_score = service._score
    raced = []

    def score_while_someone_submits(current):
        if not raced:  # the other request (its own session) submits first, with wrong answers
            raced.append(True)
            with app.app_context():
                service.submit_attempt(db.session.get(type(users.agent), users.agent.id), attempt_id, wrong)
        return real_score(current)

    monkeypatch.setattr(service, "_score", score_while_someone_submits)
    result = service.submit_attempt(users.agent, attempt_id, right)
    assert scored == [attempt_id]
    assert result.submitted_at is not None and result.score_percent == 0 and result.answers == wrong


# --------------------------------------------------------------------------- replaying another attempt


def test_replaying_another_attempts_answers_is_rejected(client, auth, users, quiz):
    mine = service.start_attempt(users.agent, quiz.id)
    other_user = factories.make_user("agent", team=users.team)
    theirs = service.start_attempt(other_user, quiz.id)
    foreign = {qid: keys for qid, keys in right_answers(theirs).items()
               if int(qid) not in {i["id"] for i in mine.questions}}
    if not foreign:  # the draw happened to be the same five: use any question outside mine
        outside = next(q for q in db.session.scalars(select(TrainingQuestion))
                       if q.id not in {i["id"] for i in mine.questions})
        foreign = {str(outside.id): list(outside.correct)}
    auth.login(users.agent)
    qid, keys = next(iter(foreign.items()))
    htmx = client.post(f"/training/quiz/{mine.id}/answer", headers=HX, data={"question": qid, f"answer-{qid}": keys})
    assert htmx.status_code == 422 and "这道题不在本次考试中" in htmx.text
    plain = client.post(f"/training/quiz/{mine.id}/submit", data=_form(foreign))
    assert plain.status_code == 422 and "这道题不在本次考试中" in plain.text
    after = _refresh(mine)
    assert after.answers == {} and after.submitted_at is None
    # A previous attempt of the same agent is no help either: new draw, and its ids are checked.
    service.submit_attempt(users.agent, mine.id, wrong_answers(mine))
    second = service.start_attempt(users.agent, quiz.id)
    old_only = {qid: keys for qid, keys in right_answers(mine).items() if int(qid) not in {i["id"] for i in second.questions}}
    if old_only:
        response = client.post(f"/training/quiz/{second.id}/submit", data=_form(old_only))
        assert response.status_code == 422 and _refresh(second).submitted_at is None


# --------------------------------------------------------------------------- editing the form


def test_edited_forms_are_rejected(client, auth, users, quiz):
    attempt = _start(client, auth, users.agent, quiz)
    first, second = attempt.questions[0], attempt.questions[1]
    url = f"/training/quiz/{attempt.id}/answer"
    cases = [
        {"question": str(first["id"]), f"answer-{first['id']}": "zzzzz"},  # unknown key
        {"question": str(first["id"]), f"answer-{first['id']}": second["options"][0]},  # another question's key
        {"question": "999999", "answer-999999": first["options"][0]},  # unknown question
        {"question": "abc", "answer-abc": first["options"][0]},  # not even a number
    ]
    for data in cases:
        response = client.post(url, headers=HX, data=data)
        assert response.status_code == 422, data
        assert re.search(r"[\u4e00-\u9fff]", response.text)
    # Several keys for a single-choice question.
    single = next(i for i in attempt.questions
                  if db.session.get(TrainingQuestion, i["id"]).kind != QuestionKind.MULTIPLE)
    response = client.post(url, headers=HX, data={"question": str(single["id"]), f"answer-{single['id']}": single["options"]})
    assert response.status_code == 422 and "只能选一个" in response.text
    # An extra question on submit: rejected, nothing saved, not submitted.
    extra = {**_form(right_answers(attempt)), "answer-999999": ["aaaaa"]}
    response = client.post(f"/training/quiz/{attempt.id}/submit", data=extra)
    assert response.status_code == 422 and _refresh(attempt).submitted_at is None
    assert _refresh(attempt).answers == {}
    # Score fields in the form are ignored: scoring is the server's.
    response = client.post(f"/training/quiz/{attempt.id}/submit",
                           data={**_form(wrong_answers(attempt)), "score_percent": "100", "passed": "1", "correct_count": "5"})
    assert response.status_code == 303
    done = _refresh(attempt)
    assert done.passed is False and done.score_percent == 0


def test_ticking_every_option_of_a_multiple_choice_question_is_wrong(users):
    course = make_course(quiz_size=3)
    make_bank(course, 3)
    attempt = service.start_attempt(users.agent, course.id)
    answers = {str(i["id"]): list(i["options"]) if db.session.get(TrainingQuestion, i["id"]).kind == QuestionKind.MULTIPLE
               else right_answers(attempt)[str(i["id"])] for i in attempt.questions}
    done = service.submit_attempt(users.agent, attempt.id, answers)
    assert done.correct_count == 2


def test_someone_elses_attempt_is_a_404(client, auth, users, quiz):
    attempt = service.start_attempt(users.agent, quiz.id)
    qid = str(attempt.questions[0]["id"])
    for other in (users.lead, users.trainer, users.admin, factories.make_user("agent", team=users.team)):
        client.post("/logout")
        auth.login(other)
        assert client.get(f"/training/quiz/{attempt.id}").status_code == 404
        assert client.post(f"/training/quiz/{attempt.id}/answer", headers=HX,
                           data={"question": qid, f"answer-{qid}": attempt.questions[0]["options"][0]}).status_code == 404
        assert client.post(f"/training/quiz/{attempt.id}/submit", data=_form(right_answers(attempt))).status_code == 404
    after = _refresh(attempt)
    assert after.answers == {} and after.submitted_at is None


# --------------------------------------------------------------------------- the time limit


def _expire(attempt, minutes_ago: int = 1) -> None:
    now = datetime.now(UTC)
    table = QuizAttempt.__table__
    db.session.execute(table.update().where(table.c.id == attempt.id).values(
        started_at=now - timedelta(minutes=30 + minutes_ago), deadline_at=now - timedelta(minutes=minutes_ago)))
    db.session.commit()


def test_answers_after_the_time_limit_are_not_saved(client, auth, users):
    course = make_course(quiz_size=4, time_limit_minutes=30, pass_percent=50)
    make_bank(course, 4)
    attempt = _start(client, auth, users.agent, course)
    right = right_answers(attempt)
    qids = list(right)
    saved = client.post(f"/training/quiz/{attempt.id}/answer", headers=HX,
                        data={"question": qids[0], f"answer-{qids[0]}": right[qids[0]]})
    assert saved.status_code == 200
    _expire(attempt)
    late = client.post(f"/training/quiz/{attempt.id}/answer", headers=HX,
                       data={"question": qids[1], f"answer-{qids[1]}": right[qids[1]]})
    assert late.status_code == 204 and late.headers["HX-Redirect"].endswith(f"/training/quiz/{attempt.id}")
    done = _refresh(attempt)
    assert done.timed_out and done.submitted_at is not None and list(done.answers) == [qids[0]]
    assert done.correct_count == 1 and done.passed is False
    late_submit = client.post(f"/training/quiz/{attempt.id}/submit", data=_form(right))
    assert late_submit.status_code == 303 and _refresh(attempt).correct_count == 1


def test_a_late_submit_scores_what_was_saved(client, auth, users):
    course = make_course(quiz_size=4, time_limit_minutes=30)
    make_bank(course, 4)
    attempt = _start(client, auth, users.agent, course)
    _expire(attempt)
    response = client.post(f"/training/quiz/{attempt.id}/submit", data=_form(right_answers(attempt)))
    assert response.status_code == 303
    done = _refresh(attempt)
    assert done.timed_out and done.correct_count == 0 and done.answers == {}


def test_opening_an_expired_attempt_scores_it(client, auth, users):
    course = make_course(quiz_size=4, time_limit_minutes=30)
    make_bank(course, 4)
    attempt = _start(client, auth, users.agent, course)
    _expire(attempt)
    page = client.get(f"/training/quiz/{attempt.id}")
    assert page.status_code == 200 and "已超时" in page.text
    assert _refresh(attempt).timed_out

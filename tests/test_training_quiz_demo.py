"""The demo question banks: at least 15 sound Chinese questions per demo course, mixed kinds."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models.training import QuestionKind, TrainingQuestion
from kdcs.training.quiz import service
from kdcs.training.quiz.demo import BANKS, seed_questions
from tests.quiz_data import make_course


@pytest.mark.parametrize("key", ["rules", "systems", "communication"])
def test_each_bank_is_sound(app, key):
    bank = BANKS[key]
    assert len(bank) >= 15
    kinds = Counter(kind for kind, *_rest in bank)
    assert set(kinds) == set(QuestionKind)
    texts = [text for _kind, text, *_rest in bank]
    assert len(set(texts)) == len(texts)
    with app.test_request_context():
        for kind, text, options, correct, explanation, tags in bank:
            draft = service.QuestionDraft(kind=kind, text=text, options=list(options), correct=correct,
                                          explanation=explanation, tags=list(tags))
            assert service.check_question(draft) == {}, text
            assert explanation and tags


def test_seed_is_idempotent_and_sets_the_quiz(users):
    courses = {"rules": make_course("品牌规则与条款"), "systems": make_course("品牌系统操作与收发派签"),
               "communication": make_course("沟通技巧与共情话术")}
    assert seed_questions(courses, users.trainer) == {key: len(BANKS[key]) for key in courses}
    assert seed_questions(courses, users.trainer) == dict.fromkeys(courses, 0)
    assert db.session.scalar(select(func.count()).select_from(TrainingQuestion)) == sum(len(b) for b in BANKS.values())
    course = courses["rules"]
    assert course.pass_percent == 90 and course.quiz_size == 10
    attempt = service.start_attempt(users.agent, course.id)
    assert len(attempt.questions) == 10

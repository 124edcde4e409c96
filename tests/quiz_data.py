"""Records for the quiz tests: a published course with a bank of questions."""

from __future__ import annotations

from kdcs.extensions import db
from kdcs.models.training import CourseStatus, QuestionKind, TrainingCourse, TrainingQuestion
from kdcs.training.quiz import service


def make_course(title: str = "品牌规则与条款", *, status: str = CourseStatus.PUBLISHED, **settings) -> TrainingCourse:
    """A course (published unless told) with the given quiz settings."""
    course = TrainingCourse(title=title, summary="", status=status, **settings)
    db.session.add(course)
    db.session.commit()
    return course


def add_question(course, text: str, options: list[str], correct: list[int], *, kind: str = QuestionKind.SINGLE,
                 tags: list[str] | None = None, explanation: str = "解析") -> TrainingQuestion:
    """One question with random option keys (through the service's own key maker)."""
    keys: list[str] = []
    for _text in options:
        keys.append(service.new_key(keys))
    question = TrainingQuestion(course_id=course.id, kind=kind, text=text,
                                options=[{"key": k, "text": t} for k, t in zip(keys, options, strict=True)],
                                correct=[keys[i] for i in correct], explanation=explanation, tags=tags or [])
    db.session.add(question)
    db.session.commit()
    return question


def make_bank(course, count: int = 10, tags: tuple[str, ...] = ("时效", "破损")) -> list[TrainingQuestion]:
    """``count`` single-choice questions (the right one is always the option '对'), alternating tags,
    every third one multiple choice ('对' and '也对')."""
    made = []
    for i in range(count):
        if i % 3 == 2:
            made.append(add_question(course, f"多选题{i}", ["对", "错", "也对", "不对"], [0, 2],
                                     kind=QuestionKind.MULTIPLE, tags=[tags[i % len(tags)]]))
        else:
            made.append(add_question(course, f"单选题{i}", ["错", "对", "不对"], [1], tags=[tags[i % len(tags)]]))
    return made


def right_answers(attempt) -> dict[str, list[str]]:
    """{question id: right keys} of an attempt (read from the database, as only a test may)."""
    out = {}
    for item in attempt.questions:
        question = db.session.get(TrainingQuestion, item["id"])
        out[str(question.id)] = list(question.correct)
    return out


def wrong_answers(attempt) -> dict[str, list[str]]:
    """{question id: [a wrong key]} for every question of an attempt."""
    out = {}
    for item in attempt.questions:
        question = db.session.get(TrainingQuestion, item["id"])
        out[str(question.id)] = [next(o["key"] for o in question.options if o["key"] not in question.correct)]
    return out


HEADERS = ("题型", "题目", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F", "正确答案", "解析", "标签")


def questions_xlsx(rows, headers=HEADERS) -> bytes:
    """An .xlsx with a 题库 sheet: the header row, then ``rows`` as typed by a trainer."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "题库"
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

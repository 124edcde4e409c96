"""Quiz records for the shared route world (after ``tests/training_world.make_training``).

``make_quiz(world)`` adds three questions to the world's published ``course`` (``question`` is the
first) and ``attempt``: the agent's attempt in progress at that course (nothing answered yet).
"""

from __future__ import annotations

from kdcs.models.training import QuestionKind
from kdcs.training.quiz import service


def make_quiz(world) -> dict:
    """The quiz records of the route world (see the module docstring)."""
    trainer, agent, course = world["trainer"], world["agent"], world["course"]
    made = [
        service.create_question(trainer, course, service.QuestionDraft(
            kind=QuestionKind.SINGLE, text="投诉工单首次回复时限从何时起算？", options=["品牌系统登记时间", "客服打开时间"],
            correct=[0], explanation="以登记时间为准。", tags=["时效"])),
        service.create_question(trainer, course, service.QuestionDraft(
            kind=QuestionKind.MULTIPLE, text="破损理赔需要哪些材料？", options=["外包装照片", "内物照片", "身份证"],
            correct=[0, 1], explanation="身份证不是理赔材料。", tags=["破损"])),
        service.create_question(trainer, course, service.QuestionDraft(
            kind=QuestionKind.TRUE_FALSE, text="已签收的包裹不能理赔。", options=["正确", "错误"], correct=[1], tags=["理赔"])),
    ]
    attempt = service.start_attempt(agent, course.id)
    return {"question": made[0], "attempt": attempt}

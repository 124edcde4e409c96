"""Training records for the shared route world (tests/worlds.py ``make_route_world``) and the sweep.

``make_training(world)`` needs the route world's users, team and SOP scenario (``sop_scenario``,
published) and adds: ``course`` (published, not 上岗必修, two lessons, the first embedding the SOP
scenario and carrying a PDF ``lesson_file``, a 情景模拟 ``practical_item``; assigned to the agent),
``course_draft`` (a draft with one lesson), ``lesson`` (the course's first lesson), ``draft_lesson``
and ``programme`` (the default programme: the course on day 3, the practical item on day 20; the
agent enrolled). Returns the records (the route world keeps their ids).
"""

from __future__ import annotations

import io
from datetime import date

from werkzeug.datastructures import FileStorage

from kdcs.extensions import db
from kdcs.training.courses import service as courses
from kdcs.training.programmes import service as programmes

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf_upload(name: str = "时效表.pdf", data: bytes = PDF) -> FileStorage:
    """A small PDF as a browser would upload it."""
    return FileStorage(stream=io.BytesIO(data), filename=name)


def make_course(trainer, *, title: str = "品牌规则与条款", lessons=("品牌时效总览", "罚款与申诉"),
                publish: bool = True, required: bool = True, scenario=None):
    """A course through the service: lessons with a little Markdown, published if asked."""
    course = courses.create_course(trainer, title=title, summary="各品牌时效与罚款。", kind="onboarding",
                                   required_for_live=required)
    for n, name in enumerate(lessons):
        lesson = courses.add_lesson(trainer, course, title=name)
        courses.update_lesson(trainer, lesson, version=lesson.version, title=name,
                              body=f"## {name}\n\n问题件 **24 小时**内回复；留言 2 小时内回复。",
                              sop_scenario_id=scenario.id if (scenario is not None and n == 0) else None)
    if publish:
        courses.publish_course(trainer, course.id, course.version)
    return course


def make_training(world) -> dict:
    """The training records of the route world (see the module docstring)."""
    trainer, agent, admin = world["trainer"], world["agent"], world["admin"]
    # Not 上岗必修: a required published course would make the world's agents uncertified (T3's gate)
    # and change what the ticket, outlet and leave rows of the matrix expect.
    course = make_course(trainer, scenario=world["sop_scenario"], required=False)
    lesson = sorted(course.lessons, key=lambda item: item.position)[0]
    lesson_file = courses.add_file(trainer, lesson, pdf_upload())
    practical = courses.save_practical_item(trainer, course, kind="role_play", title="情景模拟：破损理赔",
                                            sop_scenario_id=world["sop_scenario"].id,
                                            checklist="开场白规范\n核实运单号")
    draft = make_course(trainer, title="季度提升：仲裁举证", lessons=("举证材料清单",), publish=False, required=False)
    programme = programmes.create_programme(admin, title="新人30天计划", is_default=True)
    programmes.add_item(admin, programme, day_offset=3, course_id=course.id)
    programmes.add_item(admin, programme, day_offset=20, practical_item_id=practical.id)
    programmes.enroll(admin, programme, user_id=agent.id, start_date=date.today())
    db.session.commit()
    return {"course": course, "course_draft": draft, "lesson": lesson, "draft_lesson": draft.lessons[0],
            "lesson_file": lesson_file, "practical_item": practical, "programme": programme}

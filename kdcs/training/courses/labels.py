"""Chinese labels of the course kinds, statuses and practical kinds (and their audit actions)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...auditing import register_formatter, register_labels
from ...models.training import CourseKind, CourseStatus, PracticalKind

KIND_LABELS = {
    CourseKind.ONBOARDING: _l("Onboarding"),
    CourseKind.QUARTERLY: _l("Quarterly refresher"),
    CourseKind.SPECIAL: _l("Special topic"),
}
STATUS_LABELS = {
    CourseStatus.DRAFT: _l("Draft"),
    CourseStatus.PUBLISHED: _l("Released"),
    CourseStatus.ARCHIVED: _l("Archived"),
}
STATUS_BADGES = {
    CourseStatus.DRAFT: "badge badge-warn",
    CourseStatus.PUBLISHED: "badge badge-ok",
    CourseStatus.ARCHIVED: "badge",
}
PRACTICAL_LABELS = {
    PracticalKind.ROLE_PLAY: _l("Role play"),
    PracticalKind.SUPERVISED: _l("Supervised work"),
}


def kind_label(kind: str) -> str:
    """新人入职 / 季度提升 / 专项."""
    return str(KIND_LABELS.get(kind, kind))


def status_label(status: str) -> str:
    """草稿 / 已发布 / 已归档."""
    return str(STATUS_LABELS.get(status, status))


def practical_label(kind: str) -> str:
    """情景模拟 / 实战带教."""
    return str(PRACTICAL_LABELS.get(kind, kind))


register_labels(
    actions={
        "training.course_create": _l("Course created"),
        "training.course_update": _l("Course changed"),
        "training.course_publish": _l("Course published"),
        "training.course_archive": _l("Course archived"),
        "training.lesson_add": _l("Lesson added"),
        "training.lesson_update": _l("Lesson changed"),
        "training.lesson_delete": _l("Lesson removed"),
        "training.practical_add": _l("Practical item added"),
        "training.practical_update": _l("Practical item changed"),
        "training.practical_remove": _l("Practical item removed"),
        "training.assign": _l("Training assigned"),
        "training.enroll": _l("Training programme assigned"),
        "training.programme_save": _l("Training programme saved"),
    },
    entities={"training_course": _l("Course"), "training_programme": _l("Training programme")},
    fields={"user.start_date": _l("Start date"), "training_course.required_for_live": _l("Required to go live"),
            "training_course.revision": _l("Revision"), "required_change": _l("Required change"),
            "training_course.recert_days": _l("Re-pass within (days)"),
            "training_course.valid_days": _l("A pass is valid for (days)"),
            "training_course.title": _l("Course title"), "training_course.summary": _l("Course summary"),
            "training_course.kind": _l("Course kind"), "training_course.status": _l("Course status"),
            "training_course.lesson": _l("Lesson"), "training_course.old_title": _l("Former lesson title"),
            "training_course.body_changed": _l("Lesson text changed"),
            "training_course.sop_scenario": _l("SOP scenario"),
            "training_course.practical_item": _l("Practical item"),
            "training_course.practical_kind": _l("Practical kind"),
            "training_course.days": _l("Supervised days"), "training_course.pass_score": _l("Pass score"),
            "training_course.checklist": _l("Checklist"),
            "training_course.old_revision": _l("Former revision"), "training_course.revision_note": _l("Change note"),
            "training_course.agents": _l("Agents"), "training_course.teams": _l("Teams"),
            "training_course.due_on": _l("Due on"),
            "training_programme.title": _l("Programme title"), "training_programme.is_default": _l("Default programme"),
            "training_programme.agent_id": _l("Agent"), "training_programme.start_date": _l("Start date"),
            "training_programme.courses": _l("Courses"),
            # rows written before names were recorded (ids)
            "training_programme.user_id": _l("Agent"), "training_course.user_ids": _l("Agents"),
            "training_course.team_ids": _l("Teams")},
    kinds={"training_course.status": "training_course_status", "training_course.kind": "training_course_kind",
           "training_course.practical_kind": "training_practical_kind",
           "training_course.required_for_live": "bool", "required_change": "bool",
           "training_course.body_changed": "bool", "training_programme.is_default": "bool",
           "training_course.due_on": "datetime", "training_programme.start_date": "datetime",
           "training_programme.agent_id": "user", "training_programme.user_id": "user"},
)
register_formatter("training_course_status", status_label)
register_formatter("training_course_kind", kind_label)
register_formatter("training_practical_kind", practical_label)

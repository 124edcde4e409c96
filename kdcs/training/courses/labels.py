"""Chinese labels of the course kinds, statuses and practical kinds (and their audit actions)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...auditing import register_labels
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
        "training.assign": _l("Training assigned"),
        "training.enroll": _l("Training programme assigned"),
        "training.programme_save": _l("Training programme saved"),
    },
    entities={"training_course": _l("Course"), "training_programme": _l("Training programme")},
    fields={"user.start_date": _l("Start date"), "training_course.required_for_live": _l("Required to go live"),
            "training_course.revision": _l("Revision"), "required_change": _l("Required change")},
)

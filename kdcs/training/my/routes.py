"""我的培训 (/training/): agents see today's items, progress per course, what is next and what is
overdue, and the programme day; trainers and leads see the course list and their links."""

from __future__ import annotations

from flask import current_app, url_for
from flask_login import current_user

from ...htmx import render
from ...permissions import Permission, has_permission, require
from ...workcalendar import SHANGHAI
from .. import bp
from ..courses import service as courses
from . import service as svc

INDEX = "training/my/index.html"


@bp.app_template_global("my_status_label")
def my_status_label(code: str) -> str:
    """未开始 / 学习中 / 已通过 / 未通过 / 已逾期 / 待复训 (the certification part's labels)."""
    from ..certification.service import status_label

    return status_label(code)


@bp.get("/")
@require(Permission.VIEW_TRAINING)
def index():
    """我的培训: the agent's plan and progress; for trainers, leads and admins also the courses."""
    from datetime import datetime

    today = datetime.now(SHANGHAI).date()
    return render(INDEX, today=today, overview=svc.overview(current_user, today),
                  courses=courses.list_courses(current_user) if current_user.role != "agent" else [],
                  can_edit=courses.is_editor(current_user),
                  can_assign=has_permission(current_user, Permission.ASSIGN_TRAINING),
                  matrix_url=_matrix_url())


def _matrix_url() -> str | None:
    """The matrix (certification part), for those who may see it and once it exists."""
    if "training.matrix" in current_app.view_functions and has_permission(current_user,
                                                                          Permission.VIEW_TRAINING_MATRIX):
        return url_for("training.matrix")
    return None

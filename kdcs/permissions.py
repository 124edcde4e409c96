"""The one place that says which role may do what.

Views check with ``@require(Permission.X)``; services check with
``ensure(user, Permission.X)``. Row-level scope (which outlets a user may see)
lives in the feature services and uses ``scope_of``.
"""

from __future__ import annotations

from enum import StrEnum
from functools import wraps

from flask import abort
from flask_login import current_user

from .models.user import Role


class Permission(StrEnum):
    VIEW_HOME = "home.view"
    CHANGE_OWN_PASSWORD = "account.password"
    VIEW_NOTIFICATIONS = "notifications.view"
    # Outlets
    VIEW_OUTLETS = "outlets.view"  # detail pages, within the user's scope
    MANAGE_OUTLETS = "outlets.manage"  # admin list, edit, import/export
    ASSIGN_OUTLETS = "outlets.assign"  # set/replace the primary agent
    # Administration
    MANAGE_USERS = "users.manage"
    MANAGE_TEAMS = "teams.manage"
    MANAGE_BRANDS = "brands.manage"
    VIEW_AUDIT = "audit.view"
    VIEW_TEAM = "team.view"  # a lead's view of their team
    # Tickets (issue 4)
    VIEW_TICKETS = "tickets.view"
    WORK_TICKETS = "tickets.work"
    VIEW_TEAM_TICKETS = "tickets.view_team"
    VIEW_ALL_TICKETS = "tickets.view_all"
    BULK_TICKETS = "tickets.bulk"
    RECORD_FINES = "tickets.fines"  # decide who bears a fine
    IMPORT_TICKETS = "tickets.import"
    MANAGE_DEADLINE_RULES = "tickets.rules"
    MANAGE_CANNED_REPLIES = "tickets.canned"
    # SOP scripts (issue 10)
    VIEW_SOP = "sop.view"  # browse, search, read, acknowledge, report a problem
    EDIT_SOP = "sop.edit"  # scenarios and drafts, send for review
    REVIEW_SOP = "sop.review"  # approve or return someone else's draft; archive
    VIEW_SOP_READING = "sop.reading"  # the required-reading matrix (own team for leads)
    HANDLE_SOP_REPORTS = "sop.reports"  # the trainers' inbox of "this SOP is wrong" reports
    MANAGE_SOP_SETTINGS = "sop.settings"  # e.g. turn review off for small teams
    # Leave with handover (issue 12)
    REQUEST_LEAVE = "leave.request"  # one's own requests; answering as a substitute
    APPROVE_LEAVE = "leave.approve"  # decide requests (own team for leads; never one's own)
    VIEW_LEAVE_CALENDAR = "leave.calendar"  # the team calendar (own team for agents and leads)
    MANAGE_LEAVE = "leave.manage"  # leave types, fallback approver, staffing minimums of every team
    # Training and going live (issue 11)
    VIEW_TRAINING = "training.view"  # 我的培训: assigned/published courses, lessons, quizzes
    EDIT_TRAINING = "training.edit"  # courses, lessons, question banks, practical items, programmes, publish
    ASSIGN_TRAINING = "training.assign"  # assign courses and programmes to agents or teams
    SIGN_OFF_PRACTICAL = "training.signoff"  # record practical outcomes (own team for leads)
    VIEW_TRAINING_MATRIX = "training.matrix"  # agents x courses, attempts, who is not live and why (own team for leads)
    RESET_TRAINING = "training.reset"  # archive one person's attempts with a note

    RECORD_OVERTIME = "overtime.record"  # one's own overtime (加班) for one's outlets
    APPROVE_OVERTIME = "overtime.approve"  # decide it (own team for leads; never one's own)
    # 人均毛利: gross margin per agent, and the labour costs (salaries) it needs: admins only
    VIEW_MARGIN = "margin.view"
    # 质检: scoring agents' recorded replies against the scorecard
    REVIEW_QUALITY = "quality.review"  # draw and score replies (own team's agents for leads)
    VIEW_OWN_QUALITY = "quality.own"  # an agent's own reviews
    MANAGE_QUALITY = "quality.manage"  # the scorecard and the pass line


_EVERYONE = {
    Permission.VIEW_HOME,
    Permission.CHANGE_OWN_PASSWORD,
    Permission.VIEW_NOTIFICATIONS,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.AGENT: frozenset(
        _EVERYONE
        | {
            Permission.VIEW_OUTLETS,
            Permission.VIEW_TICKETS,
            Permission.WORK_TICKETS,
            Permission.VIEW_SOP,
            Permission.REQUEST_LEAVE,
            Permission.VIEW_LEAVE_CALENDAR,
            Permission.VIEW_TRAINING,
            Permission.RECORD_OVERTIME,
            Permission.VIEW_OWN_QUALITY,
        }
    ),
    Role.TRAINER: frozenset(_EVERYONE | {
        Permission.MANAGE_CANNED_REPLIES,
        Permission.VIEW_SOP,
        Permission.EDIT_SOP,
        Permission.REVIEW_SOP,
        Permission.VIEW_SOP_READING,
        Permission.HANDLE_SOP_REPORTS,
        Permission.REQUEST_LEAVE,
        Permission.VIEW_TRAINING,
        Permission.EDIT_TRAINING,
        Permission.ASSIGN_TRAINING,
        Permission.SIGN_OFF_PRACTICAL,
        Permission.VIEW_TRAINING_MATRIX,
        Permission.RESET_TRAINING,
        Permission.REVIEW_QUALITY,
        Permission.MANAGE_QUALITY,
    }),
    Role.LEAD: frozenset(
        _EVERYONE
        | {
            Permission.VIEW_OUTLETS,
            Permission.VIEW_TEAM,
            Permission.VIEW_TICKETS,
            Permission.WORK_TICKETS,
            Permission.VIEW_TEAM_TICKETS,
            Permission.BULK_TICKETS,
            Permission.RECORD_FINES,
            Permission.IMPORT_TICKETS,
            Permission.VIEW_SOP,
            Permission.VIEW_SOP_READING,
            Permission.REQUEST_LEAVE,
            Permission.APPROVE_LEAVE,
            Permission.VIEW_LEAVE_CALENDAR,
            Permission.VIEW_TRAINING,
            Permission.SIGN_OFF_PRACTICAL,
            Permission.VIEW_TRAINING_MATRIX,
            Permission.RECORD_OVERTIME,
            Permission.APPROVE_OVERTIME,
            Permission.REVIEW_QUALITY,
        }
    ),
    Role.ADMIN: frozenset(set(Permission)),
}


def has_permission(user, permission: Permission) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    try:
        role = Role(user.role)
    except ValueError:
        return False
    return permission in ROLE_PERMISSIONS[role]


class PermissionDenied(Exception):
    """Raised by services; the app turns it into a 403 page."""


def ensure(user, permission: Permission) -> None:
    if not has_permission(user, permission):
        raise PermissionDenied(permission)


def require(*permissions: Permission):
    """View decorator: login required, then every listed permission (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from .extensions import login_manager

                return login_manager.unauthorized()
            for permission in permissions:
                if not has_permission(current_user, permission):
                    abort(403)
            return view(*args, **kwargs)

        wrapped.required_permissions = permissions  # type: ignore[attr-defined]
        return wrapped

    return decorator

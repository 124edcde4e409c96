"""The navigation: one list, filtered by permission and by which features exist."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .permissions import Permission, has_permission


@dataclass(frozen=True)
class NavItem:
    label: object
    endpoint: str
    permission: Permission
    section: str  # highlights the item for every endpoint starting with it
    hide_for: tuple[str, ...] = ()  # roles for which a personal item makes no sense


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(_l("Home"), "dashboard.home", Permission.VIEW_HOME, "dashboard."),
    NavItem(_l("Tickets"), "tickets.index", Permission.VIEW_TICKETS, "tickets."),
    NavItem(_l("My outlets"), "outlets.mine", Permission.VIEW_OUTLETS, "outlets.mine", ("admin",)),
    NavItem(_l("My team"), "dashboard.team", Permission.VIEW_TEAM, "dashboard.team", ("admin",)),
    NavItem(_l("SOP"), "sop.index", Permission.VIEW_HOME, "sop."),
    NavItem(_l("Training"), "training.index", Permission.VIEW_HOME, "training."),
    NavItem(_l("Leave"), "leave.index", Permission.VIEW_HOME, "leave."),
)

ADMIN_ITEMS: tuple[NavItem, ...] = (
    NavItem(_l("Users"), "admin.users", Permission.MANAGE_USERS, "admin.user"),
    NavItem(_l("Teams"), "org.teams", Permission.MANAGE_TEAMS, "org.team"),
    NavItem(_l("Outlets"), "outlets.admin_list", Permission.MANAGE_OUTLETS, "outlets.admin"),
    NavItem(_l("Brands"), "org.brands", Permission.MANAGE_BRANDS, "org.brand"),
    NavItem(_l("Deadline rules"), "tickets.rules", Permission.MANAGE_DEADLINE_RULES, "tickets.rule"),
    NavItem(_l("Audit log"), "admin.audit", Permission.VIEW_AUDIT, "admin.audit"),
)


def visible_items(items, user) -> list[dict]:
    endpoints = current_app.view_functions
    current = request.endpoint or ""
    result = []
    for item in items:
        if item.endpoint not in endpoints or not has_permission(user, item.permission):
            continue
        if user.role in item.hide_for:
            continue
        result.append(
            {
                "label": item.label,
                "url": url_for(item.endpoint),
                "endpoint": item.endpoint,
                "active": current.startswith(item.section),
            }
        )
    return result


def init_app(app) -> None:
    @app.context_processor
    def navigation_context():
        context = {
            "can": lambda permission: has_permission(current_user, permission),
            "Permission": Permission,
            "nav_items": [],
            "admin_nav_items": [],
        }
        if current_user.is_authenticated:
            context["nav_items"] = visible_items(NAV_ITEMS, current_user)
            context["admin_nav_items"] = visible_items(ADMIN_ITEMS, current_user)
        return context

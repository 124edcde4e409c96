"""The navigation: one list, filtered by permission and by which features exist."""

from __future__ import annotations

from collections.abc import Callable
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
    section: str | tuple[str, ...]  # highlights the item for endpoints starting with these
    hide_for: tuple[str, ...] = ()  # roles for which a personal item makes no sense
    not_section: tuple[str, ...] = ()  # endpoints under `section` that belong to another item
    badge: Callable | None = None  # user -> count shown beside the label (0: none)
    badge_template: str | None = None  # renders the badge (with `count`), e.g. to refresh it by htmx


def _open_sop_reports(_user) -> int:
    from .sop.reports.service import open_count

    return open_count()


def _sop_drafts_to_review(user) -> int:
    from .sop.service import review_count

    return review_count(user)


# The ticket settings pages (admin tabs) live on the tickets blueprint.
TICKET_SETTINGS = ("tickets.rule", "tickets.calendar", "tickets.reasons", "tickets.reason_create",
                   "tickets.reason_row", "tickets.reason_edit", "tickets.reason_move", "tickets.reason_set",
                   "tickets.reason_delete", "tickets.canned")

NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem(_l("Home"), "dashboard.home", Permission.VIEW_HOME, "dashboard.", not_section=("dashboard.team",)),
    NavItem(_l("Tickets"), "tickets.index", Permission.VIEW_TICKETS, "tickets.",
            not_section=(*TICKET_SETTINGS, "tickets.fines", "tickets.follow_ups")),
    NavItem(_l("Follow-ups"), "tickets.follow_ups", Permission.WORK_TICKETS, "tickets.follow_ups", ("admin",)),
    NavItem(_l("Fines"), "tickets.fines", Permission.VIEW_TICKETS, "tickets.fines"),
    NavItem(_l("My outlets"), "outlets.mine", Permission.VIEW_OUTLETS, "outlets.mine", ("admin",)),
    NavItem(_l("My team"), "dashboard.team", Permission.VIEW_TEAM, "dashboard.team", ("admin",)),
    NavItem(_l("Canned replies"), "tickets.canned_replies", Permission.MANAGE_CANNED_REPLIES,
            "tickets.canned", hide_for=("admin",)),
    NavItem(_l("SOP"), "sop.index", Permission.VIEW_SOP, "sop.", not_section=("sop.report", "sop.reading", "sop.review")),
    NavItem(_l("SOP review"), "sop.review", Permission.REVIEW_SOP, "sop.review",
            badge=_sop_drafts_to_review, badge_template="sop/_review_badge.html"),
    NavItem(_l("SOP reports"), "sop.reports", Permission.HANDLE_SOP_REPORTS, "sop.report",
            badge=_open_sop_reports, badge_template="sop/_reports_badge.html"),
    NavItem(_l("Required reading status"), "sop.reading", Permission.VIEW_SOP_READING, "sop.reading"),
    NavItem(_l("Training"), "training.index", Permission.VIEW_TRAINING, "training."),
    NavItem(_l("Leave"), "leave.index", Permission.REQUEST_LEAVE, "leave.", not_section=("leave.types", "leave.leave_type")),
    NavItem(_l("Overtime"), "overtime.index", Permission.RECORD_OVERTIME, "overtime."),
    NavItem(_l("Quality checks"), "quality.index", Permission.REVIEW_QUALITY, "quality.",
            not_section=("quality.mine",)),
    NavItem(_l("My quality checks"), "quality.mine", Permission.VIEW_OWN_QUALITY, "quality.mine", ("admin",)),
)

ADMIN_ITEMS: tuple[NavItem, ...] = (
    NavItem(_l("Users"), "admin.users", Permission.MANAGE_USERS, "admin.user"),
    NavItem(_l("Teams"), "org.teams", Permission.MANAGE_TEAMS, "org.team"),
    NavItem(_l("Outlets"), "outlets.admin_list", Permission.MANAGE_OUTLETS, "outlets.admin"),
    NavItem(_l("Gross margin per agent"), "margin.index", Permission.VIEW_MARGIN, "margin."),
    NavItem(_l("Brands"), "org.brands", Permission.MANAGE_BRANDS, "org.brand"),
    NavItem(_l("Ticket settings"), "tickets.rules", Permission.MANAGE_DEADLINE_RULES, TICKET_SETTINGS),
    NavItem(_l("Audit log"), "admin.audit", Permission.VIEW_AUDIT, "admin.audit"),
    NavItem(_l("Leave types"), "leave.types", Permission.MANAGE_LEAVE, ("leave.types", "leave.leave_type")),
)


def visible_items(items, user) -> list[dict]:
    """The items this user may open, with their URL, whether the current page is theirs, and badges."""
    current = request.endpoint or ""
    result = []
    for item, url in _role_items(items, user):
        active = current.startswith(item.section) and not current.startswith(item.not_section or ("\0",))
        result.append({"label": item.label, "url": url, "endpoint": item.endpoint, "active": active,
                       "badge": item.badge(user) if item.badge else None, "badge_template": item.badge_template})
    return result


def _role_items(items, user) -> list[tuple[NavItem, str]]:
    """(item, URL) of the items a role may open: fixed while the app runs, so built once per role
    and kept on the app (a url_for and a permission check per item on every page were a
    measurable part of each page)."""
    cache = current_app.extensions.setdefault("kdcs_navigation", {})
    key = (id(items), user.role, bool(user.is_active), request.script_root)
    found = cache.get(key)
    if found is None:
        endpoints = current_app.view_functions
        found = cache[key] = [(item, url_for(item.endpoint)) for item in items
                              if item.endpoint in endpoints and has_permission(user, item.permission)
                              and user.role not in item.hide_for]
    return found


class LazyItems:
    """``visible_items(items, current_user)``, computed on first use (iteration or truth test)."""

    def __init__(self, items) -> None:
        self._items = items
        self._built: list[dict] | None = None

    def _list(self) -> list[dict]:
        if self._built is None:
            self._built = visible_items(self._items, current_user)
        return self._built

    def __iter__(self):
        return iter(self._list())

    def __len__(self) -> int:
        return len(self._list())

    def __bool__(self) -> bool:
        return bool(self._list())

    def __getitem__(self, index):
        return self._list()[index]


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
            # Built when a template iterates them (the page layout), not for every fragment:
            # the presence poll and the bell render no navigation.
            context["nav_items"] = LazyItems(NAV_ITEMS)
            context["admin_nav_items"] = LazyItems(ADMIN_ITEMS)
        return context

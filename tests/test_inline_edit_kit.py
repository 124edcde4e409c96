"""The inline-edit sweep: every list registered with the kit (kdcs/crud.py) answers alike.

For each registered list it loads a real row's edit form, posts it back as the
browser would (a good edit), then with a stale, a missing and a non-numeric
version (each a 409 conflict form that keeps what was typed), deactivates and
reactivates it, and posts a tampered activate value (400). A new list that
registers with the kit is walked automatically.
"""

from __future__ import annotations

from datetime import date
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from kdcs import crud
from kdcs.extensions import db
from kdcs.models import Brand, Outlet, Team, User
from tests import factories


class FormValues(HTMLParser):
    """The name → value pairs a browser would submit from the first <form> in a fragment."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self._in_form = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._in_form += 1
        if not self._in_form:
            return
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.values[name] = a.get("value", "y")
            else:
                self.values[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self.values[self._select] = value
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.values.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form -= 1


def form_values(html: str) -> dict[str, str]:
    parser = FormValues()
    parser.feed(html)
    return parser.values


def _world() -> dict[type, object]:
    """One row of every model an admin list edits (and an admin to do it)."""
    team = factories.make_team("一组")
    admin = factories.make_user("admin", username="admin_k")
    agent = factories.make_user("agent", username="agent_k", team=team)
    brand = factories.make_brand("ZTO", "中通")
    outlet = factories.make_outlet(brand=brand, agent=agent)
    reason = factories.make_reason("problem", "地址不详")
    rule = factories.make_rule("problem", brand=brand, reason=reason)
    canned = factories.make_canned("problem", "地址核实")
    from kdcs.models import LeaveType
    from kdcs.models.ticket import WorkCalendarDay

    day = WorkCalendarDay(day=date(2026, 10, 1), is_workday=False, name="国庆节")
    leave_type = LeaveType(code="annual", name="年假", notice_days=2)
    from kdcs.models.ticket import EvidenceItem

    evidence = EvidenceItem(reason_id=reason.id, name="外包装照片")
    db.session.add_all([day, leave_type, evidence])
    db.session.commit()
    criterion = factories.make_criterion("按SOP处理", points=30)
    return {type(criterion): criterion, "admin": admin, User: agent, Team: team, Brand: brand, Outlet: outlet,
            type(reason): reason, type(rule): rule, type(canned): canned, WorkCalendarDay: day,
            LeaveType: leave_type, EvidenceItem: evidence}


def _import_every_routes_module() -> None:
    """Lists register with the kit when their routes module is imported (as create_app does)."""
    import importlib
    import pkgutil

    import kdcs

    for module in pkgutil.walk_packages(kdcs.__path__, "kdcs."):
        if module.name.endswith(".routes"):
            importlib.import_module(module.name)


_import_every_routes_module()
KITS = sorted({kit.name: kit for kit in crud.REGISTERED}.values(), key=lambda kit: kit.name)


def test_every_admin_list_uses_the_kit():
    names = {kit.name for kit in KITS}
    assert {"user", "team", "brand", "outlet", "rule", "reason", "canned"} <= names, names


@pytest.fixture
def admin_world(app, client):
    world = _world()
    login = client.post("/login", data={"username": "admin_k", "password": factories.PASSWORD})
    assert login.status_code == 303
    return world


def _row_id(kit, obj) -> str:
    return f'<tr id="{kit.dom_id(obj)}"'


def _target(kit, world):
    obj = world.get(kit.model)
    if obj is None:
        obj = db.session.scalar(select(kit.model).limit(1))
    assert obj is not None, f"the sweep's world has no {kit.model.__name__} for the {kit.name} list"
    return obj


@pytest.mark.parametrize("kit", KITS, ids=[kit.name for kit in KITS])
def test_inline_edit_endpoint_answers_alike(client, admin_world, kit, app):
    obj = _target(kit, admin_world)
    with app.test_request_context():
        urls = {kind: kit.url(kind, obj) for kind in ("row", "edit")}
        toggle_url = kit.url("set_active", obj) if kit.set_active else None

    # The edit row, then a good edit: the form as loaded, posted back.
    response = client.htmx("get", urls["edit"])
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith(_row_id(kit, obj)) and "editing" in html
    values = form_values(html)
    assert values.get("version") == str(obj.version)
    response = client.htmx("post", urls["edit"], data=values)
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html[:800]
    assert html.lstrip().startswith(_row_id(kit, obj)) and "editing" not in html
    db.session.refresh(obj)

    # A stale, a missing and a malformed version: the same 409 conflict form, typed values kept.
    typed = {**values}
    for version in (str(obj.version - 1), None, "abc", "１２", "-1", "9" * 12):
        data = {k: v for k, v in typed.items() if k != "version"}
        if version is not None:
            data["version"] = version
        response = client.htmx("post", urls["edit"], data=data)
        body = response.get_data(as_text=True)
        assert response.status_code == 409, (version, body[:500])
        assert body.lstrip().startswith(_row_id(kit, obj)) and 'class="editing conflict"' in body
        assert "conflict-box" in body and "当前保存的内容" in body
        assert form_values(body).get("version") == str(obj.version), "the conflict form carries the stored version"
        # Without JavaScript: the same conflict on a whole page.
        page = client.post(urls["edit"], data=data)
        assert page.status_code == 409 and "<html" in page.get_data(as_text=True)

    # The plain row: a fragment for htmx, a 303 to the list for a browser.
    assert client.htmx("get", urls["row"]).get_data(as_text=True).lstrip().startswith(_row_id(kit, obj))
    assert client.get(urls["row"]).status_code == 303

    if toggle_url is None:
        return
    for active in ("0", "1"):
        response = client.htmx("post", toggle_url, data={"active": active})
        assert response.status_code == 200
        assert response.get_data(as_text=True).lstrip().startswith(_row_id(kit, obj))
        assert "toast" in response.headers.get("HX-Trigger", "")
    for tampered in ("2", "", "yes", "１"):
        assert client.htmx("post", toggle_url, data={"active": tampered}).status_code == 400
    assert client.htmx("post", toggle_url, data={}).status_code == 400


def test_conflict_keeps_what_was_typed_and_resubmits(client, admin_world, app):
    """The 409 form shows the stored name beside the typed one; saving it again wins."""
    brand = admin_world[Brand]
    old = brand.version
    assert client.htmx("post", f"/admin/brands/{brand.id}/edit",
                       data={"code": "ZTO", "name": "先存的", "version": str(old)}).status_code == 200
    response = client.htmx("post", f"/admin/brands/{brand.id}/edit",
                           data={"code": "ZTO", "name": "后改的", "version": str(old)})
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and "<dd>先存的</dd>" in body and 'value="后改的"' in body
    again = client.htmx("post", f"/admin/brands/{brand.id}/edit", data=form_values(body))
    assert again.status_code == 200
    db.session.refresh(brand)
    assert brand.name == "后改的"


def test_ticket_conflict_keeps_the_typed_note(client, admin_world):
    """A stale status change re-renders the ticket with the typed note, not an error page (409)."""
    outlet = admin_world[Outlet]
    ticket = factories.make_ticket(outlet)
    stale = ticket.version
    typed_note = "客户要求改派到菜鸟驿站，已电话确认"
    db.session.execute(db.update(type(ticket)).where(type(ticket).id == ticket.id)
                       .values(version=type(ticket).version + 1))
    db.session.commit()
    response = client.htmx("post", f"/tickets/{ticket.id}/status",
                           data={"status-to_status": "processing", "status-note": typed_note,
                                 "status-version": str(stale)})
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert typed_note in body and "其他人修改了这张工单" in body
    assert f'id="ticket-version" name="version" value="{stale + 1}"' in body

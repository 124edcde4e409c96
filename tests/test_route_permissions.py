"""Every route, tried anonymously and as every role, with the exact expected outcome.

A new route fails ``test_every_route_has_an_expectation`` until it gets a row here.
Statuses: 200 ok, 303 done-and-redirect, 302 to /login (anonymous), 403 role may
not, 404 outside the user's scope (or no such record), 405 wrong method.
"""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import login

ROLES = ("anon", "agent", "trainer", "lead", "admin")


def row(anon=302, agent=403, trainer=403, lead=403, admin=200):
    return {"anon": anon, "agent": agent, "trainer": trainer, "lead": lead, "admin": admin}


EVERYONE = row(agent=200, trainer=200, lead=200)
ADMIN_ONLY = row()
ADMIN_ONLY_404 = row(admin=404)


@pytest.fixture
def world(users):
    """Records the URLs point at: one outlet in the agent's scope, one outside every non-admin scope."""
    brand = factories.make_brand("ZTO", "中通")
    own_outlet = factories.make_outlet(brand=brand, agent=users["agent"])
    foreign_outlet = factories.make_outlet(brand=brand, agent=None)
    target = factories.make_user("agent", username="target_user")
    other_team = factories.make_team("二组")
    return {
        "user_id": target.id,
        "own_outlet": own_outlet.id,
        "foreign_outlet": foreign_outlet.id,
        "brand_id": brand.id,
        "team_id": other_team.id,
        **users,
    }


# (method, url template, expectations, form data). Templates use keys of `world`.
ROUTES: dict[str, list[tuple]] = {
    "auth.login": [
        ("GET", "/login", row(anon=200, agent=302, trainer=302, lead=302, admin=302)),
        ("POST", "/login", row(anon=400, agent=302, trainer=302, lead=302, admin=302), {}),
    ],
    "auth.logout": [("POST", "/logout", row(anon=303, agent=303, trainer=303, lead=303, admin=303))],
    "auth.change_password": [
        ("GET", "/account/password", EVERYONE),
        ("POST", "/account/password", EVERYONE, {"current_password": "wrong"}),
    ],
    "dashboard.home": [("GET", "/", EVERYONE)],
    "dashboard.team": [("GET", "/team", row(lead=200))],
    "notifications.index": [("GET", "/notifications/", EVERYONE)],
    "notifications.bell": [("GET", "/notifications/bell", EVERYONE)],
    "notifications.read_all": [("POST", "/notifications/read-all", row(agent=303, trainer=303, lead=303, admin=303))],
    "notifications.open_notification": [("POST", "/notifications/999999/open", row(agent=404, trainer=404, lead=404, admin=404))],
    "admin.users": [("GET", "/admin/users", ADMIN_ONLY)],
    "admin.user_new": [("GET", "/admin/users/new", ADMIN_ONLY), ("POST", "/admin/users/new", ADMIN_ONLY, {})],
    "admin.user_detail": [("GET", "/admin/users/{user_id}", ADMIN_ONLY), ("GET", "/admin/users/999999", ADMIN_ONLY_404)],
    "admin.user_row": [("GET", "/admin/users/{user_id}/row", ADMIN_ONLY)],
    "admin.user_edit": [("GET", "/admin/users/{user_id}/edit", ADMIN_ONLY), ("POST", "/admin/users/999999/edit", ADMIN_ONLY_404, {})],
    "admin.user_set_active": [("POST", "/admin/users/{user_id}/active", row(admin=303), {"active": "0"})],
    "admin.user_reset_password": [("POST", "/admin/users/{user_id}/password", ADMIN_ONLY, {"password": "x"})],
    "admin.audit": [("GET", "/admin/audit", ADMIN_ONLY)],
    "outlets.detail": [
        ("GET", "/outlets/{own_outlet}", row(agent=200, lead=200)),
        ("GET", "/outlets/{foreign_outlet}", row(agent=404, lead=404)),
        ("GET", "/outlets/999999", row(agent=404, lead=404, admin=404)),
    ],
    "outlets.mine": [("GET", "/outlets/mine", row(agent=200, lead=200))],
    "outlets.admin_list": [("GET", "/admin/outlets", ADMIN_ONLY)],
    "outlets.admin_new": [("GET", "/admin/outlets/new", ADMIN_ONLY), ("POST", "/admin/outlets/new", ADMIN_ONLY, {})],
    "outlets.admin_row": [("GET", "/admin/outlets/{own_outlet}/row", ADMIN_ONLY)],
    "outlets.admin_edit": [("GET", "/admin/outlets/{own_outlet}/edit", ADMIN_ONLY), ("POST", "/admin/outlets/999999/edit", ADMIN_ONLY_404, {})],
    "outlets.admin_set_active": [("POST", "/admin/outlets/{own_outlet}/active", row(admin=303), {"active": "1"})],
    "outlets.assign": [("POST", "/outlets/999999/assign", ADMIN_ONLY_404, {})],
    "outlets.admin_export": [("GET", "/admin/outlets/export.xlsx", ADMIN_ONLY)],
    "outlets.admin_import_template": [("GET", "/admin/outlets/import/template.xlsx", ADMIN_ONLY)],
    "outlets.admin_import": [("GET", "/admin/outlets/import", ADMIN_ONLY), ("POST", "/admin/outlets/import", ADMIN_ONLY, {})],
    "outlets.admin_import_confirm": [("POST", "/admin/outlets/import/confirm", row(admin=303), {})],
    "outlets.admin_import_cancel": [("POST", "/admin/outlets/import/cancel", row(admin=303), {})],
    "org.teams": [("GET", "/admin/teams", ADMIN_ONLY)],
    "org.brands": [("GET", "/admin/brands", ADMIN_ONLY)],
    "org.team_create": [("POST", "/admin/teams/new", ADMIN_ONLY, {})],
    "org.team_detail": [("GET", "/admin/teams/{team_id}", ADMIN_ONLY), ("GET", "/admin/teams/999999", ADMIN_ONLY_404)],
    "org.team_row": [("GET", "/admin/teams/{team_id}/row", row(admin=303))],
    "org.team_edit": [("GET", "/admin/teams/{team_id}/edit", ADMIN_ONLY), ("POST", "/admin/teams/999999/edit", ADMIN_ONLY_404, {})],
    "org.team_set_active": [("POST", "/admin/teams/{team_id}/active", row(admin=303), {"active": "0"})],
    "org.brand_create": [("POST", "/admin/brands/new", ADMIN_ONLY, {})],
    "org.brand_row": [("GET", "/admin/brands/{brand_id}/row", row(admin=303))],
    "org.brand_edit": [("GET", "/admin/brands/{brand_id}/edit", ADMIN_ONLY), ("POST", "/admin/brands/999999/edit", ADMIN_ONLY_404, {})],
    "org.brand_set_active": [("POST", "/admin/brands/{brand_id}/active", row(admin=303), {"active": "0"})],
    "tickets.index": [
        ("GET", "/tickets/", row(agent=200, lead=200)),
        ("GET", "/tickets/?scope=all&window=overdue&q=75", row(agent=200, lead=200)),
    ],
    "tickets.reason_options": [("GET", "/tickets/reasons?category=problem", row(agent=200, lead=200))],
    "tickets.new": [("GET", "/tickets/new", row(agent=200, lead=200)), ("POST", "/tickets/new", row(agent=200, lead=200), {})],
    "tickets.new_check": [("POST", "/tickets/new/check?field=waybill_no", row(agent=200, lead=200), {"waybill_no": "X"})],
    "tickets.bulk": [("POST", "/tickets/bulk", row(lead=200), {"action": "close"})],
    "tickets.detail": [("GET", "/tickets/999999", row(agent=404, lead=404, admin=404))],
    "tickets.presence_banner": [("GET", "/tickets/999999/presence", row(agent=404, lead=404, admin=404))],
    "tickets.add_note": [("POST", "/tickets/999999/note", row(agent=404, lead=404, admin=404), {})],
    "tickets.change_status": [("POST", "/tickets/999999/status", row(agent=404, lead=404, admin=404), {})],
    "tickets.reassign": [("POST", "/tickets/999999/assign", row(agent=404, lead=404, admin=404), {})],
    "tickets.first_reply": [("POST", "/tickets/999999/first-reply", row(agent=404, lead=404, admin=404), {})],
    "tickets.fine": [("POST", "/tickets/999999/fine", row(agent=404, lead=404, admin=404), {})],
    "tickets.import_index": [("GET", "/tickets/import", row(lead=200)), ("POST", "/tickets/import", row(lead=400, admin=400), {})],
    "tickets.import_job": [("GET", "/tickets/import/999999", row(lead=404, admin=404))],
    "tickets.import_layout": [("POST", "/tickets/import/999999/layout", row(lead=404, admin=404), {})],
    "tickets.import_map": [("POST", "/tickets/import/999999/map", row(lead=404, admin=404), {})],
    "tickets.import_progress": [("GET", "/tickets/import/999999/progress", row(lead=404, admin=404))],
    "tickets.import_commit": [("POST", "/tickets/import/999999/commit", row(lead=404, admin=404), {})],
    "tickets.import_cancel": [("POST", "/tickets/import/999999/cancel", row(lead=404, admin=404), {})],
    "tickets.import_retry": [("POST", "/tickets/import/999999/retry", row(lead=404, admin=404), {})],
    "tickets.import_errors": [("GET", "/tickets/import/999999/errors", row(lead=404, admin=404))],
    "tickets.export_xlsx": [("GET", "/tickets/export.xlsx", row(agent=200, lead=200))],
    "tickets.rules": [("GET", "/tickets/rules", ADMIN_ONLY)],
    "tickets.rule_create": [("POST", "/tickets/rules/new", ADMIN_ONLY, {})],
    "tickets.rule_row": [("GET", "/tickets/rules/999999/row", ADMIN_ONLY_404)],
    "tickets.rule_edit": [("GET", "/tickets/rules/999999/edit", ADMIN_ONLY_404),
                          ("POST", "/tickets/rules/999999/edit", ADMIN_ONLY_404, {})],
    "tickets.rule_set_active": [("POST", "/tickets/rules/999999/active", ADMIN_ONLY_404, {"active": "1"})],
    "tickets.rule_preview": [("GET", "/tickets/rules/preview", ADMIN_ONLY)],
    "tickets.calendar": [("GET", "/tickets/calendar?year=2026&month=10", ADMIN_ONLY)],
    "tickets.calendar_day": [("GET", "/tickets/calendar/2026-10-01", row(admin=303)),
                             ("POST", "/tickets/calendar/2026-12-24", row(admin=303), {"is_workday": "0"})],
    "tickets.calendar_load": [("POST", "/tickets/calendar/load", ADMIN_ONLY, {})],
    "tickets.reasons": [("GET", "/tickets/reason-lists", ADMIN_ONLY)],
    "tickets.reason_create": [("POST", "/tickets/reason-lists/new", ADMIN_ONLY, {})],
    "tickets.reason_row": [("GET", "/tickets/reason-lists/999999/row", ADMIN_ONLY_404)],
    "tickets.reason_edit": [("GET", "/tickets/reason-lists/999999/edit", ADMIN_ONLY_404),
                            ("POST", "/tickets/reason-lists/999999/edit", ADMIN_ONLY_404, {})],
    "tickets.reason_move": [("POST", "/tickets/reason-lists/999999/move", ADMIN_ONLY_404, {"direction": "up"})],
    "tickets.reason_set_active": [("POST", "/tickets/reason-lists/999999/active", ADMIN_ONLY_404, {"active": "1"})],
    "tickets.reason_delete": [("POST", "/tickets/reason-lists/999999/delete", ADMIN_ONLY_404, {})],
    "tickets.canned_replies": [("GET", "/tickets/canned-replies", row(trainer=200))],
    "tickets.canned_create": [("POST", "/tickets/canned-replies/new", row(trainer=200), {})],
    "tickets.canned_row": [("GET", "/tickets/canned-replies/999999/row", row(trainer=404, admin=404))],
    "tickets.canned_edit": [("GET", "/tickets/canned-replies/999999/edit", row(trainer=404, admin=404)),
                            ("POST", "/tickets/canned-replies/999999/edit", row(trainer=404, admin=404), {})],
    "tickets.canned_move": [("POST", "/tickets/canned-replies/999999/move", row(trainer=404, admin=404), {"direction": "up"})],
    "tickets.canned_set_active": [("POST", "/tickets/canned-replies/999999/active", row(trainer=404, admin=404), {"active": "1"})],
    "tickets.reopen": [("POST", "/tickets/999999/reopen", row(agent=404, lead=404, admin=404), {})],
}

CASES = [
    pytest.param(endpoint, method, url, expected, data[0] if data else None, role,
                 id=f"{endpoint}-{method}-{url}-{role}")
    for endpoint, entries in ROUTES.items()
    for (method, url, expected, *data) in entries
    for role in ROLES
]


@pytest.mark.parametrize("endpoint,method,url,expected,data,role", CASES)
def test_route_outcome(client, world, endpoint, method, url, expected, data, role):
    if role != "anon":
        login(client, world[role])
    response = client.open(url.format(**world), method=method, data=data or {})
    assert response.status_code == expected[role], (
        f"{role} {method} {url}: got {response.status_code}, expected {expected[role]}"
    )
    if role == "anon" and expected["anon"] == 302:
        assert response.headers["Location"].startswith("/login")


def test_anonymous_htmx_gets_hx_redirect_everywhere(client, world):
    for entries in ROUTES.values():
        for method, url, expected, *_ in entries:
            if expected["anon"] != 302 or method != "GET":
                continue
            response = client.htmx("get", url.format(**world))
            assert response.status_code == 204, url
            assert response.headers["HX-Redirect"].startswith("/login"), url


def test_every_route_has_an_expectation(app):
    covered = {(endpoint, method) for endpoint, entries in ROUTES.items() for method, *_ in entries}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without an authorization expectation:\n" + "\n".join(missing)

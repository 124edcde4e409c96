"""Every route, tried anonymously and as every role, with the exact expected outcome.

A new route fails ``test_every_route_has_an_expectation`` until it gets a row here.
Statuses: 200 ok, 303 done-and-redirect, 302 to /login (anonymous), 403 role may
not, 404 outside the user's scope (or no such record), 405 wrong method, 400 malformed.

The world (``route_world``: users of every role, outlets in and out of scope, tickets,
settings records) is built once and shared by all cases; a case whose request wrote to the database makes
the next case rebuild it (tests/worlds.py), so every case starts from the same world.
Besides the status, every case checks what a refusal looks like: anonymous → the login
page (htmx: 204 + HX-Redirect), 403 → the Chinese "no permission" page (htmx: a fragment),
404 → the "not found" page; and a refused request writes nothing to the database.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest

from tests.conftest import WRITES
from tests.worlds import ROLES as USER_ROLES
from tests.worlds import client_as

ROLES = ("anon", *USER_ROLES)


def row(anon=302, agent=403, trainer=403, lead=403, admin=200):
    return {"anon": anon, "agent": agent, "trainer": trainer, "lead": lead, "admin": admin}


EVERYONE = row(agent=200, trainer=200, lead=200)
ADMIN_ONLY = row()
ADMIN_ONLY_404 = row(admin=404)
ADMIN_ONLY_303 = row(admin=303)
WORKERS = row(agent=200, lead=200)  # agents, leads and admins work tickets
WORKERS_404 = row(agent=404, lead=404, admin=404)
LEAD_ADMIN = row(lead=200)
CANNED = row(trainer=200)  # trainers and admins keep the canned replies
EDITORS = row(trainer=200)  # trainers and admins write and review SOP scripts
STALE = row(agent=409, lead=409, admin=409)  # a ticket action without the version it was loaded at
FRAGMENT_ONLY = row(agent=303, trainer=303, lead=303, admin=303)  # a plain request goes to the page
NOWHERE = row(anon=405, agent=405, trainer=405, lead=405, admin=405)

# Sent by refused roles instead of the row's form: a refusal must not depend on an empty form.
TEMPTING = {"name": "偷改", "code": "X", "active": "0", "version": "1", "agent_id": "1", "note-body": "偷看",
            "action": "close", "ids": "1", "direction": "up", "is_workday": "0"}


class R(NamedTuple):
    method: str
    url: str  # a template: {keys} of the world
    expected: dict
    data: dict | None = None
    hx: bool = False  # sent as an htmx request (anonymous then expects 204 + HX-Redirect)


def hx(method, url, expected, data=None):
    return R(method, url, expected, data, True)


ROUTES: dict[str, list[R]] = {
    "auth.login": [
        R("GET", "/login", row(anon=200, agent=302, trainer=302, lead=302, admin=302)),
        R("POST", "/login", row(anon=400, agent=302, trainer=302, lead=302, admin=302), {}),
    ],
    "auth.logout": [R("POST", "/logout", row(anon=303, agent=303, trainer=303, lead=303, admin=303))],
    "auth.change_password": [
        R("GET", "/account/password", EVERYONE),
        R("POST", "/account/password", EVERYONE, {"current_password": "wrong"}),
    ],
    "dashboard.home": [R("GET", "/", EVERYONE)],
    # Monitoring: JSON for anyone, no login (states only; tests/test_health.py).
    "health.healthz": [R("GET", "/healthz", row(anon=200, agent=200, trainer=200, lead=200, admin=200))],
    "dashboard.team": [R("GET", "/team", row(lead=200))],
    "dashboard.team_performance": [R("GET", "/team/performance", LEAD_ADMIN),
                                   R("GET", "/team/performance?period=month&start=2026-11-01", LEAD_ADMIN)],
    # 我的表现: anyone with a queue (an admin holds none); a member's: their lead, and admins.
    "dashboard.my_performance": [R("GET", "/me/performance", row(agent=200, lead=200, admin=404)),
                                 R("GET", "/me/performance?period=month&start=bad", row(agent=200, lead=200, admin=404))],
    "dashboard.member_performance": [R("GET", "/team/performance/{agent}", LEAD_ADMIN),
                                     R("GET", "/team/performance/{stranger}", row(lead=404)),
                                     R("GET", "/team/performance/{trainer}", row(lead=404, admin=404)),
                                     R("GET", "/team/performance/999999", row(lead=404, admin=404))],
    "notifications.index": [R("GET", "/notifications/", EVERYONE)],
    "notifications.bell": [R("GET", "/notifications/bell", FRAGMENT_ONLY), hx("GET", "/notifications/bell", EVERYONE)],
    "notifications.read_all": [R("POST", "/notifications/read-all", row(agent=303, trainer=303, lead=303, admin=303))],
    "notifications.open_notification": [R("POST", "/notifications/999999/open", row(agent=404, trainer=404, lead=404, admin=404))],
    # Leave (leave-core): 我的请假 / the inbox for everyone who requests or approves leave; requests outside the
    # viewer's sight (here: none exists) are 404; deciding needs APPROVE_LEAVE (leads, admins); types are admin only.
    "leave.index": [R("GET", "/leave/", EVERYONE)],
    "leave.new": [R("GET", "/leave/new", EVERYONE), R("POST", "/leave/new", EVERYONE, {})],
    "leave.edit": [R("GET", "/leave/999999/edit", row(agent=404, trainer=404, lead=404, admin=404)),
                   R("POST", "/leave/999999/edit", row(agent=404, trainer=404, lead=404, admin=404), {})],
    "leave.candidate": [R("GET", "/leave/candidate", FRAGMENT_ONLY),
                        hx("GET", "/leave/candidate?target=all&substitute_id={agent}&start_date=2026-12-07"
                                  "&end_date=2026-12-08", EVERYONE)],
    "leave.detail": [R("GET", "/leave/999999", row(agent=404, trainer=404, lead=404, admin=404))],
    "leave.print_view": [R("GET", "/leave/999999/print", row(agent=404, trainer=404, lead=404, admin=404))],
    "leave.submit": [R("POST", "/leave/999999/submit", row(agent=404, trainer=404, lead=404, admin=404), {})],
    "leave.answer": [R("POST", "/leave/999999/answer", row(agent=404, trainer=404, lead=404, admin=404),
                       {"answer": "accept"})],
    "leave.decide": [R("POST", "/leave/999999/decide", row(lead=404, admin=404), {"decision": "approve"})],
    "leave.proof": [R("POST", "/leave/999999/proof", row(lead=404, admin=404), {"version": "1"})],
    "leave.cancel": [R("POST", "/leave/999999/cancel", row(agent=404, trainer=404, lead=404, admin=404), {})],
    "leave.return_early": [R("POST", "/leave/999999/return", row(agent=404, trainer=404, lead=404, admin=404), {})],
    "leave.staffing": [R("POST", "/leave/staffing/{team}", row(lead=303, admin=303), {"min_agents": "2"}),
                       R("POST", "/leave/staffing/{other_team}", row(lead=404, admin=303), {"min_agents": "2"})],
    "leave.types": [R("GET", "/leave/types", ADMIN_ONLY)],
    "leave.leave_type_row": [R("GET", "/leave/types/999999/row", ADMIN_ONLY_404)],
    "leave.leave_type_edit": [R("GET", "/leave/types/999999/edit", ADMIN_ONLY_404),
                              R("POST", "/leave/types/999999/edit", ADMIN_ONLY_404, {"version": "1"})],
    "leave.leave_type_set_active": [R("POST", "/leave/types/999999/active", ADMIN_ONLY_404, {"active": "0"})],
    "leave.leave_type_create": [R("POST", "/leave/types/new", ADMIN_ONLY, {})],
    "leave.fallback": [R("POST", "/leave/types/fallback", ADMIN_ONLY_303, {"user_id": "0"})],
    # Leave (leave-coverage): the team calendar of the viewer's team (agents, leads, admins); a team outside the
    # viewer's calendars is a 404. The return digest of a request the viewer may not see (or none) is a 404.
    "leave.calendar": [R("GET", "/leave/calendar", row(agent=200, lead=200)),
                       hx("GET", "/leave/calendar?view=week&start=2026-10-12", row(agent=200, lead=200)),
                       R("GET", "/leave/calendar?team={other_team}", row(agent=404, lead=404))],
    "leave.digest": [R("GET", "/leave/999999/digest", row(agent=404, trainer=404, lead=404, admin=404))],
    # Leave proofs (leave-proof): the requester uploads on their own request; the file is for those
    # who may see the request, a 404 for anyone else or no such request.
    "leave.upload_proof": [R("POST", "/leave/999999/proofs", row(agent=404, trainer=404, lead=404, admin=404), {})],
    "leave.proof_file": [R("GET", "/leave/999999/proofs/999999", row(agent=404, trainer=404, lead=404, admin=404))],
    "admin.users": [R("GET", "/admin/users", ADMIN_ONLY)],
    "admin.user_new": [R("GET", "/admin/users/new", ADMIN_ONLY), R("POST", "/admin/users/new", ADMIN_ONLY, {})],
    "admin.user_detail": [R("GET", "/admin/users/{target}", ADMIN_ONLY), R("GET", "/admin/users/999999", ADMIN_ONLY_404)],
    "admin.user_row": [R("GET", "/admin/users/{target}/row", ADMIN_ONLY_303),  # without htmx: to the list
                       hx("GET", "/admin/users/{target}/row", ADMIN_ONLY)],
    "admin.user_edit": [R("GET", "/admin/users/{target}/edit", ADMIN_ONLY),
                        R("POST", "/admin/users/999999/edit", ADMIN_ONLY_404, {})],
    "admin.user_set_active": [R("POST", "/admin/users/{target}/active", ADMIN_ONLY_303, {"active": "0"})],
    "admin.user_reset_password": [R("POST", "/admin/users/{target}/password", ADMIN_ONLY, {"password": "x"})],
    "admin.audit": [R("GET", "/admin/audit", ADMIN_ONLY)],
    # Outlets: the detail page is scoped (agent: own outlets, lead: the team's, admin: all).
    "outlets.detail": [
        R("GET", "/outlets/{own}", row(agent=200, lead=200)),
        R("GET", "/outlets/{team_outlet}", row(agent=404, lead=200)),
        R("GET", "/outlets/{other}", row(agent=404, lead=404)),
        R("GET", "/outlets/{free}", row(agent=404, lead=404)),
        R("GET", "/outlets/999999", row(agent=404, lead=404, admin=404)),
    ],
    "outlets.mine": [R("GET", "/outlets/mine", row(agent=200, lead=200))],
    # 加班: agents and leads record their own; leads decide their team's agents' (admins anyone's).
    # 质检: leads (own team's agents), trainers and admins score; the agent reads their own
    "quality.index": [R("GET", "/quality/", row(trainer=200, lead=200)),
                      R("GET", "/quality/?period=month&start=2026-13-45&team=999999", row(trainer=200, lead=200))],
    "quality.draw": [R("POST", "/quality/draw", row(trainer=303, lead=303, admin=303), {"agent_id": "{agent}"}),
                     R("POST", "/quality/draw", row(trainer=303, lead=404, admin=303), {"agent_id": "{stranger}"}),
                     R("POST", "/quality/draw", row(trainer=404, lead=404, admin=404), {"agent_id": "x"})],
    "quality.score": [R("GET", "/quality/replies/{quality_reply}/review", row(trainer=200, lead=200)),
                      R("GET", "/quality/replies/{far_reply}/review", row(trainer=200, lead=404)),
                      R("GET", "/quality/replies/999999/review", row(trainer=404, lead=404, admin=404)),
                      R("POST", "/quality/replies/{quality_reply}/review", row(trainer=422, lead=422, admin=422),
                        {"comment": ""}),
                      R("POST", "/quality/replies/{far_reply}/review", row(trainer=422, lead=404, admin=422),
                        {"comment": "x" * 1200})],
    "quality.review": [R("GET", "/quality/reviews/{quality_review}", EVERYONE),
                       R("GET", "/quality/reviews/999999", row(agent=404, trainer=404, lead=404, admin=404))],
    "quality.appeal": [R("POST", "/quality/reviews/{quality_review}/appeal", row(agent=422, admin=404),
                         {"appeal_reason": ""}),
                       R("POST", "/quality/reviews/999999/appeal", row(agent=404, admin=404), {"appeal_reason": "x"})],
    "quality.decide_appeal": [
        R("POST", "/quality/reviews/{quality_review}/appeal/decide", row(trainer=303, lead=303, admin=303),
          {"decision": "uphold", "version": "1", "appeal_note": "维持"}),  # not disputed: nothing to decide
        R("POST", "/quality/reviews/{quality_review}/appeal/decide", row(trainer=400, lead=400, admin=400),
          {"decision": "maybe"}),
        R("POST", "/quality/reviews/999999/appeal/decide", row(trainer=404, lead=404, admin=404),
          {"decision": "uphold", "version": "1", "appeal_note": "维持"})],
    "quality.export": [R("GET", "/quality/export.xlsx?period=month&start=x", row(trainer=200, lead=200))],
    "quality.assign_refresher": [R("POST", "/quality/reviews/{quality_review}/refresher", row(trainer=422, admin=422),
                                   {"course_id": "0", "due_on": "x"}),
                                 R("POST", "/quality/reviews/999999/refresher", row(trainer=404, admin=404),
                                   {"course_id": "0", "due_on": "x"})],
    "quality.mine": [R("GET", "/quality/mine", row(agent=200))],
    "quality.criteria": [R("GET", "/quality/criteria", EDITORS)],
    "quality.criterion_row": [R("GET", "/quality/criteria/{criterion}/row", row(trainer=303, admin=303)),
                              R("GET", "/quality/criteria/999999/row", row(trainer=404, admin=404))],
    "quality.criterion_edit": [R("GET", "/quality/criteria/{criterion}/edit", EDITORS),
                               R("POST", "/quality/criteria/{criterion}/edit", row(trainer=409, admin=409), {})],
    "quality.criterion_set_active": [R("POST", "/quality/criteria/{criterion}/active", row(trainer=400, admin=400),
                                       {"active": "maybe"})],
    "quality.criterion_create": [R("POST", "/quality/criteria/new", EDITORS, {"name": "", "points": "0"})],
    "quality.settings": [R("POST", "/quality/criteria/settings", row(trainer=422, admin=422), {"pass_score": "0"})],
    "overtime.index": [R("GET", "/overtime/", WORKERS), R("GET", "/overtime/?month=2026-13", WORKERS)],
    "overtime.record": [R("POST", "/overtime/", row(agent=422, lead=422, admin=422),
                          {"outlet_id": "0", "work_date": "x", "hours": "99", "note": ""})],
    "overtime.decide": [R("POST", "/overtime/999999/decide", row(lead=404, admin=404), {"decision": "approve"}),
                        R("POST", "/overtime/{overtime}/decide", row(lead=400, admin=400), {"decision": "maybe"})],
    "overtime.withdraw": [R("POST", "/overtime/999999/withdraw", WORKERS_404)],
    "overtime.export": [R("GET", "/overtime/export.xlsx?month=2026-13", WORKERS)],
    # 网点月报: the outlets in one's scope (an agent's own, a lead's team's, all for admins).
    "outlets.report": [R("GET", "/outlets/report", WORKERS), R("GET", "/outlets/report?month=2026-13&sort=x", WORKERS)],
    "outlets.report_export": [R("GET", "/outlets/report.xlsx?month=2026-11", WORKERS)],
    # 对账单: leads (their team's outlets) and admins.
    "outlets.statement": [R("GET", "/outlets/{own}/statement", LEAD_ADMIN),
                          R("GET", "/outlets/{other}/statement?month=2026-11", row(lead=404)),
                          R("GET", "/outlets/{own}/statement?month=abc", LEAD_ADMIN)],
    # 人均毛利 and labour costs (salaries): admins only.
    "margin.index": [R("GET", "/admin/margin/", ADMIN_ONLY), R("GET", "/admin/margin/?month=2026-13&team=x&sort=x", ADMIN_ONLY)],
    "margin.export": [R("GET", "/admin/margin/export.xlsx?month=2026-11", ADMIN_ONLY)],
    "margin.person": [R("GET", "/admin/margin/people/{target}", ADMIN_ONLY),
                      R("GET", "/admin/margin/people/999999", ADMIN_ONLY_404)],
    "margin.row": [R("GET", "/admin/margin/people/{target}/row", ADMIN_ONLY_303),
                   hx("GET", "/admin/margin/people/{target}/row?month=2026-11", ADMIN_ONLY)],
    "margin.cost": [R("GET", "/admin/margin/people/{target}/cost", ADMIN_ONLY_303),
                    hx("GET", "/admin/margin/people/{target}/cost?month=2026-11", ADMIN_ONLY),
                    R("POST", "/admin/margin/people/{target}/cost", row(admin=422), {"amount": "-5", "month": "x"}),
                    R("POST", "/admin/margin/people/999999/cost", ADMIN_ONLY_404, {"amount": "5000", "month": "2026-11"})],
    "margin.delete_cost": [R("POST", "/admin/margin/costs/999999/delete", ADMIN_ONLY_404)],
    "margin.paste_costs": [R("POST", "/admin/margin/costs/paste", row(admin=422), {"month": "2026-11", "text": "nobody\t1"})],
    "outlets.admin_list": [R("GET", "/admin/outlets", ADMIN_ONLY)],
    "outlets.admin_new": [R("GET", "/admin/outlets/new", ADMIN_ONLY),
                          R("POST", "/admin/outlets/new", ADMIN_ONLY, {})],  # re-rendered with errors
    "outlets.admin_row": [R("GET", "/admin/outlets/{own}/row", ADMIN_ONLY_303),
                          hx("GET", "/admin/outlets/{own}/row", ADMIN_ONLY),
                          R("GET", "/admin/outlets/999999/row", ADMIN_ONLY_404)],
    "outlets.admin_edit": [
        R("GET", "/admin/outlets/{own}/edit", ADMIN_ONLY),
        R("GET", "/admin/outlets/999999/edit", ADMIN_ONLY_404),
        R("POST", "/admin/outlets/999999/edit", ADMIN_ONLY_404, {}),
        R("POST", "/admin/outlets/{own}/edit", row(admin=409), {"name": "x"}),  # no version: the conflict form
    ],
    "outlets.admin_set_active": [
        R("POST", "/admin/outlets/{own}/active", ADMIN_ONLY_303, {"active": "1"}),
        R("POST", "/admin/outlets/999999/active", ADMIN_ONLY_404, {"active": "1"}),
        R("GET", "/admin/outlets/{own}/active", NOWHERE),
    ],
    "outlets.assign": [
        R("POST", "/outlets/999999/assign", ADMIN_ONLY_404, {}),
        R("POST", "/outlets/{own}/assign", row(admin=409), {"agent_id": ""}),  # no version: stale
    ],
    # Rate history (kdcs/outlets/rates.py): a rate from a month on; no version is stale, a past month needs a note.
    "outlets.rate_change": [
        R("POST", "/outlets/999999/rates", ADMIN_ONLY_404, {}),
        R("POST", "/outlets/{own}/rates", ADMIN_ONLY, {}),  # no month: the form again with the message
        R("POST", "/outlets/{own}/rates", row(admin=409), {"month": "2031-01", "rate": "0.0300"}),  # no version
        R("GET", "/outlets/{own}/rates", NOWHERE),
    ],
    "outlets.admin_export": [R("GET", "/admin/outlets/export.xlsx", ADMIN_ONLY)],
    "outlets.admin_import_template": [R("GET", "/admin/outlets/import/template.xlsx", ADMIN_ONLY)],
    "outlets.admin_import": [R("GET", "/admin/outlets/import", ADMIN_ONLY),
                             R("POST", "/admin/outlets/import", ADMIN_ONLY, {})],  # "choose a file"
    "outlets.admin_import_confirm": [R("POST", "/admin/outlets/import/confirm", ADMIN_ONLY_303, {})],  # nothing pending
    "outlets.admin_import_cancel": [R("POST", "/admin/outlets/import/cancel", ADMIN_ONLY_303, {})],
    # Org: teams and brands. Unknown ids are 403 for non-admins: permission before lookup.
    "org.teams": [R("GET", "/admin/teams", ADMIN_ONLY), R("GET", "/admin/teams?q=一&active=1", ADMIN_ONLY)],
    "org.brands": [R("GET", "/admin/brands", ADMIN_ONLY), R("GET", "/admin/brands?q=Z", ADMIN_ONLY)],
    "org.team_create": [R("POST", "/admin/teams/new", ADMIN_ONLY, {})],  # empty form: re-rendered with errors
    "org.team_detail": [R("GET", "/admin/teams/{team}", ADMIN_ONLY), R("GET", "/admin/teams/{other_team}", ADMIN_ONLY),
                        R("GET", "/admin/teams/999999", ADMIN_ONLY_404)],
    "org.team_row": [
        R("GET", "/admin/teams/{team}/row", ADMIN_ONLY_303),  # without htmx the bare row sends you to the list
        R("GET", "/admin/teams/{other_team}/row", ADMIN_ONLY_303),
        R("GET", "/admin/teams/999999/row", ADMIN_ONLY_404),
        hx("GET", "/admin/teams/{team}/row", ADMIN_ONLY),
    ],
    "org.team_edit": [
        R("GET", "/admin/teams/{team}/edit", ADMIN_ONLY),
        R("POST", "/admin/teams/{team}/edit", row(admin=409), {}),  # no version: the conflict form
        R("GET", "/admin/teams/999999/edit", ADMIN_ONLY_404),
        R("POST", "/admin/teams/999999/edit", ADMIN_ONLY_404, {}),
        hx("GET", "/admin/teams/{team}/edit", ADMIN_ONLY),
    ],
    "org.team_set_active": [R("POST", "/admin/teams/{team}/active", ADMIN_ONLY_303, {"active": "1"}),
                            R("POST", "/admin/teams/{other_team}/active", ADMIN_ONLY_303, {"active": "0"}),
                            R("POST", "/admin/teams/999999/active", ADMIN_ONLY_404, {"active": "1"})],
    "org.brand_create": [R("POST", "/admin/brands/new", ADMIN_ONLY, {})],
    "org.brand_row": [R("GET", "/admin/brands/{zto}/row", ADMIN_ONLY_303),
                      R("GET", "/admin/brands/999999/row", ADMIN_ONLY_404),
                      hx("GET", "/admin/brands/{zto}/row", ADMIN_ONLY)],
    "org.brand_edit": [
        R("GET", "/admin/brands/{zto}/edit", ADMIN_ONLY),
        R("POST", "/admin/brands/{zto}/edit", row(admin=409), {}),
        R("GET", "/admin/brands/999999/edit", ADMIN_ONLY_404),
        R("POST", "/admin/brands/999999/edit", ADMIN_ONLY_404, {}),
        hx("GET", "/admin/brands/{zto}/edit", ADMIN_ONLY),
    ],
    "org.brand_set_active": [R("POST", "/admin/brands/{zto}/active", ADMIN_ONLY_303, {"active": "1"}),
                             R("POST", "/admin/brands/999999/active", ADMIN_ONLY_404, {"active": "0"})],
    # Tickets: agents see their outlets' tickets, leads their team's, admins all.
    "tickets.index": [
        R("GET", "/tickets/", WORKERS),
        R("GET", "/tickets/?scope=all&window=overdue&q=75", WORKERS),
        R("GET", "/tickets/?scope=mine&window=overdue&q=7512", WORKERS),
    ],
    "tickets.reason_options": [R("GET", "/tickets/reasons?category=problem", row(agent=303, lead=303, admin=303)),
                               hx("GET", "/tickets/reasons?category=problem", WORKERS)],
    "tickets.new": [R("GET", "/tickets/new", WORKERS), R("POST", "/tickets/new", WORKERS, {})],
    "tickets.new_check": [R("POST", "/tickets/new/check?field=waybill_no", row(agent=303, lead=303, admin=303), {"waybill_no": "X"}),
                          hx("POST", "/tickets/new/check?field=waybill_no", WORKERS, {"waybill_no": "X"})],
    "tickets.bulk": [R("POST", "/tickets/bulk", LEAD_ADMIN, {"action": "close"})],
    "tickets.detail": [
        R("GET", "/tickets/{mine}", WORKERS),
        R("GET", "/tickets/{team_ticket}", row(agent=404, lead=200)),
        R("GET", "/tickets/{far}", row(agent=404, lead=404)),
        R("GET", "/tickets/999999", WORKERS_404),
        hx("GET", "/tickets/{mine}", WORKERS),
    ],
    # 下一张: a redirect to the next ticket of the user's own queue (the id is only a position in it)
    "tickets.next_ticket": [R("GET", "/tickets/{mine}/next", row(agent=303, lead=303, admin=303)),
                            R("GET", "/tickets/next", row(agent=303, lead=303, admin=303)),
                            R("GET", "/tickets/999999/next", row(agent=303, lead=303, admin=303))],
    "tickets.presence_banner": [
        R("GET", "/tickets/999999/presence", row(agent=303, lead=303, admin=303)),  # fragment only
        hx("GET", "/tickets/999999/presence", WORKERS_404),
        hx("GET", "/tickets/{mine}/presence?version=1", WORKERS),
        hx("GET", "/tickets/{far}/presence", row(agent=404, lead=404)),
    ],
    "tickets.add_note": [R("POST", "/tickets/999999/note", WORKERS_404, {}),
                         R("POST", "/tickets/{mine}/note", WORKERS, {}),  # empty note: the form with its error
                         hx("POST", "/tickets/{far}/note", row(agent=404, lead=404, admin=200), {"note-body": "偷看"})],
    "tickets.change_status": [R("POST", "/tickets/999999/status", WORKERS_404, {}),
                              R("POST", "/tickets/{mine}/status", STALE, {})],
    "tickets.reassign": [R("POST", "/tickets/999999/assign", WORKERS_404, {}),
                         R("POST", "/tickets/{mine}/assign", STALE, {})],
    "tickets.reply": [R("POST", "/tickets/999999/replies", WORKERS_404, {}),
                      R("POST", "/tickets/{mine}/replies", STALE, {}),
                      hx("POST", "/tickets/{far}/replies", row(agent=404, lead=404, admin=409), {"reply-body": "偷看"})],
    "tickets.fine": [R("POST", "/tickets/999999/fine", row(agent=403, lead=404, admin=404), {}),  # agents may not fine
                     R("POST", "/tickets/{mine}/fine", row(agent=403, lead=409, admin=409), {})],
    "tickets.reopen": [R("POST", "/tickets/999999/reopen", WORKERS_404, {}),
                       R("POST", "/tickets/{mine}/reopen", STALE, {})],
    # Evidence attachments (desk-evidence): whoever works the ticket uploads and removes; whoever sees it views;
    # another team's ticket (or an attachment under another ticket's URL) is a 404; only admins purge.
    "tickets.attachments": [R("GET", "/tickets/{mine}/attachments", row(agent=303, lead=303, admin=303)),  # fragment only
                            hx("GET", "/tickets/{mine}/attachments", WORKERS),
                            hx("GET", "/tickets/{far}/attachments", row(agent=404, lead=404))],
    "tickets.upload_attachments": [R("POST", "/tickets/999999/attachments", WORKERS_404, {}),
                                   R("POST", "/tickets/{mine}/attachments", row(agent=303, lead=303, admin=303), {}),
                                   hx("POST", "/tickets/{far}/attachments", row(agent=404, lead=404, admin=422), {})],
    "tickets.attachment_file": [R("GET", "/tickets/{mine}/attachments/{attachment}", WORKERS),
                                R("GET", "/tickets/{team_ticket}/attachments/{team_attachment}", row(agent=404, lead=200)),
                                R("GET", "/tickets/{far}/attachments/{far_attachment}?download=1", row(agent=404, lead=404)),
                                R("GET", "/tickets/{mine}/attachments/{far_attachment}", WORKERS_404),
                                R("GET", "/tickets/{mine}/attachments/999999", WORKERS_404)],
    "tickets.attachment_thumb": [R("GET", "/tickets/{mine}/attachments/{attachment}/thumb", WORKERS),
                                 R("GET", "/tickets/{far}/attachments/{far_attachment}/thumb", row(agent=404, lead=404))],
    "tickets.remove_attachment": [
        R("POST", "/tickets/{mine}/attachments/{attachment}/remove", row(agent=303, lead=303, admin=303), {}),
        hx("POST", "/tickets/{far}/attachments/{far_attachment}/remove", row(agent=404, lead=404), {"reason": "偷删"}),
        R("POST", "/tickets/{mine}/attachments/999999/remove", WORKERS_404, {"reason": "x"}),
    ],
    "tickets.purge_attachment": [R("POST", "/tickets/{mine}/attachments/{attachment}/purge", row(admin=303), {}),
                                 R("POST", "/tickets/{far}/attachments/999999/purge", row(admin=404), {})],
    "tickets.evidence_items": [R("GET", "/tickets/evidence-items", ADMIN_ONLY)],
    "tickets.evidence_item_create": [R("POST", "/tickets/evidence-items/new", ADMIN_ONLY, {})],
    "tickets.evidence_item_row": [R("GET", "/tickets/evidence-items/{evidence_item}/row", row(admin=303)),
                                  hx("GET", "/tickets/evidence-items/{evidence_item}/row", ADMIN_ONLY),
                                  R("GET", "/tickets/evidence-items/999999/row", ADMIN_ONLY_404)],
    "tickets.evidence_item_edit": [R("GET", "/tickets/evidence-items/{evidence_item}/edit", ADMIN_ONLY),
                                   R("POST", "/tickets/evidence-items/{evidence_item}/edit", row(admin=409), {}),
                                   R("POST", "/tickets/evidence-items/999999/edit", ADMIN_ONLY_404, {})],
    "tickets.evidence_item_set_active": [
        R("POST", "/tickets/evidence-items/{evidence_item}/active", ADMIN_ONLY_303, {"active": "0"}),
        R("POST", "/tickets/evidence-items/999999/active", ADMIN_ONLY_404, {"active": "1"}),
    ],
    "tickets.import_index": [R("GET", "/tickets/import", LEAD_ADMIN),
                             R("POST", "/tickets/import", row(lead=400, admin=400), {})],
    "tickets.import_job": [R("GET", "/tickets/import/999999", row(lead=404, admin=404))],
    "tickets.import_layout": [R("POST", "/tickets/import/999999/layout", row(lead=404, admin=404), {})],
    "tickets.import_map": [R("POST", "/tickets/import/999999/map", row(lead=404, admin=404), {})],
    "tickets.import_progress": [R("GET", "/tickets/import/999999/progress", row(lead=404, admin=404))],
    "tickets.import_commit": [R("POST", "/tickets/import/999999/commit", row(lead=404, admin=404), {})],
    "tickets.import_cancel": [R("POST", "/tickets/import/999999/cancel", row(lead=404, admin=404), {})],
    "tickets.import_retry": [R("POST", "/tickets/import/999999/retry", row(lead=404, admin=404), {})],
    "tickets.import_values": [R("POST", "/tickets/import/999999/values", row(lead=404, admin=404), {})],
    "tickets.import_rejected": [R("GET", "/tickets/import/999999/rejected.xlsx", row(lead=404, admin=404))],
    "tickets.import_errors": [R("GET", "/tickets/import/999999/errors", row(lead=303, admin=303)),  # fragment only
                              hx("GET", "/tickets/import/999999/errors", row(lead=404, admin=404))],
    "tickets.export_xlsx": [R("GET", "/tickets/export.xlsx", WORKERS)],
    # 跟进: listed for whoever works tickets; added and closed only on a ticket in the user's scope.
    "tickets.follow_ups": [R("GET", "/tickets/follow-ups", WORKERS), R("GET", "/tickets/follow-ups?scope=team", WORKERS),
                           hx("GET", "/tickets/follow-ups?scope=nonsense", WORKERS)],
    "tickets.follow_up_add": [R("POST", "/tickets/999999/follow-ups", WORKERS_404, {}),
                              R("POST", "/tickets/{mine}/follow-ups", WORKERS, {}),  # empty: the form with its errors
                              hx("POST", "/tickets/{far}/follow-ups", row(agent=404, lead=404, admin=200),
                                 {"follow_up-promise": "偷看", "follow_up-party": "customer"})],
    "tickets.follow_up_done": [R("POST", "/tickets/follow-ups/999999/done", WORKERS_404, {}),
                               R("POST", "/tickets/follow-ups/{follow_up}/done", row(agent=303, lead=303, admin=303), {})],
    "tickets.follow_up_cancel": [R("POST", "/tickets/follow-ups/999999/cancel", WORKERS_404, {}),
                                 hx("POST", "/tickets/follow-ups/{follow_up}/cancel", WORKERS, {"origin": "board"})],
    "tickets.fines": [R("GET", "/tickets/fines", WORKERS), R("GET", "/tickets/fines?month=2026-11", WORKERS)],
    "tickets.fines_export": [R("GET", "/tickets/fines/export.xlsx?month=2026-11", WORKERS)],
    # Ticket settings: deadline rules, work calendar, reason lists (admin); canned replies (trainer, admin).
    "tickets.rules": [R("GET", "/tickets/rules", ADMIN_ONLY),
                      R("GET", "/tickets/rules?category=work_order&brand=-1&active=1", ADMIN_ONLY)],
    "tickets.rule_create": [R("POST", "/tickets/rules/new", ADMIN_ONLY, {})],  # empty: re-rendered with errors
    "tickets.rule_row": [R("GET", "/tickets/rules/{rule}/row", ADMIN_ONLY_303),
                         R("GET", "/tickets/rules/999999/row", ADMIN_ONLY_404)],
    "tickets.rule_edit": [R("GET", "/tickets/rules/{rule}/edit", ADMIN_ONLY),
                          R("POST", "/tickets/rules/{rule}/edit", row(admin=409), {}),  # no version
                          R("GET", "/tickets/rules/999999/edit", ADMIN_ONLY_404),
                          R("POST", "/tickets/rules/999999/edit", ADMIN_ONLY_404, {})],
    "tickets.rule_set_active": [R("POST", "/tickets/rules/{rule}/active", ADMIN_ONLY_303, {"active": "1"}),
                                R("POST", "/tickets/rules/999999/active", ADMIN_ONLY_404, {"active": "1"})],
    "tickets.rule_preview": [R("GET", "/tickets/rules/preview", ADMIN_ONLY),
                             R("GET", "/tickets/rules/preview?rule_id={rule}&start=2026-10-01T09:30", ADMIN_ONLY)],
    "tickets.calendar": [R("GET", "/tickets/calendar", ADMIN_ONLY),
                         R("GET", "/tickets/calendar?year=2026&month=10", ADMIN_ONLY),
                         R("GET", "/tickets/calendar?year=2026&month=10&day=2026-10-01", ADMIN_ONLY)],
    "tickets.calendar_day": [R("GET", "/tickets/calendar/2026-10-01", ADMIN_ONLY_303),
                             R("GET", "/tickets/calendar/not-a-day", ADMIN_ONLY_404),
                             R("POST", "/tickets/calendar/2026-12-24", row(admin=409), {"is_workday": "0"}),  # no version
                             R("POST", "/tickets/calendar/2026-12-24", ADMIN_ONLY_303,
                               {"is_workday": "0", "name": "平安夜", "version": "0"})],
    "tickets.calendar_load": [R("POST", "/tickets/calendar/load", ADMIN_ONLY, {}),
                              R("POST", "/tickets/calendar/load", ADMIN_ONLY_303, {"year": "2026", "month": "10"})],
    # The State Council's notice (kdcs/workcalendar): paste, preview (200, nothing saved), save (303).
    "workcalendar.notice": [R("GET", "/work-calendar/notice", ADMIN_ONLY),
                            R("GET", "/work-calendar/notice?year=2027", ADMIN_ONLY),
                            R("POST", "/work-calendar/notice", ADMIN_ONLY, {}),
                            R("POST", "/work-calendar/notice", ADMIN_ONLY,
                              {"text": "关于2031年部分节假日安排的通知\n一、元旦：1月1日放假。", "action": "preview"}),
                            R("POST", "/work-calendar/notice", ADMIN_ONLY_303,
                              {"year": "2031", "text": "一、元旦：1月1日（周三）放假1天，不调休。", "action": "save"})],
    "tickets.reasons": [R("GET", "/tickets/reason-lists", ADMIN_ONLY),
                        R("GET", "/tickets/reason-lists?category=arbitration", ADMIN_ONLY)],
    "tickets.reason_create": [R("POST", "/tickets/reason-lists/new", ADMIN_ONLY, {}),
                              R("POST", "/tickets/reason-lists/new", ADMIN_ONLY_303, {"category": "arbitration", "name": "遗失"})],
    "tickets.reason_row": [R("GET", "/tickets/reason-lists/{complaint}/row", ADMIN_ONLY_303),
                           R("GET", "/tickets/reason-lists/999999/row", ADMIN_ONLY_404)],
    "tickets.reason_edit": [R("GET", "/tickets/reason-lists/{complaint}/edit", ADMIN_ONLY),
                            R("POST", "/tickets/reason-lists/{complaint}/edit", row(admin=409), {}),
                            R("GET", "/tickets/reason-lists/999999/edit", ADMIN_ONLY_404),
                            R("POST", "/tickets/reason-lists/999999/edit", ADMIN_ONLY_404, {})],
    "tickets.reason_move": [R("POST", "/tickets/reason-lists/{chase}/move", ADMIN_ONLY_303, {"direction": "up"}),
                            R("POST", "/tickets/reason-lists/999999/move", ADMIN_ONLY_404, {"direction": "up"})],
    "tickets.reason_set_active": [R("POST", "/tickets/reason-lists/{complaint}/active", ADMIN_ONLY_303, {"active": "1"}),
                                  R("POST", "/tickets/reason-lists/999999/active", ADMIN_ONLY_404, {"active": "1"})],
    "tickets.reason_delete": [R("POST", "/tickets/reason-lists/{damaged}/delete", ADMIN_ONLY_303, {}),
                              R("POST", "/tickets/reason-lists/999999/delete", ADMIN_ONLY_404, {})],
    "tickets.canned_replies": [R("GET", "/tickets/canned-replies", CANNED),
                               R("GET", "/tickets/canned-replies?category=all&q=催&active=1", CANNED)],
    "tickets.canned_create": [R("POST", "/tickets/canned-replies/new", CANNED, {})],
    "tickets.canned_row": [R("GET", "/tickets/canned-replies/{reply}/row", row(trainer=303, admin=303)),
                           R("GET", "/tickets/canned-replies/999999/row", row(trainer=404, admin=404))],
    "tickets.canned_edit": [R("GET", "/tickets/canned-replies/{reply}/edit", CANNED),
                            R("POST", "/tickets/canned-replies/{reply}/edit", row(trainer=409, admin=409), {}),
                            R("GET", "/tickets/canned-replies/999999/edit", row(trainer=404, admin=404)),
                            R("POST", "/tickets/canned-replies/999999/edit", row(trainer=404, admin=404), {})],
    "tickets.canned_move": [R("POST", "/tickets/canned-replies/{reply}/move", row(trainer=303, admin=303), {"direction": "down"}),
                            R("POST", "/tickets/canned-replies/999999/move", row(trainer=404, admin=404), {"direction": "up"})],
    "tickets.canned_set_active": [
        R("POST", "/tickets/canned-replies/{reply}/active", row(trainer=303, admin=303), {"active": "1"}),
        R("POST", "/tickets/canned-replies/999999/active", row(trainer=404, admin=404), {"active": "1"}),
    ],
    # SOP required reading: the matrix for trainers, leads (own team: another team is a 403) and admins;
    # every role has its own list and the banner; acknowledging a version that does not exist is a 404.
    "sop.reading": [R("GET", "/sop/reading", row(trainer=200, lead=200)),
                    hx("GET", "/sop/reading?team={team}", row(trainer=200, lead=200)),
                    R("GET", "/sop/reading?team={other_team}&all=1", row(trainer=200, lead=403)),
                    R("GET", "/sop/reading?team=999999", row(trainer=404, lead=403, admin=404)),
                    R("GET", "/sop/reading?team=abc", row(trainer=400, lead=400, admin=400))],
    "sop.reading_export": [R("GET", "/sop/reading/export.xlsx", row(trainer=200, lead=200)),
                           R("GET", "/sop/reading/export.xlsx?team={other_team}", row(trainer=200, lead=403))],
    "sop.reading_mine": [R("GET", "/sop/reading/mine", EVERYONE)],
    "sop.reading_banner": [R("GET", "/sop/reading/banner", FRAGMENT_ONLY), hx("GET", "/sop/reading/banner", EVERYONE)],
    "sop.acknowledge": [R("POST", "/sop/999999/versions/1/acknowledge", row(agent=404, trainer=404, lead=404, admin=404)),
                        hx("POST", "/sop/999999/versions/1/acknowledge", row(agent=404, trainer=404, lead=404, admin=404)),
                        R("GET", "/sop/999999/versions/1/acknowledge", NOWHERE)],
    # The SOP library: every role browses and searches (page and htmx results block).
    "sop.index": [R("GET", "/sop/", EVERYONE), hx("GET", "/sop/?q=破损", EVERYONE),
                  R("GET", "/sop/?q=破损&kind=claim&tag=破损&page=2", EVERYONE),
                  R("GET", "/sop/?kind=nope&page=abc", EVERYONE)],
    # SOP beside the ticket: recording the version used needs ticket work (trainers: 403) and the ticket in scope.
    "sop.panel_used": [R("POST", "/sop/panel/999999/used", WORKERS_404, {"version_id": "1"}),
                       R("POST", "/sop/panel/{mine}/used", row(agent=400, lead=400, admin=400), {}),  # no version
                       R("POST", "/sop/panel/{mine}/used", WORKERS_404, {"version_id": "999999"}),
                       hx("POST", "/sop/panel/{far}/used", WORKERS_404, {"version_id": "999999"}),
                       R("GET", "/sop/panel/{mine}/used", NOWHERE)],
    # Reports: everyone may report (about a ticket they see); the inbox and resolving are for trainers and admins.
    "sop.report_new": [R("GET", "/sop/reports/new", EVERYONE),
                       R("GET", "/sop/reports/new?ticket_id={far}", row(agent=404, trainer=404, lead=404)),
                       R("GET", "/sop/reports/new?scenario_id=999999", row(agent=404, trainer=404, lead=404, admin=404))],
    "sop.report_create": [R("POST", "/sop/reports", EVERYONE, {}),  # no note: the form with its error
                          R("POST", "/sop/reports", row(agent=404, trainer=404, lead=404, admin=404),
                            {"note": "缺少情形", "scenario_id": "999999"}),
                          R("POST", "/sop/reports", row(agent=303, trainer=303, lead=303, admin=303), {"note": "缺少情形"})],
    "sop.reports": [R("GET", "/sop/reports", row(trainer=200)),
                    hx("GET", "/sop/reports?status=resolved&page=2", row(trainer=200)),
                    R("GET", "/sop/reports?status=zzz&page=abc", row(trainer=200))],
    "sop.report": [R("GET", "/sop/reports/999999", row(trainer=404, admin=404))],
    "sop.report_resolve": [R("POST", "/sop/reports/999999/resolve", row(trainer=404, admin=404), {}),
                           R("GET", "/sop/reports/999999/resolve", NOWHERE)],
    "sop.reports_badge": [R("GET", "/sop/reports/badge", row(trainer=303, admin=303)),  # fragment only
                          hx("GET", "/sop/reports/badge", row(trainer=200))],
    # SOP scenarios (sop-core): everyone reads published versions; agents and leads never see drafts or
    # unpublished scenarios (404) and may not compare against a draft (403). Trainers and admins edit;
    # a draft post or button without the version its page showed is a 409 (nothing saved).
    "sop.scenario": [R("GET", "/sop/{sop_scenario}", EVERYONE),
                     R("GET", "/sop/{sop_draft_only}", row(agent=404, trainer=200, lead=404)),
                     R("GET", "/sop/999999", row(agent=404, trainer=404, lead=404, admin=404))],
    "sop.version": [R("GET", "/sop/{sop_scenario}/versions/1", EVERYONE),
                    R("GET", "/sop/{sop_scenario}/versions/2", row(agent=404, trainer=404, lead=404, admin=404))],
    "sop.draft": [R("GET", "/sop/{sop_scenario}/draft", EDITORS),
                  R("GET", "/sop/999999/draft", row(trainer=404, admin=404))],
    "sop.start_draft": [R("POST", "/sop/{sop_scenario}/draft", row(trainer=303, admin=303))],  # opens the draft
    "sop.diff": [R("GET", "/sop/{sop_scenario}/diff", EVERYONE),  # one version: nothing to compare yet
                 hx("GET", "/sop/{sop_scenario}/diff?a=1&b=draft", row(agent=403, trainer=200, lead=403)),
                 R("GET", "/sop/{sop_scenario}/diff?a=1&b=9", row(agent=404, trainer=404, lead=404, admin=404)),
                 R("GET", "/sop/{sop_scenario}/diff?a=x&b=" + "9" * 30, row(agent=404, trainer=404, lead=404, admin=404))],
    "sop.new": [R("GET", "/sop/new", EDITORS), R("POST", "/sop/new", EDITORS, {})],  # errors beside the fields
    "sop.edit": [R("GET", "/sop/{sop_scenario}/edit", EDITORS),  # the draft in review, read only
                 R("GET", "/sop/{sop_draft_only}/edit", EDITORS),
                 R("POST", "/sop/{sop_draft_only}/edit", row(trainer=409, admin=409), {"title": "x"}),  # no version
                 R("GET", "/sop/999999/edit", row(trainer=404, admin=404))],
    "sop.preview": [R("POST", "/sop/preview", row(trainer=303, admin=303), {}),  # fragment only
                    hx("POST", "/sop/preview", EDITORS, {"script": "**破损**"})],
    "sop.withdraw": [R("POST", "/sop/{sop_scenario}/withdraw", row(trainer=409, admin=409), {})],
    "sop.discard": [R("POST", "/sop/{sop_scenario}/discard", row(trainer=409, admin=409), {}),
                    R("POST", "/sop/999999/discard", row(trainer=404, admin=404), {})],
    "sop.restore": [R("POST", "/sop/{sop_scenario}/versions/1/restore", row(trainer=303, admin=303)),  # refused: a draft is open
                    R("POST", "/sop/{sop_scenario}/versions/9/restore", row(trainer=404, admin=404))],
    "sop.archive": [R("POST", "/sop/{sop_scenario}/archive", row(trainer=400, admin=400), {}),
                    R("POST", "/sop/{sop_scenario}/archive", row(trainer=409, admin=409), {"archived": "1"})],
    "sop.review": [R("GET", "/sop/review", EDITORS)],
    "sop.approve": [R("POST", "/sop/{sop_scenario}/approve", row(trainer=409, admin=409), {}),
                    R("POST", "/sop/999999/approve", row(trainer=404, admin=404), {})],
    "sop.return_draft": [R("POST", "/sop/{sop_scenario}/return", row(trainer=409, admin=409), {})],
    "sop.review_setting": [R("POST", "/sop/review/setting", row(admin=400), {}),  # no value: a tampered form
                           R("GET", "/sop/review/setting", NOWHERE)],
    # Training: courses, lessons, files, practical items, programmes, 我的培训 (T1; tests/training_world.py).
    # ``course`` is published (everyone reads it), ``course_draft`` only editors see (404 for the others).
    "training.index": [R("GET", "/training/", EVERYONE)],
    "training.courses": [R("GET", "/training/courses", EVERYONE), hx("GET", "/training/courses?q=品牌", EVERYONE)],
    "training.course_new": [R("GET", "/training/courses/new", EDITORS),
                            R("POST", "/training/courses/new", EDITORS, {})],  # no title: the form with its error
    "training.course": [R("GET", "/training/courses/{course}", EVERYONE),
                        R("GET", "/training/courses/{course_draft}", row(agent=404, lead=404, trainer=200)),
                        R("GET", "/training/courses/999999", row(agent=404, trainer=404, lead=404, admin=404))],
    "training.course_edit": [R("GET", "/training/courses/{course}/edit", EDITORS),
                             R("POST", "/training/courses/{course}/edit", EDITORS, {}),  # no kind: the errors
                             R("POST", "/training/courses/{course}/edit", row(trainer=409, admin=409),
                               {"title": "新标题", "kind": "onboarding"}),  # no version: stale
                             R("GET", "/training/courses/999999/edit", row(trainer=404, admin=404))],
    "training.course_publish": [R("POST", "/training/courses/{course}/publish", row(trainer=303, admin=303), {}),
                                R("POST", "/training/courses/999999/publish", row(trainer=404, admin=404),
                                  {"required_change": "0", "version": "1"})],
    "training.course_archive": [R("POST", "/training/courses/{course_draft}/archive", row(trainer=303, admin=303), {}),
                                R("POST", "/training/courses/999999/archive", row(trainer=404, admin=404), {})],
    "training.lesson_add": [R("POST", "/training/courses/{course}/lessons", EDITORS, {}),  # no title: the editor
                            R("POST", "/training/courses/999999/lessons", row(trainer=404, admin=404), {})],
    "training.lesson_move": [R("POST", "/training/lessons/{lesson}/move", row(trainer=400, admin=400), {}),  # tampered
                             R("POST", "/training/lessons/999999/move", row(trainer=404, admin=404), {"direction": "up"})],
    "training.lesson_delete": [R("POST", "/training/lessons/999999/delete", row(trainer=404, admin=404), {})],
    "training.lesson_edit": [R("GET", "/training/lessons/{lesson}/edit", EDITORS),
                             R("POST", "/training/lessons/{lesson}/edit", row(trainer=409, admin=409), {}),
                             R("GET", "/training/lessons/999999/edit", row(trainer=404, admin=404))],
    "training.lesson_preview": [R("POST", "/training/lessons/preview", row(trainer=303, admin=303), {}),
                                hx("POST", "/training/lessons/preview", EDITORS, {"body": "**加粗**"})],
    "training.lesson_file_add": [R("POST", "/training/lessons/{lesson}/files", row(trainer=303, admin=303), {}),
                                 R("POST", "/training/lessons/999999/files", row(trainer=404, admin=404), {})],
    "training.lesson_file_delete": [R("POST", "/training/files/999999/delete", row(trainer=404, admin=404), {})],
    "training.lesson_file": [R("GET", "/training/files/{lesson_file}", EVERYONE),
                             R("GET", "/training/files/999999", row(agent=404, trainer=404, lead=404, admin=404))],
    "training.lesson": [R("GET", "/training/lessons/{lesson}", EVERYONE),
                        R("GET", "/training/lessons/{draft_lesson}", row(agent=404, lead=404, trainer=200))],
    "training.lesson_done": [R("POST", "/training/lessons/{lesson}/done", row(agent=303, trainer=303, lead=303, admin=303)),
                             R("POST", "/training/lessons/{draft_lesson}/done", row(agent=404, lead=404, trainer=303,
                                                                                    admin=303))],
    "training.practical_add": [R("POST", "/training/courses/{course}/practical", EDITORS, {}),  # errors
                               R("POST", "/training/courses/999999/practical", row(trainer=404, admin=404), {})],
    "training.practical_edit": [R("GET", "/training/practical/{practical_item}/edit", EDITORS),
                                R("POST", "/training/practical/{practical_item}/edit", row(trainer=409, admin=409), {}),  # no version
                                R("GET", "/training/practical/999999/edit", row(trainer=404, admin=404))],
    "training.practical_remove": [R("POST", "/training/practical/999999/remove", row(trainer=404, admin=404), {})],
    "training.programmes": [R("GET", "/training/programmes", EDITORS)],
    "training.programme_create": [R("POST", "/training/programmes", EDITORS, {})],  # no title: the form again
    "training.programme": [R("GET", "/training/programmes/{programme}", EDITORS),
                           R("POST", "/training/programmes/{programme}", row(trainer=409, admin=409), {}),
                           R("GET", "/training/programmes/999999", row(trainer=404, admin=404))],
    "training.programme_item_add": [R("POST", "/training/programmes/{programme}/items", EDITORS, {}),
                                    R("POST", "/training/programmes/999999/items", row(trainer=404, admin=404), {})],
    "training.programme_item_remove": [R("POST", "/training/programmes/{programme}/items/remove",
                                         row(trainer=404, admin=404), {"item_id": "999999"})],
    "training.programme_enroll": [R("POST", "/training/programmes/{programme}/enroll", EDITORS, {}),  # errors
                                  R("POST", "/training/programmes/999999/enroll", row(trainer=404, admin=404), {})],
    "training.course_assign": [R("GET", "/training/courses/{course}/assign", EDITORS),
                               R("POST", "/training/courses/{course}/assign", EDITORS, {}),  # nobody chosen: errors
                               R("GET", "/training/courses/999999/assign", row(trainer=404, admin=404))],
    # Quiz (T2; tests/quiz_world.py): banks, import/export, settings and statistics are the editors'; an attempt
    # is its owner's only (``attempt``: the agent's open attempt at ``course``; anyone else gets a 404).
    "training.quiz_bank": [R("GET", "/training/courses/{course}/questions", EDITORS),
                           hx("GET", "/training/courses/{course}/questions?tag=时效", EDITORS),
                           R("GET", "/training/courses/999999/questions", row(trainer=404, admin=404))],
    "training.quiz_question_new": [R("GET", "/training/courses/{course}/questions/new", EDITORS),
                                   R("POST", "/training/courses/{course}/questions/new", EDITORS, {})],  # errors
    "training.quiz_question_edit": [R("GET", "/training/questions/{question}/edit", EDITORS),
                                    R("POST", "/training/questions/{question}/edit", row(trainer=409, admin=409), {}),
                                    R("GET", "/training/questions/999999/edit", row(trainer=404, admin=404))],
    "training.quiz_question_active": [
        R("POST", "/training/questions/{question}/active", row(trainer=303, admin=303), {"active": "1"}),
        hx("POST", "/training/questions/{question}/active", EDITORS, {"active": "1"}),
        R("POST", "/training/questions/{question}/active", row(trainer=400, admin=400), {"active": "x"}),
        R("POST", "/training/questions/999999/active", row(trainer=404, admin=404), {"active": "0"})],
    "training.quiz_template": [R("GET", "/training/courses/{course}/questions/template.xlsx", EDITORS)],
    "training.quiz_export": [R("GET", "/training/courses/{course}/questions/export.xlsx", EDITORS),
                             R("GET", "/training/courses/999999/questions/export.xlsx", row(trainer=404, admin=404))],
    "training.quiz_import": [R("GET", "/training/courses/{course}/questions/import", EDITORS),
                             R("POST", "/training/courses/{course}/questions/import", EDITORS, {})],  # choose a file
    "training.quiz_import_confirm": [R("POST", "/training/courses/{course}/questions/import/confirm",
                                       row(trainer=303, admin=303), {})],  # nothing pending
    "training.quiz_import_cancel": [R("POST", "/training/courses/{course}/questions/import/cancel",
                                      row(trainer=303, admin=303), {})],
    "training.quiz_settings": [R("GET", "/training/courses/{course}/quiz/settings", EDITORS),
                               R("POST", "/training/courses/{course}/quiz/settings", EDITORS, {}),  # errors
                               R("GET", "/training/courses/999999/quiz/settings", row(trainer=404, admin=404))],
    "training.quiz_stats": [R("GET", "/training/courses/{course}/quiz/stats", EDITORS)],
    "training.quiz_home": [R("GET", "/training/courses/{course}/quiz", EVERYONE),
                           R("GET", "/training/courses/{course_draft}/quiz", row(agent=404, lead=404, trainer=200)),
                           R("GET", "/training/courses/999999/quiz", row(agent=404, trainer=404, lead=404, admin=404))],
    "training.quiz_start": [R("POST", "/training/courses/{course}/quiz/start", row(agent=303, trainer=303, lead=303,
                                                                                   admin=303)),
                            R("POST", "/training/courses/{course_draft}/quiz/start", row(agent=404, lead=404,
                                                                                         trainer=303, admin=303))],
    "training.quiz_attempt": [R("GET", "/training/quiz/{attempt}", row(agent=200, trainer=404, lead=404, admin=404)),
                              R("GET", "/training/quiz/999999", row(agent=404, trainer=404, lead=404, admin=404))],
    "training.quiz_answer": [R("POST", "/training/quiz/{attempt}/answer", row(agent=303, trainer=404, lead=404,
                                                                             admin=404), {}),
                             hx("POST", "/training/quiz/{attempt}/answer", row(agent=422, trainer=404, lead=404,
                                                                              admin=404), {"question": "999999"})],
    "training.quiz_submit": [R("POST", "/training/quiz/{attempt}/submit", row(agent=303, trainer=404, lead=404,
                                                                             admin=404), {}),
                             R("POST", "/training/quiz/999999/submit", row(agent=404, trainer=404, lead=404,
                                                                          admin=404), {})],
    # Certification (T3): the matrix, a person's record and sign-off are trainers', admins' and leads' (own team
    # only: another team is 403, another team's agent 404); the reset is trainers' and admins'.
    "training.matrix": [R("GET", "/training/matrix", row(trainer=200, lead=200)),
                        hx("GET", "/training/matrix?team={team}&status=not_started", row(trainer=200, lead=200)),
                        R("GET", "/training/matrix?team={other_team}", row(trainer=200, lead=403)),
                        R("GET", "/training/matrix?course=999999", row(trainer=404, lead=404, admin=404)),
                        R("GET", "/training/matrix?team=abc", row(trainer=404, lead=404, admin=404))],
    "training.matrix_export": [R("GET", "/training/matrix/export.xlsx", row(trainer=200, lead=200)),
                               R("GET", "/training/matrix/export.xlsx?team={other_team}", row(trainer=200, lead=403))],
    "training.person": [R("GET", "/training/people/{agent}", row(trainer=200, lead=200)),
                        R("GET", "/training/people/{stranger}", row(trainer=200, lead=404)),
                        R("GET", "/training/people/{lead}", row(trainer=404, lead=404, admin=404))],
    "training.signoff": [R("GET", "/training/people/{agent}/items/{practical_item}/signoff", row(trainer=200, lead=200)),
                         R("GET", "/training/people/{stranger}/items/{practical_item}/signoff",
                           row(trainer=200, lead=404)),
                         R("POST", "/training/people/{agent}/items/{practical_item}/signoff",
                           row(trainer=422, lead=422, admin=422), {"passed": "1", "score": "x"}),
                         R("GET", "/training/people/{agent}/items/999999/signoff", row(trainer=404, lead=404, admin=404))],
    "training.reset": [R("POST", "/training/people/{agent}/courses/{course}/reset", row(trainer=422, admin=422), {}),
                       R("POST", "/training/people/{agent}/courses/999999/reset", row(trainer=404, admin=404),
                         {"note": "重考"})],
}


CASES = [
    pytest.param(route, role, id=f"{endpoint}-{'hx-' if route.hx else ''}{route.method}-{route.url}-{role}")
    for endpoint, routes in ROUTES.items()
    for route in routes
    for role in ROLES
]

FORBIDDEN_TEXT = "您没有权限执行此操作。"
NOT_FOUND_TEXT = "页面或记录不存在。"


def _request(app, world, route: R, role: str, *, hx: bool, data: dict | None):
    client = client_as(app, world["cookies"].get(role))
    headers = {"HX-Request": "true"} if hx else {}
    # a form value that is exactly "{key}" is that world record's id (as in the URL templates)
    data = {k: str(world[v[1:-1]]) if isinstance(v, str) and re.fullmatch(r"\{\w+\}", v) else v
            for k, v in (data or {}).items()}
    return client.open(route.url.format(**world), method=route.method, data=data, headers=headers)


def _check_refusal(response, status: int, hx: bool, where: str) -> None:
    """What a refusal looks like: the login page, or the Chinese error page (a fragment for htmx)."""
    body = response.get_data(as_text=True)
    if status == 302:
        assert response.headers["Location"].startswith("/login"), where
    elif status == 204:
        assert response.headers["HX-Redirect"].startswith("/login"), where
    elif status in (403, 404):
        assert f'data-status="{status}"' in body, where
        assert (FORBIDDEN_TEXT if status == 403 else NOT_FOUND_TEXT) in body, where
        assert ("<html" in body) is not hx, f"{where}: {'a fragment' if hx else 'a full page'} expected"


@pytest.mark.parametrize("route,role", CASES)
def test_route_outcome(app, route_world, route, role):
    expected = route.expected[role]
    if route.hx and expected == 302:
        expected = 204  # htmx gets HX-Redirect instead of a redirect it would follow
    to_login = role == "anon" and expected in (302, 204)
    refused = to_login or expected in (400, 403, 404, 405)
    data = route.data
    if (to_login or expected == 403) and route.method != "GET":
        data = {**TEMPTING, **(route.data or {})}
    where = f"{role} {'htmx ' if route.hx else ''}{route.method} {route.url}"

    response = _request(app, route_world, route, role, hx=route.hx, data=data)
    assert response.status_code == expected, f"{where}: got {response.status_code}, expected {expected}"
    if to_login or expected in (403, 404):
        _check_refusal(response, expected, route.hx, where)
        if not route.hx:
            # The same request from htmx is refused the same way, as a fragment (or HX-Redirect).
            hx_expected = 204 if expected == 302 else expected
            response = _request(app, route_world, route, role, hx=True, data=data)
            assert response.status_code == hx_expected, f"htmx {where}: got {response.status_code}"
            _check_refusal(response, hx_expected, True, f"htmx {where}")
    if refused:
        assert not WRITES.since_mark, f"{where} was refused but wrote to {sorted(WRITES.since_mark)}"


def test_every_route_has_an_expectation(app):
    covered = {(endpoint, r.method) for endpoint, routes in ROUTES.items() for r in routes}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without an authorization expectation:\n" + "\n".join(missing)


def test_rows_name_their_endpoint(app):
    """Each row's URL really goes to the endpoint it is filed under (no row tests another route)."""
    adapter = app.url_map.bind("localhost")
    fake = dict.fromkeys(("team", "other_team", "target", "agent", "zto", "yto", "own", "team_outlet", "other",
                          "free", "complaint", "chase", "damaged", "rule", "reply", "mine", "team_ticket", "far",
                          "sop_scenario", "sop_draft_only", "attachment", "team_attachment",
                          "far_attachment", "evidence_item", "course", "course_draft", "lesson", "draft_lesson",
                          "lesson_file", "practical_item", "programme", "question", "attempt", "stranger", "lead", "trainer", "overtime",
                          "follow_up", "labour_cost", "criterion", "quality_reply", "quality_review",
                          "far_reply"), 1)
    wrong = []
    for endpoint, routes in ROUTES.items():
        for r in routes:
            path = r.url.format(**fake).split("?")[0]
            if r.expected["admin"] == 405:
                continue
            matched, _args = adapter.match(path, method=r.method)
            if matched != endpoint:
                wrong.append(f"{r.method} {r.url}: {matched}, filed under {endpoint}")
    assert not wrong, "\n".join(wrong)

"""No 500 on bad input, anywhere: every route of the URL map, fed garbage by a user allowed to use it.

Each POST/PUT/PATCH/DELETE route gets an empty form, over-long values, non-numeric or odd
numbers ("abc", "-1", "1e9", full-width "１２") and unknown choices in every field its forms
have (found by reading every page's <form>s and htmx attributes, plus common names), as a
plain request and from htmx. Each GET route gets malformed query strings. No answer may be
a 5xx or raise, nothing may be logged as an error, and a page that refuses the input says
why in Chinese. New routes are swept automatically: the cases come from app.url_map.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
import traceback
from pathlib import Path

import pytest
from flask import current_app

from kdcs.permissions import ROLE_PERMISSIONS
from tests import factories
from tests.conftest import WRITES
from tests.html import parse
from tests.test_route_permissions import ROUTES as MATRIX
from tests.worlds import ROLES, SHARED, client_as, make_route_world, shared_world

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SAMPLE_XLS = Path(__file__).parent / "data" / "sto_inbound_complaints.xls"

# URL arguments → the world's record of that kind (admin may see every one of them).
ARGUMENTS = {
    "brand_id": "zto", "outlet_id": "own", "team_id": "team", "user_id": "target", "ticket_id": "mine",
    "notification_id": "notification", "canned_id": "reply", "reason_id": "complaint", "rule_id": "rule",
    "job_id": "job", "scenario_id": "scenario", "number": "version_number", "report_id": "report",
    "leave_id": "leave", "leave_type_id": "leave_type", "attachment_id": "attachment",
    "evidence_item_id": "evidence_item", "proof_id": "leave_proof",
    # Training (tests/training_world.py)
    "course_id": "course", "lesson_id": "lesson", "file_id": "lesson_file", "programme_id": "programme",
    "item_id": "practical_item",
    "question_id": "question", "attempt_id": "attempt",  # quiz (tests/quiz_world.py)
    "entry_id": "overtime",  # 加班 (tests/worlds.py)
    "follow_up_id": "follow_up",  # 跟进 (tests/worlds.py)
    "cost_id": "labour_cost",  # 人工成本 (tests/worlds.py)
    "reply_id": "quality_reply", "review_id": "quality_review", "criterion_id": "criterion",  # 质检 (tests/worlds.py)
}
FIXED_ARGUMENTS = {"day_text": "2026-12-24"}

# Field names tried on every form besides the ones its page shows.
COMMON_FIELDS = [
    "id", "ids", "version", "name", "code", "title", "body", "note", "reason", "active", "direction", "category",
    "status", "to_status", "action", "amount", "bearer", "share", "password", "current_password", "new_password",
    "confirm", "username", "display_name", "role", "team_id", "lead_id", "brand_id", "outlet_id", "reason_id",
    "agent_id", "assignee_id", "primary_agent_id", "phone", "year", "month", "day", "is_workday", "field",
    "waybill_no", "registered_at", "priority", "description", "customer_name", "customer_phone", "q", "page",
    "back", "next", "reopen-reason", "reopen-version", "sheet", "header_row", "header_depth", "mode", "reply_hours", "reply_minutes",
    "resolve_hours", "resolve_minutes", "service_start", "service_end", "rate_per_parcel", "region",
    "contact_name", "contact_phone", "overtime_rate", "work_date", "hours", "decision", "decision_note",
    "sort", "fatal", "comment", "points", "hint", "pass_score", "start", "period",
]
VALUES = {  # input name → the value put in every field
    "long": "x" * 10_000,
    "abc": "abc",
    "minus-one": "-1",
    "huge": "1e9",
    "fullwidth": "１２",
    "huge-int": "9" * 30,  # beyond any database integer
}
UNKNOWN_CHOICE = "zzz-unknown"

# Query strings tried on every GET route (distinct keys share a request); the page's own
# filter fields get the value beside them.
QUERIES = {
    "garbage": ({"page": "abc", "per_page": "abc", "sort": "zzz", "order": "zzz", "dir": "zzz", "id": "x",
                 "rule_id": "x", "brand": "x", "outlet": "x", "team": "x", "assignee": "x", "reason": "x",
                 "category": "x", "status": "x", "scope": "x", "window": "x", "active": "x", "version": "x",
                 "counts": "x", "offset": "x"}, "abc"),
    "dates-and-numbers": ({"date": "2026-13-45", "day": "2026-13-45", "start": "2026-13-45", "end": "2026-02-30",
                           "from": "2026-13-45", "to": "2026-13-45", "since": "2026-13-45", "until": "2026-02-30",
                           "year": "1e9", "month": "１２", "week": "-1", "page": "-1", "version": "-1",
                           "rule_id": "１２", "offset": "-5"}, "2026-13-45"),
    "huge-and-long": ({**dict.fromkeys(("page", "id", "rule_id", "brand", "outlet", "team", "assignee", "reason",
                                        "agent", "actor", "entity_id", "version", "year", "month", "offset"), "9" * 30),
                       "q": "x" * 10_000}, "9" * 30),
}

CJK = re.compile(r"[\u4e00-\u9fff]")
ERROR_CLASSES = {"field-error", "alert-danger", "error-box", "errors", "form-error", "alert-warning"}


def _app_for_collection():
    from kdcs import create_app

    instance = tempfile.mkdtemp(prefix="kdcs-collect-")
    return create_app({"INSTANCE_PATH": instance, "TESTING": True, "SECRET_KEY": "collect",
                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/collect.sqlite3"})


def _rules():
    app = _app_for_collection()
    return [(rule.endpoint, rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"}))
            for rule in app.url_map.iter_rules() if rule.endpoint != "static"]


RULES = _rules()
WRITE_CASES = [pytest.param(endpoint, rule, method, id=f"{method}-{rule}")
               for endpoint, rule, methods in RULES for method in methods if method in WRITE_METHODS]
GET_CASES = [pytest.param(endpoint, rule, id=f"GET-{rule}")
             for endpoint, rule, methods in RULES if "GET" in methods]


# --------------------------------------------------------------------------- who, where

def role_for(endpoint: str, method: str) -> str | None:
    """A role allowed to use the route: from the route matrix (a row where it is not refused),
    else from the permission table. None: anonymous (the login form)."""
    allowed = []
    for route in MATRIX.get(endpoint, []):
        if route.method == method:
            allowed += [r for r in ("admin", "lead", "agent", "trainer") if route.expected[r] not in (302, 403, 405)]
            if route.expected["anon"] not in (302, 403, 405) and not allowed:
                return None
    if allowed:
        return max(set(allowed), key=lambda r: (allowed.count(r), r == "admin"))
    # Not in the matrix yet (its own test fails then): admin holds every permission.
    assert set(getattr(current_app.view_functions[endpoint], "required_permissions", ())) <= ROLE_PERMISSIONS["admin"]
    return "admin"


def _unknown_arguments(rule: str) -> list[str]:
    names = [m.split(":")[-1] for m in re.findall(r"<([^>]+)>", rule)]
    return [n for n in names if n not in ARGUMENTS and n not in FIXED_ARGUMENTS]


def fill(rule: str, world) -> str:
    def value(match):
        name = match.group(1).split(":")[-1]
        if name in FIXED_ARGUMENTS:
            return FIXED_ARGUMENTS[name]
        assert name in ARGUMENTS, f"{rule}: add a world record for the URL argument <{name}> to ARGUMENTS"
        return str(world[ARGUMENTS[name]])

    return re.sub(r"<([^>]+)>", value, rule)


# --------------------------------------------------------------------------- the world

@shared_world(ignore=("login_attempts", "ticket_presence", "notifications"))  # logs and read marks
def sweep_world():
    """The route world plus a notification of the admin, an import job waiting for its mapping,
    an SOP scenario with two published versions and a report on it."""
    world = make_route_world()
    from kdcs.extensions import db
    from kdcs.models import User

    admin = db.session.get(User, world["admin"])
    world["notification"] = factories.make_notification(admin, link="/tickets/").id
    client = client_as(current_app, world["cookies"]["admin"])
    response = client.post("/tickets/import", content_type="multipart/form-data",
                           data={"brand_id": str(world["zto"]), "file": (SAMPLE_XLS.open("rb"), "sto.xls")})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    world["job"] = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    # An SOP scenario with two published versions, and an agent's report on it.
    from kdcs.models.sop import SopReport, SopVersion
    from tests.sop_corpus import add_scenarios

    [(scenario_id, _current, _texts)] = add_scenarios(db, 1, versions=2, author_id=world["admin"])
    version = db.session.scalar(db.select(SopVersion).where(SopVersion.scenario_id == scenario_id,
                                                            SopVersion.number == 2))
    report = SopReport(scenario_id=scenario_id, version_id=version.id, reporter_id=world["agent"],
                       note="话术里的赔偿标准过时了")
    db.session.add(report)
    db.session.commit()
    world.update(scenario=scenario_id, version_number=2, report=report.id)
    world.update(_leave_world(world))
    return world


def _leave_world(world) -> dict:
    """Leave types and the agent's annual leave in two weeks, accepted by the teammate (waits for the lead)."""
    from datetime import timedelta

    from kdcs.extensions import db
    from kdcs.leave import rules, service
    from kdcs.models import LeaveType, User

    service.seed_leave_types()
    annual = db.session.scalar(db.select(LeaveType).where(LeaveType.code == "annual"))
    agent, teammate = db.session.get(User, world["agent"]), db.session.get(User, world["teammate"])
    start = rules.beijing_today() + timedelta(days=14)
    while start.weekday() != 0:
        start += timedelta(days=1)
    leave = service.save_request(agent, None, send=True, type_id=annual.id, start_date=start, start_part="full",
                                 end_date=start + timedelta(days=1), end_part="full", reason="回老家",
                                 handover=[{"outlet_id": world["own"], "substitute_id": teammate.id}])
    service.substitute_answer(teammate, leave, True)
    db.session.commit()
    proof = _leave_proof(leave)
    return {"leave": leave.id, "leave_type": annual.id, "leave_proof": proof}


def _leave_proof(leave) -> int:
    """A proof PDF stored for the request (the proof_id of /leave/<id>/proofs/<proof_id>)."""
    import io

    from werkzeug.datastructures import FileStorage

    from kdcs import storage
    from kdcs.extensions import db
    from kdcs.models import LeaveProof

    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    stored = storage.save_upload(FileStorage(stream=io.BytesIO(pdf), filename="病假条.pdf"), kinds={"pdf"})
    proof = LeaveProof(request_id=leave.id, stored_name=stored.stored_name, original_name=stored.original_name,
                       content_type=stored.content_type, size=stored.size)
    db.session.add(proof)
    db.session.commit()
    return proof.id


# --------------------------------------------------------------------------- what forms post

_FIELDS: dict[tuple[str, str], dict[str, bool]] | None = None  # (endpoint, method) → {name: is_select}
_GET_FIELDS: dict[str, set[str]] = {}  # endpoint → names of its GET forms' fields


def _collect_forms(html: str, page: str, adapter, into: dict, get_into: dict) -> None:
    root = parse(html)
    for el in root.iter():
        for attr, method in (("hx-post", "POST"), ("hx-put", "PUT"), ("hx-patch", "PATCH"), ("hx-delete", "DELETE"),
                             ("action", None), ("hx-get", "GET")):
            target = el.get(attr)
            if attr == "action" and el.tag == "form" and target is None:
                target = page  # a form without action posts to its own page
            if not target or not target.startswith("/"):
                continue
            if method is None:
                if el.tag != "form":
                    continue
                method = (el.get("method") or "GET").upper()
            path = target.split("?")[0].split("#")[0]
            try:
                endpoint, _args = adapter.match(path, method=method)
            except Exception:  # noqa: BLE001 - a link elsewhere, a static file
                continue
            names: dict[str, bool] = {}
            scope = el if el.tag == "form" else None
            if scope is not None:
                for control in scope.iter():
                    if control.tag in ("input", "select", "textarea", "button") and control.get("name"):
                        names[control.get("name")] = control.tag == "select"
            elif el.get("name"):
                names[el.get("name")] = False
            if el.get("hx-vals"):
                try:
                    names.update(dict.fromkeys(json.loads(el.get("hx-vals")), False))
                except ValueError:
                    pass
            if method == "GET":
                get_into.setdefault(endpoint, set()).update(names)
            else:
                into.setdefault((endpoint, method), {}).update(names)


def form_fields(world) -> dict[tuple[str, str], dict[str, bool]]:
    """Every form of every page (full and htmx), as each route's allowed role sees it."""
    global _FIELDS
    if _FIELDS is None:
        fields: dict[tuple[str, str], dict[str, bool]] = {}
        adapter = current_app.url_map.bind("localhost")
        for endpoint, rule, methods in RULES:
            if "GET" not in methods:
                continue
            if any(_unknown_arguments(rule)):
                continue  # its own cases say which argument needs a world record
            role = role_for(endpoint, "GET")
            client = client_as(current_app, world["cookies"].get(role) if role else None)
            url = fill(rule, world)
            for headers in ({}, {"HX-Request": "true"}):
                try:
                    response = client.get(url, headers=headers)
                except Exception:  # noqa: BLE001 - reported by that route's own GET case
                    continue
                if response.mimetype == "text/html":
                    _collect_forms(response.get_data(as_text=True), url, adapter, fields, _GET_FIELDS)
        _FIELDS = fields
    return _FIELDS


# --------------------------------------------------------------------------- one request, checked

def _send(world, role, method, url, data, hx: bool, caplog):
    client = client_as(current_app, world["cookies"].get(role) if role else None)
    headers = {"HX-Request": "true"} if hx else {}
    caplog.clear()
    try:
        if method == "GET":
            response = client.get(url, query_string=data, headers=headers)
        else:
            response = client.open(url, method=method, data=data, headers=headers)
    except Exception as exc:  # noqa: BLE001 - an unhandled exception is what we look for
        frames = traceback.extract_tb(exc.__traceback__)
        ours = [f for f in frames if "/kdcs/" in f.filename or f.filename.endswith(".html")]
        where = ours[-1] if ours else frames[-1]
        return None, f"{type(exc).__name__}: {str(exc)[:200]} at {where.filename.split('/main/')[-1]}:{where.lineno}"
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    if errors:
        return response, f"logged: {errors[0].getMessage()[:200]}"
    return response, None


def _problem(response, *, wrote: bool, form_post: bool) -> str | None:
    """What is wrong with an answer to bad input (None: fine): a 5xx; an error page, or a form
    posted back unsaved (200/422, nothing written), without a Chinese message saying why."""
    status = response.status_code
    if status >= 500:
        return f"answered {status}"
    if response.mimetype != "text/html":
        return None
    body = response.get_data(as_text=True)
    refused = status >= 400 or (form_post and status in (200, 422) and not wrote and "<form" in body)
    if refused:
        messages = [el.text for el in parse(body).iter()
                    if (el.classes & ERROR_CLASSES or el.get("role") == "alert") and CJK.search(el.text)]
        if not messages:
            return f"answered {status} without a Chinese error message"
    return None


def _write_inputs(fields: dict[str, bool]) -> dict[str, dict]:
    names = sorted(set(COMMON_FIELDS) | set(fields))
    inputs = {"empty": {}}
    for label, value in VALUES.items():
        inputs[label] = dict.fromkeys(names, value)
    selects = [n for n, is_select in fields.items() if is_select]
    inputs["unknown-choice"] = {**dict.fromkeys(names, "1"), **dict.fromkeys(selects or names, UNKNOWN_CHOICE)}
    return inputs


@pytest.mark.slow
@pytest.mark.parametrize("endpoint,rule,method", WRITE_CASES)
def test_bad_form_input_is_never_a_server_error(sweep_world, caplog, endpoint, rule, method):
    shared = SHARED["sweep_world"]
    fields = form_fields(shared.current()).get((endpoint, method), {})
    role = role_for(endpoint, method)
    failures = []
    for label, data in _write_inputs(fields).items():
        for hx in (False, True):
            world = shared.current()  # built again if the previous request changed it
            url = fill(rule, world)
            writes = WRITES.count
            response, error = _send(world, role, method, url, data, hx, caplog)
            error = error or _problem(response, wrote=WRITES.count > writes, form_post=True)
            if error:
                failures.append(f"{'htmx ' if hx else ''}{method} {url} as {role or 'anonymous'}, {label}: {error}")
    assert not failures, "\n".join(failures)


@pytest.mark.slow
@pytest.mark.parametrize("endpoint,rule", GET_CASES)
def test_malformed_query_strings_are_never_a_server_error(sweep_world, caplog, endpoint, rule):
    shared = SHARED["sweep_world"]
    world = shared.current()
    form_fields(world)
    role = role_for(endpoint, "GET")
    own_fields = _GET_FIELDS.get(endpoint, set())
    queries = {label: {**query, **dict.fromkeys(own_fields, own_value)} for label, (query, own_value) in QUERIES.items()}
    failures = []
    for label, query in queries.items():
        for hx in (False, True):
            world = shared.current()
            url = fill(rule, world)
            response, error = _send(world, role, "GET", url, query, hx, caplog)
            error = error or _problem(response, wrote=False, form_post=False)
            if error:
                failures.append(f"{'htmx ' if hx else ''}GET {url} as {role or 'anonymous'}, {label}: {error}")
    assert not failures, "\n".join(failures)


def test_every_route_is_swept():
    """The sweep covers the URL map: every write route and every GET route has a case."""
    assert {(e, m) for e, _r, ms in RULES for m in ms if m in WRITE_METHODS} == \
        {(p.values[0], p.values[2]) for p in WRITE_CASES}
    assert len(WRITE_CASES) > 40 and len(GET_CASES) > 40


def test_roles_are_allowed_roles(app):
    """The sweep posts as someone allowed to (else it would only test 403 pages)."""
    with app.test_request_context():
        assert role_for("dashboard.team", "GET") in ("lead", "admin")
        assert role_for("outlets.mine", "GET") in ("agent", "lead", "admin")
        assert role_for("tickets.canned_create", "POST") in ("trainer", "admin")
        assert role_for("auth.login", "POST") is None
        assert role_for("tickets.bulk", "POST") in ("lead", "admin")
    assert set(ROLES) == {"agent", "trainer", "lead", "admin"}


def test_type_int_is_bounded(app):
    """``request.args.get(..., type=int)`` treats a number no database integer holds as garbage."""
    with app.test_request_context("/?page=" + "9" * 30 + "&team=12&x=-2147483649", method="POST",
                                  data={"brand_id": "9" * 19, "n": "2147483647"}):
        from flask import request

        assert request.args.get("page", 1, type=int) == 1
        assert request.args.get("team", type=int) == 12
        assert request.args.get("x", type=int) is None
        assert request.form.get("brand_id", type=int) is None
        assert request.form.get("n", type=int) == 2**31 - 1

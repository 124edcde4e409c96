"""The project's "one way to do each thing" rules, checked so a new feature cannot drift.

* the full-page-vs-fragment rule lives in kdcs/htmx.py only (no ``request.htmx`` elsewhere);
* views do not roll the session back (services clean up after their own errors);
* services do not read the request (the actor's address travels with the actor);
* every view has a one-line docstring saying why it exists;
* every fragment-only endpoint answers a plain browser request with a 303 to its page.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kdcs"


def _python_files(pattern: str = "**/*.py"):
    return sorted(p for p in PACKAGE.glob(pattern) if "translations" not in p.parts)


def _offending_lines(files, regex: str) -> list[str]:
    found = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(regex, line) and not line.lstrip().startswith("#"):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    return found


def test_no_htmx_request_checks_outside_the_one_rule():
    files = [p for p in _python_files() if p.name != "htmx.py" or p.parent != PACKAGE]
    assert _offending_lines(files, r"request\.htmx|getattr\(request,\s*[\"']htmx") == []


def test_views_do_not_roll_back_the_session():
    files = [p for p in _python_files() if "routes" in p.name]
    assert _offending_lines(files, r"db\.session\.rollback\(\)") == []


def test_services_do_not_read_the_request():
    files = [p for p in _python_files() if p.name == "service.py" or p.name == "auditing.py"]
    assert _offending_lines(files, r"from flask import .*\brequest\b|flask\.request") == []


def test_every_view_has_a_docstring(app):
    missing = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static":
            continue
        if not (inspect.unwrap(view).__doc__ or "").strip():
            missing.append(endpoint)
    assert missing == []


def test_every_public_service_function_has_a_docstring():
    """Domain rules are read in their services: each public function says what it guarantees."""
    import ast

    missing = []
    for path in _python_files("**/service.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and not ast.get_docstring(node):
                missing.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}")
    assert missing == []


def _fragment_only_routes(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if getattr(view, "fragment_only_fallback", None):
            yield rule, view.fragment_only_fallback


def test_fragment_only_endpoints_redirect_a_plain_request(app, client, users, auth):
    """No fragment-only URL answers a browser with a bare fragment: a 303 to its page instead."""
    from tests import factories

    outlet = factories.make_outlet(agent=users["agent"])
    ids = {"ticket_id": factories.make_ticket(outlet).id, "notification_id": 1, "job_id": 1}
    for model_arg in ("user_id", "team_id", "brand_id", "outlet_id"):
        ids[model_arg] = {"user_id": users["agent"].id, "team_id": users["team"].id,
                          "brand_id": outlet.brand_id, "outlet_id": outlet.id}[model_arg]
    auth.login(users["admin"])
    checked = 0
    for rule, _fallback in _fragment_only_routes(app):
        if any(arg not in ids for arg in rule.arguments):
            continue  # an id this small world does not have (e.g. an import job): covered elsewhere
        url = rule.rule
        for arg in rule.arguments:
            url = re.sub(rf"<(?:\w+:)?{arg}>", str(ids[arg]), url)
        method = "GET" if "GET" in rule.methods else "POST"
        response = client.open(url, method=method)
        assert response.status_code in (303, 404), (url, response.status_code)
        if response.status_code == 303:
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("header", ["HX-Request"])
def test_history_restore_is_not_a_fragment(client, users, auth, header):
    """htmx is told not to send HX-Request on history restores; if one does, it still gets a page."""
    auth.login(users["agent"])
    response = client.get("/tickets/?category=problem", headers={header: "true",
                                                               "HX-History-Restore-Request": "true"})
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)
    assert "HX-Request" in response.headers.get("Vary", "")

"""axe-core (shipped by axe-playwright-python) finds no serious or critical violation."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.e2e

BLOCKING = {"serious", "critical"}


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state("networkidle")
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{v.get('helpUrl', '')}]")
        for node in v["nodes"][:8]:
            target = json.dumps(node.get("target"), ensure_ascii=False)
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary}")
            lines.append(f"      {node.get('html', '')[:200]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page, what: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe: serious/critical violations on {what} ({page.url}):\n" + describe(
        violations
    )


def test_login_page(page):
    page.goto("/login")
    assert_accessible(page, "the login page")


def test_login_page_with_error(page):
    page.goto("/login")
    page.fill("input[name=username]", "agent12")  # not an account other tests log in with
    page.fill("input[name=password]", "wrong-password-1")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert_accessible(page, "the login page showing an error")


@pytest.mark.parametrize("username", ["admin", "lead1", "trainer1", "agent1"])
def test_home_page_of_each_role(login_as, username):
    page = login_as(username)
    assert_accessible(page, f"the home page of {username}")


@pytest.mark.parametrize(
    "path", ["/admin/users", "/admin/audit", "/admin/outlets", "/admin/teams", "/admin/brands"]
)
def test_admin_pages(login_as, path):
    page = login_as("admin")
    response = page.goto(path)
    assert response is not None and response.status == 200, f"GET {path}: {response and response.status}"
    assert_accessible(page, path)

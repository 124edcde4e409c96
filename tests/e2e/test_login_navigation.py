"""Each demo role logs in through the real form and sees exactly its own navigation."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

CJK = re.compile(r"[\u4e00-\u9fff]")

# msgid -> (endpoint that must exist for the item to be shown, roles that must see it).
# Items whose endpoint does not exist yet (a feature still being built) are only checked
# in the "must not see" direction.
NAVIGATION = {
    "Home": ("dashboard.home", {"admin", "lead", "trainer", "agent"}),
    "Tickets": ("tickets.index", {"admin", "lead", "agent"}),
    # Personal items are hidden for admins (they have the admin pages instead).
    "My outlets": ("outlets.mine", {"lead", "agent"}),
    "My team": ("dashboard.team", {"lead"}),
    "Canned replies": ("tickets.canned_replies", {"trainer"}),  # admins reach it via 工单设置
    "SOP": ("sop.index", {"admin", "lead", "trainer", "agent"}),
    "Training": ("training.index", {"admin", "lead", "trainer", "agent"}),
    "Leave": ("leave.index", {"admin", "lead", "trainer", "agent"}),
    "Users": ("admin.users", {"admin"}),
    "Teams": ("org.teams", {"admin"}),
    "Outlets": ("outlets.admin_list", {"admin"}),
    "Brands": ("org.brands", {"admin"}),
    "Ticket settings": ("tickets.rules", {"admin"}),
    "Audit log": ("admin.audit", {"admin"}),
}

DEMO_USERS = [
    # username, role, display name (kdcs/demo.py)
    ("admin", "admin", "系统管理员"),
    ("lead1", "lead", "王丽"),
    ("trainer1", "trainer", "刘芳"),
    ("agent1", "agent", "张敏"),
]


def nav_labels(page) -> list[str]:
    return [text.strip() for text in page.locator("aside nav a").all_inner_texts()]


@pytest.mark.parametrize(("username", "role", "display_name"), DEMO_USERS,
                         ids=[u[0] for u in DEMO_USERS])
def test_role_logs_in_and_sees_its_navigation(login_as, e2e_app, zh, username, role, display_name):
    page = login_as(username)

    assert urlsplit(page.url).path == "/", f"{username} did not land on the home page: {page.url}"
    expect(page.locator(".user-chip")).to_contain_text(display_name)

    shown = nav_labels(page)
    assert shown, "no navigation links rendered"
    for text in shown:
        assert CJK.search(text), f"navigation label {text!r} is not translated to Chinese"

    endpoints = e2e_app.view_functions
    must_see, must_not_see = [], []
    for msgid, (endpoint, roles) in NAVIGATION.items():
        label = zh(msgid)
        if role in roles:
            if endpoint in endpoints:
                must_see.append(label)
        else:
            must_not_see.append(label)
    missing = [label for label in must_see if label not in shown]
    extra = [label for label in must_not_see if label in shown]
    assert not missing, f"{username} should see {missing}; navigation shows {shown}"
    assert not extra, f"{username} must not see {extra}; navigation shows {shown}"

    admin_heading = page.locator("aside .nav-heading")
    if role == "admin":
        expect(admin_heading).to_be_visible()
    else:
        expect(admin_heading).to_have_count(0)

    for label in must_see:
        expect(page.locator("aside nav").get_by_role("link", name=label, exact=True)).to_be_visible()

    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"

    # POST /logout through the button in the top bar brings back the login page.
    with page.expect_navigation():
        page.locator(".topbar form[action$='/logout'] button[type=submit]").click()
    assert "/login" in page.url
    expect(page.locator("input[name=username]")).to_be_visible()


def test_wrong_password_shows_a_chinese_error(page):
    page.goto("/login")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "not-the-password1")
    with page.expect_navigation():
        page.click("button[type=submit]")
    error = page.locator("#login-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("错误")
    assert "/login" in page.url
    # Still logged out: the home page sends us back to the login form.
    page.goto("/")
    assert "/login" in page.url

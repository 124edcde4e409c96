"""An admin edits an outlet inline on /admin/outlets: htmx swaps the row, no page reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

pytestmark = pytest.mark.e2e

EDIT = "编辑"
SAVE = "保存"


def _first_outlet(e2e_app):
    from kdcs.extensions import db
    from kdcs.models import Outlet

    with e2e_app.app_context():
        outlet = db.session.scalars(select(Outlet).where(Outlet.is_active.is_(True))
                                    .order_by(Outlet.code)).first()
        return outlet.id, outlet.code, outlet.name


def _outlet_name(e2e_app, outlet_id):
    from kdcs.extensions import db
    from kdcs.models import Outlet

    with e2e_app.app_context():
        return db.session.get(Outlet, outlet_id).name


def _button(scope, name):
    """The row's button (or button-like link) with this exact label."""
    return scope.get_by_role("button", name=name, exact=True).or_(
        scope.get_by_role("link", name=name, exact=True)).first


def test_admin_edits_an_outlet_inline_without_reload(login_as, e2e_app):
    outlet_id, code, old_name = _first_outlet(e2e_app)
    new_name = f"{old_name}（改）"
    page = login_as("admin")
    page.goto("/admin/outlets")
    page.wait_for_load_state("networkidle")

    # A marker on window survives only if the page is never reloaded.
    page.evaluate("window.__kdcsNoReload = 'still-here'")

    row = page.locator("tr", has_text=code).first
    expect(row).to_be_visible()
    _button(row, EDIT).click()

    # The row turned into an edit form (htmx swap), still on the same page.
    name_input = page.locator(f"tr:has(input[value='{code}']), tr:has-text('{code}')").locator(
        "input[name=name]").first
    expect(name_input).to_be_visible()
    assert page.evaluate("window.__kdcsNoReload") == "still-here", "the page reloaded on 编辑"
    name_input.fill(new_name)
    edit_row = page.locator("tr", has=page.locator("input[name=name]")).first
    _button(edit_row, SAVE).click()

    # Saved: the row is swapped back to its read-only form with the new name.
    row = page.locator("tr", has_text=code).first
    expect(row).to_contain_text(new_name)
    expect(row.locator("input[name=name]")).to_have_count(0)
    expect(page.locator("input[name=name]")).to_have_count(0)
    assert page.evaluate("window.__kdcsNoReload") == "still-here", "the page reloaded on 保存"
    assert "/admin/outlets" in page.url
    assert not page.js_errors, f"JavaScript errors: {page.js_errors}"

    # It was really written to the database.
    assert _outlet_name(e2e_app, outlet_id) == new_name

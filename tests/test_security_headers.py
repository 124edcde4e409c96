"""Security every page inherits: headers on every kind of response, templates without
inline script (so the CSP holds), and the one Excel writer that never writes a formula."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

import pytest
from flask import Response
from openpyxl import load_workbook

from kdcs import security, spreadsheets
from kdcs.extensions import db
from tests import factories
from tests.conftest import AuthActions

TEMPLATES = Path(__file__).resolve().parents[1] / "kdcs" / "templates"
EVIL_LINK = '=HYPERLINK("http://evil.example","点我")'
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def assert_security_headers(response) -> None:
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin")
    csp = {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in
           (part.strip() for part in headers["Content-Security-Policy"].split(";")) if d}
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no hosts
    assert csp["frame-ancestors"] == "'none'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'" and csp["form-action"] == "'self'"
    assert csp["style-src-elem"] == "'self'"  # no <style> elements; style="" attributes only
    assert "unsafe-eval" not in headers["Content-Security-Policy"]


@pytest.fixture
def world(users):
    brand = factories.make_brand("ZTO", "中通")
    outlet = factories.make_outlet(brand, users["agent"], code="ZTO571101", name="良渚网点")
    reason = factories.make_reason("problem", "地址不详")
    factories.make_rule("problem")
    ticket = factories.make_ticket(outlet, reason=reason, waybill_no="75121488724296", customer_name="李先生",
                                   customer_phone="13912345678", description="收件人电话打不通")
    return {**users, "brand": brand, "outlet": outlet, "reason": reason, "ticket": ticket}


def test_every_kind_of_response_has_the_headers(app, client, auth, world):
    anonymous = {
        "login page": client.get("/login"),
        "redirect to login": client.get("/tickets/"),
        "htmx login expiry (HX-Redirect)": client.htmx("get", "/tickets/"),
        "static file": client.get("/static/js/app.js"),
        "vendored htmx": client.get("/static/vendor/htmx-2.0.11/htmx.min.js"),
    }
    assert anonymous["redirect to login"].status_code in (302, 303)
    assert anonymous["htmx login expiry (HX-Redirect)"].headers.get("HX-Redirect")
    auth.login(world["agent"])
    agent = {
        "full page": client.get(f"/tickets/{world['ticket'].id}"),
        "queue page": client.get("/tickets/"),
        "htmx fragment": client.htmx("get", "/tickets/?category=problem"),
        "404": client.get("/no-such-page"),
        "404 fragment": client.htmx("get", "/tickets/99999999"),
        "403": client.get("/admin/users"),
        "xlsx export": client.get("/tickets/export.xlsx"),
    }
    trainer_client = app.test_client()
    AuthActions(trainer_client).login(world["trainer"])
    trainer = {"403 export": trainer_client.get("/tickets/export.xlsx")}
    responses = {**anonymous, **agent, **trainer}
    assert responses["full page"].status_code == 200 and "<html" in responses["full page"].get_data(as_text=True)
    assert responses["htmx fragment"].status_code == 200
    assert "<html" not in responses["htmx fragment"].get_data(as_text=True)
    assert responses["404"].status_code == 404 and responses["404 fragment"].status_code == 404
    assert responses["403"].status_code == 403 and responses["403 export"].status_code == 403
    assert responses["xlsx export"].mimetype == XLSX
    assert responses["static file"].status_code == 200
    for name, response in responses.items():
        try:
            assert_security_headers(response)
        except (AssertionError, KeyError) as exc:
            raise AssertionError(f"{name}: {exc!r} in {dict(response.headers)}") from exc


def test_a_header_a_view_set_on_purpose_is_kept():
    strict = "sandbox; default-src 'none'"
    response = Response("x", headers={"Content-Security-Policy": strict, "Referrer-Policy": "no-referrer"})
    security.add_security_headers(response)
    assert response.headers["Content-Security-Policy"] == strict
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"  # the ones it did not set are added
    assert response.headers.getlist("Content-Security-Policy") == [strict]


# --------------------------------------------------------------------------- templates


INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(r"(?<![\w.-])on[a-z]+\s*=\s*[\"'{]", re.IGNORECASE)
JS_URL = re.compile(r"javascript\s*:", re.IGNORECASE)
EVAL_ATTRIBUTE = re.compile(r"\bhx-on\b|\bhx-on[:-]|\bhx-vars\b|\bdata-hx-vars\b", re.IGNORECASE)
JS_VALUES = re.compile(r"(?:hx-vals|hx-headers)\s*=\s*(['\"])\s*(?:js|javascript):", re.IGNORECASE)
HX_TRIGGER = re.compile(r"hx-trigger[\"']?\s*[=:]\s*([\"'])(.*?)\1", re.IGNORECASE | re.DOTALL)


def _trigger_filters(value: str) -> list[str]:
    """Event filters (``click[ctrlKey]``): htmx evaluates them as JavaScript."""
    return [part for part in value.split(",") if re.match(r"\s*[^\s\[,]+\[", part)]


def _template_problems(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    problems = []
    for label, pattern in (("inline <script>", INLINE_SCRIPT), ("<style> element", STYLE_ELEMENT),
                           ("on…= handler", HANDLER_ATTRIBUTE), ("javascript: URL", JS_URL),
                           ("hx-on/hx-vars (eval)", EVAL_ATTRIBUTE), ("js: in hx-vals/hx-headers", JS_VALUES)):
        problems += [f"{label}: {m.group(0)!r}" for m in pattern.finditer(text)]
    for match in HX_TRIGGER.finditer(text):
        problems += [f"hx-trigger filter (eval): {f!r}" for f in _trigger_filters(match.group(2))]
    return problems


def test_templates_have_no_inline_script_handlers_or_eval():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 20
    found = {str(p.relative_to(TEMPLATES)): _template_problems(p) for p in templates}
    assert {name: problems for name, problems in found.items() if problems} == {}


def test_the_template_check_catches_what_it_should(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text("""<script>alert(1)</script><button onclick="x()">x</button><a href="JavaScript:void(0)">
    <div hx-on:click="x()"></div><div hx-vals='js:{a: 1}'></div><input hx-trigger="keyup[key=='Enter'], change">
    <style>p{}</style>""", encoding="utf-8")
    kinds = {problem.split(":")[0] for problem in _template_problems(bad)}
    assert kinds == {"inline <script>", "on…= handler", "javascript", "hx-on/hx-vars (eval)",
                     "js", "hx-trigger filter (eval)", "<style> element"}
    good = tmp_path / "good.html"
    good.write_text("""<script src="/static/js/app.js" defer></script><button data-dismiss=".x">x</button>
    <form hx-trigger="input changed delay:300ms from:input[name=q], change from:(#f select), submit"></form>
    {% set done = 1 %}<p>Common = one</p>""", encoding="utf-8")
    assert _template_problems(good) == []


def test_htmx_is_configured_without_eval_and_with_full_history_restores(client):
    html = client.get("/login").get_data(as_text=True)
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", html).group(1)
    import json

    settings = json.loads(config)
    assert settings["allowEval"] is False and settings["allowScriptTags"] is False
    assert settings["historyRestoreAsHxRequest"] is False and settings["includeIndicatorStyles"] is False
    vendored = (TEMPLATES.parent / "static" / "vendor" / "htmx-2.0.11" / "htmx.min.js").read_text(encoding="utf-8")
    for key in settings:  # every key is one this htmx reads
        assert f"config.{key}" in vendored or f"{key}:" in vendored, key


# --------------------------------------------------------------------------- Excel


def _cells(data: bytes, sheet: str | None = None):
    wb = load_workbook(io.BytesIO(data))
    ws = wb[sheet] if sheet else wb.worksheets[0]
    header = [c.value for c in ws[1]]
    return [{h: c for h, c in zip(header, row, strict=False)} for row in ws.iter_rows(min_row=2)]


def assert_text(cell, value: str) -> None:
    assert cell.value == value and cell.data_type == "s", (cell.value, cell.data_type)
    if value[:1] in "=+-@\t":
        assert cell.quotePrefix  # Excel keeps it text even when the cell is edited


def test_writer_writes_formula_like_text_as_text_and_keeps_numbers_and_dates():
    book = spreadsheets.Workbook()
    sheet = book.sheet("表", [("值", 20)])
    values = [EVIL_LINK, "=1+1", "+86 138", "-5", "@SUM(A1)", "\t=1", "#N/A", "普通文本", "控制\x01字符"]
    for value in values:
        sheet.append([value])
    when = datetime(2026, 3, 1, 9, 30)
    sheet.append([42, None, when, 0.025])
    ws = load_workbook(io.BytesIO(book.to_bytes()))["表"]
    cells = [row[0] for row in ws.iter_rows(min_row=2)]
    for cell, value in zip(cells, values[:-1], strict=False):
        assert_text(cell, value)
    assert cells[len(values) - 1].value == "控制字符"  # what XML cannot carry is dropped, not a 500
    number, empty, date_cell, fraction = next(ws.iter_rows(min_row=len(values) + 2))
    assert number.value == 42 and number.data_type == "n"
    assert empty.value is None
    assert date_cell.value == when and date_cell.is_date and date_cell.number_format == spreadsheets.DATETIME_FORMAT
    assert fraction.value == 0.025 and fraction.data_type == "n"
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)


def test_writer_rejects_zoned_datetimes():
    from datetime import UTC

    sheet = spreadsheets.Workbook().sheet("x")
    with pytest.raises(TypeError):
        sheet.append([datetime.now(UTC)])


# A customer name holds 32 characters: the same attack, shorter.
EVIL_NAME = '=HYPERLINK("http://e.cn","点我")'


def test_ticket_export_writes_user_text_as_text(client, auth, world):
    factories.make_ticket(world["outlet"], reason=world["reason"], waybill_no="75121488720001",
                          customer_name=EVIL_NAME, description="=1+1")
    factories.make_ticket(world["outlet"], reason=world["reason"], waybill_no="75121488720002",
                          customer_name="=1+1", description=EVIL_LINK)
    auth.login(world["admin"])
    response = client.get("/tickets/export.xlsx?scope=all&status=all")
    assert response.status_code == 200 and response.mimetype == XLSX
    rows = {row["运单号"].value: row for row in _cells(response.get_data(), "工单")}
    assert_text(rows["75121488720001"]["客户姓名"], EVIL_NAME)
    assert_text(rows["75121488720001"]["问题描述"], "=1+1")
    assert_text(rows["75121488720002"]["客户姓名"], "=1+1")
    assert_text(rows["75121488720002"]["问题描述"], EVIL_LINK)
    plain = rows["75121488724296"]
    assert plain["客户姓名"].value == "李先生" and not plain["客户姓名"].quotePrefix
    assert plain["工单编号"].data_type == "n" and plain["工单编号"].value == world["ticket"].id
    assert plain["回复时限"].is_date and isinstance(plain["回复时限"].value, datetime)
    assert not any(cell.data_type == "f" for row in rows.values() for cell in row.values())


def test_outlet_export_and_template_write_user_text_as_text(client, auth, world):
    brand = factories.make_brand("EVIL", "@品牌")
    outlet = factories.make_outlet(brand, code="EVIL0001", name=EVIL_LINK, rate="0.0300")
    outlet.notes = "=1+1"
    outlet.contact_name = "-王"
    db.session.commit()
    auth.login(world["admin"])
    response = client.get("/admin/outlets/export.xlsx")
    assert response.status_code == 200 and response.mimetype == XLSX
    rows = {row["网点编码"].value: row for row in _cells(response.get_data())}
    evil = rows["EVIL0001"]
    assert_text(evil["网点名称"], EVIL_LINK)
    assert_text(evil["备注"], "=1+1")
    assert_text(evil["联系人"], "-王")
    assert_text(evil["品牌"], "@品牌")
    rate = evil["单票费率(元/票)"]
    assert rate.data_type == "n" and float(rate.value) == pytest.approx(0.03) and rate.number_format == "0.0000"
    assert not any(cell.data_type == "f" for row in rows.values() for cell in row.values())

    template = client.get("/admin/outlets/import/template.xlsx")
    assert template.status_code == 200
    help_rows = _cells(template.get_data(), "填写说明")
    brand_cells = [row["填写要求"] for row in help_rows if row["列"].value == "EVIL"]
    assert len(brand_cells) == 1
    assert_text(brand_cells[0], "@品牌")

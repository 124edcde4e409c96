"""Excel export and import of outlets: columns, preview with per-row Chinese errors, all-or-nothing commit."""

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models import AuditLog, Notification, Outlet
from kdcs.outlets import excel
from tests import factories
from tests.conftest import AuthActions

HEADER = ["网点编码", "网点名称", "品牌", "地区", "联系人", "联系电话", "单票费率(元/票)", "加班费率(元/小时)", "主责客服工号",
          "主责客服姓名", "状态", "备注"]


def xlsx_bytes(rows, header=HEADER, title_rows=()):
    wb = Workbook()
    ws = wb.active
    ws.title = "网点"
    for row in title_rows:
        ws.append(row)
    ws.append(header)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def row(code, name="新网点", brand="中通", region="浙江省杭州市余杭区", contact="王建华", phone="13812345678",
        rate=0.025, agent="", agent_name="", active="启用", notes="", overtime=""):
    return [code, name, brand, region, contact, phone, rate, overtime, agent, agent_name, active, notes]


@pytest.fixture(autouse=True)
def empty_upload_dir(app):
    """The app (and its upload folder) lives for the session: start each test with no kept files."""
    for path in uploads(app):
        path.unlink()


@pytest.fixture
def setup(users, client, auth):
    zto = factories.make_brand("ZTO", "中通")
    yto = factories.make_brand("YTO", "圆通")
    existing = factories.make_outlet(brand=zto, code="ZTO571101", name="中通余杭良渚网点", agent=users["agent"],
                                     rate="0.0250")
    auth.login(users["admin"])
    return {**users, "zto": zto, "yto": yto, "existing": existing}


def upload(client, data: bytes, filename="网点.xlsx"):
    return client.post("/admin/outlets/import", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def outlet_count():
    return db.session.scalar(select(func.count(Outlet.id)))


def uploads(app):
    """The files in the upload folder (other features keep subfolders there, e.g. attachments/)."""
    directory = Path(app.config["KDCS_UPLOAD_DIR"])
    return sorted(p for p in directory.glob("*") if p.is_file()) if directory.exists() else []


def text(response):
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------- export


def test_export_has_chinese_headers_and_numeric_rates(client, setup):
    factories.make_outlet(brand=setup["yto"], code="YTO021101", name="圆通松江网点", rate="0.0213", active=False)
    response = client.get("/admin/outlets/export.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    by_code = {r[0]: r for r in rows[1:]}
    assert set(by_code) == {"ZTO571101", "YTO021101"}
    zto = by_code["ZTO571101"]
    assert zto[1] == "中通余杭良渚网点" and zto[2] == "中通" and zto[8] == setup["agent"].username
    assert zto[9] == setup["agent"].display_name and zto[10] == "启用"
    assert isinstance(zto[6], float | int) and Decimal(str(zto[6])) == Decimal("0.025")  # a number, not text
    assert ws.cell(row=2, column=7).number_format == "0.0000"
    assert zto[7] is None  # no overtime rate agreed
    assert by_code["YTO021101"][10] == "停用" and by_code["YTO021101"][8] is None


def test_export_follows_the_list_filters(client, setup):
    factories.make_outlet(brand=setup["yto"], code="YTO021101")
    response = client.get(f"/admin/outlets/export.xlsx?brand={setup['yto'].id}")
    codes = [r[0] for r in load_workbook(io.BytesIO(response.data)).active.iter_rows(min_row=2, values_only=True)]
    assert codes == ["YTO021101"]


def test_export_is_written_in_write_only_mode(setup, monkeypatch):
    """Through the one safe writer (kdcs.spreadsheets), which streams: openpyxl write-only."""
    from kdcs import spreadsheets

    seen = {}
    real = spreadsheets._OpenpyxlWorkbook

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(spreadsheets, "_OpenpyxlWorkbook", spy)
    excel.write_workbook([excel.outlet_to_row(setup["existing"])])
    assert seen.get("write_only") is True


def test_template_has_the_export_columns_and_brand_help(client, setup):
    response = client.get("/admin/outlets/import/template.xlsx")
    wb = load_workbook(io.BytesIO(response.data))
    assert [c.value for c in wb.worksheets[0][1]] == HEADER
    assert wb.worksheets[0].max_row == 1
    help_text = " ".join(str(c) for r in wb.worksheets[1].iter_rows(values_only=True) for c in r if c)
    assert "ZTO" in help_text and "中通" in help_text and "单票费率" in help_text


def test_export_then_import_round_trips(client, setup, app):
    exported = client.get("/admin/outlets/export.xlsx").data
    wb = load_workbook(io.BytesIO(exported))
    ws = wb.active
    ws.cell(row=2, column=7).value = 0.0265  # change the rate in Excel
    ws.append(row("ZTO571102", name="中通萧山北干网点", agent=setup["agent"].username))
    buffer = io.BytesIO()
    wb.save(buffer)
    preview = upload(client, buffer.getvalue())
    body = text(preview)
    assert preview.status_code == 200 and "确认导入" in body
    assert "新建 1" in body and "更新 1" in body and "0.0250" in body and "0.0265" in body
    token = excel_token(client)
    done = client.post("/admin/outlets/import/confirm", data={"token": token})
    assert done.status_code == 303
    assert db.session.scalar(select(Outlet).where(Outlet.code == "ZTO571101")).rate_per_parcel == Decimal("0.0265")
    # Export again and import unchanged: nothing to do.
    again = upload(client, client.get("/admin/outlets/export.xlsx").data)
    assert "无变化 2" in text(again) and "文件中的网点都已是最新" in text(again)


def excel_token(client):
    with client.session_transaction() as session:
        return session["outlet_import"]["token"]


# --------------------------------------------------------------------------- preview and commit


def test_preview_then_confirm_creates_and_updates_in_one_go(client, setup, app):
    data = xlsx_bytes([
        row("ZTO571101", name="中通余杭良渚网点（新址）", rate="0.0240", agent=setup["agent"].username),
        row("YTO021101", name="圆通上海松江网点", brand="YTO", region="上海市松江区", phone="021-66668888",
            rate=0.023, agent=setup["agent"].username),
        row("ZTO571102", name="中通萧山网点", rate=0.026, agent="", active=""),
    ], title_rows=[["网点资料（2026年11月）"]])
    before = outlet_count()
    preview = upload(client, data)
    body = text(preview)
    assert preview.status_code == 200
    assert outlet_count() == before  # the preview writes nothing
    assert db.session.scalars(select(AuditLog)).all() == []
    assert "新建 2" in body and "更新 1" in body and "确认导入" in body
    assert "中通余杭良渚网点（新址）" in body
    assert len(uploads(app)) == 1  # kept for the confirm step, under a random name
    stored = uploads(app)[0]
    assert stored.name.startswith("outlet-import-") and excel_token(client) in stored.name

    done = client.post("/admin/outlets/import/confirm", data={"token": excel_token(client)})
    assert done.status_code == 303 and done.headers["Location"] == "/admin/outlets"
    assert outlet_count() == before + 2
    updated = db.session.scalar(select(Outlet).where(Outlet.code == "ZTO571101"))
    assert updated.name == "中通余杭良渚网点（新址）" and updated.rate_per_parcel == Decimal("0.0240")
    yto = db.session.scalar(select(Outlet).where(Outlet.code == "YTO021101"))
    assert yto.brand_id == setup["yto"].id and yto.rate_per_parcel == Decimal("0.0230")
    assert yto.primary_agent_id == setup["agent"].id and yto.contact_phone == "021-66668888"
    new_free = db.session.scalar(select(Outlet).where(Outlet.code == "ZTO571102"))
    assert new_free.primary_agent_id is None and new_free.is_active is True
    actions = [a.action for a in db.session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions.count("outlet.create") == 2 and actions.count("outlet.update") == 1 and actions[-1] == "outlet.import"
    summary = db.session.scalar(select(AuditLog).where(AuditLog.action == "outlet.import"))
    assert summary.after["created"] == 2 and summary.after["updated"] == 1 and summary.after["file"] == "网点.xlsx"
    # The new agent of YTO021101 was notified (the agent already had ZTO571101: no notice for that).
    notes = db.session.scalars(select(Notification)).all()
    assert [n.link for n in notes] == [f"/outlets/{yto.id}"]
    assert uploads(app) == []  # the kept file is deleted after the commit
    with client.session_transaction() as session:
        assert "outlet_import" not in session
    # The token cannot be used twice.
    again = client.post("/admin/outlets/import/confirm", data={"token": stored.name[len("outlet-import-"):-5]})
    assert again.status_code == 303 and again.headers["Location"] == "/admin/outlets/import"
    assert outlet_count() == before + 2


def test_every_row_error_is_listed_in_chinese_and_nothing_is_written(client, setup, app):
    gone = factories.make_user("agent", username="agent_gone", active=False)
    data = xlsx_bytes([
        row("ZTO571150"),  # fine
        row("ZTO571151", brand="顺丰快运"),  # unknown brand
        row("ZTO571152", rate="0.0x"),  # bad rate
        row("ZTO571153", rate=1.5),  # rate too big
        row("ZTO571150", name="重复"),  # duplicate code within the file
        row("ZTO571154", name=""),  # missing required field
        row("ZTO571155", agent="nobody"),  # unknown agent username
        row("ZTO571156", agent=gone.username),  # inactive agent
        row("ZTO571157", agent=setup["lead"].username),  # not an agent
        row("ZTO571158", phone="12345"),  # bad phone
        row("ZTO571159", active="也许"),  # bad status
        row("", name="无编码网点"),  # missing code
        row("ZTO571160", rate=None),  # missing rate
    ])
    before = outlet_count()
    response = upload(client, data)
    body = text(response)
    assert response.status_code == 200
    assert "确认导入" not in body and 'action="/admin/outlets/import/confirm"' not in body
    assert "本次不会导入任何数据" in body
    expected = [
        "品牌“顺丰快运”不存在",
        "费率必须是数字",
        "不能超过 1 元",
        "在本文件中重复（首次出现在第 2 行）",
        "网点名称：必填",
        "主责客服工号：nobody 不存在",
        "agent_gone 已停用",
        f"{setup['lead'].username} 不是客服",
        "联系电话：请填写 11 位手机号",
        "请填写“启用”或“停用”",
        "网点编码：必填",
        "单票费率(元/票)：必填",
    ]
    for message in expected:
        assert message in body, message
    assert "错误 12" in body and "其余 1 行没有错误" in body
    assert outlet_count() == before and db.session.scalars(select(AuditLog)).all() == []
    assert uploads(app) == []  # a file with errors is not kept
    assert client.post("/admin/outlets/import/confirm", data={"token": "x" * 32}).status_code == 303
    assert outlet_count() == before


def test_confirm_rechecks_and_writes_nothing_if_the_database_changed(client, setup, app):
    agent = factories.make_user("agent", username="agent_soon_gone")
    upload(client, xlsx_bytes([row("ZTO571170"), row("ZTO571171", agent=agent.username)]))
    agent.is_active_account = False
    db.session.commit()
    before = outlet_count()
    response = client.post("/admin/outlets/import/confirm", data={"token": excel_token(client)})
    assert response.status_code == 200
    assert "预览之后网点数据有变动" in text(response) and "agent_soon_gone 已停用" in text(response)
    assert outlet_count() == before and db.session.scalars(select(AuditLog)).all() == []
    assert uploads(app) == []


def test_commit_is_all_or_nothing(client, setup, app, monkeypatch):
    upload(client, xlsx_bytes([row("ZTO571180"), row("ZTO571181"), row("ZTO571182")]))
    from kdcs.outlets import service

    real_record = service.record
    calls = {"n": 0}

    def failing_record(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(service, "record", failing_record)
    before = outlet_count()
    with pytest.raises(RuntimeError):
        client.post("/admin/outlets/import/confirm", data={"token": excel_token(client)})
    db.session.rollback()
    assert outlet_count() == before and db.session.scalars(select(AuditLog)).all() == []


def test_confirm_requires_the_token_of_this_session(client, setup, app):
    upload(client, xlsx_bytes([row("ZTO571190")]))
    token = excel_token(client)
    other = app.test_client()
    AuthActions(other).login(setup["admin"])
    response = other.post("/admin/outlets/import/confirm", data={"token": token})
    assert response.status_code == 303 and response.headers["Location"] == "/admin/outlets/import"
    for bad in ("../../etc/passwd", "", "a" * 200):
        assert client.post("/admin/outlets/import/confirm", data={"token": bad}).status_code == 303
    assert db.session.scalar(select(Outlet).where(Outlet.code == "ZTO571190")) is None
    assert excel.upload_path(app.config["KDCS_UPLOAD_DIR"], "../../etc/passwd") is None


def test_cancel_discards_the_upload(client, setup, app):
    upload(client, xlsx_bytes([row("ZTO571191")]))
    assert len(uploads(app)) == 1
    response = client.post("/admin/outlets/import/cancel")
    assert response.status_code == 303 and uploads(app) == []
    assert db.session.scalar(select(Outlet).where(Outlet.code == "ZTO571191")) is None


def test_uploads_are_not_served(client, setup, app):
    upload(client, xlsx_bytes([row("ZTO571192")]))
    name = uploads(app)[0].name
    for url in (f"/static/{name}", f"/uploads/{name}", f"/admin/outlets/import/{name}"):
        assert client.get(url).status_code == 404, url


# --------------------------------------------------------------------------- rejected files


def zip_but_not_xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize("data, message", [
    (b"", "文件是空的"),
    (b"code,name\nZTO1,x\n", "这不是 Excel .xlsx 文件"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 .xls"),
    (b"PK\x03\x04 this is not really a zip", "无法作为 Excel 工作簿打开"),
    (zip_but_not_xlsx(), "无法作为 Excel 工作簿打开"),
    (xlsx_bytes([]), "只有表头，没有网点数据"),
    (xlsx_bytes([["a", "b"]], header=["运单号", "客户"]), "没有找到包含“网点编码”和“网点名称”列的表头行"),
    (xlsx_bytes([["ZTO1", "x"]], header=["网点编码", "网点名称"]), "表头缺少以下列：品牌、单票费率(元/票)"),
])
def test_bad_files_get_a_clear_message_and_nothing_is_written(client, setup, app, data, message):
    before = outlet_count()
    response = upload(client, data, filename="上传.xlsx")
    assert response.status_code == 200
    assert message in text(response)
    assert "确认导入" not in text(response)
    assert outlet_count() == before and uploads(app) == []


def test_too_many_rows(client, setup, app):
    app.config["KDCS_OUTLET_IMPORT_MAX_ROWS"] = 3
    try:
        response = upload(client, xlsx_bytes([row(f"ZTO5712{n:02d}") for n in range(4)]))
    finally:
        app.config.pop("KDCS_OUTLET_IMPORT_MAX_ROWS")
    assert "超过 3 行" in text(response) and uploads(app) == []


def test_too_large_file(client, setup, app):
    """Over the outlet upload limit (KDCS_MAX_UPLOAD_MB) but under the request limit: the view says so."""
    old = app.config["KDCS_MAX_UPLOAD_MB"]
    app.config["KDCS_MAX_UPLOAD_MB"] = 1
    try:
        response = upload(client, b"PK\x03\x04" + b"0" * (1024 * 1024 + 10))
    finally:
        app.config["KDCS_MAX_UPLOAD_MB"] = old
    assert response.status_code == 413
    assert "文件超过 1 MB" in text(response) and "<html" in text(response)
    assert uploads(app) == []


def test_no_file_chosen(client, setup):
    response = client.post("/admin/outlets/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 200 and "请选择要上传的 .xlsx 文件" in text(response)


def test_header_aliases_and_numeric_cells():
    data = xlsx_bytes([[571101, "数字编码网点", "ZTO", 0.025, 13812345678]],
                      header=["网点代码", "名称", "品牌编码", "费率", "电话"])
    sheet = excel.read_outlet_rows(data, 10)
    assert sheet.columns == {"code", "name", "brand", "rate", "contact_phone"}
    [raw] = sheet.rows
    assert raw.line == 2
    assert excel.cell_text(raw.values["code"]) == "571101"
    assert excel.cell_text(raw.values["contact_phone"]) == "13812345678"


def test_missing_optional_columns_keep_existing_values(client, setup):
    data = xlsx_bytes([["ZTO571101", "中通余杭良渚网点", "中通", 0.025]], header=["网点编码", "网点名称", "品牌", "单票费率"])
    body = text(upload(client, data))
    assert "无变化 1" in body  # no agent column: the agent is kept, not cleared
    client.post("/admin/outlets/import/confirm", data={"token": excel_token(client)})
    assert db.session.scalar(select(Outlet).where(Outlet.code == "ZTO571101")).primary_agent_id == setup["agent"].id


def test_too_large_file_with_csrf_on_gets_the_same_message(client, setup, app, csrf_on):
    """With CSRF on, the size limit trips while the token is read (before the view): same clear page."""
    old = app.config["MAX_CONTENT_LENGTH"], app.config["KDCS_MAX_UPLOAD_MB"]
    app.config["MAX_CONTENT_LENGTH"], app.config["KDCS_MAX_UPLOAD_MB"] = 1024 * 1024, 1
    try:
        response = upload(client, b"PK\x03\x04" + b"0" * (1024 * 1024 + 10))
    finally:
        app.config["MAX_CONTENT_LENGTH"], app.config["KDCS_MAX_UPLOAD_MB"] = old
    assert response.status_code == 413 and "文件超过 1 MB" in text(response)
    assert uploads(app) == []


def test_upload_without_csrf_token_is_refused(client, setup, app, csrf_on):
    response = upload(client, xlsx_bytes([row("ZTO571193")]))
    assert response.status_code == 400 and uploads(app) == []


def test_the_overtime_rate_is_imported_and_checked(client, setup, app):
    """加班费率: a number sets it, an empty cell clears it, a bad one is a row error; no column leaves it."""
    agent = setup["agent"].username
    ok = upload(client, xlsx_bytes([row("ZTO571101", name="中通余杭良渚网点", agent=agent, overtime=42.45)]))
    assert "42.45" in text(ok) and "更新 1" in text(ok)
    client.post("/admin/outlets/import/confirm", data={"token": excel_token(client)})
    outlet = db.session.scalar(select(Outlet).where(Outlet.code == "ZTO571101"))
    assert outlet.overtime_rate == Decimal("42.45")
    bad = upload(client, xlsx_bytes([row("ZTO571101", name="中通余杭良渚网点", agent=agent, overtime="很多")]))
    assert "加班费率(元/小时)：加班费率须是每小时的金额" in text(bad)
    without = [h for h in HEADER if h != "加班费率(元/小时)"]
    plain = row("ZTO571101", name="中通余杭良渚网点", agent=agent)
    del plain[7]
    upload(client, xlsx_bytes([plain], header=without))
    client.post("/admin/outlets/import/confirm", data={"token": excel_token(client)})
    db.session.refresh(outlet)
    assert outlet.overtime_rate == Decimal("42.45")  # no column: kept

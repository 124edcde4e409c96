"""Outlet rules without HTTP: validation, money, edits with optimistic locking, assignment, scope."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from kdcs.auditing import action_label, field_label
from kdcs.extensions import db
from kdcs.models import AuditLog, Notification, Outlet
from kdcs.outlets import service
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import StaleEdit, ValidationError
from tests import factories


def audit_rows(action=None):
    query = select(AuditLog).order_by(AuditLog.id)
    if action:
        query = query.where(AuditLog.action == action)
    return db.session.scalars(query).all()


# --------------------------------------------------------------------------- rates and phones


@pytest.mark.parametrize("value, expected", [
    ("0.025", Decimal("0.0250")),
    ("0.0250", Decimal("0.0250")),
    (" 0.03 ", Decimal("0.0300")),
    ("1", Decimal("1.0000")),
    (0.025, Decimal("0.0250")),  # a float as Excel hands it back
    (Decimal("0.0213"), Decimal("0.0213")),
    ("¥0.02", Decimal("0.0200")),
])
def test_parse_rate_accepts_exact_decimals(value, expected):
    rate = service.parse_rate(value)
    assert rate == expected and isinstance(rate, Decimal)
    assert str(rate) == str(expected)


@pytest.mark.parametrize("value, message", [
    ("", "请填写单票费率"),
    (None, "请填写单票费率"),
    ("abc", "费率必须是数字"),
    ("NaN", "费率必须是数字"),
    ("0", "必须大于 0"),
    ("-0.01", "必须大于 0"),
    ("1.5", "不能超过 1 元"),
    ("0.02501", "最多保留 4 位小数"),
    (True, "费率必须是数字"),
])
def test_parse_rate_rejects_with_chinese_messages(value, message):
    with pytest.raises(ValueError) as info:
        service.parse_rate(value)
    assert message in str(info.value)


@pytest.mark.parametrize("phone, ok", [
    ("13812345678", True), ("0571-88886666", True), ("057188886666", True), ("021-66668888-123", True),
    ("400-820-8820", True), ("12345", False), ("1381234567", False), ("abc", False), ("23812345678", False),
])
def test_phone_format(phone, ok):
    assert (service.phone_problem(service.normalize_phone(phone)) is None) is ok


def test_monthly_fee_is_exact_and_rounded_to_fen():
    assert service.monthly_fee(300_000, Decimal("0.025")) == Decimal("7500.00")
    assert service.monthly_fee(333, Decimal("0.0255")) == Decimal("8.49")  # 8.4915 -> 8.49
    assert service.monthly_fee(10, Decimal("0.0125")) == Decimal("0.13")  # half up


# --------------------------------------------------------------------------- create / update


def test_create_outlet_validates_and_audits(users):
    brand = factories.make_brand("ZTO", "中通")
    outlet = service.create_outlet(
        users["admin"], code="ZTO571101", name="中通余杭良渚网点", brand_id=brand.id, region="浙江省杭州市余杭区",
        contact_name="郭国强", contact_phone="159 4157 7882", rate_per_parcel="0.027", notes="",
    )
    assert outlet.rate_per_parcel == Decimal("0.0270")
    assert outlet.contact_phone == "15941577882"
    [row] = audit_rows("outlet.create")
    assert row.entity_id == outlet.id and row.actor_id == users["admin"].id
    assert row.after["rate_per_parcel"] == "0.0270" and row.after["code"] == "ZTO571101"


def test_create_outlet_reports_every_bad_field(users):
    brand = factories.make_brand()
    factories.make_outlet(brand=brand, code="DUP001")
    with pytest.raises(ValidationError) as info:
        service.create_outlet(users["admin"], code="dup001", name="", brand_id=None, contact_phone="123",
                              rate_per_parcel="2")
    errors = info.value.errors
    assert "已被其他网点使用" in errors["code"]  # case-insensitive uniqueness
    assert errors["name"] == "请填写网点名称。"
    assert errors["brand_id"] == "请选择品牌。"
    assert "手机号" in errors["contact_phone"]
    assert "不能超过 1 元" in errors["rate_per_parcel"]
    assert db.session.scalar(select(Outlet).where(Outlet.code == "dup001")) is None
    assert audit_rows() == []


def test_create_with_agent_notifies_and_rejects_non_agents(users):
    brand = factories.make_brand()
    with pytest.raises(ValidationError) as info:
        service.create_outlet(users["admin"], code="NEW001", name="新网点", brand_id=brand.id,
                              primary_agent_id=users["lead"].id)
    assert "不是客服" in info.value.errors["primary_agent_id"]
    outlet = service.create_outlet(users["admin"], code="NEW001", name="新网点", brand_id=brand.id,
                                   primary_agent_id=users["agent"].id)
    assert outlet.primary_agent_id == users["agent"].id
    [note] = db.session.scalars(select(Notification)).all()
    assert note.user_id == users["agent"].id and note.kind == "outlet_assigned" and note.link == f"/outlets/{outlet.id}"


def test_update_outlet_records_only_changes(users):
    outlet = factories.make_outlet(rate="0.0250")
    old_brand_id = outlet.brand_id
    other_brand = factories.make_brand()
    service.update_outlet(users["admin"], outlet, version=outlet.version, name=outlet.name, brand_id=other_brand.id,
                          rate_per_parcel="0.0231", region=outlet.region, contact_name="王建华",
                          contact_phone="13812345678", notes="周日不派送")
    [row] = audit_rows("outlet.update")
    assert row.before == {"brand_id": old_brand_id, "notes": "", "rate_per_parcel": "0.0250"}
    assert row.after == {"brand_id": other_brand.id, "notes": "周日不派送", "rate_per_parcel": "0.0231"}
    assert outlet.version == 2
    # Saving the same values again writes no audit row.
    service.update_outlet(users["admin"], outlet, version=outlet.version, notes="周日不派送")
    assert len(audit_rows("outlet.update")) == 1


def test_update_with_stale_version_raises_and_changes_nothing(users):
    outlet = factories.make_outlet(name="原名")
    loaded_version = outlet.version
    service.update_outlet(users["admin"], outlet, version=loaded_version, name="甲改的名字")
    with pytest.raises(StaleEdit):
        service.update_outlet(users["admin"], outlet, version=loaded_version, name="乙改的名字")
    db.session.rollback()
    assert db.session.get(Outlet, outlet.id).name == "甲改的名字"


def test_update_refuses_code_and_agent_fields(users):
    outlet = factories.make_outlet()
    with pytest.raises(TypeError):
        service.update_outlet(users["admin"], outlet, version=outlet.version, code="X")
    with pytest.raises(TypeError):
        service.update_outlet(users["admin"], outlet, version=outlet.version, primary_agent_id=users["agent"].id)


def test_set_active_is_audited_and_idempotent(users):
    outlet = factories.make_outlet()
    service.set_outlet_active(users["admin"], outlet, False)
    service.set_outlet_active(users["admin"], outlet, False)
    service.set_outlet_active(users["admin"], outlet, True)
    assert [r.action for r in audit_rows()] == ["outlet.deactivate", "outlet.activate"]
    assert audit_rows()[0].before == {"is_active": True} and audit_rows()[0].after == {"is_active": False}


# --------------------------------------------------------------------------- assignment


def test_assign_only_active_agents(users):
    outlet = factories.make_outlet()
    inactive = factories.make_user("agent", active=False)
    for user, message in ((users["lead"], "不是客服"), (users["trainer"], "不是客服"), (inactive, "已停用")):
        with pytest.raises(ValidationError) as info:
            service.assign_primary_agent(users["admin"], outlet, user.id)
        assert message in info.value.errors["agent_id"]
    with pytest.raises(ValidationError):
        service.assign_primary_agent(users["admin"], outlet, 999999)
    assert outlet.primary_agent_id is None
    assert audit_rows() == [] and db.session.scalars(select(Notification)).all() == []


def test_assign_replace_and_clear_audit_and_notify(users):
    first = users["agent"]
    second = factories.make_user("agent", username="agent_b", team=users["team"])
    outlet = factories.make_outlet(agent=first)
    service.assign_primary_agent(users["admin"], outlet, second.id, version=outlet.version)
    [row] = audit_rows("outlet.assign")
    assert row.before == {"primary_agent_id": first.id} and row.after == {"primary_agent_id": second.id}
    notes = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.user_id, n.kind) for n in notes] == [(second.id, "outlet_assigned"), (first.id, "outlet_unassigned")]
    assert outlet.code in notes[0].title and "交接" in notes[1].title
    # Same agent again: nothing happens.
    service.assign_primary_agent(users["admin"], outlet, second.id)
    assert len(audit_rows("outlet.assign")) == 1
    service.assign_primary_agent(users["admin"], outlet, None)
    assert outlet.primary_agent_id is None
    assert audit_rows("outlet.assign")[-1].after == {"primary_agent_id": None}


def test_assign_with_stale_version(users):
    outlet = factories.make_outlet()
    version = outlet.version
    service.assign_primary_agent(users["admin"], outlet, users["agent"].id, version=version)
    with pytest.raises(StaleEdit):
        service.assign_primary_agent(users["admin"], outlet, None, version=version)


@pytest.mark.parametrize("role", ["agent", "trainer", "lead"])
def test_services_check_permissions_themselves(users, role):
    actor = users[role]
    outlet = factories.make_outlet()
    brand = factories.make_brand()
    with pytest.raises(PermissionDenied):
        service.create_outlet(actor, code="X0001", name="x", brand_id=brand.id)
    with pytest.raises(PermissionDenied):
        service.update_outlet(actor, outlet, version=outlet.version, name="x")
    with pytest.raises(PermissionDenied):
        service.set_outlet_active(actor, outlet, False)
    with pytest.raises(PermissionDenied):
        service.assign_primary_agent(actor, outlet, users["agent"].id)
    with pytest.raises(PermissionDenied):
        service.search_outlets(actor, service.OutletFilter())
    assert audit_rows() == []


# --------------------------------------------------------------------------- scope and search


def test_visible_scope_by_role(users):
    own = factories.make_outlet(agent=users["agent"])
    teammate = factories.make_user("agent", team=users["team"])
    team_outlet = factories.make_outlet(agent=teammate)
    stranger = factories.make_user("agent", team=factories.make_team())
    other = factories.make_outlet(agent=stranger)
    unassigned = factories.make_outlet()
    every = {own.id, team_outlet.id, other.id, unassigned.id}

    def visible(user):
        return {o.id for o in db.session.scalars(service.visible_outlets_query(user))}

    assert visible(users["admin"]) == every
    assert visible(users["lead"]) == {own.id, team_outlet.id}
    assert visible(users["agent"]) == {own.id}
    assert visible(users["trainer"]) == set()
    assert service.get_visible_outlet(users["agent"], other.id) is None
    assert service.get_visible_outlet(users["lead"], team_outlet.id).id == team_outlet.id
    with pytest.raises(PermissionDenied):
        service.get_visible_outlet(users["trainer"], own.id)


def test_search_filters(users):
    zto, yto = factories.make_brand("ZTO", "中通"), factories.make_brand("YTO", "圆通")
    a = factories.make_outlet(brand=zto, code="ZTO571101", name="中通余杭良渚网点", agent=users["agent"])
    b = factories.make_outlet(brand=yto, code="YTO021101", name="圆通上海松江网点", region="上海市松江区")
    c = factories.make_outlet(brand=zto, code="ZTO571102", name="中通萧山网点", active=False)

    def codes(**kw):
        return [o.code for o in db.session.scalars(service.search_outlets(users["admin"], service.OutletFilter(**kw))).unique()]

    assert codes() == [b.code, a.code, c.code]
    assert codes(text="良渚") == [a.code]
    assert codes(text="松江") == [b.code]  # region
    assert codes(text="zto5711") == [a.code, c.code]  # code, case-insensitive
    assert codes(brand_id=yto.id) == [b.code]
    assert codes(active="0") == [c.code]
    assert codes(active="1", brand_id=zto.id) == [a.code]
    assert codes(agent=str(users["agent"].id)) == [a.code]
    assert codes(agent="none") == [b.code, c.code]


def test_volume_lines_compute_fees_at_current_rate():
    outlet = factories.make_outlet(rate="0.0250")
    factories.make_volume(outlet, date(2026, 9, 1), 200_000, 100_000)
    factories.make_volume(outlet, date(2026, 10, 1), 10, 3)
    lines = service.volume_lines(outlet)
    assert [line.month for line in lines] == [date(2026, 10, 1), date(2026, 9, 1)]
    assert lines[1].total == 300_000 and lines[1].fee == Decimal("7500.00")
    assert lines[0].fee == Decimal("0.33")  # 13 × 0.025 = 0.325 -> 0.33


def test_audit_labels_are_registered_in_chinese(app):
    with app.test_request_context():
        assert action_label("outlet.assign") == "指定主责客服"
        assert action_label("outlet.import") == "导入网点"
        assert field_label("rate_per_parcel") == "单票费率"
        assert field_label("primary_agent_id") == "主责客服"

"""Teams and brands rules, tested without HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kdcs.auditing import action_label
from kdcs.extensions import db
from kdcs.models import AuditLog, Brand, Team
from kdcs.org import service
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import StaleEdit, ValidationError
from tests import factories


def _audit(action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


# ------------------------------------------------------------------ teams


def test_create_team_records_audit(users):
    admin = users["admin"]
    lead = factories.make_user("lead", display_name="陈刚")
    team = service.create_team(admin, name="  二组 ", lead_id=lead.id)
    assert team.name == "二组" and team.lead_id == lead.id and team.is_active
    (entry,) = _audit("team.create")
    assert entry.actor_id == admin.id and entry.entity_type == "team" and entry.entity_id == team.id
    assert entry.before is None
    assert entry.after == {"name": "二组", "lead_id": lead.id, "is_active": True}


def test_team_name_is_required_and_unique(users):
    with pytest.raises(ValidationError) as exc:
        service.create_team(users["admin"], name="一组")
    assert exc.value.errors["name"] == "已有名为 一组 的团队。"
    with pytest.raises(ValidationError) as exc:
        service.create_team(users["admin"], name="   ")
    assert exc.value.errors["name"] == "请输入团队名称。"
    with pytest.raises(ValidationError) as exc:
        service.create_team(users["admin"], name="组" * 65)
    assert "64" in exc.value.errors["name"]
    assert _audit("team.create") == []


@pytest.mark.parametrize("role", ["agent", "trainer", "admin"])
def test_lead_must_have_lead_role(users, role):
    other = factories.make_user(role, display_name="周杰")
    with pytest.raises(ValidationError) as exc:
        service.create_team(users["admin"], name="三组", lead_id=other.id)
    assert exc.value.errors["lead_id"] == "周杰 不是组长，只有组长角色的用户才能带团队。"


def test_lead_must_be_active(users):
    old = factories.make_user("lead", display_name="何平", active=False)
    with pytest.raises(ValidationError) as exc:
        service.create_team(users["admin"], name="三组", lead_id=old.id)
    assert exc.value.errors["lead_id"] == "何平 已停用，不能担任组长。"
    with pytest.raises(ValidationError) as exc:
        service.create_team(users["admin"], name="三组", lead_id=999999)
    assert exc.value.errors["lead_id"] == "用户不存在。"


def test_update_team_changes_name_and_lead_with_audit(users):
    team = users["team"]
    new_lead = factories.make_user("lead", display_name="陈刚")
    before_lead = team.lead_id
    service.update_team(users["admin"], team, version=team.version, name="一组（夜班）", lead_id=new_lead.id)
    assert team.name == "一组（夜班）" and team.lead_id == new_lead.id
    (entry,) = _audit("team.update")
    assert entry.before == {"name": "一组", "lead_id": before_lead}
    assert entry.after == {"name": "一组（夜班）", "lead_id": new_lead.id}


def test_update_team_without_change_writes_no_audit(users):
    team = users["team"]
    service.update_team(users["admin"], team, version=team.version, name=team.name, lead_id=team.lead_id)
    assert _audit("team.update") == []


def test_update_team_stale_version_raises(users):
    team = users["team"]
    with pytest.raises(StaleEdit):
        service.update_team(users["admin"], team, version=team.version - 1, name="别的名字", lead_id=None)
    db.session.rollback()
    assert db.session.get(Team, team.id).name == "一组"


def test_update_team_cannot_take_anothers_name(users):
    factories.make_team("二组")
    team = users["team"]
    with pytest.raises(ValidationError) as exc:
        service.update_team(users["admin"], team, version=team.version, name="二组", lead_id=None)
    assert "name" in exc.value.errors
    # Renaming to its own name (any case) is fine.
    service.update_team(users["admin"], team, version=team.version, name="一组", lead_id=None)


def test_update_keeps_refusing_a_lead_who_was_deactivated(users):
    team = users["team"]
    users["lead"].is_active_account = False
    db.session.commit()
    with pytest.raises(ValidationError) as exc:
        service.update_team(users["admin"], team, version=team.version, name="一组", lead_id=team.lead_id)
    assert "已停用" in exc.value.errors["lead_id"]
    service.update_team(users["admin"], team, version=team.version, name="一组", lead_id=None)
    assert team.lead_id is None


def test_deactivate_team_with_active_members_is_refused(users):
    team = users["team"]
    with pytest.raises(ValidationError) as exc:
        service.set_team_active(users["admin"], team, False)
    assert exc.value.errors["is_active"].startswith("团队 一组 还有 2 名启用的成员")
    assert team.is_active
    assert _audit("team.deactivate") == []


def test_deactivate_team_after_members_leave_then_reactivate(users):
    team = users["team"]
    users["agent"].is_active_account = False  # a deactivated account no longer counts
    users["lead"].team_id = None
    db.session.commit()
    service.set_team_active(users["admin"], team, False)
    assert not team.is_active
    (entry,) = _audit("team.deactivate")
    assert entry.before == {"is_active": True} and entry.after == {"is_active": False}
    service.set_team_active(users["admin"], team, False)  # already inactive: nothing recorded
    assert len(_audit("team.deactivate")) == 1
    service.set_team_active(users["admin"], team, True)
    assert team.is_active and len(_audit("team.activate")) == 1


def test_search_teams_counts_and_filters(users):
    team = users["team"]
    factories.make_user("agent", team=team)
    factories.make_user("agent", team=team, active=False)
    factories.make_user("trainer", team=team)
    other = factories.make_team("二组")
    other.is_active = False
    db.session.commit()

    rows = {r.team.name: r for r in service.search_teams(users["admin"])}
    assert (rows["一组"].members, rows["一组"].agents) == (4, 2)  # lead, 2 agents, trainer
    assert (rows["二组"].members, rows["二组"].agents) == (0, 0)

    assert [r.team.name for r in service.search_teams(users["admin"], "二")] == ["二组"]
    lead_name = users["lead"].display_name
    assert [r.team.name for r in service.search_teams(users["admin"], lead_name)] == ["一组"]
    assert [r.team.name for r in service.search_teams(users["admin"], "LEAD_A")] == ["一组"]
    assert [r.team.name for r in service.search_teams(users["admin"], active="0")] == ["二组"]
    assert [r.team.name for r in service.search_teams(users["admin"], active="1")] == ["一组"]
    row = service.team_row(users["admin"], team)
    assert (row.members, row.agents) == (4, 2)


def test_team_members_with_outlet_counts(users):
    agent = users["agent"]
    brand = factories.make_brand()
    factories.make_outlet(brand=brand, agent=agent)
    factories.make_outlet(brand=brand, agent=agent)
    factories.make_outlet(brand=brand, agent=agent, active=False)
    members = {m.user.username: m.outlets for m in service.team_members(users["admin"], users["team"])}
    assert members == {"agent_a": 2, "lead_a": 0}


def test_lead_candidates(users):
    factories.make_user("lead", username="lead_off", active=False)
    names = [u.username for u in service.lead_candidates(users["admin"])]
    assert names == ["lead_a"]
    # The current (now ineligible) lead stays listed so the form can explain the refusal.
    users["team"].lead_id = factories.make_user("lead", username="lead_gone", active=False).id
    db.session.commit()
    names = {u.username for u in service.lead_candidates(users["admin"], users["team"])}
    assert names == {"lead_a", "lead_gone"}


# ------------------------------------------------------------------ brands


def test_create_brand_normalizes_code_and_audits(users):
    brand = service.create_brand(users["admin"], code=" zto ", name=" 中通 ")
    assert (brand.code, brand.name, brand.is_active) == ("ZTO", "中通", True)
    (entry,) = _audit("brand.create")
    assert entry.after == {"code": "ZTO", "name": "中通", "is_active": True}
    assert entry.summary == "ZTO 中通"


def test_brand_code_and_name_rules(users):
    factories.make_brand("ZTO", "中通")
    with pytest.raises(ValidationError) as exc:
        service.create_brand(users["admin"], code="zto", name="中通")
    assert exc.value.errors == {"code": "品牌代码 ZTO 已被使用。", "name": "已有名为 中通 的品牌。"}
    with pytest.raises(ValidationError) as exc:
        service.create_brand(users["admin"], code="中 通", name="")
    assert set(exc.value.errors) == {"code", "name"}
    assert exc.value.errors["name"] == "请输入品牌名称。"
    brand = service.create_brand(users["admin"], code="j&t", name="极兔")
    assert brand.code == "J&T"


def test_update_brand_and_stale_edit(users):
    brand = factories.make_brand("YTO", "圆通")
    version = brand.version
    service.update_brand(users["admin"], brand, version=version, code="YT", name="圆通速递")
    (entry,) = _audit("brand.update")
    assert entry.before == {"code": "YTO", "name": "圆通"} and entry.after == {"code": "YT", "name": "圆通速递"}
    with pytest.raises(StaleEdit):
        service.update_brand(users["admin"], brand, version=version, code="YTO", name="圆通")


def test_deactivate_brand_with_active_outlets_is_refused(users):
    brand = factories.make_brand("STO", "申通")
    for _ in range(3):
        factories.make_outlet(brand=brand)
    factories.make_outlet(brand=brand, active=False)
    with pytest.raises(ValidationError) as exc:
        service.set_brand_active(users["admin"], brand, False)
    assert exc.value.errors["is_active"].startswith("品牌 申通 还有 3 个启用的网点")
    assert brand.is_active and _audit("brand.deactivate") == []


def test_deactivate_and_activate_brand(users):
    brand = factories.make_brand("EMS", "邮政")
    factories.make_outlet(brand=brand, active=False)
    service.set_brand_active(users["admin"], brand, False)
    assert not brand.is_active
    service.set_brand_active(users["admin"], brand, True)
    assert brand.is_active
    assert [e.action for e in db.session.scalars(select(AuditLog).order_by(AuditLog.id))] == [
        "brand.deactivate", "brand.activate"]


def test_search_brands_counts(users):
    zto = factories.make_brand("ZTO", "中通")
    factories.make_brand("YTO", "圆通")
    factories.make_outlet(brand=zto)
    factories.make_outlet(brand=zto, active=False)
    rows = {r.brand.code: r for r in service.search_brands(users["admin"])}
    assert (rows["ZTO"].outlets, rows["ZTO"].active_outlets) == (2, 1)
    assert (rows["YTO"].outlets, rows["YTO"].active_outlets) == (0, 0)
    assert [r.brand.code for r in service.search_brands(users["admin"], "圆")] == ["YTO"]
    assert [r.brand.code for r in service.search_brands(users["admin"], "zt")] == ["ZTO"]


# ------------------------------------------------------------------ permissions, labels


@pytest.mark.parametrize("role", ["agent", "trainer", "lead"])
def test_services_refuse_non_admins(users, role):
    actor = users[role]
    team = users["team"]
    brand = factories.make_brand()
    calls = [
        lambda: service.search_teams(actor),
        lambda: service.team_row(actor, team),
        lambda: service.team_members(actor, team),
        lambda: service.lead_candidates(actor),
        lambda: service.create_team(actor, name="新组"),
        lambda: service.update_team(actor, team, version=team.version, name="x", lead_id=None),
        lambda: service.set_team_active(actor, team, False),
        lambda: service.search_brands(actor),
        lambda: service.brand_row(actor, brand),
        lambda: service.create_brand(actor, code="NEW", name="新品牌"),
        lambda: service.update_brand(actor, brand, version=brand.version, code="X", name="x"),
        lambda: service.set_brand_active(actor, brand, False),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert db.session.scalar(select(Team).where(Team.name == "新组")) is None
    assert db.session.scalar(select(Brand).where(Brand.code == "NEW")) is None


def test_inactive_admin_is_refused(users):
    admin = factories.make_user("admin", active=False)
    with pytest.raises(PermissionDenied):
        service.create_brand(admin, code="NEW", name="新品牌")


def test_audit_labels_are_registered_in_chinese(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("zh_CN"):
        labels = {a: action_label(a) for a in [
            "team.create", "team.update", "team.activate", "team.deactivate",
            "brand.create", "brand.update", "brand.activate", "brand.deactivate"]}
    assert labels == {
        "team.create": "创建团队", "team.update": "修改团队", "team.activate": "启用团队", "team.deactivate": "停用团队",
        "brand.create": "创建品牌", "brand.update": "修改品牌", "brand.activate": "启用品牌", "brand.deactivate": "停用品牌",
    }

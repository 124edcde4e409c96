"""Leave requests (kdcs/leave/service.py): rules on request, substitute checks, the flow,
who approves, overrides, cancellation, and concurrency (exactly one outcome)."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest

from kdcs.extensions import db
from kdcs.leave import rules, service
from kdcs.models import AuditLog, LeaveRequest, LeaveStatus, LeaveType, Notification
from kdcs.service_errors import ValidationError
from tests import factories
from tests.leave_data import beijing
from tests.worlds import World

S = LeaveStatus


def next_monday(after_days: int) -> date:
    day = rules.beijing_today() + timedelta(days=after_days)
    while day.weekday() != 0:
        day += timedelta(days=1)
    return day


@pytest.fixture
def leave_world():
    """Seeded types; 一组 (lead1; agent3 with two outlets, agent4 with one), 二组 (lead2, agent9), admin1."""
    return make_leave_world()


def make_leave_world() -> World:
    """The records of ``leave_world`` (also used by tests/test_leave_routes.py)."""
    service.seed_leave_types()
    team = factories.make_team("一组")
    lead = factories.make_user("lead", username="lead1", team=team, display_name="组长一")
    team.lead_id = lead.id
    other_team = factories.make_team("二组")
    lead2 = factories.make_user("lead", username="lead2", team=other_team, display_name="组长二")
    other_team.lead_id = lead2.id
    db.session.commit()
    agent3 = factories.make_user("agent", username="agent3", team=team, display_name="客服三")
    agent4 = factories.make_user("agent", username="agent4", team=team, display_name="客服四")
    far = factories.make_user("agent", username="agent9", team=other_team, display_name="客服九")
    admin = factories.make_user("admin", username="admin1", display_name="管理员")
    outlet = factories.make_outlet(agent=agent3, name="中通良渚网点")
    outlet2 = factories.make_outlet(agent=agent3, name="中通北干网点")
    own4 = factories.make_outlet(agent=agent4, name="客服四的网点")
    types = {t.code: t for t in db.session.query(LeaveType)}
    return World(team=team, lead=lead, lead2=lead2, other_team=other_team, agent3=agent3, agent4=agent4, far=far,
                 admin=admin, outlet=outlet, outlet2=outlet2, own4=own4, types=types)


def request(world, user=None, *, type_code="annual", start=None, end=None, substitute=None, submit=True,
            start_part="full", end_part="full", today=None):
    user = user or world.agent3
    start = start or next_monday(5)
    end = end or start + timedelta(days=1)
    substitute = substitute if substitute is not None else world.agent4
    outlets = service.handover_outlets(user)
    leave = service.create_request(
        user, type_id=world.types[type_code].id, start_date=start, start_part=start_part, end_date=end,
        end_part=end_part, reason="家里有事",
        handover=[{"outlet_id": o.outlet.id, "substitute_id": substitute.id if substitute else None,
                   "pending_promises": "答应周三回电", "special_requirements": "", "notes": ""} for o in outlets],
        today=today)
    if submit:
        service.submit(user, leave, today=today)
    db.session.commit()
    return leave


def accepted(world, **kwargs):
    leave = request(world, **kwargs)
    service.substitute_answer(world.agent4, leave, True)
    db.session.commit()
    return leave


# --------------------------------------------------------------------------- request rules


def test_seeded_types():
    assert service.seed_leave_types() == 8
    assert service.seed_leave_types() == 0
    names = [t.name for t in service.leave_types()]
    assert names == ["年假", "事假", "病假", "调休", "婚假", "丧假", "产假", "其他"]
    annual = db.session.query(LeaveType).filter_by(code="annual").one()
    sick = db.session.query(LeaveType).filter_by(code="sick").one()
    assert annual.yearly_allowance_days == Decimal("5")
    assert sick.short_notice_allowed and sick.proof_required and sick.proof_after_allowed


def test_one_day_ahead_is_refused_in_chinese(leave_world, app):
    tomorrow = rules.beijing_today() + timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        request(leave_world, start=tomorrow, end=tomorrow, submit=False)
    assert "至少提前 2 天" in exc.value.errors["start_date"] or "2" in exc.value.errors["start_date"]


def test_sick_leave_one_day_ahead_needs_the_lead_override(leave_world):
    tomorrow = rules.beijing_today() + timedelta(days=1)
    while tomorrow.weekday() >= 5:
        tomorrow += timedelta(days=1)
    leave = accepted(leave_world, type_code="sick", start=tomorrow, end=tomorrow,
                     today=tomorrow - timedelta(days=1))
    # submitted the day before (on a Friday in Beijing, "tomorrow" is Monday: the real submission time
    # would give three days' notice, and the lead's decision reads the submission time)
    leave.submitted_at = beijing(tomorrow - timedelta(days=1), 10)
    db.session.commit()
    assert service.needs(leave, today=tomorrow - timedelta(days=1)).short_notice
    with pytest.raises(ValidationError) as exc:
        service.decide(leave_world.lead, leave, approve=True, note="", version=leave.version)
    db.session.rollback()
    assert "short_notice_override" in exc.value.errors
    service.decide(leave_world.lead, leave, approve=True, note="发烧，先批", version=leave.version,
                   short_notice_override=True)
    db.session.commit()
    assert leave.status == S.APPROVED and leave.short_notice_override and leave.override_note == "发烧，先批"


def test_working_days_stored_and_balance(leave_world):
    leave = request(leave_world, start=next_monday(7), end=next_monday(7) + timedelta(days=6))
    assert leave.working_days == Decimal("5")
    (annual,) = service.balances(leave_world.agent3, leave.start_date.year)
    assert annual.remaining == Decimal("0")
    # Beyond the balance: allowed only with the lead's override.
    second = request(leave_world, start=next_monday(21), end=next_monday(21), substitute=leave_world.agent4)
    service.substitute_answer(leave_world.agent4, second, True)
    db.session.commit()
    if second.start_date.year == leave.start_date.year:
        with pytest.raises(ValidationError) as exc:
            service.decide(leave_world.lead, second, approve=True, note="", version=second.version)
        assert "balance_override" in exc.value.errors


def test_overlapping_own_leave_refused(leave_world):
    first = request(leave_world)
    with pytest.raises(ValidationError) as exc:
        request(leave_world, start=first.start_date, end=first.end_date)
    assert "start_date" in exc.value.errors


# --------------------------------------------------------------------------- substitutes


def test_substitute_checks(leave_world):
    w = leave_world
    start_at, end_at = rules.request_window(next_monday(5), "full", next_monday(5), "full")
    checks = {c.code: c for c in service.substitute_checks(w.agent3, w.agent4, start_at, end_at)}
    assert checks["active"].ok and checks["away"].ok and checks["team"].ok
    assert checks["certified"].ok is None  # training hook: not checked yet
    checks = {c.code: c for c in service.substitute_checks(w.agent3, w.far, start_at, end_at)}
    assert checks["team"].ok is False and checks["team"].overridable
    checks = {c.code: c for c in service.substitute_checks(w.agent3, w.lead, start_at, end_at)}
    assert checks["active"].ok is False
    factories.make_user("agent", username="gone", team=w.team, active=False)
    # the substitute on overlapping leave
    request(w, w.agent4, substitute=w.agent3)
    checks = {c.code: c for c in service.substitute_checks(w.agent3, w.agent4, start_at, end_at)}
    assert checks["away"].ok is False


def test_submit_refuses_a_substitute_on_leave_or_missing(leave_world):
    w = leave_world
    request(w, w.agent4, substitute=w.agent3)
    with pytest.raises(ValidationError) as exc:
        request(w, substitute=w.agent4)
    assert any(key.startswith("substitute_") for key in exc.value.errors)
    db.session.rollback()
    with pytest.raises(ValidationError):
        request(w, start=next_monday(14), substitute=False)


def test_other_team_substitute_needs_the_team_override(leave_world):
    w = leave_world
    leave = request(w, substitute=w.far)
    service.substitute_answer(w.far, leave, True)
    db.session.commit()
    with pytest.raises(ValidationError) as exc:
        service.decide(w.lead, leave, approve=True, note="", version=leave.version)
    assert "team_override" in exc.value.errors
    db.session.rollback()
    service.decide(w.lead, leave, approve=True, note="二组帮忙", version=leave.version, team_override=True)
    db.session.commit()
    assert leave.team_override


def test_substitute_load_counts_own_covered_and_due(leave_world):
    w = leave_world
    start = next_monday(5)
    start_at, end_at = rules.request_window(start, "full", start + timedelta(days=1), "full")
    factories.make_ticket(w.own4, registered_at=start_at, reply_minutes=60, resolve_minutes=600)
    load = service.substitute_load(w.agent4, start_at, end_at)
    assert (load.own_outlets, load.covered_outlets, load.due_tickets) == (1, 0, 1)
    accepted(w, start=start)
    load = service.substitute_load(w.agent4, start_at, end_at)
    assert load.covered_outlets == 2
    assert [n for _d, n, _due in load.per_day] == [3, 3]


# --------------------------------------------------------------------------- flow


def test_full_flow_records_history_audit_and_notifies(leave_world):
    w = leave_world
    leave = request(w)
    assert leave.status == S.SUBMITTED and leave.approver_id == w.lead.id
    assert db.session.query(Notification).filter_by(user_id=w.agent4.id).count() == 1
    service.substitute_answer(w.agent4, leave, True)
    db.session.commit()
    assert leave.status == S.SUBSTITUTE_ACCEPTED
    assert db.session.query(Notification).filter_by(user_id=w.lead.id).count() == 1
    service.decide(w.lead, leave, approve=True, note="好", version=leave.version)
    db.session.commit()
    assert leave.status == S.APPROVED and leave.decided_by_id == w.lead.id
    assert service.start_if_due(leave, leave.start_at)
    service.mark_returned(None, leave, leave.end_at)
    db.session.commit()
    assert [e.to_status for e in leave.history] == [S.DRAFT, S.SUBMITTED, S.SUBSTITUTE_ACCEPTED, S.APPROVED,
                                                   S.IN_PROGRESS, S.RETURNED]
    actions = [a.action for a in db.session.query(AuditLog).filter_by(entity_type="leave_request").order_by(AuditLog.id)]
    assert actions == ["leave.create", "leave.submit", "leave.accept", "leave.approve", "leave.start",
                       "leave.return"]


def test_decline_sends_it_back_with_the_reason(leave_world):
    w = leave_world
    leave = request(w)
    with pytest.raises(ValidationError):
        service.substitute_answer(w.agent4, leave, False, "")
    db.session.rollback()
    service.substitute_answer(w.agent4, leave, False, "那周我也忙")
    db.session.commit()
    assert leave.status == S.DRAFT
    assert leave.handover[0].decline_reason == "那周我也忙"
    note = db.session.query(Notification).filter_by(user_id=w.agent3.id).one()
    assert "那周我也忙" in note.body


def test_reject_needs_a_note(leave_world):
    w = leave_world
    leave = accepted(w)
    with pytest.raises(ValidationError):
        service.decide(w.lead, leave, approve=False, note="", version=leave.version)
    db.session.rollback()
    service.decide(w.lead, leave, approve=False, note="那周人手不够", version=leave.version)
    db.session.commit()
    assert leave.status == S.REJECTED


def test_cancel_approved_notifies_lead_and_substitute(leave_world):
    w = leave_world
    leave = accepted(w)
    service.decide(w.lead, leave, approve=True, note="", version=leave.version)
    db.session.commit()
    before_lead = db.session.query(Notification).filter_by(user_id=w.lead.id).count()
    before_sub = db.session.query(Notification).filter_by(user_id=w.agent4.id).count()
    service.cancel(w.agent3, leave, "不休了", version=leave.version)
    db.session.commit()
    assert leave.status == S.CANCELLED
    assert db.session.query(Notification).filter_by(user_id=w.lead.id).count() == before_lead + 1
    assert db.session.query(Notification).filter_by(user_id=w.agent4.id).count() == before_sub + 1


def test_cannot_cancel_after_the_start(leave_world):
    w = leave_world
    leave = accepted(w)
    with pytest.raises(ValidationError):
        service.cancel(w.agent3, leave, "", now=leave.start_at)


# --------------------------------------------------------------------------- who approves


def test_lead_cannot_approve_own_leave_it_goes_to_fallback_or_admin(leave_world):
    w = leave_world
    leave = request(w, w.lead, substitute=False)  # the lead serves no outlets
    assert leave.status == S.SUBSTITUTE_ACCEPTED
    assert leave.approver_id == w.admin.id
    with pytest.raises(ValidationError) as exc:
        service.decide(w.lead, leave, approve=True, note="", version=leave.version)
    assert "Nobody approves" in exc.value.errors["note"] or "自己" in exc.value.errors["note"]
    db.session.rollback()
    service.set_fallback_approver(w.admin, w.lead2.id)
    db.session.commit()
    assert service.approver_for(w.lead).id == w.lead2.id


def test_away_lead_sends_requests_to_the_fallback(leave_world):
    w = leave_world
    service.set_fallback_approver(w.admin, w.lead2.id)
    lead_leave = request(w, w.lead, substitute=False, type_code="personal",
                         start=rules.beijing_today() + timedelta(days=3),
                         end=rules.beijing_today() + timedelta(days=10))
    service.decide(w.lead2, lead_leave, approve=True, note="", version=lead_leave.version)
    db.session.commit()
    assert service.approver_for(w.agent3, lead_leave.start_at + timedelta(hours=1)).id == w.lead2.id
    assert service.approver_for(w.agent3, lead_leave.start_at - timedelta(hours=1)).id == w.lead.id


# --------------------------------------------------------------------------- concurrency


def test_a_replayed_decision_is_a_conflict_saying_what_happened(leave_world):
    w = leave_world
    leave = accepted(w)
    version = leave.version
    service.decide(w.lead, leave, approve=True, note="", version=version)
    db.session.commit()
    with pytest.raises(service.LeaveConflict) as exc:
        service.decide(w.admin, leave, approve=False, note="不行", version=version)
    assert "组长一" in str(exc.value)
    db.session.rollback()
    assert leave.status == S.APPROVED


def _race(app, leave_id: int, actions) -> list[str]:
    """Run each action(leave) in its own thread and session at the same moment."""
    barrier = threading.Barrier(len(actions))
    results: list[str] = [""] * len(actions)

    def run(i, action):
        with app.app_context():
            leave = db.session.get(LeaveRequest, leave_id)
            leave.handover, leave.history, leave.user, leave.leave_type  # noqa: B018 (load before the race)
            barrier.wait()
            try:
                action(leave)
                db.session.commit()
                results[i] = "ok"
            except service.LeaveConflict as exc:
                db.session.rollback()
                results[i] = "conflict:" + str(exc)
            except Exception as exc:  # noqa: BLE001
                db.session.rollback()
                results[i] = f"error:{exc!r}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_leads_approving_at_once_one_outcome(leave_world, app):
    w = leave_world
    leave = accepted(w)
    version, lead_id, admin_id, leave_id = leave.version, w.lead.id, w.admin.id, leave.id
    db.session.commit()
    results = _race(app, leave_id, [
        lambda lv: service.decide(db.session.get(type(w.lead), lead_id), lv, approve=True, note="", version=version),
        lambda lv: service.decide(db.session.get(type(w.lead), admin_id), lv, approve=False, note="不行",
                                  version=version),
    ])
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"], results
    db.session.expire_all()
    fresh = db.session.get(LeaveRequest, leave_id)
    assert fresh.status in (S.APPROVED, S.REJECTED)
    assert len([e for e in fresh.history if e.to_status in (S.APPROVED, S.REJECTED)]) == 1


def test_approval_racing_a_cancellation_one_outcome(leave_world, app):
    w = leave_world
    leave = accepted(w)
    version, lead_id, agent_id, leave_id = leave.version, w.lead.id, w.agent3.id, leave.id
    db.session.commit()
    results = _race(app, leave_id, [
        lambda lv: service.decide(db.session.get(type(w.lead), lead_id), lv, approve=True, note="", version=version),
        lambda lv: service.cancel(db.session.get(type(w.lead), agent_id), lv, "不休了", version=version),
    ])
    assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"], results
    db.session.expire_all()
    fresh = db.session.get(LeaveRequest, leave_id)
    assert fresh.status in (S.APPROVED, S.CANCELLED)
    conflict = next(r for r in results if r.startswith("conflict"))
    assert ("已批准" in conflict or "已撤销" in conflict or "approved" in conflict.lower()
            or "cancelled" in conflict.lower())


# --------------------------------------------------------------------------- proof (病假条)


def test_proof_state_recorded_and_required_before_approval_when_it_cannot_follow(leave_world):
    w = leave_world
    sick = request(w, type_code="sick")
    assert sick.proof_status == "pending"
    later = service.save_request(w.agent4, None, send=False, proof_later=True, type_id=w.types["sick"].id,
                                 start_date=next_monday(14), start_part="full", end_date=next_monday(14),
                                 end_part="full", reason="", handover=[])
    assert later.proof_status == "later"
    assert request(w, start=next_monday(21), end=next_monday(21)).proof_status is None  # 年假: no proof
    # 婚假 needs its proof before approval: the lead records it, then approves.
    w.types["marriage"].notice_days = 2
    wedding = accepted(w, type_code="marriage", start=next_monday(28), end=next_monday(28) + timedelta(days=2))
    with pytest.raises(ValidationError) as exc:
        service.decide(w.lead, wedding, approve=True, note="", version=wedding.version)
    assert "proof" in exc.value.errors
    db.session.rollback()
    with pytest.raises(Exception):  # noqa: B017 - the requester cannot record their own proof
        service.mark_proof_received(w.agent3, wedding, wedding.version)
    service.mark_proof_received(w.lead, wedding, wedding.version)
    db.session.commit()
    assert wedding.proof_status == "received"
    with pytest.raises(service.LeaveConflict):
        service.mark_proof_received(w.lead, wedding, wedding.version - 1)
    service.decide(w.lead, wedding, approve=True, note="", version=wedding.version)
    db.session.commit()
    assert wedding.status == S.APPROVED
    # Sick leave's proof may follow: approval does not wait for it.
    service.substitute_answer(w.agent4, sick, True)
    service.decide(w.lead, sick, approve=True, note="", version=sick.version)
    assert sick.status == S.APPROVED and sick.proof_status == "pending"


def test_requests_waiting_for_an_away_lead_reach_the_fallback(leave_world):
    w = leave_world
    service.set_fallback_approver(w.admin, w.lead2.id)
    waiting = accepted(w)  # approver: lead1
    assert waiting.approver_id == w.lead.id
    assert waiting not in service.inbox(w.lead2) and not service.may_decide(w.lead2, waiting)
    away = request(w, w.lead, substitute=False, type_code="personal",
                   start=rules.beijing_today(), end=rules.beijing_today() + timedelta(days=3),
                   today=rules.beijing_today() - timedelta(days=3))
    service.decide(w.lead2, away, approve=True, note="早已说好", version=away.version, short_notice_override=True)
    assert service.start_if_due(away)
    db.session.commit()
    assert waiting in service.inbox(w.lead2) and service.may_decide(w.lead2, waiting)
    assert service.get_request(w.lead2, waiting.id) is waiting
    service.decide(w.lead2, waiting, approve=True, note="组长休假，代批", version=waiting.version)
    db.session.commit()
    assert waiting.status == S.APPROVED and waiting.decided_by_id == w.lead2.id

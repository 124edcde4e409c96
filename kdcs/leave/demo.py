"""Demo leave: every state, relative to the day the demo is loaded (``flask seed-demo``).

一组 (lead1 王丽): agent5 周杰 is on leave today, agent6 吴静 covers his outlets (so her 我的
queue shows 代班 tickets right after ``make run``); agent2 李娜 waits for lead1's decision
(agent1 张敏 accepted); agent1 waits for agent2's answer. 二组 (lead2 陈刚): agent7 郑洋 is
approved for next week; agent9 何平 came back last week and has his digest; agent11 马超 was
rejected. agent3 and agent4 are left free (the browser journey uses them). Leave types with
allowances and a minimum staffing for each team. Idempotent: nothing is added when any
request exists.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    LeaveEvent,
    LeaveHandover,
    LeaveRequest,
    LeaveStatus,
    LeaveType,
    Outlet,
    Team,
    TeamStaffing,
    User,
)
from ..notifications.service import notify
from ..workcalendar import SHANGHAI, DbCalendar

S = LeaveStatus
MIN_STAFFING = {"一组": 4, "二组": 4}

PROMISES = {
    0: "已答应客户今天下班前回电确认派送时间",
    1: "网点老板周三前给破损件赔付方案，需跟进",
}
REQUIREMENTS = ["投诉件先电话沟通网点负责人，再回复客户", "拦截件需当天回复", "大件多，注意破损登记"]


def _user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == username))


def _type(code: str) -> LeaveType:
    return db.session.scalar(select(LeaveType).where(LeaveType.code == code))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def _workday_from(day: date, calendar: DbCalendar, step: int = 1) -> date:
    """The first working day on or after ``day`` (``step`` -1: on or before), so that a demo
    request is one the form would accept (never a period of days off: 0 个工作日)."""
    for _ in range(60):
        if calendar(day):
            return day
        day += timedelta(days=step)
    return day


def _request(owner: User, substitute: User, type_code: str, start: date, end: date, status: str, *,
             reason: str, answer: str | None, created: datetime, steps: list[tuple[User | None, str, str, str]],
             note: str = "", start_part: str = "full", end_part: str = "full") -> LeaveRequest:
    from .rules import Period, request_window, working_days

    start_at, end_at = request_window(start, start_part, end, end_part)
    days = working_days(Period(start, start_part, end, end_part), DbCalendar())
    team = owner.team
    leave = LeaveRequest(
        user_id=owner.id, type_id=_type(type_code).id, start_date=start, start_part=start_part, end_date=end,
        end_part=end_part, start_at=start_at, end_at=end_at, working_days=days, reason=reason, status=status,
        approver_id=team.lead_id if team else None, submitted_at=created, created_at=created,
        decision_note=note,
    )
    outlets = list(db.session.scalars(select(Outlet).where(Outlet.primary_agent_id == owner.id).order_by(Outlet.code)))
    for index, outlet in enumerate(outlets):
        leave.handover.append(LeaveHandover(
            outlet_id=outlet.id, substitute_id=substitute.id, pending_promises=PROMISES.get(index, ""),
            special_requirements=REQUIREMENTS[index % len(REQUIREMENTS)] if index < 2 else "",
            notes="客户电话多，午休时段也要看一眼队列" if index == 0 else "",
            substitute_answer=answer, substitute_answered_at=created + timedelta(hours=3) if answer else None))
    at = created
    for actor, before, after, text in steps:
        leave.history.append(LeaveEvent(actor_id=actor.id if actor else None, at=at, from_status=before,
                                        to_status=after, note=text))
        at += timedelta(hours=3)
    if status in (S.APPROVED, S.IN_PROGRESS, S.RETURNED, S.REJECTED):
        leave.decided_by_id, leave.decided_at = team.lead_id, created + timedelta(hours=6)
    db.session.add(leave)
    return leave


def seed_demo_leave(today: date | None = None) -> dict[str, int]:
    """Leave types, team minimums and requests in every state (skipped when any request exists)."""
    from .digest import build_digest, digest_text
    from .service import seed_leave_types

    today = today or datetime.now(SHANGHAI).date()
    added_types = seed_leave_types()
    db.session.flush()
    staffed = 0
    for name, minimum in MIN_STAFFING.items():
        team = db.session.scalar(select(Team).where(Team.name == name))
        if team is not None and db.session.get(TeamStaffing, team.id) is None:
            db.session.add(TeamStaffing(team_id=team.id, min_agents=minimum))
            staffed += 1
    result = {"leave_types": added_types, "team_staffing": staffed, "leave_requests": 0}
    users = {name: _user(name) for name in ("lead1", "lead2", *(f"agent{i}" for i in range(1, 13)))}
    if db.session.scalar(select(func.count()).select_from(LeaveRequest)) or any(u is None for u in users.values()):
        db.session.commit()
        return result
    u = users
    lead1, lead2 = u["lead1"], u["lead2"]
    ago = lambda days, hour=10: _at(today - timedelta(days=days), hour)  # noqa: E731
    submitted, accepted = (S.DRAFT, S.SUBMITTED, ""), (S.SUBMITTED, S.SUBSTITUTE_ACCEPTED, "")
    made = []

    # In progress today: 周杰 away, 吴静 covers (代班 tickets in agent6's queue).
    calendar = DbCalendar()
    # (a holiday week around today: the leave runs to the first working day, so it has one)
    current = _request(u["agent5"], u["agent6"], "annual", today - timedelta(days=1),
                       max(today + timedelta(days=2), _workday_from(today, calendar)),
                       S.IN_PROGRESS, reason="回老家参加表姐婚礼", answer="accepted", created=ago(9),
                       steps=[(u["agent5"], *submitted), (u["agent6"], *accepted),
                              (lead1, S.SUBSTITUTE_ACCEPTED, S.APPROVED, "交接清楚，同意。"),
                              (None, S.APPROVED, S.IN_PROGRESS, "")])
    current.start_notice_sent_at = _at(today - timedelta(days=1), 0, 5)
    made.append(current)

    # Waiting for lead1 (the substitute accepted).
    start = _workday_from(today + timedelta(days=10), calendar)
    made.append(_request(u["agent2"], u["agent1"], "personal", start, start + timedelta(days=1), S.SUBSTITUTE_ACCEPTED,
                         reason="孩子学校家长会，另需办理户口迁移", answer="accepted", created=ago(1),
                         steps=[(u["agent2"], *submitted), (u["agent1"], *accepted)]))

    # Waiting for the substitute's answer (李娜 is asked to cover 张敏).
    start = _workday_from(today + timedelta(days=20), calendar)
    made.append(_request(u["agent1"], u["agent2"], "annual", start, start + timedelta(days=4), S.SUBMITTED,
                         reason="带父母去云南旅游", answer=None, created=ago(0, 9), steps=[(u["agent1"], *submitted)]))

    # Approved for next week (二组).
    monday = _workday_from(_next_monday(today), calendar)
    made.append(_request(u["agent7"], u["agent8"], "annual", monday, monday + timedelta(days=2), S.APPROVED,
                         reason="年假休息", answer="accepted", created=ago(6),
                         steps=[(u["agent7"], *submitted), (u["agent8"], *accepted),
                                (lead2, S.SUBSTITUTE_ACCEPTED, S.APPROVED, "同意，注意月底对账前回来。")]))

    # Finished last week, with its digest.
    back = _workday_from(today - timedelta(days=8), calendar, step=-1) + timedelta(days=1)
    done = _request(u["agent9"], u["agent10"], "sick", back - timedelta(days=2), back - timedelta(days=1),
                    S.RETURNED, reason="急性肠胃炎，医院开具病假条", answer="accepted", created=ago(12),
                    steps=[(u["agent9"], *submitted), (u["agent10"], *accepted),
                           (lead2, S.SUBSTITUTE_ACCEPTED, S.APPROVED, "短时请假，已补交病假条。"),
                           (None, S.APPROVED, S.IN_PROGRESS, ""), (None, S.IN_PROGRESS, S.RETURNED, "")])
    done.short_notice_override, done.override_note = True, "病假，当天申请"
    done.returned_at = done.end_at
    done.start_notice_sent_at = done.start_at
    made.append(done)

    # Rejected (二组, month-end).
    start = _workday_from(today + timedelta(days=5), calendar)
    made.append(_request(u["agent11"], u["agent12"], "personal", start, start, S.REJECTED,
                         reason="搬家", answer="accepted", created=ago(2),
                         steps=[(u["agent11"], *submitted), (u["agent12"], *accepted),
                                (lead2, S.SUBSTITUTE_ACCEPTED, S.REJECTED, "月底对账高峰，人手不足，请改到下周。")],
                         note="月底对账高峰，人手不足，请改到下周。"))
    db.session.flush()

    # The notifications those steps would have sent.
    done.digest_sent_at = done.end_at + timedelta(minutes=5)
    notify(u["agent9"], "leave", "欢迎回来：休假期间的工作摘要", digest_text(build_digest(done)), f"/leave/{done.id}/digest")
    notify(u["agent6"], "leave", f"开始代班：{u['agent5'].display_name} 休假",
           f"你代班 {len(current.handover)} 个网点，相关工单已标记“代班”显示在你的队列中。", f"/leave/{current.id}")
    notify(lead1, "leave", "待审批的请假", f"{u['agent2'].display_name} 的请假已由替班确认，等待你审批。",
           f"/leave/{made[1].id}")
    notify(u["agent2"], "leave", "请确认代班", f"{u['agent1'].display_name} 请你在休假期间代班。", f"/leave/{made[2].id}")
    db.session.commit()
    return {**result, "leave_requests": len(made)}

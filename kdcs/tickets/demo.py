"""Demo tickets for the demo outlets: every category, dozens open per agent,
some overdue, some with fines, each with a plausible timeline.

Idempotent: the random generator is seeded, and a ticket whose duplicate key
(waybill, outlet, category, reason) exists is skipped, so a second run adds
nothing. Needs the demo company (``kdcs.demo.seed_demo``) first; loads the
reference data (reasons, rules, calendar) itself.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import (
    Category,
    DeadlineRule,
    Direction,
    EventKind,
    FineBearer,
    Outlet,
    Priority,
    ReplyChannel,
    Ticket,
    TicketEvent,
    TicketReason,
    TicketReply,
    TicketSource,
    TicketStatus,
    User,
    utcnow,
)
from ..workcalendar import SHANGHAI, DbCalendar
from . import deadlines
from .service import existing_duplicate_keys, initial_status, refresh_derived

S = TicketStatus
TICKETS_PER_OUTLET = 24
CATEGORY_WEIGHTS = [(Category.PROBLEM, 40), (Category.MESSAGE, 25), (Category.WORK_ORDER, 25),
                    (Category.ARBITRATION, 10)]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕"

DESCRIPTIONS = {
    "地址不详": "收件地址只写到小区，无楼栋门牌号，快递员无法派送。",
    "查无此人": "按地址派送，物业及邻居均称无此收件人。",
    "联系不上收件人": "快递员三次拨打收件人电话无人接听，短信未回复。",
    "电话错误/无人接听": "面单电话为空号，需联系寄件人核实。",
    "拒收": "收件人称未购买该商品，当面拒收。",
    "破损": "到件外包装严重破损，已拍照留存。",
    "超区/超派": "收件地址超出本网点派送范围，需转第三方或客户自提。",
    "收件人要求改派/改地址": "收件人要求改派至公司地址。",
    "延误": "件在中转中心滞留两天，客户催问。",
    "有发未到件": "上一站已发出，本网点未扫描到件。",
    "催派送": "客户留言：三天了还没送到，请尽快派送。",
    "查询物流": "客户留言询问快件目前位置及预计送达时间。",
    "改约派送时间": "客户留言：白天不在家，请晚上七点后派送。",
    "投诉快递员": "客户留言称快递员未打电话直接放驿站。",
    "催件": "总部工单：客户催件，要求当天派送。",
    "查件": "总部工单：客户查询件的签收情况。",
    "投诉": "客户投诉快递员态度差并未送货上门。",
    "改地址": "寄件人申请修改收件地址。",
    "拦截": "寄件人申请拦截退回。",
    "遗失": "对方网点发起遗失仲裁，称件未到达。",
    "虚假签收": "客户称未收到件，系统却显示已签收。",
    "内件短少": "收件人称内件少了一件，外包装完好。",
}
NOTES = [
    "已联系收件人，约定明天上午派送。",
    "网点反馈快递员已在派送途中。",
    "已致电客户说明情况，客户表示理解。",
    "已上传签收底单及派件监控截图。",
    "已与网点负责人沟通，今日内处理完毕。",
    "客户要求改约周末派送，已备注。",
    "已在品牌系统回复留言。",
    "等待网点反馈，已电话催促。",
]
# What an agent told the customer first (a reply record, as 记录回复 stores it).
FIRST_REPLIES = [
    "您好，已联系网点核实，快件今天安排派送，请保持电话畅通。",
    "您好，已登记您的诉求并反馈网点，处理结果会第一时间告知您。",
    "您好，快件已安排加急处理，网点会主动联系您。",
    "您好，已核实物流信息，快件正在转运中，预计明天到达。",
]
FOLLOW_UPS = [
    "再次联系客户：网点已重新派送，客户确认签收。",
    "回访客户：问题已解决，客户表示满意。",
    "再次跟进：网点补发完成，已告知客户单号。",
]
CLOSE_WITHOUT_REPLY = ["客户撤销", "重复登记，已合并处理", "客户已自提，无需处理"]


def waybill_for(brand_code: str, rng: random.Random) -> str:
    """A waybill number in the brand's usual format (see DOMAIN.md)."""
    def digits(n: int) -> str:
        return "".join(str(rng.randint(0, 9)) for _ in range(n))

    code = brand_code.upper()
    if code == "ZTO":
        return f"7{rng.randint(3, 8)}{digits(12)}"
    if code == "YTO":
        return "YT" + digits(13)
    if code == "JT":
        return "JT" + digits(13)
    if code == "YUNDA":
        return f"{rng.choice('34')}{digits(14)}" if rng.random() < 0.8 else "5" + digits(12)
    if code == "STO":
        return "77" + digits(rng.choice([12, 12, 13]))
    if code == "SF":
        return "SF" + digits(13)
    if code == "JD":
        return "JDV" + digits(12)
    return "1" + digits(12)


def _first_reply(ticket: Ticket, agent: User, stamp: datetime, waybill: str) -> TicketEvent:
    """The ticket's first reply as 记录回复 stores it: a reply record by the agent, the first-reply
    time, and the timeline's reply line (its own random stream: the rest of the demo is unchanged)."""
    rng = random.Random(f"{waybill}-reply")
    channel = rng.choice([ReplyChannel.PHONE, ReplyChannel.BRAND_SYSTEM, ReplyChannel.SMS])
    body = rng.choice(FIRST_REPLIES)
    ticket.first_replied_at = stamp
    db.session.add(TicketReply(ticket=ticket, channel=channel, body=body, sent_at=stamp, recorded_by_id=agent.id,
                               recorded_at=stamp))
    return TicketEvent(ticket=ticket, actor_id=agent.id, kind=EventKind.REPLY, from_value=channel,
                       to_value=stamp.isoformat(timespec="minutes"), body=body, at=stamp)


def _follow_up(ticket: Ticket, agent: User, waybill: str) -> TicketEvent | None:
    """A second reply on some closed tickets (about one in four), halfway between the first reply
    and the closing: not every case is settled at first contact (一次解决率 has something to show)."""
    rng = random.Random(f"{waybill}-follow-up")
    if ticket.closed_at is None or ticket.first_replied_at is None or rng.random() >= 0.25:
        return None
    if ticket.closed_at - ticket.first_replied_at < timedelta(minutes=10):
        return None
    stamp = (ticket.first_replied_at + (ticket.closed_at - ticket.first_replied_at) / 2).replace(microsecond=0)
    body = rng.choice(FOLLOW_UPS)
    db.session.add(TicketReply(ticket=ticket, channel=ReplyChannel.PHONE, body=body, sent_at=stamp,
                               recorded_by_id=agent.id, recorded_at=stamp))
    return TicketEvent(ticket=ticket, actor_id=agent.id, kind=EventKind.REPLY, from_value=ReplyChannel.PHONE,
                       to_value=stamp.isoformat(timespec="minutes"), body=body, at=stamp)


def _weighted(rng: random.Random, pairs):
    total = sum(weight for _, weight in pairs)
    pick = rng.uniform(0, total)
    for value, weight in pairs:
        pick -= weight
        if pick <= 0:
            return value
    return pairs[-1][0]


def _path(category: str, direction: str, age_hours: float, rng: random.Random) -> list[str]:
    """The statuses a demo ticket went through after its initial one (maybe none)."""
    if category == Category.ARBITRATION:
        full = [S.TO_FILE, S.FILED, S.NEGOTIATING, S.JUDGED, S.CLOSED]
        start = full.index(initial_status(category, direction))
        steps = len(full) - 1 - start
        done = min(steps, int(rng.random() * (steps + 1) * min(1.0, age_hours / 72 + 0.2)))
        return full[start + 1:start + 1 + done]
    if age_hours < 24:
        weights = [("new", 35), ("in_progress", 30), ("awaiting_feedback", 15), ("replied", 10), ("closed", 10)]
    elif age_hours < 72:
        weights = [("new", 8), ("in_progress", 20), ("awaiting_feedback", 17), ("replied", 20), ("closed", 35)]
    else:
        weights = [("new", 3), ("in_progress", 7), ("awaiting_feedback", 5), ("replied", 15), ("closed", 70)]
    target = _weighted(rng, weights)
    paths = {
        "new": [],
        "in_progress": [S.IN_PROGRESS],
        "awaiting_feedback": [S.IN_PROGRESS, S.AWAITING_FEEDBACK],
        "replied": [S.IN_PROGRESS, S.REPLIED] if rng.random() < 0.6 else [S.REPLIED],
        "closed": ([S.IN_PROGRESS, S.REPLIED, S.CLOSED] if rng.random() < 0.9 else [S.IN_PROGRESS, S.CLOSED]),
    }
    return paths[target]


def seed_demo_tickets(today: date | None = None) -> dict[str, int]:
    """Create the demo tickets (and the reference data they need); returns counts. Commits."""
    from .reference import seed_reference_data

    seed_reference_data()
    rng = random.Random(20261124)
    now = utcnow() if today is None else datetime.combine(today, time(15, 0), tzinfo=SHANGHAI).astimezone(UTC)
    created = {"tickets": 0, "events": 0, "fines": 0}
    outlets = list(db.session.scalars(select(Outlet).where(Outlet.primary_agent_id.is_not(None)).order_by(Outlet.code)))
    if not outlets:
        return created
    reasons: dict[str, list[TicketReason]] = {}
    for reason in db.session.scalars(select(TicketReason).where(TicketReason.is_active.is_(True))
                                     .order_by(TicketReason.sort_order, TicketReason.id)):
        reasons.setdefault(reason.category, []).append(reason)
    rules = list(db.session.scalars(select(DeadlineRule).where(DeadlineRule.is_active.is_(True))))
    calendar = DbCalendar()
    lead_by_team = {u.team_id: u for u in db.session.scalars(select(User).where(User.role == "lead"))}

    planned = []
    for outlet in outlets:
        for _ in range(TICKETS_PER_OUTLET):
            category = _weighted(rng, CATEGORY_WEIGHTS)
            reason = rng.choice(reasons[category])
            waybill = waybill_for(outlet.brand.code, rng)
            planned.append((outlet, category, reason, waybill, rng.random()))
    existing = existing_duplicate_keys((w, o.id, c, r.id) for o, c, r, w, _ in planned)

    for outlet, category, reason, waybill, draw in planned:
        local_rng = random.Random(f"{waybill}-{outlet.id}")  # per ticket: stable across runs
        if (waybill, outlet.id, category, reason.id) in existing:
            continue
        agent = outlet.primary_agent
        if category == Category.MESSAGE:
            direction = Direction.INBOUND
        elif category == Category.ARBITRATION:
            direction = Direction.INBOUND if draw < 0.6 else Direction.OUTBOUND
        else:
            direction = Direction.INBOUND if draw < 0.75 else Direction.OUTBOUND
        # Mostly recent; a tail of older cases. Minutes granularity, never in the future.
        age_hours = rng.choice([rng.uniform(0.2, 8), rng.uniform(0.2, 30), rng.uniform(10, 96), rng.uniform(48, 240)])
        registered_at = (now - timedelta(hours=age_hours)).replace(second=0, microsecond=0)
        rule = deadlines.select_rule(rules, brand_id=outlet.brand_id, category=category, reason_id=reason.id)
        if rule is None:
            continue
        reply_due, resolve_due = deadlines.due_times(rule, registered_at, calendar)
        status = initial_status(category, direction)
        ticket = Ticket(
            outlet_id=outlet.id, brand_id=outlet.brand_id, direction=direction, category=category,
            reason_id=reason.id, waybill_no=waybill, registered_at=registered_at,
            customer_name=local_rng.choice(SURNAMES) + local_rng.choice(["先生", "女士"]),
            customer_phone=f"1{local_rng.choice('3589')}{local_rng.randint(0, 9)}{local_rng.randint(10000000, 99999999)}",
            description=DESCRIPTIONS.get(reason.name, f"{reason.name}，请跟进处理。"),
            priority=_weighted(local_rng, [(Priority.NORMAL, 80), (Priority.HIGH, 15), (Priority.URGENT, 5)]),
            assignee_id=agent.id, status=status, reply_due_at=reply_due, resolve_due_at=resolve_due,
            deadline_rule_id=rule.id, source=TicketSource.DEMO, created_by_id=agent.id,
            created_at=registered_at + min(timedelta(minutes=local_rng.randint(1, 20)), (now - registered_at) / 2),
        )
        db.session.add(ticket)
        events = [TicketEvent(ticket=ticket, actor_id=agent.id, kind=EventKind.CREATED, to_value=status,
                              at=ticket.created_at)]
        path = _path(category, direction, age_hours, local_rng)
        span = max(now - ticket.created_at, timedelta(minutes=len(path) + 1))
        # Agents who keep up answer inside the deadline; some are late.
        stamps = sorted(ticket.created_at + span * local_rng.uniform(0.02, 0.9) for _ in path)
        if path and local_rng.random() < 0.7:
            stamps[0] = min(stamps[0], ticket.created_at + (reply_due - registered_at) * local_rng.uniform(0.1, 0.9))
        stamps = sorted(max(ticket.created_at, min(s, now)) for s in stamps)
        for stamp, target in zip(stamps, path, strict=True):
            stamp = stamp.replace(microsecond=0)
            note = ""
            if target == S.CLOSED and ticket.status not in (S.REPLIED, S.JUDGED):
                note = local_rng.choice(CLOSE_WITHOUT_REPLY)
            if target == S.IN_PROGRESS and ticket.first_replied_at is None and local_rng.random() < 0.6 \
                    and category != Category.ARBITRATION:
                events.append(_first_reply(ticket, agent, stamp, waybill))
            if target == S.CLOSED:
                ticket.closed_at = stamp
                ticket.resolved_at = ticket.resolved_at or stamp
            elif target == S.REPLIED and ticket.first_replied_at is None:
                events.append(_first_reply(ticket, agent, stamp, waybill))
                ticket.resolved_at = ticket.resolved_at or stamp
            elif target == S.REPLIED or target == S.JUDGED:
                ticket.first_replied_at = ticket.first_replied_at or stamp
                ticket.resolved_at = ticket.resolved_at or stamp
            elif target == S.FILED:
                ticket.first_replied_at = ticket.first_replied_at or stamp
            events.append(TicketEvent(ticket=ticket, actor_id=agent.id, kind=EventKind.STATUS,
                                      from_value=ticket.status, to_value=target, body=note, at=stamp))
            ticket.status = target
        for _ in range(local_rng.choice([0, 0, 1, 1, 2])):
            at = (ticket.created_at + span * local_rng.uniform(0.05, 0.95)).replace(microsecond=0)
            events.append(TicketEvent(ticket=ticket, actor_id=agent.id, kind=EventKind.NOTE,
                                      body=local_rng.choice(NOTES), at=at))
        follow_up = _follow_up(ticket, agent, waybill)
        if follow_up is not None:
            events.append(follow_up)
        # Fines: late arbitration and work orders mostly; decided by the lead.
        late = ticket.first_replied_at is None and reply_due < now or \
            ticket.first_replied_at is not None and ticket.first_replied_at > reply_due
        if (late and local_rng.random() < 0.25) or (category == Category.ARBITRATION and local_rng.random() < 0.3):
            amount = Decimal(local_rng.choice(["20.00", "30.00", "50.00", "100.00", "200.00"]))
            bearer = _weighted(local_rng, [(FineBearer.COMPANY, 60), (FineBearer.OUTLET, 30), (FineBearer.AGENT, 10)])
            share = {FineBearer.COMPANY: (amount * Decimal("0.2")).quantize(Decimal("0.01")),
                     FineBearer.OUTLET: Decimal("0.00"), FineBearer.AGENT: amount}[bearer]
            ticket.fine_amount, ticket.fine_bearer, ticket.fine_agent_share = amount, bearer, share
            ticket.fine_agent_id = agent.id
            lead = lead_by_team.get(agent.team_id)
            at = (ticket.created_at + span * 0.95).replace(microsecond=0)
            ticket.fined_at = at
            events.append(TicketEvent(ticket=ticket, actor_id=lead.id if lead else agent.id, kind=EventKind.FINE,
                                      to_value=f"{amount} {bearer} {share}", body="品牌总部罚款（超时）", at=at))
            created["fines"] += 1
        refresh_derived(ticket)
        db.session.add_all(events)
        created["tickets"] += 1
        created["events"] += len(events)
    db.session.commit()
    return created

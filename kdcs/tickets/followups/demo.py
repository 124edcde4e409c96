"""Demo follow-ups (跟进): on a few open tickets of agent1, agent2 and agent7, relative to the moment of
seeding: one overdue (the worker reminds at its next minute), one due within the hour, one later
today or tomorrow, and one kept (done, with its outcome) on the timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from ...extensions import db
from ...models import Ticket, TicketEvent, User, utcnow
from ...models.ticket import EventKind, QueueState
from ...models.ticket_follow_up import FollowUpParty, FollowUpState, TicketFollowUp
from .service import beijing

PLAN = [  # (agent, nth open ticket, minutes from now, party, promise, done: outcome or None)
    ("agent1", 0, -40, FollowUpParty.CUSTOMER, "回电客户，告知快递员核实后的派送时间", None),
    ("agent1", 1, 50, FollowUpParty.OUTLET, "催网点主管确认破损件的称重照片并上传", None),
    ("agent1", 2, 60 * 20, FollowUpParty.CUSTOMER, "明早回复客户理赔方案（保价按声明价值，未保价按运费3倍）", None),
    ("agent1", 3, -180, FollowUpParty.COURIER, "让快递员今天重新派送并电话联系收件人", "快递员已于15:20重新派送，客户签收"),
    ("agent2", 0, 25, FollowUpParty.CUSTOMER, "30分钟内回电客户，说明改地址已受理", None),
    ("agent2", 1, -15, FollowUpParty.BRAND, "向总部补充上传物流轨迹截图", None),
    ("agent7", 0, 90, FollowUpParty.OUTLET, "与网点确认拦截是否成功", None),
]


def seed_demo_follow_ups(now: datetime | None = None) -> dict[str, int]:
    """The follow-ups of ``PLAN``; nothing when follow-ups exist already. Commits."""
    if db.session.scalar(select(func.count(TicketFollowUp.id))):
        return {"follow_ups": 0}
    now = (now or utcnow()).replace(second=0, microsecond=0)
    users = {u.username: u for u in db.session.scalars(select(User).where(User.username.in_({p[0] for p in PLAN})))}
    created = 0
    for username, nth, minutes, party, promise, outcome in PLAN:
        agent = users.get(username)
        if agent is None:
            continue
        ticket = db.session.scalars(
            # open tickets with a pending deadline, the most urgent first: the top of the agent's queue
            select(Ticket).where(Ticket.assignee_id == agent.id, Ticket.queue_state == QueueState.ACTIVE)
            .order_by(Ticket.due_at, Ticket.id).offset(2 * nth + 1).limit(1)).first()
        if ticket is None:
            continue
        due_at = now + timedelta(minutes=minutes)
        made_at = min(now - timedelta(minutes=5), due_at - timedelta(minutes=30))
        made_at = max(made_at, ticket.created_at)
        follow_up = TicketFollowUp(ticket_id=ticket.id, party=party, promise=promise, due_at=due_at,
                                   created_by_id=agent.id, created_at=made_at, state=FollowUpState.OPEN)
        db.session.add(follow_up)
        db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=agent.id, kind=EventKind.FOLLOW_UP, at=made_at,
                                   from_value=party, to_value=FollowUpState.OPEN, body=f"{beijing(due_at)} {promise}"))
        if outcome is not None:
            closed_at = min(due_at - timedelta(minutes=10), now)
            follow_up.state, follow_up.closed_at, follow_up.closed_by_id = FollowUpState.DONE, closed_at, agent.id
            follow_up.outcome = outcome
            db.session.add(TicketEvent(ticket_id=ticket.id, actor_id=agent.id, kind=EventKind.FOLLOW_UP,
                                       at=closed_at, from_value=party, to_value=FollowUpState.DONE,
                                       body=f"{promise} → {outcome}"))
        created += 1
    db.session.commit()
    return {"follow_ups": created}

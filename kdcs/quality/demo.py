"""Demo quality checks (质检): lead1 scored a few of 一组's recorded replies, one below the pass line
with its reasons, one fatal; lead2 one of 二组's. agent1 has a passed and a failed review to read, and
disputed the failed one (waiting for lead1)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import QualityReview, QualityReviewItem, TicketReply, User, utcnow
from . import rules
from .service import criteria

APPEAL = "我开头已经说了“非常抱歉让您久等了”，在第一句，麻烦再看一下。"  # agent1 disputes the 78
PLAN = [  # (agent, reviewer, points taken off per criterion position, fatal, comment)
    ("agent1", "lead1", {}, False, ""),
    ("agent1", "lead1", {1: 10, 2: 12}, False,
     "开场后直接解释原因，没有先安抚客户情绪；话术里缺少SOP要求的致歉句和处理时限。下次先致歉、再说明、最后给出明确时限。"),
    ("agent2", "lead1", {4: 5}, False, "承诺了回电时间，但没有记录跟进，容易忘记。"),
    ("agent3", "lead1", {}, True, "回复中写出了客户的完整手机号：属于泄露客户信息（致命错误）。请只用掩码号码。"),
    ("agent8", "lead2", {3: 5}, False, "赔付金额写错了一位，发出前请再核对一次。"),
]


def seed_demo_quality() -> dict[str, int]:
    """Reviews of the demo's recorded replies (each reviewed a day after it was sent); nothing when
    reviews exist already. Commits."""
    if db.session.scalar(select(func.count(QualityReview.id))):
        return {"quality_reviews": 0}
    cards = criteria()
    users = {u.username: u for u in db.session.scalars(select(User))}
    taken: set[int] = set()
    created = 0
    for username, reviewer_name, off, fatal, comment in PLAN:
        agent, reviewer = users.get(username), users.get(reviewer_name)
        if agent is None or reviewer is None or not cards:
            continue
        reply = db.session.scalar(
            select(TicketReply).where(TicketReply.recorded_by_id == agent.id, TicketReply.corrects_id.is_(None),
                                      TicketReply.id.not_in(taken or {0}))
            .order_by(TicketReply.sent_at.desc(), TicketReply.id.desc()))
        if reply is None:
            continue
        taken.add(reply.id)
        given = [(c, max(0, c.points - off.get(n, 0))) for n, c in enumerate(cards)]
        awarded, possible = sum(v for _c, v in given), sum(c.points for c in cards)
        review = QualityReview(
            reply_id=reply.id, ticket_id=reply.ticket_id, agent_id=agent.id, reviewer_id=reviewer.id,
            reply_sent_at=reply.sent_at, awarded=awarded, possible=possible, fatal=fatal,
            score=rules.score(awarded, possible, fatal), comment=comment,
            created_at=min(reply.sent_at + timedelta(hours=20), utcnow() - timedelta(minutes=9 * (len(PLAN) - created))),
            items=[QualityReviewItem(criterion_id=c.id, name=c.name, points=c.points, awarded=v, position=n)
                   for n, (c, v) in enumerate(given)])
        if username == "agent1" and off:  # the one below the line: disputed, waiting for lead1
            review.appeal_state, review.appeal_reason = "open", APPEAL
            review.appealed_at = min(review.created_at + timedelta(hours=2), utcnow())
        db.session.add(review)
        created += 1
    db.session.commit()
    return {"quality_reviews": created}

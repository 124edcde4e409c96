"""Demo overtime (加班): agreed rates on most outlets, last month's approved peak evenings, this
month's entries waiting for lead1 and lead2, one rejected, one approved on an outlet with no rate."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from ..extensions import db
from ..models import Outlet, OvertimeEntry, OvertimeStatus, User, utcnow
from ..outlets.rates import shift_month
from ..workcalendar import SHANGHAI

NOTES = ["双十一高峰，网点要求晚间值守", "周末仲裁集中处理", "节假日值班", "网点临时要求加派人手处理问题件"]


def seed_demo_overtime(today: date) -> dict[str, int]:
    """Rates and entries relative to ``today`` (Beijing); nothing when entries exist already. Commits."""
    if db.session.scalar(select(func.count(OvertimeEntry.id))):
        return {"overtime": 0}
    outlets = list(db.session.scalars(select(Outlet).where(Outlet.primary_agent_id.is_not(None)).order_by(Outlet.code)))
    for n, outlet in enumerate(outlets):
        if n % 5 != 4:  # one outlet in five has agreed no rate yet
            outlet.overtime_rate = Decimal(("35.00", "40.00", "45.00")[n % 3])
    users = {u.username: u for u in db.session.scalars(select(User))}
    by_agent: dict[int, list[Outlet]] = {}
    for outlet in outlets:
        by_agent.setdefault(outlet.primary_agent_id, []).append(outlet)
    last_month = shift_month(today.replace(day=1), -1)
    plan = [  # (agent, which of their outlets, day, hours, status, decided by)
        ("agent1", 0, last_month + timedelta(days=10), 3.0, OvertimeStatus.APPROVED, "lead1"),
        ("agent1", 1, last_month + timedelta(days=10), 1.5, OvertimeStatus.APPROVED, "lead1"),
        ("agent2", 0, last_month + timedelta(days=11), 2.5, OvertimeStatus.APPROVED, "lead1"),
        ("agent3", 0, last_month + timedelta(days=12), 4.0, OvertimeStatus.REJECTED, "lead1"),
        ("agent7", 0, last_month + timedelta(days=10), 2.0, OvertimeStatus.APPROVED, "lead2"),
        ("agent1", 0, today - timedelta(days=1), 2.0, OvertimeStatus.SUBMITTED, None),
        ("agent2", 0, today - timedelta(days=2), 1.5, OvertimeStatus.SUBMITTED, None),
        ("agent8", 0, today - timedelta(days=1), 3.0, OvertimeStatus.SUBMITTED, None),
    ]
    created = 0
    for username, index, day, hours, status, decider in plan:
        agent = users.get(username)
        mine = by_agent.get(agent.id, []) if agent else []
        if not mine:
            continue
        outlet = mine[index % len(mine)]
        entry = OvertimeEntry(user_id=agent.id, outlet_id=outlet.id, work_date=day, minutes=int(hours * 60),
                              note=NOTES[created % len(NOTES)], status=status)
        if decider:
            decided = datetime.combine(day + timedelta(days=1), time(10, 0), tzinfo=SHANGHAI).astimezone(UTC)
            entry.decided_by_id, entry.decided_at = users[decider].id, min(decided, utcnow())
            if status == OvertimeStatus.APPROVED:
                entry.rate = outlet.overtime_rate
            else:
                entry.decision_note = "当天网点未要求加班，请先与网点确认"
        db.session.add(entry)
        created += 1
    db.session.commit()
    return {"overtime": created}

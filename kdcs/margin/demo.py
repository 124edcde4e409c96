"""Demo labour costs (人工成本): every agent and lead from half a year back (new hires from the month
they started), a raise for two agents this month, and one new agent left without a cost, so 人均毛利 shows a full month and what a gap looks like."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from ..extensions import db
from ..models import LabourCost, Role, User
from ..models.user import username_sort_key
from ..outlets.rates import shift_month

NOTE = "工资 + 社保 + 公积金"
LEFT_WITHOUT_COST = "agent12"  # the new hire whose cost HR has not sent yet


def seed_demo_labour_costs(today: date) -> dict[str, int]:
    """Entries relative to ``today``'s month; nothing when any exist already. Commits."""
    if db.session.scalar(select(func.count(LabourCost.id))):
        return {"labour_costs": 0}
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    people = sorted(db.session.scalars(select(User).where(User.role.in_([Role.AGENT, Role.LEAD]))),
                    key=lambda u: username_sort_key(u.username))
    this_month = today.replace(day=1)
    start = shift_month(this_month, -6)
    created = 0
    for n, person in enumerate(people):
        if person.username == LEFT_WITHOUT_COST:
            continue
        base = Decimal("8200.00") if person.role == Role.LEAD else Decimal(5200 + 300 * (n % 6)).quantize(Decimal("0.01"))
        first = max(start, person.start_date.replace(day=1)) if person.start_date else start  # new hires: from their start
        db.session.add(LabourCost(user_id=person.id, month=first, amount=base, note=NOTE,
                                  created_by_id=admin.id if admin else None))
        created += 1
        if person.username in ("agent1", "agent7"):  # this month's raise
            db.session.add(LabourCost(user_id=person.id, month=this_month, amount=base + 500, note="年度调薪",
                                      created_by_id=admin.id if admin else None))
            created += 1
    db.session.commit()
    return {"labour_costs": created}

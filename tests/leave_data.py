"""Leave rows written directly (no service rules): for coverage, tasks and calendar tests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import LeaveHandover, LeaveRequest, LeaveStatus, LeaveType
from kdcs.workcalendar import SHANGHAI


def beijing(day: date, hour: int = 0, minute: int = 0) -> datetime:
    """A Beijing wall-clock time as an aware datetime."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def leave_type(code: str = "annual", name: str = "年假") -> LeaveType:
    found = db.session.scalar(select(LeaveType).where(LeaveType.code == code))
    if found is None:
        found = LeaveType(code=code, name=name, yearly_allowance_days=Decimal("10") if code == "annual" else None)
        db.session.add(found)
        db.session.commit()
    return found


def window(start: date, end: date, start_part: str = "full", end_part: str = "full") -> tuple[datetime, datetime]:
    """Beijing dates + half days as [start_at, end_at): a 下午 start at 12:00, an 上午 end at 12:00."""
    start_at = beijing(start, 12 if start_part == "pm" else 0)
    end_at = beijing(end, 12) if end_part == "am" else beijing(end + timedelta(days=1))
    return start_at, end_at


def make_leave(owner, outlets, substitute, start: date, end: date, *, status: str = LeaveStatus.APPROVED,
               start_part: str = "full", end_part: str = "full", returned_at: datetime | None = None,
               answer: str | None = "accepted", approver=None, code: str = "annual") -> LeaveRequest:
    """An approved (by default) leave of ``owner`` handing ``outlets`` to ``substitute``."""
    start_at, end_at = window(start, end, start_part, end_part)
    request = LeaveRequest(
        user_id=owner.id, type_id=leave_type(code).id, start_date=start, start_part=start_part,
        end_date=end, end_part=end_part, start_at=start_at, end_at=end_at,
        working_days=Decimal((end - start).days + 1), reason="测试", status=str(status),
        approver_id=approver.id if approver else None, returned_at=returned_at,
    )
    request.handover = [LeaveHandover(outlet_id=o.id, substitute_id=substitute.id if substitute else None,
                                      pending_promises="", substitute_answer=answer) for o in outlets]
    db.session.add(request)
    db.session.commit()
    return request

"""Leave without anyone clicking: starts, ends, their notices and the return digest.

Coverage itself needs no task (``coverage`` reads dates and status). This periodic task
only moves statuses that dates already decided — 已批准 → 休假中 from the start, 休假中
→ 已销假 at the end — and sends the notices once each (markers ``start_notice_sent_at``
and ``digest_sent_at``), so running it twice, or in two workers, sends nothing twice.
Each request is its own transaction: a request someone else moved meanwhile is skipped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask_babel import gettext as _
from huey import crontab
from sqlalchemy import select

from ..extensions import db
from ..models import LeaveRequest, LeaveStatus
from ..models.types import utcnow
from ..notifications.service import notify
from ..service_errors import StaleEdit
from ..tasks import huey, task_context
from .digest import build_digest, digest_text, hand_back

log = logging.getLogger(__name__)

NOTIFICATION_KIND = "leave"


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def digest_link(leave: LeaveRequest) -> str:
    """The digest page of a request."""
    return f"/leave/{leave.id}/digest"


def _start(leave: LeaveRequest, now: datetime) -> None:
    from .service import start_if_due

    if leave.status == LeaveStatus.APPROVED:
        start_if_due(leave, now)
    if leave.start_notice_sent_at is None:
        leave.start_notice_sent_at = now
        if _aware(leave.end_at) > now:  # a leave noticed only after its end gets no start notice
            outlets_of: dict[int, list[str]] = {}
            for h in leave.handover:
                if h.substitute_id and h.outlet is not None:
                    outlets_of.setdefault(h.substitute_id, []).append(h.outlet.name)
            for substitute_id, names in outlets_of.items():
                notify(substitute_id, NOTIFICATION_KIND,
                       _("Coverage starts: %(name)s is on leave", name=leave.user.display_name),
                       _("Until %(end)s you serve %(outlets)s; their tickets are in your queue marked 代班.",
                         end=_end_text(leave), outlets="、".join(names)), f"/leave/{leave.id}")
            notify(leave.user_id, NOTIFICATION_KIND, _("Your leave has started"),
                   _("Your outlets are covered until %(end)s.", end=_end_text(leave)), f"/leave/{leave.id}")


def _end_text(leave: LeaveRequest) -> str:
    from .service import beijing

    return beijing(leave.end_at)


def _digest(leave: LeaveRequest, now: datetime) -> None:
    hand_back(leave, now)
    digest = build_digest(leave, now)
    leave.digest_sent_at = now
    notify(leave.user_id, NOTIFICATION_KIND, _("Welcome back: what happened while you were away"),
           digest_text(digest), digest_link(leave))


def run(now: datetime | None = None) -> dict[str, int]:
    """One pass: start what has started, end what has ended, send the digests (idempotent)."""
    from .service import LeaveConflict, mark_returned

    now = now or utcnow()
    done = {"started": 0, "returned": 0, "digests": 0}
    starting = db.session.scalars(select(LeaveRequest.id).where(
        LeaveRequest.status.in_([LeaveStatus.APPROVED, LeaveStatus.IN_PROGRESS]),
        LeaveRequest.start_at <= now, LeaveRequest.start_notice_sent_at.is_(None)).order_by(LeaveRequest.id)).all()
    ending = db.session.scalars(select(LeaveRequest.id).where(
        LeaveRequest.status.in_([LeaveStatus.APPROVED, LeaveStatus.IN_PROGRESS]),
        LeaveRequest.end_at <= now).order_by(LeaveRequest.id)).all()
    steps = [(i, "start") for i in starting] + [(i, "return") for i in ending]
    for leave_id, step in steps:
        try:
            leave = db.session.get(LeaveRequest, leave_id)
            if step == "start":
                _start(leave, now)
                done["started"] += 1
            elif leave.status in (LeaveStatus.APPROVED, LeaveStatus.IN_PROGRESS):
                mark_returned(None, leave, now)
                done["returned"] += 1
            db.session.commit()
        except (LeaveConflict, StaleEdit):
            db.session.rollback()  # someone moved it meanwhile (cancelled, came back): their outcome stands
        except Exception:
            db.session.rollback()
            log.exception("leave task: %s of request %s failed", step, leave_id)
    returned = db.session.scalars(select(LeaveRequest.id).where(
        LeaveRequest.status == LeaveStatus.RETURNED, LeaveRequest.digest_sent_at.is_(None))
        .order_by(LeaveRequest.id)).all()
    for leave_id in returned:
        try:
            leave = db.session.get(LeaveRequest, leave_id)
            _digest(leave, now)
            db.session.commit()
            done["digests"] += 1
        except Exception:
            db.session.rollback()
            log.exception("leave task: digest of request %s failed", leave_id)
    return done


@huey.periodic_task(crontab(minute="*/5"))
def leave_tick(now=None) -> dict[str, int]:
    """Every 5 minutes: leaves start and end by their dates; start notices and return digests, once each."""
    with task_context():
        return run(now)

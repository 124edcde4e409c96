"""The lead's Monday 团队周报: last week's team figures in the bell, once per lead and week.

A lead starts the week by looking back at it (团队表现). From Monday 08:00 Beijing time, the periodic task
``dashboard.tasks.send_team_week_digests`` gives each active lead of a team one notification with the
week's totals (reply deadlines and the on-time rate, deadlines missed, tickets closed, fines and the agents'
share, who missed most, the replies scored by 质检) and a link to the week's 团队表现. It is sent once: the task claims a ``SentMark``
(kind, lead, week) in the same transaction as the notification, so a second run or a second worker sends
nothing. A worker that was down on Monday sends it when it comes back, until the next Monday.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..filters import SHANGHAI, format_money
from ..models import Role, SentMark, User
from ..models.types import utcnow
from ..notifications.service import notify
from ..quality.service import team_sheet as quality_sheet
from .performance import period_label, team_period

KIND = "team_week"
SEND_FROM = time(8, 0)  # Monday, Beijing time: the start of the lead's week


def week_to_report(now: datetime) -> date | None:
    """The Monday of the week whose digest is due at ``now``: last week's, from Monday 08:00 Beijing on;
    None on Monday before 08:00 (last week's digest went out a week ago)."""
    local = now.astimezone(SHANGHAI)
    if local.weekday() == 0 and local.time() < SEND_FROM:
        return None
    return local.date() - timedelta(days=local.weekday() + 7)


def digest_text(report, quality=None) -> tuple[str, str]:
    """(title, body) of one team's week, in the words of 团队表现, and of 质检 when ``quality`` (the week's
    ``quality.service.TeamSheet``) is given."""
    total = report.total
    title = _("Last week in %(team)s: %(week)s", team=report.team.name, week=period_label("week", report.start))
    rate = f"{total.on_time_rate}%" if total.on_time_rate is not None else "—"
    body = _("%(due)d reply deadlines, %(rate)s on time, %(missed)d missed without a reply; %(closed)d tickets "
             "closed; %(fines)d fines, agents' share %(share)s.", due=total.due, rate=rate, missed=total.missed,
             closed=total.closed, fines=total.fines, share=format_money(total.fine_share))
    worst = max(report.lines, key=lambda line: (line.missed, line.late), default=None)
    if worst is not None and worst.missed:
        body += " " + _("Most missed: %(name)s (%(n)d).", name=worst.user.display_name, n=worst.missed)
    if quality is not None and quality.lines:
        if quality.reviewed:
            body += " " + _("Quality checks: %(n)d replies scored, average %(average).1f, %(failed)d below the pass "
                            "line.", n=quality.reviewed, average=quality.average,
                            failed=sum(line.failed for line in quality.lines))
        else:
            body += " " + _("Quality checks: no reply was scored.")
        if quality.under_target:
            body += " " + _("%(n)d agents had fewer replies scored than the target of %(t)d.",
                            n=quality.under_target, t=quality.target)
    return title, body


def send_team_week_digests(now: datetime | None = None) -> int:
    """Give each active lead of a team last week's figures once (see the module doc); how many were sent."""
    now = now or utcnow()
    week = week_to_report(now)
    if week is None:
        return 0
    period = week.isoformat()
    done = set(db.session.scalars(select(SentMark.user_id).where(SentMark.kind == KIND, SentMark.period == period)))
    leads = db.session.scalars(select(User).where(User.role == Role.LEAD, User.is_active_account.is_(True),
                                                  User.team_id.is_not(None)).order_by(User.id)).all()
    sent = 0
    for lead in leads:
        if lead.id in done or lead.team is None or not lead.team.is_active:
            continue
        report = team_period(lead, lead.team, "week", week, now)
        if not report.lines:
            continue  # nobody in the team that week
        title, body = digest_text(report, quality_sheet(lead, lead.team, "week", week, now))
        db.session.add(SentMark(kind=KIND, user_id=lead.id, period=period, sent_at=now))
        notify(lead, KIND, title, body, link=f"/team/performance?period=week&start={period}")
        try:
            db.session.commit()
        except IntegrityError:  # another worker sent it a moment ago
            db.session.rollback()
            continue
        sent += 1
    return sent

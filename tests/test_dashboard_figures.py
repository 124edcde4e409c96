"""The lead's home counts its per-agent figures with a few statements of its own (the open-ticket
counters, the day's deadlines and replies, the month's fines): each must equal a count of the queue
query its link opens, before and after the counters are folded; the going-live badges read for the
whole team at once must equal ``certification_badge`` of each agent."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kdcs.dashboard import service as dashboard
from kdcs.extensions import db
from kdcs.models import EventKind, TicketEvent, TicketReply, TicketStatus
from kdcs.models.training import AgentCertification
from kdcs.tickets import counts, queue
from kdcs.tickets import service as ticket_service
from tests import factories


def _queue_count(lead, now, **filters) -> int:
    f = queue.QueueFilter(scope="team", **filters)
    query = queue.apply_filters(queue.scoped_query(lead, "team", now), f, now)
    return db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def _queue_fines(lead, now) -> tuple[int, Decimal, Decimal]:
    from kdcs.models import Ticket

    f = queue.QueueFilter(scope="team", fined="month", status="all")
    sub = queue.apply_filters(queue.scoped_query(lead, "team", now), f, now).order_by(None).subquery()
    count, amount, share = db.session.execute(select(
        func.count(), func.coalesce(func.sum(sub.c.fine_amount), 0), func.coalesce(func.sum(sub.c.fine_agent_share), 0)
    )).one()
    assert Ticket is not None
    return int(count), Decimal(amount or 0).quantize(Decimal("0.01")), Decimal(share or 0).quantize(Decimal("0.01"))


MEASURES = {"open": {}, "overdue": {"window": "overdue"}, "today": {"window": "today"},
            "replied": {"replied": "today", "status": "all"}}


def _check(lead, now):
    day = dashboard.team_day(lead, now)
    assert day.lines
    for line in day.lines:
        for name, filters in MEASURES.items():
            figure = getattr(line, name)
            assert figure.count == _queue_count(lead, now, assignee_id=line.user.id, **filters), (line.user.username, name)
            assert f"assignee={line.user.id}" in figure.url
    assert day.unassigned.count == _queue_count(lead, now, assignee_id=0)
    assert (day.fines.count, day.fine_amount, day.fine_agent_share) == _queue_fines(lead, now)
    return day


@pytest.mark.parametrize("covers", [False, True])
def test_lead_figures_equal_the_queue_counts_before_and_after_folding(app, users, monkeypatch, covers):
    """``covers``: the lead also covers another team's outlet (the statements' expanding "covered"
    parameter appears in more than one place)."""
    now = datetime.now(UTC).replace(hour=4, minute=40, second=0, microsecond=0)  # 12:40 in Shanghai
    team = users.team
    mate = factories.make_user("agent", username="agent_mate", team=team)
    factories.make_user("agent", username="agent_gone", team=team, active=False)
    far = factories.make_user("agent", username="agent_far", team=factories.make_team("二组"))
    own, mates = factories.make_outlet(agent=users.agent), factories.make_outlet(agent=mate)
    farout = factories.make_outlet(agent=far)
    if covers:
        from kdcs.leave import coverage

        real = coverage.covered_outlet_ids
        monkeypatch.setattr(coverage, "covered_outlet_ids",
                            lambda user, at=None: [farout.id] if user.id == users.lead.id else real(user, at))

    def due_in(outlet, minutes, **fields):
        return factories.make_ticket(outlet, registered_at=now - timedelta(minutes=60),
                                     reply_minutes=60 + minutes, resolve_minutes=60 + 3 * 24 * 60, **fields)

    made = [due_in(own, minutes) for minutes in (-10, -30, -50, -5 * 60, -14 * 60, 30, 5 * 60, 12 * 60, 40 * 60)]
    made += [due_in(own, -20, category="arbitration"), due_in(own, -10, status=TicketStatus.CLOSED),
             due_in(mates, -70), due_in(mates, 90), due_in(mates, 15, assignee=None),
             due_in(farout, -10, assignee=users.agent),  # another team's outlet, our agent: in scope
             due_in(mates, -10, assignee=far),  # our outlet, another team's agent: in scope, no line
             due_in(farout, -10), due_in(own, -10, assignee=users.lead)]
    waiting = due_in(own, 60)
    waiting.status = TicketStatus.REPLIED
    ticket_service.refresh_derived(waiting)
    made.append(waiting)
    for ticket in made:
        ticket_service.refresh_derived(ticket)
    closed, mate_ticket, far_ticket = made[10], made[11], made[16]
    day_start = queue.shanghai_day_bounds(now.astimezone(dashboard.SHANGHAI).date())[0]
    for ticket, sent in ((closed, now - timedelta(minutes=5)), (closed, day_start + timedelta(minutes=1)),
                         (made[0], day_start - timedelta(minutes=1)), (mate_ticket, now - timedelta(hours=2)),
                         (far_ticket, now - timedelta(minutes=1))):
        db.session.add(TicketReply(ticket_id=ticket.id, channel="phone", body="已联系", sent_at=sent,
                                   recorded_by_id=users.agent.id))
    month_start = queue.shanghai_day_bounds(now.astimezone(dashboard.SHANGHAI).date().replace(day=1))[0]
    for ticket, at, amount in ((made[1], now - timedelta(minutes=3), "50"), (closed, month_start, "30"),
                               (made[13], now - timedelta(minutes=3), "20"),  # unassigned, team outlet
                               (made[2], month_start - timedelta(seconds=1), "70"),  # last month
                               (far_ticket, now - timedelta(minutes=3), "90")):  # another team's ticket
        ticket.fine_amount, ticket.fine_agent_share, ticket.fined_at = Decimal(amount), Decimal("10"), at
        db.session.add(TicketEvent(ticket_id=ticket.id, kind=EventKind.FINE, at=at, to_value=amount))
    db.session.commit()
    with app.test_request_context("/"):
        if covers:
            day = _check(users.lead, now)
            assert day.fines.count == 4  # the covered outlet's fined ticket counts too (3 without)
        else:
            _check_all(users, now)


def _check_all(users, now):
    day = _check(users.lead, now)
    mine = next(line for line in day.lines if line.user.id == users.agent.id)
    assert (mine.open.count, mine.overdue.count, mine.today.count, mine.replied.count) == (12, 7, 9, 1)
    assert "agent_gone" not in {line.user.username for line in day.lines}
    assert day.fines.count == 3 and day.fine_amount == Decimal("100.00")
    _check(users.lead, now - timedelta(hours=6))  # before some of them (unfolded counters only)
    counts.fold(now)  # the hours before now's into the "past" slot (time then only moves on)
    db.session.commit()
    _check(users.lead, now)
    _check(users.lead, now + timedelta(minutes=50))  # into the next hour: the current hour's rows became past
    _check(users.lead, now + timedelta(hours=13))  # the next day in Shanghai


def test_team_badges_equal_each_certification_badge(users):
    from kdcs.training.certification import gate
    from kdcs.training.certification.routes import certification_badge
    from tests.training_cert_data import make_course

    team = users.team
    today = date.today()
    agents = [factories.make_user("agent", username=f"badge{i}", team=team) for i in range(7)]
    everyone = [*agents, users.agent, users.lead, users.trainer]
    assert all(b == {"show": False} for b in gate.badges(everyone).values())  # nothing required yet
    make_course(items=1)
    rows = [("certified", None, ""), ("flagged", today + timedelta(days=3), ""),
            ("flagged", today - timedelta(days=1), ""), ("flagged", today - timedelta(days=1), "过期未复训"),
            ("lapsed", None, "《品牌规则与条款》"), ("none", None, "")]
    for agent, (state, until, reason) in zip(agents, rows, strict=False):
        db.session.add(AgentCertification(user_id=agent.id, state=state, flagged_until=until, reason=reason,
                                          certified_at=datetime.now(UTC) - timedelta(days=9)))
    db.session.commit()
    db.session.expire_all()
    expected = {user.id: certification_badge(user) for user in everyone}
    assert gate.badges(everyone) == expected
    assert gate.badges(everyone, reasons={agents[6].id: ["只读课程"]})[agents[6].id]["reason"] == "只读课程"
    assert {b["label"] for b in expected.values() if b["show"]} >= {"已上岗", "未上岗"}


def test_lead_home_badges_and_figures_render_as_before(client, auth, users):
    """The page's rows carry the badges computed with the team (not per row)."""
    from tests.training_cert_data import make_course

    make_course(items=1)
    factories.make_outlet(agent=users.agent)
    auth.login(users.lead)
    html = client.get("/").get_data(as_text=True)
    table = html[html.index('class="data team-day"'):]
    row = table[table.index('data-agent="agent_a"'):]
    row = row[:row.index("</tr>")]
    assert 'data-testid="cert-badge"' in row and "未上岗" in row

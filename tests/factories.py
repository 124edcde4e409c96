"""Factories: small functions that make valid records with sensible defaults."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date
from decimal import Decimal

from kdcs.extensions import db
from kdcs.models import Brand, Notification, Outlet, OutletVolume, Role, Team, User

PASSWORD = "Passw0rd!x"
_seq = itertools.count(1)
_hash_cache: dict[str, str] = {}


def _password_hash(password: str) -> str:
    """scrypt is slow on purpose; hash each test password once per run."""
    if password not in _hash_cache:
        from werkzeug.security import generate_password_hash

        # Cheap scrypt parameters for test users only; production uses the defaults
        # (see test_passwords_are_hashed_strongly).
        _hash_cache[password] = generate_password_hash(password, method="scrypt:1024:8:1")
    return _hash_cache[password]


def make_team(name: str | None = None, lead: User | None = None) -> Team:
    team = Team(name=name or f"测试组{next(_seq)}", lead_id=lead.id if lead else None)
    db.session.add(team)
    db.session.commit()
    return team


def make_user(role: str = Role.AGENT, username: str | None = None, team: Team | None = None,
              display_name: str | None = None, active: bool = True, password: str = PASSWORD,
              phone: str | None = None) -> User:
    n = next(_seq)
    user = User(
        username=username or f"{role}{n}",
        display_name=display_name or f"用户{n}",
        role=str(role),
        team_id=team.id if team else None,
        is_active_account=active,
        phone=phone,
    )
    user.password_hash = _password_hash(password)
    # Deterministic, so a session cookie made for a shared world stays valid when the world is
    # built again with the same ids (tests/worlds.py); resets and deactivation still rotate it.
    user.session_token = hashlib.sha256(f"session:{user.username}".encode()).hexdigest()[:32]
    db.session.add(user)
    db.session.commit()
    return user


def make_brand(code: str | None = None, name: str | None = None) -> Brand:
    n = next(_seq)
    brand = Brand(code=code or f"B{n}", name=name or f"品牌{n}")
    db.session.add(brand)
    db.session.commit()
    return brand


def make_outlet(brand: Brand | None = None, agent: User | None = None, code: str | None = None,
                name: str | None = None, rate: str = "0.0250", active: bool = True, region: str = "浙江省杭州市余杭区") -> Outlet:
    n = next(_seq)
    outlet = Outlet(
        code=code or f"OUT{n:05d}",
        name=name or f"测试网点{n}",
        brand=brand or make_brand(),
        region=region,
        contact_name="王建华",
        contact_phone="13812345678",
        rate_per_parcel=Decimal(rate),
        primary_agent_id=agent.id if agent else None,
        is_active=active,
    )
    db.session.add(outlet)
    db.session.commit()
    return outlet


def make_volume(outlet: Outlet, month: date, inbound: int, outbound: int) -> OutletVolume:
    volume = OutletVolume(outlet_id=outlet.id, month=month, inbound_parcels=inbound, outbound_parcels=outbound)
    db.session.add(volume)
    db.session.commit()
    return volume


def make_notification(user: User, title: str = "测试通知", link: str | None = None) -> Notification:
    notification = Notification(user_id=user.id, kind="test", title=title, link=link)
    db.session.add(notification)
    db.session.commit()
    return notification


# --- tickets (issue 4) --------------------------------------------------------

def make_reason(category: str = "problem", name: str | None = None, active: bool = True, sort_order: int = 0):
    from kdcs.models import TicketReason

    reason = TicketReason(category=category, name=name or f"原因{next(_seq)}", is_active=active,
                          sort_order=sort_order)
    db.session.add(reason)
    db.session.commit()
    return reason


def make_rule(category: str = "problem", brand: Brand | None = None, reason=None, reply_minutes: int = 120,
              resolve_minutes: int = 1440, mode: str = "clock", window=None, active: bool = True):
    from datetime import time

    from kdcs.models import DeadlineRule

    if mode == "service_hours" and window is None:
        window = (time(8), time(20))
    rule = DeadlineRule(category=category, brand_id=brand.id if brand else None,
                        reason_id=reason.id if reason else None, reply_minutes=reply_minutes,
                        resolve_minutes=resolve_minutes, mode=mode,
                        service_start=window[0] if window else None, service_end=window[1] if window else None,
                        is_active=active)
    db.session.add(rule)
    db.session.commit()
    return rule


def make_canned(category: str | None = "work_order", title: str | None = None, body: str = "您好，已为您处理。",
                sort_order: int = 10, active: bool = True):
    from kdcs.models import CannedReply

    reply = CannedReply(category=category, title=title or f"回复{next(_seq)}", body=body, sort_order=sort_order,
                        is_active=active)
    db.session.add(reply)
    db.session.commit()
    return reply


def make_ticket(outlet: Outlet | None = None, *, category: str = "problem", reason=None,
                direction: str = "inbound", waybill_no: str | None = None, registered_at=None,
                status: str | None = None, assignee: User | None | str = "primary",
                reply_minutes: int = 120, resolve_minutes: int = 1440, **fields):
    """A ticket written directly (no service rules): deadlines = registered_at + minutes (clock)."""
    from datetime import timedelta

    from kdcs.models import Ticket, utcnow
    from kdcs.tickets.service import initial_status, refresh_derived

    outlet = outlet or make_outlet()
    reason = reason or make_reason(category)
    registered_at = registered_at or utcnow() - timedelta(minutes=30)
    if assignee == "primary":
        assignee_id = outlet.primary_agent_id
    else:
        assignee_id = assignee.id if assignee else None
    ticket = Ticket(
        outlet_id=outlet.id, brand_id=outlet.brand_id, direction=direction, category=category,
        reason_id=reason.id, waybill_no=waybill_no or f"7512{next(_seq):010d}",
        registered_at=registered_at, assignee_id=assignee_id,
        status=status or initial_status(category, direction),
        reply_due_at=registered_at + timedelta(minutes=reply_minutes),
        resolve_due_at=registered_at + timedelta(minutes=resolve_minutes),
        **fields,
    )
    refresh_derived(ticket)
    db.session.add(ticket)
    db.session.commit()
    return ticket


def make_overtime(user: User, outlet: Outlet, *, day=None, minutes: int = 120, status: str = "submitted",
                  note: str = "双十一高峰，网点要求晚间值守", rate=None):
    """An overtime entry written directly (no service rules): yesterday by default, waiting for the lead."""
    from datetime import timedelta

    from kdcs.leave.rules import beijing_today
    from kdcs.models import OvertimeEntry

    entry = OvertimeEntry(user_id=user.id, outlet_id=outlet.id, work_date=day or beijing_today() - timedelta(days=1),
                          minutes=minutes, note=note, status=status, rate=rate)
    db.session.add(entry)
    db.session.commit()
    return entry


def make_follow_up(ticket, user: User, *, minutes: int = 60, party: str = "customer",
                   promise: str = "回电客户，告知派送时间", state: str = "open"):
    """A follow-up (跟进) written directly (no service rules): due ``minutes`` from now (negative: overdue)."""
    from datetime import timedelta

    from kdcs.models import TicketFollowUp, utcnow

    follow_up = TicketFollowUp(ticket_id=ticket.id, party=party, promise=promise, state=state,
                               due_at=utcnow() + timedelta(minutes=minutes), created_by_id=user.id)
    db.session.add(follow_up)
    db.session.commit()
    return follow_up


def make_labour_cost(user: User, month: date, amount: str = "6000.00", note: str = ""):
    """A labour cost entry (人工成本) written directly: ``amount`` a month from ``month`` on."""
    from kdcs.models import LabourCost

    entry = LabourCost(user_id=user.id, month=month, amount=Decimal(amount), note=note)
    db.session.add(entry)
    db.session.commit()
    return entry


def make_reply(ticket, user: User, *, body: str = "您好，已为您核实，快件明天派送。", sent_at=None,
               channel: str = "brand_system", corrects=None):
    """A recorded reply written directly (no service rules): sent an hour ago by default."""
    from datetime import timedelta

    from kdcs.models import TicketReply, utcnow

    reply = TicketReply(ticket_id=ticket.id, channel=channel, body=body, sent_at=sent_at or utcnow() - timedelta(hours=1),
                        recorded_by_id=user.id, corrects_id=corrects.id if corrects else None)
    db.session.add(reply)
    db.session.commit()
    return reply


def make_criterion(name: str | None = None, points: int = 20, hint: str = "", active: bool = True):
    """A scorecard criterion (质检评分项) at the end of the scorecard."""
    from kdcs.models import QualityCriterion

    criterion = QualityCriterion(name=name or f"评分项{next(_seq)}", points=points, hint=hint, is_active=active,
                                 position=next(_seq))
    db.session.add(criterion)
    db.session.commit()
    return criterion


def make_quality_review(reply, reviewer: User, *, awarded: int = 18, possible: int = 20, fatal: bool = False,
                        comment: str = "开场没有致歉。", created_at=None):
    """A review of ``reply`` written directly (one item: the points as given)."""
    from kdcs.models import QualityReview, QualityReviewItem, utcnow
    from kdcs.quality.rules import score

    review = QualityReview(
        reply_id=reply.id, ticket_id=reply.ticket_id, agent_id=reply.recorded_by_id, reviewer_id=reviewer.id,
        reply_sent_at=reply.sent_at, awarded=awarded, possible=possible, fatal=fatal,
        score=score(awarded, possible, fatal), comment=comment, created_at=created_at or utcnow(),
        items=[QualityReviewItem(name="按SOP处理", points=possible, awarded=awarded, position=0)])
    db.session.add(review)
    db.session.commit()
    return review

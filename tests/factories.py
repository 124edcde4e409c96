"""Factories: small functions that make valid records with sensible defaults."""

from __future__ import annotations

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

"""Teams and brands: the rules of their administration, as plain functions.

Every function takes the acting user first and checks the permission itself
(the views check too). Changes write an audit row in the same transaction.

Rules worth knowing:

- A team's lead must be an active user whose role is "lead".
- A team that still has active members cannot be deactivated: an inactive
  team with working agents would vanish from pickers and reports while its
  people keep working. Move the members to another team (or deactivate their
  accounts) first; the refusal says how many are left.
- A brand with active outlets cannot be deactivated; the refusal says how many.
- Edits carry the version the form was loaded with; a different current
  version raises ``StaleEdit`` (409), never a silent overwrite.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from ..auditing import record, record_active_change, snapshot
from ..extensions import db
from ..models import Brand, Outlet, Role, Team, User
from ..models.user import username_order
from ..permissions import Permission, ensure
from ..service_errors import StaleEdit, ValidationError

TEAM_AUDIT_FIELDS = ["name", "lead_id", "is_active"]
BRAND_AUDIT_FIELDS = ["code", "name", "is_active"]

TEAM_NAME_MAX = 64
BRAND_CODE_MAX = 16
BRAND_NAME_MAX = 32
BRAND_CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789&_-")


def _active_filter(query, column, active: str):
    if active == "1":
        return query.where(column.is_(True))
    if active == "0":
        return query.where(column.is_(False))
    return query


# --------------------------------------------------------------------------- teams


@dataclass
class TeamRow:
    """A team with the numbers the list shows."""

    team: Team
    members: int  # active accounts in the team, any role
    agents: int  # active agents in the team


def _team_counts():
    members = (
        select(func.count(User.id))
        .where(User.team_id == Team.id, User.is_active_account.is_(True))
        .correlate(Team)
        .scalar_subquery()
    )
    agents = (
        select(func.count(User.id))
        .where(User.team_id == Team.id, User.is_active_account.is_(True), User.role == Role.AGENT.value)
        .correlate(Team)
        .scalar_subquery()
    )
    return members, agents


def search_teams(actor: User, text: str = "", active: str = "") -> list[TeamRow]:
    """Teams whose name or lead (name or username) contains ``text``."""
    ensure(actor, Permission.MANAGE_TEAMS)
    members, agents = _team_counts()
    lead = aliased(User)
    query = (
        select(Team, members.label("members"), agents.label("agents"))
        .outerjoin(lead, Team.lead_id == lead.id)
        .options(joinedload(Team.lead))
        .order_by(Team.name)
    )
    text = (text or "").strip()
    if text:
        like = f"%{text}%"
        query = query.where(or_(Team.name.ilike(like), lead.display_name.ilike(like), lead.username.ilike(like)))
    query = _active_filter(query, Team.is_active, active)
    return [TeamRow(team, m or 0, a or 0) for team, m, a in db.session.execute(query).all()]


def team_row(actor: User, team: Team) -> TeamRow:
    """The team with its member and agent counts, as one list row."""
    ensure(actor, Permission.MANAGE_TEAMS)
    members, agents = _team_counts()
    m, a = db.session.execute(select(members, agents).select_from(Team).where(Team.id == team.id)).one()
    return TeamRow(team, m or 0, a or 0)


def active_member_count(team: Team) -> int:
    """How many active accounts the team has (any role)."""
    return db.session.scalar(
        select(func.count(User.id)).where(User.team_id == team.id, User.is_active_account.is_(True))
    ) or 0


def lead_candidates(actor: User, current: Team | None = None) -> list[User]:
    """Users who may lead a team: active, role lead. The current lead is kept in
    the list even if no longer eligible, so the form can say why it is refused."""
    ensure(actor, Permission.MANAGE_TEAMS)
    condition = and_(User.role == Role.LEAD.value, User.is_active_account.is_(True))
    if current is not None and current.lead_id:
        condition = or_(condition, User.id == current.lead_id)
    return list(db.session.scalars(select(User).where(condition).order_by(*username_order())))


def _check_team(name: str, lead_id: int | None, team: Team | None = None) -> tuple[str, dict[str, str]]:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Enter a team name.")
    elif len(name) > TEAM_NAME_MAX:
        errors["name"] = _("At most %(max)d characters.", max=TEAM_NAME_MAX)
    else:
        query = select(Team.id).where(func.lower(Team.name) == name.lower())
        if team is not None:
            query = query.where(Team.id != team.id)
        if db.session.scalar(query):
            errors["name"] = _("A team named %(name)s already exists.", name=name)
    if lead_id:
        lead = db.session.get(User, lead_id)
        if lead is None:
            errors["lead_id"] = _("Unknown user.")
        elif lead.role != Role.LEAD.value:
            errors["lead_id"] = _("%(name)s is not a team lead; only users with the lead role can lead a team.",
                                  name=lead.display_name)
        elif not lead.is_active_account:
            errors["lead_id"] = _("%(name)s is deactivated and cannot lead a team.", name=lead.display_name)
    return name, errors


def create_team(actor: User, *, name: str, lead_id: int | None = None) -> Team:
    """Create a team; the name must be unique and the lead an active lead."""
    ensure(actor, Permission.MANAGE_TEAMS)
    name, errors = _check_team(name, lead_id)
    if errors:
        raise ValidationError(errors)
    team = Team(name=name, lead_id=lead_id or None, is_active=True)
    db.session.add(team)
    db.session.flush()
    record(actor, "team.create", "team", team.id, summary=team.name, after=snapshot(team, TEAM_AUDIT_FIELDS))
    db.session.commit()
    return team


def update_team(actor: User, team: Team, *, version: int, name: str, lead_id: int | None) -> Team:
    """Rename a team or change its lead; a stale version raises StaleEdit."""
    ensure(actor, Permission.MANAGE_TEAMS)
    if team.version != version:
        raise StaleEdit()
    name, errors = _check_team(name, lead_id, team)
    if errors:
        raise ValidationError(errors)
    before = snapshot(team, TEAM_AUDIT_FIELDS)
    team.name = name
    team.lead_id = lead_id or None
    after = snapshot(team, TEAM_AUDIT_FIELDS)
    if before != after:
        record(actor, "team.update", "team", team.id, summary=team.name, before=before, after=after)
    db.session.commit()
    return team


def set_team_active(actor: User, team: Team, active: bool) -> Team:
    """Deactivating is refused while the team has active members (see module doc)."""
    ensure(actor, Permission.MANAGE_TEAMS)
    if team.is_active == active:
        return team
    if not active:
        count = active_member_count(team)
        if count:
            raise ValidationError({"is_active": _(
                "Team %(name)s still has %(n)d active members. Move them to another team "
                "or deactivate their accounts first, then deactivate the team.", name=team.name, n=count)})
    record_active_change(actor, team, active, "team", team.name)
    db.session.commit()
    return team


@dataclass
class MemberRow:
    user: User
    outlets: int  # active outlets where the user is the primary agent


def team_members(actor: User, team: Team) -> list[MemberRow]:
    """Everyone in the team (active first), with the number of outlets they serve."""
    ensure(actor, Permission.MANAGE_TEAMS)
    outlets = (
        select(func.count(Outlet.id))
        .where(Outlet.primary_agent_id == User.id, Outlet.is_active.is_(True))
        .correlate(User)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(User, outlets)
        .where(User.team_id == team.id)
        .order_by(User.is_active_account.desc(), *username_order())
    ).all()
    return [MemberRow(user, n or 0) for user, n in rows]


# --------------------------------------------------------------------------- brands


@dataclass
class BrandRow:
    brand: Brand
    outlets: int  # all outlets of the brand
    active_outlets: int


def _brand_counts():
    total = select(func.count(Outlet.id)).where(Outlet.brand_id == Brand.id).correlate(Brand).scalar_subquery()
    active = (
        select(func.count(Outlet.id))
        .where(Outlet.brand_id == Brand.id, Outlet.is_active.is_(True))
        .correlate(Brand)
        .scalar_subquery()
    )
    return total, active


def search_brands(actor: User, text: str = "", active: str = "") -> list[BrandRow]:
    """Brands matching a code/name search and status, with their outlet counts."""
    ensure(actor, Permission.MANAGE_BRANDS)
    total, active_count = _brand_counts()
    query = select(Brand, total, active_count).order_by(Brand.code)
    text = (text or "").strip()
    if text:
        like = f"%{text}%"
        query = query.where(or_(Brand.code.ilike(like), Brand.name.ilike(like)))
    query = _active_filter(query, Brand.is_active, active)
    return [BrandRow(brand, t or 0, a or 0) for brand, t, a in db.session.execute(query).all()]


def brand_row(actor: User, brand: Brand) -> BrandRow:
    """The brand with its outlet counts, as one list row."""
    ensure(actor, Permission.MANAGE_BRANDS)
    total, active_count = _brand_counts()
    t, a = db.session.execute(select(total, active_count).select_from(Brand).where(Brand.id == brand.id)).one()
    return BrandRow(brand, t or 0, a or 0)


def active_outlet_count(brand: Brand) -> int:
    """How many active outlets the brand has."""
    return db.session.scalar(
        select(func.count(Outlet.id)).where(Outlet.brand_id == brand.id, Outlet.is_active.is_(True))
    ) or 0


def normalize_brand_code(code: str) -> str:
    """A brand code as stored: trimmed, in capitals."""
    return (code or "").strip().upper()


def _check_brand(code: str, name: str, brand: Brand | None = None) -> tuple[str, str, dict[str, str]]:
    errors: dict[str, str] = {}
    code = normalize_brand_code(code)
    name = (name or "").strip()
    if not code:
        errors["code"] = _("Enter a brand code.")
    elif len(code) > BRAND_CODE_MAX or not set(code) <= BRAND_CODE_CHARS:
        errors["code"] = _("Up to %(n)d letters or digits (& _ - allowed), e.g. ZTO.", n=BRAND_CODE_MAX)
    else:
        query = select(Brand.id).where(func.upper(Brand.code) == code)
        if brand is not None:
            query = query.where(Brand.id != brand.id)
        if db.session.scalar(query):
            errors["code"] = _("Brand code %(code)s is already used.", code=code)
    if not name:
        errors["name"] = _("Enter a brand name.")
    elif len(name) > BRAND_NAME_MAX:
        errors["name"] = _("At most %(max)d characters.", max=BRAND_NAME_MAX)
    else:
        query = select(Brand.id).where(func.lower(Brand.name) == name.lower())
        if brand is not None:
            query = query.where(Brand.id != brand.id)
        if db.session.scalar(query):
            errors["name"] = _("A brand named %(name)s already exists.", name=name)
    return code, name, errors


def create_brand(actor: User, *, code: str, name: str) -> Brand:
    """Create a brand; code and name must be unique."""
    ensure(actor, Permission.MANAGE_BRANDS)
    code, name, errors = _check_brand(code, name)
    if errors:
        raise ValidationError(errors)
    brand = Brand(code=code, name=name, is_active=True)
    db.session.add(brand)
    db.session.flush()
    record(actor, "brand.create", "brand", brand.id, summary=f"{brand.code} {brand.name}",
           after=snapshot(brand, BRAND_AUDIT_FIELDS))
    db.session.commit()
    return brand


def update_brand(actor: User, brand: Brand, *, version: int, code: str, name: str) -> Brand:
    """Change a brand's code or name; a stale version raises StaleEdit."""
    ensure(actor, Permission.MANAGE_BRANDS)
    if brand.version != version:
        raise StaleEdit()
    code, name, errors = _check_brand(code, name, brand)
    if errors:
        raise ValidationError(errors)
    before = snapshot(brand, BRAND_AUDIT_FIELDS)
    brand.code = code
    brand.name = name
    after = snapshot(brand, BRAND_AUDIT_FIELDS)
    if before != after:
        record(actor, "brand.update", "brand", brand.id, summary=f"{brand.code} {brand.name}",
               before=before, after=after)
    db.session.commit()
    return brand


def set_brand_active(actor: User, brand: Brand, active: bool) -> Brand:
    """Deactivating is refused while the brand has active outlets."""
    ensure(actor, Permission.MANAGE_BRANDS)
    if brand.is_active == active:
        return brand
    if not active:
        count = active_outlet_count(brand)
        if count:
            raise ValidationError({"is_active": _(
                "Brand %(name)s still has %(n)d active outlets. Deactivate them or move them "
                "to another brand first.", name=brand.name, n=count)})
    record_active_change(actor, brand, active, "brand", f"{brand.code} {brand.name}")
    db.session.commit()
    return brand

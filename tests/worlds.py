"""Worlds: the records a group of tests works on, built by one function each.

A world is a ``World`` (a dict that also answers attributes: ``world.agent`` or
``world["agent"]``). Fixtures in tests/conftest.py build them per test.

``SharedWorld`` builds a world once and hands the same one to every test that asks,
as long as no test wrote to the database in between (seen by ``conftest.WRITES``); after
a write it is emptied and built again. It holds ids and session cookies, not ORM objects
(each test has its own database session). The route matrix and the bad-input sweep use
it: hundreds of requests that mostly change nothing, each against a pristine world.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest

from kdcs.extensions import db
from kdcs.models import User
from tests import factories

ROLES = ("agent", "trainer", "lead", "admin")


class World(dict):
    """A dict whose keys are also attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def with_ids(self, *keys: str) -> World:
        """A copy where the records under ``keys`` are replaced by their ids (for URL templates)."""
        return World({k: (v.id if k in keys else v) for k, v in self.items()})


# --------------------------------------------------------------------------- builders

def make_users() -> World:
    """One active user of each role, plus a team (一组) for the lead and agent."""
    team = factories.make_team("一组")
    lead = factories.make_user("lead", username="lead_a", team=team)
    team.lead_id = lead.id
    db.session.commit()
    return World(
        agent=factories.make_user("agent", username="agent_a", team=team),
        trainer=factories.make_user("trainer", username="trainer_a"),
        lead=lead,
        admin=factories.make_user("admin", username="admin_a"),
        team=team,
    )


def make_outlets(users: World) -> World:
    """Outlets in and out of each scope: the agent's own, a teammate's (same team), one of an
    agent of another team (二组), and an unassigned one; ZTO and YTO."""
    from datetime import date

    zto = factories.make_brand("ZTO", "中通")
    yto = factories.make_brand("YTO", "圆通")
    teammate = factories.make_user("agent", username="agent_mate", team=users.team, display_name="李娜")
    other_team = factories.make_team("二组")
    stranger = factories.make_user("agent", username="agent_far", team=other_team, display_name="郑洋")
    own = factories.make_outlet(brand=zto, agent=users.agent, code="ZTO571101", name="中通余杭良渚网点")
    team_outlet = factories.make_outlet(brand=zto, agent=teammate, code="ZTO571102", name="中通萧山北干网点")
    other = factories.make_outlet(brand=yto, agent=stranger, code="YTO021101", name="圆通上海松江网点",
                                  region="上海市松江区")
    free = factories.make_outlet(brand=yto, code="YTO021102", name="圆通上海青浦网点", region="上海市青浦区")
    factories.make_volume(own, date(2026, 9, 1), 200_000, 100_000)
    return World(users, zto=zto, yto=yto, teammate=teammate, other_team=other_team, stranger=stranger, own=own,
                 team_outlet=team_outlet, other=other, free=free)


def make_tickets(users: World) -> World:
    """``make_outlets`` plus a problem-parcel ticket in each scope: the agent's own (``mine``),
    the teammate's (``team_ticket``) and the other team's (``far``)."""
    world = make_outlets(users)
    address = factories.make_reason("problem", "地址不详")
    rule = factories.make_rule("problem")
    mine = factories.make_ticket(world.own, reason=address, waybill_no="75121488724296", customer_name="李先生",
                                 customer_phone="13912345678", description="收件人电话打不通")
    team_ticket = factories.make_ticket(world.team_outlet, reason=address, waybill_no="75121488724297")
    far = factories.make_ticket(world.other, reason=address, waybill_no="75121488724298")
    return World(world, address=address, problem_rule=rule, mine=mine, team_ticket=team_ticket, far=far)


def make_ticket_settings(users: World) -> World:
    """What the ticket settings pages list: work-order reasons 投诉 and 催件, problem reason 破损,
    a default work-order deadline rule (2 h / 24 h) and a canned reply; brand ZTO."""
    return World(
        users,
        brand=users.get("zto") or factories.make_brand("ZTO", "中通"),
        complaint=factories.make_reason("work_order", "投诉", sort_order=10),
        chase=factories.make_reason("work_order", "催件", sort_order=20),
        damaged=factories.make_reason("problem", "破损", sort_order=10),
        rule=factories.make_rule("work_order", reply_minutes=120, resolve_minutes=1440),
        reply=factories.make_canned("work_order", "催件回复", "您好，已为您催促网点。"),
    )


_COOKIES: dict[tuple, str] = {}


def session_cookie(app, user: User) -> str:
    """The session cookie of a real login as ``user`` (the login page, not a forged session).

    Kept for the same user id and session token (factories make tokens deterministic), so a
    world built again reuses it instead of logging in again.
    """
    from tests.conftest import AuthActions

    key = (id(app), user.id, user.username, user.session_token)
    if key not in _COOKIES:
        client = app.test_client()
        AuthActions(client).login(user)
        _COOKIES[key] = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    return _COOKIES[key]


def client_as(app, cookie: str | None):
    """A new test client, logged in with ``cookie`` (anonymous if None)."""
    client = app.test_client()
    if cookie is not None:
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return client


def make_sop(world: World) -> World:
    """SOP scenarios: ``sop_scenario`` (version 1 published for reason ``damaged``, approved by the admin,
    and the trainer's next draft waiting for review) and ``sop_draft_only`` (never published)."""
    from kdcs.sop import service as sop

    script = "您好{客户称呼}，您的快件{运单号}外包装破损，我们已登记。"
    scenario = sop.create_scenario(world.trainer, title="破损理赔", kind="claim", tags="破损", categories=[],
                                   reason_ids=[world.damaged.id], script=script,
                                   steps=[{"text": "响应客户", "limit_minutes": 5}])
    first = sop.open_draft(scenario)
    sop.submit_for_review(world.trainer, first)
    sop.approve(world.admin, first)
    draft = sop.start_draft(world.trainer, scenario)
    sop.save_draft(world.trainer, draft, version_no=draft.version, change_note="补充拍照要求")
    sop.submit_for_review(world.trainer, draft)
    draft_only = sop.create_scenario(world.trainer, title="未发布场景", kind="consultation", tags="", categories=[],
                                     reason_ids=[], script="草稿")
    return World(world, sop_scenario=scenario, sop_draft_only=draft_only)


def make_queue(users: World) -> World:
    """Two outlets of the agent (ZTO 良渚网点, YTO 仁和网点) and a reason of two categories; the
    queue tests add the tickets they sort and filter."""
    zto = factories.make_brand("ZTO", "中通")
    yto = factories.make_brand("YTO", "圆通")
    return World(
        users, brand=zto, yto=yto,
        outlet=factories.make_outlet(zto, users.agent, name="良渚网点"),
        outlet2=factories.make_outlet(yto, users.agent, name="仁和网点"),
        problem=factories.make_reason("problem", "地址不详"),
        chase=factories.make_reason("work_order", "催件"),
    )


def make_desk(users: World) -> World:
    """The ticket service's desk: an outlet of the agent (ZTO), work-order reason 催件, a default
    work-order deadline rule of 2 h to reply and 24 h to resolve."""
    brand = factories.make_brand("ZTO", "中通")
    return World(
        users, brand=brand,
        outlet=factories.make_outlet(brand=brand, agent=users.agent),
        reason=factories.make_reason("work_order", "催件"),
        rule=factories.make_rule("work_order", reply_minutes=120, resolve_minutes=1440),
    )


# The outlets of tests/data/sto_inbound_complaints.xls (the STO sample export).
STO_SAMPLE_OUTLETS = [
    ("STO021101", "申通上海嘉定瓶窑网点"), ("STO020102", "申通广州番禺城厢网点"), ("STO571103", "申通杭州萧山北干网点"),
    ("STO021104", "申通上海嘉定蒋村网点"), ("STO020105", "申通广州番禺半山网点"), ("STO571106", "申通杭州拱墅木渎网点"),
    ("STO021107", "申通上海嘉定黄桥网点"),
]


def make_sto(users: World) -> World:
    """The reference data (reasons, deadline rules) and STO with the sample file's outlets, all
    served by agent_a."""
    from kdcs.tickets.reference import seed_reference_data

    seed_reference_data(calendar=False)
    brand = factories.make_brand("STO", "申通")
    outlets = [factories.make_outlet(brand=brand, agent=users.agent, code=code, name=name)
               for code, name in STO_SAMPLE_OUTLETS]
    return World(users, brand=brand, outlets=outlets)


def make_export(users: World) -> World:
    """The reference data, an STO outlet of the agent (``mine``) and an unassigned one (``other``),
    five tickets made through the service (three on ``mine``)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import select

    from kdcs.models import Category, Direction, TicketReason
    from kdcs.tickets import service
    from kdcs.tickets.reference import seed_reference_data

    seed_reference_data(calendar=False)
    brand = factories.make_brand("STO", "申通")
    mine = factories.make_outlet(brand=brand, agent=users.agent, code="STO021101", name="申通上海嘉定瓶窑网点")
    other = factories.make_outlet(brand=brand, agent=None, code="STO020102", name="申通广州番禺城厢网点")
    reasons = {(r.category, r.name): r.id for r in db.session.scalars(select(TicketReason))}
    start = datetime.now(UTC) - timedelta(hours=3)
    made = []
    for n, (outlet, category, reason) in enumerate([
        (mine, Category.WORK_ORDER, "催件"), (mine, Category.WORK_ORDER, "查件"), (mine, Category.PROBLEM, "地址不详"),
        (other, Category.WORK_ORDER, "催件"), (other, Category.ARBITRATION, "遗失"),
    ]):
        made.append(service.create_ticket(
            users.admin, outlet_id=outlet.id, direction=Direction.INBOUND, category=category,
            reason_id=reasons[(category, reason)], waybill_no=f"7731652312{n:04d}", registered_at=start,
            customer_name="王建华", customer_phone="13812345678", description="客户催派送"))
    return World(users, tickets=made, mine=mine, other=other)


def make_evidence(world: World) -> World:
    """An evidence PNG on each ticket (``attachment`` on mine, ``team_attachment``, ``far_attachment``)
    and a checklist item of the problem reason 破损 (``evidence_item``)."""
    import io

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from kdcs.models.ticket import EvidenceItem
    from kdcs.tickets.attachments import service as attachments

    def png(shade: int) -> FileStorage:
        out = io.BytesIO()
        Image.new("RGB", (40, 30), (shade, 90, 160)).save(out, "PNG")
        return FileStorage(stream=io.BytesIO(out.getvalue()), filename=f"证据{shade}.png")

    made = {key: attachments.upload(world.admin, world[ticket].id, [png(shade)]).saved[0]
            for key, ticket, shade in (("attachment", "mine", 1), ("team_attachment", "team_ticket", 2),
                                       ("far_attachment", "far", 3))}
    item = EvidenceItem(reason_id=world.damaged.id, name="外包装照片", sort_order=10)
    db.session.add(item)
    db.session.commit()
    return World(world, evidence_item=item, **made)


def make_route_world() -> dict:
    """Users of every role (with their session cookies); outlets and tickets in and out of each
    scope; ticket settings records; a user for the admin pages to edit. Ids only."""
    from flask import current_app

    world = make_evidence(make_sop(make_ticket_settings(make_tickets(make_users()))))
    world["target"] = factories.make_user("agent", username="target_user")
    from tests.training_world import make_training

    world.update(make_training(world))  # courses, lessons, a lesson file, a practical item, a programme
    from tests.quiz_world import make_quiz

    world.update(make_quiz(world))  # questions of the course and the agent's open attempt
    world["overtime"] = factories.make_overtime(world["agent"], world["own"])  # waiting for the lead
    world["follow_up"] = factories.make_follow_up(world["mine"], world["agent"])  # 跟进 on the agent's ticket
    world["labour_cost"] = factories.make_labour_cost(world["target"], datetime.date(2026, 9, 1))  # 人均毛利
    # 质检: a criterion, a reply of the agent to score, one scored by the lead, one of an agent of another team
    world["criterion"] = factories.make_criterion("按SOP处理", points=30)
    world["quality_reply"] = factories.make_reply(world["mine"], world["agent"])
    world["quality_review"] = factories.make_quality_review(
        factories.make_reply(world["mine"], world["agent"], body="已为您登记催派。"), world["lead"])
    world["far_reply"] = factories.make_reply(world["far"], world["stranger"])
    app = current_app._get_current_object()
    ids = {key: record.id for key, record in world.items() if hasattr(record, "id")}
    return {"cookies": {role: session_cookie(app, world[role]) for role in ROLES}, **ids}


# --------------------------------------------------------------------------- shared worlds

class SharedWorld:
    def __init__(self, name: str, build: Callable[[], dict], ignore: frozenset[str] = frozenset()):
        self.name = name
        self.build = build
        self.ignore = ignore  # tables whose writes do not count (logs the users of the world never read)
        self.data: World | None = None
        self._snapshot = None  # SQLite: an in-memory copy of the database as built
        self._tables: set[str] = set()  # the tables the build wrote to

    def changed(self) -> bool:
        from tests.conftest import WRITES

        return bool(WRITES.since_mark - self.ignore)

    def current(self) -> World:
        """The world as built: kept if nothing was written since; else, on SQLite, the database
        copied back from the snapshot taken after building (a few ms), on PostgreSQL emptied and
        built again. A test that makes many requests calls it before each one."""
        global _current
        from tests.conftest import WRITES, empty_written_tables

        if _current is self and self.data is not None and not self.changed():
            return self.data
        if self.data is not None and self._snapshot is not None and _same_database(self._snapshot):
            _sqlite_copy(self._snapshot[1], into_app=True)
            WRITES.written(self._tables)  # they hold the world again: the next emptying empties them
        else:
            empty_written_tables()
            self.data = World(self.build())
            db.session.remove()
            self._snapshot = _sqlite_snapshot()
            self._tables = set(WRITES.since_empty) | ({"*"} if WRITES.everything else set())
        WRITES.mark()
        _current = self
        return self.data


def _same_database(snapshot) -> bool:
    return snapshot[0] == str(db.engine.url)


def _sqlite_snapshot():
    """(database URL, in-memory copy) of the app's SQLite database; None on PostgreSQL."""
    import sqlite3

    if db.engine.dialect.name != "sqlite":
        return None
    copy = sqlite3.connect(":memory:", check_same_thread=False)
    _sqlite_copy(copy, into_app=False)
    return str(db.engine.url), copy


def _sqlite_copy(other, *, into_app: bool) -> None:
    """SQLite's online backup between the app's database and ``other`` (either way). The whole
    file is copied, so whatever a test wrote (cascades and search tables included) is undone."""
    db.session.remove()
    raw = db.engine.raw_connection()
    try:
        if into_app:
            other.backup(raw.driver_connection)
        else:
            raw.driver_connection.backup(other)
    finally:
        raw.close()


_current: SharedWorld | None = None  # the shared world the database holds, as built
SHARED: dict[str, SharedWorld] = {}  # by fixture name


def shared_world(build: Callable[[], dict] | None = None, *, name: str | None = None, ignore=()):
    """A fixture (named ``name`` or like ``build``) whose world is built once and reused until a
    test writes to the database (to a table not in ``ignore``). ``build`` returns ids and plain
    values. Also a decorator: ``@shared_world`` or ``@shared_world(ignore=(...))``."""
    if build is None:
        return lambda fn: shared_world(fn, name=name, ignore=ignore)
    name = name or build.__name__
    shared = SHARED[name] = SharedWorld(name, build, frozenset(ignore))

    @pytest.fixture(name=name)
    def fixture(app_ctx):
        return shared.current()

    fixture.__doc__ = build.__doc__
    return fixture


def before_test(request) -> None:
    """A test that does not use the shared world the database holds starts from empty."""
    global _current
    from tests.conftest import empty_written_tables

    if _current is not None and _current.name not in request.fixturenames:
        empty_written_tables()
        _current = None


def after_test() -> None:
    """Keep a shared world nobody wrote to (or one with a snapshot); otherwise leave the database empty."""
    global _current
    from tests.conftest import empty_written_tables

    if _current is not None and (not _current.changed() or _current._snapshot is not None):
        return  # unchanged, or copied back from its snapshot by the next test that wants it
    empty_written_tables()
    _current = None

"""The demo company: realistic Chinese data so the app can be tried at once.

Idempotent: every record is looked up by its natural key first, so running
``flask --app kdcs seed-demo`` twice changes nothing the second time.
"""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from .extensions import db
from .leave.rules import beijing_today
from .models import Brand, Outlet, OutletVolume, Role, Team, User

DEMO_PASSWORD = "demo1234"

BRANDS = [
    ("ZTO", "中通"), ("YTO", "圆通"), ("YUNDA", "韵达"), ("STO", "申通"),
    ("JT", "极兔"), ("SF", "顺丰"), ("JD", "京东"), ("EMS", "邮政"),
]

STAFF = [
    ("admin", "系统管理员", Role.ADMIN, None),
    ("lead1", "王丽", Role.LEAD, "一组"),
    ("lead2", "陈刚", Role.LEAD, "二组"),
    ("trainer1", "刘芳", Role.TRAINER, None),
    ("trainer2", "高洁", Role.TRAINER, None),  # a second trainer: reviews trainer1's SOP drafts
]
AGENT_NAMES = ["张敏", "李娜", "赵磊", "孙婷", "周杰", "吴静", "郑洋", "冯雪", "何平", "许佳", "马超", "朱琳"]

# (city, district list, area code)
REGIONS = [
    ("浙江省杭州市", ["余杭区", "萧山区", "西湖区", "拱墅区", "临平区"], "571"),
    ("江苏省苏州市", ["吴中区", "相城区", "昆山市", "常熟市"], "512"),
    ("上海市", ["松江区", "青浦区", "嘉定区", "闵行区"], "021"),
    ("浙江省金华市", ["义乌市", "东阳市", "永康市"], "579"),
    ("广东省广州市", ["白云区", "番禺区", "花都区"], "020"),
    ("安徽省合肥市", ["蜀山区", "包河区", "肥西县"], "551"),
]
STREETS = ["良渚", "仁和", "瓶窑", "城厢", "北干", "蒋村", "半山", "木渎", "黄桥", "花桥", "虞山", "九亭",
           "赵巷", "南翔", "七宝", "稠城", "北苑", "吴宁", "石井", "大石", "新华", "井岗", "望湖", "上派"]
SURNAMES = "王李张刘陈杨黄赵周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["建华", "国强", "秀英", "海燕", "志明", "丽娟", "俊杰", "晓东", "春梅", "伟", "磊", "敏", "军", "洁", "勇", "霞", "斌", "鹏"]
# 40 outlets: how many per brand
OUTLETS_PER_BRAND = {"ZTO": 10, "YTO": 8, "YUNDA": 8, "STO": 7, "JT": 7}
VOLUME_MONTHS = 6


def month_starts(today: date, count: int) -> list[date]:
    """The first days of the last ``count`` complete months, oldest first."""
    year, month = today.year, today.month
    result = []
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        result.append(date(year, month, 1))
    return list(reversed(result))


def _get_or_create_user(username, display_name, role, team=None, phone=None) -> tuple[User, bool]:
    user = db.session.scalar(select(User).where(User.username == username))
    if user:
        return user, False
    user = User(username=username, display_name=display_name, role=role, team=team, phone=phone)
    user.set_password(DEMO_PASSWORD)
    db.session.add(user)
    return user, True


def _demo_rate_history(outlet: Outlet, months: list, outlet_index: int) -> None:
    """Each outlet's rate history starts with its first month; every fifth got a new rate three months ago."""
    from .outlets.rates import put_rate

    first = min(months)
    put_rate(None, outlet, first, outlet.rate_per_parcel, "演示：合同初始费率")
    if outlet_index % 5 == 0 and len(months) > 3:
        changed = sorted(months)[-3]
        put_rate(None, outlet, changed, outlet.rate_per_parcel + Decimal("0.0020"), "演示：续签合同调价")


def seed_demo(today: date | None = None) -> dict[str, int]:
    """Load the demo company; returns how many records of each kind were created."""
    rng = random.Random(20261123)
    created = {"brands": 0, "teams": 0, "users": 0, "outlets": 0, "volumes": 0}
    asked_day = today  # a fixed day (tests) puts the tickets' "now" at 15:00 of it; otherwise they end now
    today = today or beijing_today()  # the office's date, as every page counts days (not the server's)

    brands = {}
    for code, name in BRANDS:
        brand = db.session.scalar(select(Brand).where(Brand.code == code))
        if brand is None:
            brand = Brand(code=code, name=name)
            db.session.add(brand)
            created["brands"] += 1
        brands[code] = brand

    teams = {}
    for name in ("一组", "二组"):
        team = db.session.scalar(select(Team).where(Team.name == name))
        if team is None:
            team = Team(name=name)
            db.session.add(team)
            created["teams"] += 1
        teams[name] = team
    db.session.flush()

    for username, display_name, role, team_name in STAFF:
        user, new = _get_or_create_user(username, display_name, role, teams.get(team_name))
        created["users"] += new
        if role == Role.LEAD and teams[team_name].lead_id is None:
            db.session.flush()
            teams[team_name].lead_id = user.id

    agents = []
    for index, name in enumerate(AGENT_NAMES, start=1):
        team = teams["一组"] if index <= 6 else teams["二组"]
        phone = f"13{rng.randint(5, 9)}{rng.randint(10000000, 99999999)}"
        user, new = _get_or_create_user(f"agent{index}", name, Role.AGENT, team, phone)
        created["users"] += new
        agents.append(user)
    db.session.flush()

    months = month_starts(today, VOLUME_MONTHS)
    outlet_index = 0
    for brand_code, count in OUTLETS_PER_BRAND.items():
        brand = brands[brand_code]
        for n in range(count):
            city, districts, area = REGIONS[(outlet_index + n) % len(REGIONS)]
            district = districts[(outlet_index * 3 + n) % len(districts)]
            street = STREETS[outlet_index % len(STREETS)]
            code = f"{brand_code}{area}{101 + n:03d}" if brand_code != "JT" else f"JT{area}{n + 1:04d}"
            outlet = db.session.scalar(select(Outlet).where(Outlet.code == code))
            agent = agents[outlet_index % len(agents)]
            if outlet is None:
                base_volume = rng.choice([60_000, 90_000, 120_000, 180_000, 250_000, 320_000, 420_000])
                rate = Decimal("0.0250") + Decimal(rng.choice([-3, -2, -1, 0, 0, 1, 2])) / Decimal("1000")
                if base_volume >= 320_000:
                    rate -= Decimal("0.0010")  # volume discount
                contact = rng.choice(SURNAMES) + rng.choice(GIVEN)
                outlet = Outlet(
                    code=code,
                    name=f"{brand.name}{city[-3:-1] if city.endswith('市') else city[:2]}{district.rstrip('区市县')}{street}网点",
                    brand=brand,
                    region=f"{city}{district}",
                    contact_name=contact,
                    contact_phone=f"1{rng.choice([3, 5, 8])}{rng.randint(0, 9)}{rng.randint(10000000, 99999999)}",
                    rate_per_parcel=rate,
                    primary_agent=agent,
                    notes=rng.choice(["", "", "大件多，注意破损登记", "拦截件需当天回复", "周日不派送，需提前告知客户", "老板要求投诉件先电话沟通"]),
                )
                db.session.add(outlet)
                db.session.flush()
                created["outlets"] += 1
                for month in months:
                    total = int(base_volume * rng.uniform(0.85, 1.15))
                    inbound = int(total * rng.uniform(0.55, 0.7))
                    db.session.add(OutletVolume(outlet_id=outlet.id, month=month,
                                                inbound_parcels=inbound, outbound_parcels=total - inbound))
                    created["volumes"] += 1
                _demo_rate_history(outlet, months, outlet_index)
            outlet_index += 1
    db.session.commit()

    # Reference data (rules, reasons, calendar) and the demo tickets.
    from .tickets.demo import seed_demo_tickets

    created.update(seed_demo_tickets(asked_day))  # never replies or fines later than the moment of seeding

    # The SOP handbook (scenarios linked to the ticket reasons loaded above).
    from .sop.demo import seed_demo_scenarios

    created.update(seed_demo_scenarios())

    # Training: T1's courses and programme, T2's question banks, then the agents at their stages
    # (certified before anything relies on them; agent12 never certified). After the SOP handbook:
    # lessons and practical items link its scenarios.
    from .training.certification.demo import seed_certification
    from .training.demo import seed_courses
    from .training.quiz.demo import seed_questions

    courses = seed_courses()
    seed_questions({"rules": courses["rules"], "systems": courses["systems"], "communication": courses["comms"]},
                   author=db.session.scalar(select(User).where(User.username == "trainer1")))
    created.update(seed_certification(courses, today))

    # Leave in every state relative to today (an agent on leave today, covered: 代班 in agent6's queue).
    from .leave.demo import seed_demo_leave

    created.update(seed_demo_leave(today))

    # Overtime: agreed rates, last month's approved evenings, this month's waiting for the leads.
    from .overtime.demo import seed_demo_overtime

    created.update(seed_demo_overtime(today))

    # Labour costs (人工成本) for 人均毛利: every agent and lead, two raises this month, one missing.
    from .margin.demo import seed_demo_labour_costs

    created.update(seed_demo_labour_costs(today))

    # Team history: agent7 came over to 二组 from 一组 on last week's Monday.
    from .org.demo import seed_demo_team_history

    created.update(seed_demo_team_history(today))

    # Follow-ups (跟进) on a few open tickets: overdue, due within the hour, later, one kept.
    from .tickets.followups.demo import seed_demo_follow_ups

    created.update(seed_demo_follow_ups())

    # Quality checks (质检): a few of 一组's and 二组's replies scored, one below the line, one fatal.
    from .quality.demo import seed_demo_quality

    created.update(seed_demo_quality())
    return created

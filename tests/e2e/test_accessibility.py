"""axe-core (shipped by axe-playwright-python) finds no serious or critical violation
on any page any role can reach.

The pages are not a fixed list: every GET rule of the app's URL map is visited as
every role (one page per URL shape, ``<int:…>`` filled with real ids of the e2e
world), so a new page is checked as soon as it exists. A rule is left out only if
it is static, logout or an ``.xlsx`` download; a response that is not a whole HTML
page (an htmx fragment, a file), a redirect, or a refusal (403/404) is not a page
this role reaches and is skipped. A new ``<int:…>`` argument needs a line in
``ID_FILLERS``: the test says so instead of skipping the page.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest

from .conftest import VIEWPORT, login

pytestmark = pytest.mark.e2e

BLOCKING = {"serious", "critical"}
ROLE_USERS = {"admin": "admin", "lead": "lead1", "trainer": "trainer1", "agent": "agent1"}
SKIP_ENDPOINTS = {"static", "auth.logout"}
SAMPLE_IMPORT = Path(__file__).resolve().parents[1] / "data" / "sto_inbound_complaints_utf8bom.csv"


def axe_violations(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    page.wait_for_load_state("networkidle")
    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} [{v.get('helpUrl', '')}]")
        for node in v["nodes"][:8]:
            target = json.dumps(node.get("target"), ensure_ascii=False)
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary}")
            lines.append(f"      {node.get('html', '')[:200]}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


def assert_accessible(page, what: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe: serious/critical violations on {what} ({page.url}):\n" + describe(
        violations
    )


# --------------------------------------------------------------------------- the world's ids


@dataclass
class World:
    """Ids of the e2e world per role: records that role may open."""

    ids: dict[str, dict[str, int | str | None]] = field(default_factory=dict)


def _first(query):
    from kdcs.extensions import db

    return db.session.scalar(query.limit(1))


# argument name → (role's user) → an id that role can open (None: the world has none)
ID_FILLERS: dict[str, Callable] = {}


def _filler(*names):
    def register(fn):
        for name in names:
            ID_FILLERS[name] = fn
        return fn

    return register


@_filler("ticket_id")
def _ticket(user, extra):
    """Admins: the ticket with an audit trail and a reassignment; others: one of agent1's."""
    from sqlalchemy import select

    from kdcs.models import Ticket

    if user.role == "admin":
        return extra["worked_ticket"]
    return _first(select(Ticket.id).where(Ticket.assignee_id == extra["agent1"]).order_by(Ticket.id))


@_filler("outlet_id")
def _outlet(user, extra):
    """An outlet of agent1: their own, their lead's team's, visible to admins."""
    from sqlalchemy import select

    from kdcs.models import Outlet

    return _first(select(Outlet.id).where(Outlet.primary_agent_id == extra["agent1"]).order_by(Outlet.id))


@_filler("leave_id")
def _leave(user, extra):
    """A request the user may see: their own or one they decide (demo leave), else (admin) the finished one;
    any request for roles without leave pages (they get a refusal, which is skipped)."""
    from sqlalchemy import or_, select

    from kdcs.models import LeaveRequest, LeaveStatus

    if user.role == "admin":
        return _first(select(LeaveRequest.id).where(LeaveRequest.status == LeaveStatus.RETURNED))
    return _first(select(LeaveRequest.id).where(or_(LeaveRequest.user_id == user.id,
                                                   LeaveRequest.approver_id == user.id)).order_by(LeaveRequest.id)) \
        or _first(select(LeaveRequest.id).order_by(LeaveRequest.id))


@_filler("attachment_id")
def _attachment(user, extra):
    """An evidence PNG on the user's ticket (the ticket_id filler's), uploaded by admin if it has none."""
    import io

    from PIL import Image
    from sqlalchemy import select
    from werkzeug.datastructures import FileStorage

    from kdcs.extensions import db
    from kdcs.models import TicketAttachment, User
    from kdcs.tickets.attachments import service

    ticket_id = _ticket(user, extra)
    found = _first(select(TicketAttachment.id).where(TicketAttachment.ticket_id == ticket_id,
                                                     TicketAttachment.removed_at.is_(None)))
    if found or ticket_id is None:
        return found
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (180, 40, 40)).save(out, "PNG")
    admin = db.session.scalar(select(User).where(User.role == "admin").order_by(User.id))
    upload = FileStorage(stream=io.BytesIO(out.getvalue()), filename="外包装.png")
    return service.upload(admin, ticket_id, [upload]).saved[0].id


@_filler("proof_id")
def _leave_proof(user, extra):
    """A proof file (PNG) on the leave_id filler's request, stored for it if it has none."""
    import io

    from PIL import Image
    from sqlalchemy import select
    from werkzeug.datastructures import FileStorage

    from kdcs import storage
    from kdcs.extensions import db
    from kdcs.models import LeaveProof

    leave_id = _leave(user, extra)
    if leave_id is None:
        return None
    found = _first(select(LeaveProof.id).where(LeaveProof.request_id == leave_id))
    if found:
        return found
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (40, 120, 180)).save(out, "PNG")
    stored = storage.save_upload(FileStorage(stream=io.BytesIO(out.getvalue()), filename="病假条.png"),
                                 kinds={"png"})
    proof = LeaveProof(request_id=leave_id, stored_name=stored.stored_name, original_name=stored.original_name,
                       content_type=stored.content_type, size=stored.size)
    db.session.add(proof)
    db.session.commit()
    return proof.id


@_filler("evidence_item_id")
def _evidence_item(user, extra):
    from sqlalchemy import select

    from kdcs.models import EvidenceItem

    return _first(select(EvidenceItem.id).order_by(EvidenceItem.id))


@_filler("leave_type_id")
def _leave_type(user, extra):
    from sqlalchemy import select

    from kdcs.models import LeaveType

    return _first(select(LeaveType.id).order_by(LeaveType.sort_order, LeaveType.id))


@_filler("user_id")
def _user(user, extra):
    return extra["agent1"]


@_filler("team_id")
def _team(user, extra):
    return extra["team1"]


@_filler("brand_id")
def _brand(user, extra):
    from sqlalchemy import select

    from kdcs.models import Brand

    return _first(select(Brand.id).order_by(Brand.id))


@_filler("canned_id")
def _canned(user, extra):
    from sqlalchemy import select

    from kdcs.models import CannedReply

    return _first(select(CannedReply.id).order_by(CannedReply.id))


@_filler("reason_id")
def _reason(user, extra):
    from sqlalchemy import select

    from kdcs.models import TicketReason

    return _first(select(TicketReason.id).order_by(TicketReason.id))


@_filler("rule_id")
def _rule(user, extra):
    from sqlalchemy import select

    from kdcs.models import DeadlineRule

    return _first(select(DeadlineRule.id).order_by(DeadlineRule.id))


@_filler("job_id")
def _job(user, extra):
    return extra["import_job"]


@_filler("report_id")
def _report(user, extra):
    """An open SOP report of the demo (the trainers' inbox)."""
    from sqlalchemy import select

    from kdcs.models.sop import SopReport

    return _first(select(SopReport.id).where(SopReport.status == "open").order_by(SopReport.id))


@_filler("scenario_id")
def _scenario(user, extra):
    """破损理赔 of the demo handbook: three versions and trainer1's draft in review."""
    from sqlalchemy import select

    from kdcs.models.sop import SopScenario

    return _first(select(SopScenario.id).where(SopScenario.title == "破损理赔"))


@_filler("number")
def _number(user, extra):
    return 1


@_filler("day_text")
def _day(user, extra):
    return date.today().isoformat()


@_filler("course_id")
def _course(user, extra):
    """The demo course 品牌规则与条款 (published: every role reads it)."""
    from sqlalchemy import select

    from kdcs.models.training import TrainingCourse

    return _first(select(TrainingCourse.id).where(TrainingCourse.title == "品牌规则与条款"))


@_filler("lesson_id")
def _lesson(user, extra):
    """The first lesson of 品牌规则与条款."""
    from sqlalchemy import select

    from kdcs.models.training import TrainingLesson

    return _first(select(TrainingLesson.id).where(TrainingLesson.course_id == _course(user, extra))
                  .order_by(TrainingLesson.position))


@_filler("file_id")
def _lesson_file(user, extra):
    """A PDF on the first lesson of 品牌规则与条款 (stored for it if it has none)."""
    import io

    from sqlalchemy import select
    from werkzeug.datastructures import FileStorage

    from kdcs.extensions import db
    from kdcs.models import User
    from kdcs.models.training import TrainingAttachment, TrainingLesson
    from kdcs.training.courses import service as courses

    lesson_id = _lesson(user, extra)
    found = _first(select(TrainingAttachment.id).where(TrainingAttachment.lesson_id == lesson_id))
    if found or lesson_id is None:
        return found
    trainer = db.session.scalar(select(User).where(User.username == "trainer1"))
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    return courses.add_file(trainer, db.session.get(TrainingLesson, lesson_id),
                            FileStorage(stream=io.BytesIO(pdf), filename="品牌时效表.pdf")).id


@_filler("item_id")
def _practical_item(user, extra):
    """The practical item of 品牌规则与条款 (情景模拟)."""
    from sqlalchemy import select

    from kdcs.models.training import PracticalItem

    return _first(select(PracticalItem.id).where(PracticalItem.course_id == _course(user, extra))
                  .order_by(PracticalItem.position))


@_filler("programme_id")
def _programme(user, extra):
    """新人30天计划 of the demo."""
    from sqlalchemy import select

    from kdcs.models.training import TrainingProgramme

    return _first(select(TrainingProgramme.id).order_by(TrainingProgramme.is_default.desc(), TrainingProgramme.id))


@_filler("question_id")
def _question(user, extra):
    """The first question of the demo course 品牌规则与条款 (its bank is the trainers')."""
    from sqlalchemy import select

    from kdcs.models.training import TrainingCourse, TrainingQuestion

    return _first(select(TrainingQuestion.id).join(TrainingCourse, TrainingCourse.id == TrainingQuestion.course_id)
                  .where(TrainingCourse.title == "品牌规则与条款").order_by(TrainingQuestion.id))


@_filler("attempt_id")
def _attempt(user, extra):
    """The user's quiz attempt in progress (an agent gets one started on a demo course that lets them),
    else their latest; any attempt for users who have none (an attempt is its owner's only: a 404, skipped)."""
    from sqlalchemy import select

    from kdcs.models.training import CourseStatus, QuizAttempt, TrainingCourse
    from kdcs.service_errors import ValidationError
    from kdcs.training.quiz import service as quiz

    for course in db_scalars(select(TrainingCourse).where(TrainingCourse.status == CourseStatus.PUBLISHED)
                             .order_by(TrainingCourse.id)):
        current = quiz.open_attempt(user.id, course.id)
        if current is not None:
            return current.id
        if user.role != "agent":
            continue
        try:
            return quiz.start_attempt(user, course.id).id
        except ValidationError:
            continue
    return (_first(select(QuizAttempt.id).where(QuizAttempt.user_id == user.id).order_by(QuizAttempt.id.desc()))
            or _first(select(QuizAttempt.id).order_by(QuizAttempt.id)))


@_filler("criterion_id")
def _criterion(user, extra):
    """The scorecard's first criterion (质检)."""
    from sqlalchemy import select

    from kdcs.models import QualityCriterion

    return _first(select(QualityCriterion.id).order_by(QualityCriterion.position, QualityCriterion.id))


@_filler("reply_id")
def _reply(user, extra):
    """One of agent1's replies with no review yet (scored by lead1, trainers and admins)."""
    from sqlalchemy import select

    from kdcs.models import QualityReview, TicketReply

    return _first(select(TicketReply.id).where(TicketReply.recorded_by_id == extra["agent1"],
                                               TicketReply.id.not_in(select(QualityReview.reply_id)))
                  .order_by(TicketReply.id))


@_filler("review_id")
def _review(user, extra):
    """agent1's reviews: the undisputed one for agent1 (the dispute form), the disputed one for the
    others (the decision form)."""
    from sqlalchemy import select

    from kdcs.models import QualityReview

    disputed = QualityReview.appeal_state.is_not(None)
    return _first(select(QualityReview.id).where(QualityReview.agent_id == extra["agent1"],
                                                 ~disputed if user.role == "agent" else disputed)
                  .order_by(QualityReview.id))


def db_scalars(query) -> list:
    from kdcs.extensions import db

    return list(db.session.scalars(query))


def _enrich_world(app) -> dict:
    """What the demo company lacks for some pages: an audit trail, a reassigned ticket, an import."""
    from sqlalchemy import select

    from kdcs.extensions import db
    from kdcs.models import Team, Ticket, User
    from kdcs.tickets import service as tickets
    from kdcs.tickets.imports.service import accept_upload

    with app.test_request_context("/"):
        users = {u.username: u for u in db.session.scalars(select(User))}
        # Team 二组 (agent7–12, lead2): no other browser test works with these tickets.
        ticket = db.session.scalar(select(Ticket).where(Ticket.assignee_id == users["agent11"].id,
                                                        Ticket.closed_at.is_(None)).order_by(Ticket.id))
        tickets.add_note(users["lead2"], ticket.id, "已联系网点，等待回复")
        tickets.assign(users["lead2"], ticket.id, users["agent10"].id, version=ticket.version, note="休假交接")
        job = accept_upload(users["admin"], _sto_brand(), SAMPLE_IMPORT.name, io.BytesIO(SAMPLE_IMPORT.read_bytes()))
        return {
            "worked_ticket": ticket.id,
            "import_job": job.id,
            "agent1": users["agent1"].id,
            "team1": db.session.scalar(select(Team.id).where(Team.name == "一组")),
        }


def _sto_brand() -> int:
    from sqlalchemy import select

    from kdcs.extensions import db
    from kdcs.models import Brand

    return db.session.scalar(select(Brand.id).where(Brand.code == "STO"))


@pytest.fixture(scope="module")
def world(e2e_app) -> World:
    from sqlalchemy import select

    from kdcs.extensions import db
    from kdcs.models import User

    extra = _enrich_world(e2e_app)
    result = World()
    with e2e_app.app_context():
        for role, username in ROLE_USERS.items():
            user = db.session.scalar(select(User).where(User.username == username))
            result.ids[role] = {name: fill(user, extra) for name, fill in ID_FILLERS.items()}
    return result


def page_urls(app, ids: dict) -> tuple[list[tuple[str, str]], list[str]]:
    """(endpoint, url) of every GET rule, one per URL shape; and the rules nobody can fill."""
    urls, unfillable = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint in SKIP_ENDPOINTS or rule.rule.endswith(".xlsx"):
            continue
        missing = [arg for arg in rule.arguments if arg not in ids]
        if missing:
            unfillable.append(f"{rule.rule}: no id for {', '.join(missing)} (add it to ID_FILLERS)")
            continue
        values = {arg: ids[arg] for arg in rule.arguments}
        if any(value is None for value in values.values()):
            unfillable.append(f"{rule.rule}: the e2e world has no record for {values}")
            continue
        with app.test_request_context("/"):
            from flask import url_for

            urls.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return urls, unfillable


# --------------------------------------------------------------------------- tests


def test_login_page(page):
    page.goto("/login")
    assert_accessible(page, "the login page")


def test_login_page_with_error(page):
    page.goto("/login")
    page.fill("input[name=username]", "agent12")  # not an account other tests log in with
    page.fill("input[name=password]", "wrong-password-1")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert_accessible(page, "the login page showing an error")


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_every_page_of_each_role(browser, base_url, e2e_app, world, role):
    """Every page this role reaches, one logged-in browser page for all of them."""
    urls, unfillable = page_urls(e2e_app, world.ids[role])
    assert not unfillable, "pages the test cannot open:\n" + "\n".join(unfillable)
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", base_url=base_url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        login(page, ROLE_USERS[role])
        failures, checked, skipped = [], [], []
        for endpoint, url in urls:
            response = page.request.get(url, max_redirects=0)
            kind = response.headers.get("content-type", "")
            if response.status >= 500:
                failures.append(f"{url} ({endpoint}): HTTP {response.status}")
                continue
            if response.status != 200 or not kind.startswith("text/html") or "<html" not in response.text()[:500]:
                skipped.append(f"{url} {response.status} {kind.split(';')[0]}")
                continue
            page.goto(url)
            violations = axe_violations(page)
            checked.append(url)
            if violations:
                failures.append(f"{url} ({endpoint}):\n" + describe(violations))
        print(f"\n{role}: {len(checked)} pages checked; skipped (not a page for this role): {skipped}")
        assert checked, f"{role} reached no page at all"
        assert not failures, f"axe, serious/critical, as {role}:\n" + "\n".join(failures)
    finally:
        context.close()

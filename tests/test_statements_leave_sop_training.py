"""How many SQL statements the leave, SOP and training pages run, with K listed rows and with 3K:
the same number (pinned: an upper limit later work may only lower). Where a page read one row at a
time, the batched reading is compared here with the one-row-at-a-time reading on a varied world."""

from __future__ import annotations

from datetime import date, timedelta

from kdcs.extensions import db
from kdcs.models import LeaveEvent, LeaveStatus, utcnow
from kdcs.models.training import QuestionKind
from tests import factories
from tests.leave_data import leave_type, make_leave
from tests.sql_statements import statements
from tests.test_leave_service import make_leave_world, next_monday


def _count(client, url):
    client.get(url)  # the first request of a kind warms caches (templates, statements)
    with statements() as seen:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(seen), "\n\n".join(seen)


def _pages(client, auth, pages, counted: dict) -> dict:
    """Count each (name, user, url) of ``pages`` once more into ``counted`` (name → [counts]);
    the last statements of each page are kept under ``counted["sql"][name]`` for the messages."""
    for name, user, url in pages:
        auth.login(user)
        count, sql = _count(client, url)
        counted.setdefault(name, []).append(count)
        counted.setdefault("sql", {})[name] = sql
        auth.logout()
    return counted


def _assert_pinned(counted: dict, expected: dict) -> None:
    """Each page ran its pinned number of statements with K rows and with 3K rows."""
    sql = counted.pop("sql")
    wrong = {name: counted[name] for name, pin in expected.items() if counted[name] != [pin, pin]}
    assert not wrong, (str(wrong), "\n\n---\n\n".join(sql[name] for name in wrong))


# --------------------------------------------------------------------------- leave


def _calendar_world(world, n: int):
    """Agent n of the team away two days (covered by a teammate or by someone of no team), and one
    of their outlets handed over by an agent of another team away that week (a covering line of a
    request the calendar did not list)."""
    agent = factories.make_user("agent", username=f"cal{n}", team=world.team, display_name=f"日历{n}")
    outlet = factories.make_outlet(agent=agent, name=f"日历网点{n}")
    start = next_monday(7) + timedelta(days=n % 5)
    substitute = world.agent4 if n % 2 else factories.make_user("agent", username=f"calsub{n}")
    make_leave(agent, [outlet], substitute, start, start + timedelta(days=1))
    other = factories.make_user("agent", username=f"calx{n}", team=world.other_team)
    make_leave(other, [factories.make_outlet(agent=agent, name=f"日历乙网点{n}")],
               factories.make_user("agent", username=f"calxs{n}"), start, start)


def test_leave_pages_statements_do_not_grow_with_the_rows(client, auth):
    """我的请假 (an agent's requests and those waiting for their answer), a request's handover page
    (as its owner and as the lead), its print, the team calendar (month and week) and the leave
    types: the same number of statements with 2 and 6 rows."""
    world = make_leave_world()
    counted: dict = {}
    made = 0
    outlets = [world.outlet, world.outlet2]
    for size in (2, 6):
        while made < size:
            start = next_monday(7) + timedelta(days=7 * made)
            status = [LeaveStatus.APPROVED, LeaveStatus.SUBMITTED, LeaveStatus.SUBSTITUTE_ACCEPTED][made % 3]
            make_leave(world.agent3, [world.outlet, world.outlet2], world.agent4, start, start + timedelta(days=1),
                       status=status, answer=None if status == LeaveStatus.SUBMITTED else "accepted")
            make_leave(world.agent4, [world.own4], world.agent3, start + timedelta(days=3), start + timedelta(days=3),
                       status=LeaveStatus.SUBMITTED, answer=None)
            asker = factories.make_user("agent", username=f"asker{made}", team=world.team)
            make_leave(asker, [factories.make_outlet(agent=asker, name=f"请求网点{made}")], world.agent4,
                       start + timedelta(days=4), start + timedelta(days=4), status=LeaveStatus.SUBMITTED, answer=None)
            outlets.append(factories.make_outlet(agent=world.agent3, name=f"交接网点{made}"))
            factories.make_ticket(outlets[-1])
            _calendar_world(world, made)
            factories.make_user("lead", username=f"approver{made}", team=factories.make_team(f"组{made}"))
            leave_type(f"type{made}", f"假别{made}")
            made += 1
        start = next_monday(7) + timedelta(days=60 * size)
        leave = make_leave(world.agent3, outlets, world.agent4, start, start + timedelta(days=1),
                           status=LeaveStatus.SUBSTITUTE_ACCEPTED)
        for n, item in enumerate(leave.handover[2:]):  # a substitute per new outlet, each answering in the history
            substitute = factories.make_user("agent", username=f"handover{size}_{n}", team=world.team)
            item.substitute_id = substitute.id
            db.session.add(LeaveEvent(request_id=leave.id, actor_id=substitute.id, from_status="submitted",
                                      to_status="submitted", note="同意"))
        db.session.commit()
        monday = next_monday(7).isoformat()
        _pages(client, auth, [
            ("mine", world.agent3, "/leave/"), ("to_answer", world.agent4, "/leave/"),
            ("detail", world.agent3, f"/leave/{leave.id}"), ("detail_lead", world.lead, f"/leave/{leave.id}"),
            ("print", world.agent3, f"/leave/{leave.id}/print"),
            ("month", world.lead, f"/leave/calendar?start={monday}"),
            ("week", world.lead, f"/leave/calendar?view=week&start={monday}"),
            ("types", world.admin, "/leave/types"),
        ], counted)
    expected = {"mine": 9, "to_answer": 9, "detail": 18, "detail_lead": 20, "print": 8, "month": 11, "week": 13,
                "types": 7}
    _assert_pinned(counted, expected)


def _reference_calendar(cal) -> tuple:
    """The covering lines and the week's "covered by" names read one row at a time (what the
    calendar did before: a request and a substitute per covering line, a handover per absence)."""
    from datetime import datetime, time

    from kdcs.leave.coverage import coverage_for
    from kdcs.models import LeaveHandover, LeaveRequest, Outlet, User
    from kdcs.workcalendar import SHANGHAI

    start = datetime.combine(cal.first, time(0), tzinfo=SHANGHAI)
    end = datetime.combine(cal.last + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    outlets = db.session.query(Outlet.id).filter(Outlet.primary_agent_id.in_([m.id for m in cal.members]),
                                                  Outlet.is_active.is_(True)).order_by(Outlet.code)
    lines: dict = {}
    for c in coverage_for(start, end, outlet_ids=[o.id for o in outlets]):
        if (c.request_id, c.substitute_id) not in lines:
            request = db.session.get(LeaveRequest, c.request_id)
            lines[c.request_id, c.substitute_id] = (request.id, request.user.display_name,
                                                    db.session.get(User, c.substitute_id).display_name, [],
                                                    c.start_at, c.end_at)
        lines[c.request_id, c.substitute_id][3].append(c.outlet_id)
    subs = {}
    for day in cal.days:
        for absence in day.away.values():
            rows = db.session.query(LeaveHandover).filter_by(request_id=absence.leave.id).order_by(LeaveHandover.id)
            subs[absence.leave.id] = [h.substitute.display_name if h.substitute else None for h in rows]
    return list(lines.values()), subs


def _calendar_read(cal) -> tuple:
    lines = [(line.leave.id, line.leave.user.display_name, line.substitute.display_name,
              [o.id for o in line.outlets], line.start_at, line.end_at) for line in cal.covers]
    subs = {}
    for day in cal.days:
        for absence in day.away.values():
            subs[absence.leave.id] = [h.substitute.display_name if h.substitute else None
                                      for h in absence.leave.handover]
    return lines, subs


def test_the_calendar_read_at_once_equals_one_row_at_a_time():
    """The week's covering lines (requests of other teams, substitutes of no team) and "covered by"
    names, read at once, are those of the one-row readings."""
    from kdcs.leave import calendar as team_calendars

    world = make_leave_world()
    for n in range(5):
        _calendar_world(world, n)
    # agent3 away with one outlet covered by another team's agent and one handed over to nobody
    make_leave(world.agent3, [world.outlet], world.far, next_monday(7), next_monday(7) + timedelta(days=2))
    make_leave(world.agent3, [world.outlet2], None, next_monday(7) + timedelta(days=3),
               next_monday(7) + timedelta(days=3), answer=None)
    for view in ("week", "month"):
        db.session.expire_all()
        cal = team_calendars.team_calendar(world.lead, world.team, view, next_monday(7))
        got = _calendar_read(cal)
        db.session.expire_all()
        expected = _reference_calendar(cal)
        assert got == expected
        lines, subs = expected
        assert len(lines) == 11 and len({line[1] for line in lines}) == 11  # 5 + 5 owners of another team + agent3
        assert [None] in subs.values() and any(world.far.display_name in names for names in subs.values())


# --------------------------------------------------------------------------- SOP


def _sop_world(users, n: int):
    """Scenario n with n+1 published versions and a draft in review (written by the trainer or the
    admin; every third saved by the admin), an open report on its first version, an open report on
    no scenario and a resolved one (linked to the first version), all three from a ticket."""
    from kdcs.models import AuditLog
    from kdcs.models.sop import SopReport, VersionStatus
    from kdcs.sop.search import reindex_scenario
    from tests.sop_tickets_data import make_scenario

    scenario = make_scenario(f"破损理赔{n}", scripts=[f"第{i}版 破损" for i in range(n + 1)], draft="草稿")
    reindex_scenario(scenario)
    draft = next(v for v in scenario.versions if v.status == VersionStatus.DRAFT)
    draft.status, draft.submitted_at = VersionStatus.IN_REVIEW, utcnow()
    draft.author_id = users.admin.id if n % 2 else users.trainer.id
    if n % 3 == 0:
        db.session.add(AuditLog(actor_id=users.admin.id, action="sop.draft_save", entity_type="sop_version",
                                entity_id=draft.id, summary="保存"))
    reporter = factories.make_user("agent", username=f"reporter{n}")
    first = min((v for v in scenario.versions if v.number), key=lambda v: v.number)  # read before the fix
    ticket = factories.make_ticket(waybill_no=f"7512{n:010d}")
    db.session.add_all([
        SopReport(reporter_id=users.agent.id, scenario_id=scenario.id, version_id=first.id, ticket_id=ticket.id,
                  note=f"第{n}个场景有误"),
        SopReport(reporter_id=reporter.id, note=f"缺少情况{n}", ticket_id=ticket.id),
        SopReport(reporter_id=reporter.id, scenario_id=scenario.id, version_id=first.id,
                  note=f"已处理{n}", status="resolved", answer="已更新", resolved_version_id=first.id,
                  resolved_by_id=users.trainer.id, resolved_at=utcnow(), ticket_id=ticket.id),
    ])
    db.session.commit()
    return scenario


def _reading_world(world, n: int):
    """A required version n (for 一组 or every team), read by agent_a and a new agent."""
    from tests.sop_reading_data import T0, acknowledge, make_scenario, publish

    version = publish(make_scenario(f"必读场景{n}"), teams=[world.one] if n % 2 else [])
    agent = factories.make_user("agent", username=f"reader{n}", team=world.one if n % 2 else world.two)
    acknowledge(world.agent_a, version, T0 + timedelta(hours=1))
    acknowledge(agent, version, T0 + timedelta(hours=2))


def test_sop_pages_statements_do_not_grow_with_the_rows(client, auth, users):
    """The library (list and search), a scenario page (its versions), the review page (drafts in
    review), the reports inbox (open, all) and a report: the same number of statements with 2 and
    6 rows."""
    counted: dict = {}
    made = 0
    for size in (2, 6):
        while made < size:
            scenario = _sop_world(users, made)
            made += 1
        report = db.session.query(__import__("kdcs.models.sop", fromlist=["SopReport"]).SopReport).filter_by(
            scenario_id=scenario.id, status="open").one()
        _pages(client, auth, [
            ("list", users.agent, "/sop/"), ("search", users.agent, "/sop/?q=破损"),
            ("scenario", users.agent, f"/sop/{scenario.id}"), ("review", users.trainer, "/sop/review"),
            ("reports", users.trainer, "/sop/reports"), ("reports_all", users.trainer, "/sop/reports?status=all"),
            ("report", users.trainer, f"/sop/reports/{report.id}"),
        ], counted)
    expected = {"list": 6, "search": 6, "scenario": 8, "review": 12, "reports": 13, "reports_all": 13, "report": 11}
    _assert_pinned(counted, expected)


def test_sop_reading_pages_statements_do_not_grow_with_the_rows(client, auth):
    """The reading matrix (a lead's team, a trainer's, every version), its Excel export and my
    required reading."""
    from tests.sop_reading_data import make_reading_world

    world = make_reading_world()
    counted: dict = {}
    made = 0
    for size in (2, 6):
        while made < size:
            _reading_world(world, made)
            made += 1
        _pages(client, auth, [
            ("lead", world.lead_a, "/sop/reading"), ("trainer", world.trainer, "/sop/reading"),
            ("all", world.trainer, "/sop/reading?all=1"), ("mine", world.agent_a, "/sop/reading/mine"),
            ("export", world.trainer, "/sop/reading/export.xlsx"), ("export_lead", world.lead_a, "/sop/reading/export.xlsx"),
        ], counted)
    expected = {"lead": 7, "trainer": 8, "all": 9, "mine": 6, "export": 5, "export_lead": 6}
    _assert_pinned(counted, expected)


def test_linkable_versions_and_approvers_at_once_equal_one_at_a_time(users):
    """The reports inbox's version choices, versions and tickets, and the review page's "may
    approve", read at once, are those of ``linkable_versions``, ``version_number``,
    ``resolved_version``, ``ticket_label`` and ``may_approve`` per report and per draft (reports on a
    scenario, on none, on an archived scenario; drafts by the viewer, saved by them, by others)."""
    from kdcs.models.sop import SopReport, SopVersion, VersionStatus
    from kdcs.sop import service as sop
    from kdcs.sop.reports import service

    for n in range(5):
        _sop_world(users, n)
    archived = _sop_world(users, 9)
    archived.is_archived = True
    db.session.commit()
    reports = db.session.query(SopReport).order_by(SopReport.id).all()
    expected = {r.id: [v.id for v in service.linkable_versions(r)] for r in reports}
    assert service.linkable_versions(reports[1]) and len({tuple(v) for v in expected.values()}) >= 6
    db.session.expire_all()
    got = service.linkable_versions_many(db.session.query(SopReport).order_by(SopReport.id).all())
    assert {i: [v.id for v in versions] for i, versions in got.items()} == expected
    assert [v.id for v in service.linkable_versions_many(reports, limit=2)[reports[-1].id]] == \
        [v.id for v in service.linkable_versions(reports[-1], limit=2)]
    def cards(box_reports):
        return [(r.id, service.version_number(r), getattr(service.resolved_version(r), "id", None),
                 service.ticket_label(r) if r.ticket_id else None) for r in box_reports]

    db.session.expire_all()
    expected = cards(db.session.query(SopReport).order_by(SopReport.id).all())  # one row at a time
    db.session.expire_all()
    box = service.inbox(users.trainer, "all", per_page=100)
    with statements() as seen:
        got = cards(box.reports)
    assert sorted(got) == expected and not seen  # every card's version and ticket read with the page
    assert any(number == 1 for _i, number, _v, _t in expected) and all(t for *_rest, t in expected)
    drafts = db.session.query(SopVersion).filter_by(status=VersionStatus.IN_REVIEW).order_by(SopVersion.id).all()
    for viewer in (users.trainer, users.admin, users.lead, users.agent):
        expected = {d.id for d in drafts if sop.may_approve(viewer, d)}
        assert sop.approvable_ids(viewer, drafts) == expected
    # the admin may approve the trainer's draft 2, not draft 0 (saved by the admin) nor their own draft 1
    admin_may = sop.approvable_ids(users.admin, drafts)
    assert drafts[2].id in admin_may and drafts[0].id not in admin_may and drafts[1].id not in admin_may


# --------------------------------------------------------------------------- training


def _training_world(users, main, programme, n: int):
    """Course n (published, 上岗必修 every other one, two lessons); on the main course a lesson, a
    question, a practical item; agent n (of the lead's team or of a team of their own) assigned the main course, opening a lesson, with a quiz
    attempt (passed every other one) and sign-offs; users.agent's attempts at course n and the main
    course, and sign-offs by trainer n; course n on the default programme's day n+1, agent n enrolled."""
    from kdcs.training.courses import service as courses
    from kdcs.training.programmes import service as programmes
    from kdcs.training.quiz import service as quiz
    from tests.training_cert_data import sign_off, take_quiz
    from tests.training_world import make_course

    trainer, admin = users.trainer, users.admin
    course = make_course(trainer, title=f"课程{n}", lessons=(f"课{n}甲", f"课{n}乙"), required=n % 2 == 0)
    courses.add_lesson(trainer, main, title=f"加课{n}")
    quiz.create_question(trainer, main, quiz.QuestionDraft(kind=QuestionKind.SINGLE, text=f"题{n}？",
                                                           options=["是", "否"], correct=[0], tags=[f"标签{n}"]))
    courses.save_practical_item(trainer, main, kind="supervised", title=f"带教{n}", days=3,
                                checklist="开场白规范\n核实运单号")
    agent = factories.make_user("agent", username=f"trainee{n}",
                                team=users.team if n % 2 == 0 else factories.make_team(f"培训组{n}"))
    programmes.assign_course(admin, main, user_ids=[agent.id], due_on=date.today() + timedelta(days=n + 1))
    courses.open_lesson(agent, main.lessons[0])
    take_quiz(agent, main, n % 2 == 0)
    take_quiz(users.agent, course, n % 3 == 0)
    take_quiz(users.agent, main, False)
    sign_off(trainer, agent, main, passed=n % 2 == 0)
    sign_off(factories.make_user("trainer", username=f"signer{n}"), users.agent, main, passed=n % 3 == 0)
    programmes.add_item(admin, programme, day_offset=n + 1, course_id=course.id)
    programmes.add_item(admin, programme, day_offset=n + 2, practical_item_id=main.practical_items[-1].id)
    programmes.enroll(admin, programme, user_id=agent.id, start_date=date.today())
    db.session.commit()


def test_training_pages_statements_do_not_grow_with_the_rows(client, auth, users):
    """The course list, a course's page (its lessons with their files, the agents' progress, the
    agent's sign-offs), the editor, the matrix, an agent's record (every course), the quiz
    statistics, bank and its export, the quiz home and an attempt, the matrix filtered and exported, the programmes, a programme's plan, the
    assignment form and a lesson: the same number of statements with 2 and 6 rows."""
    from kdcs.training.courses import service as courses
    from kdcs.training.programmes import service as programmes
    from kdcs.training.quiz import service as quiz
    from tests.training_world import make_course, pdf_upload

    main = make_course(users.trainer, title="主课程", required=False)
    programme = programmes.create_programme(users.admin, title="新人30天计划", is_default=True)
    db.session.commit()
    counted: dict = {}
    made = 0
    attempt = None
    for size in (2, 6):
        while made < size:
            _training_world(users, main, programme, made)
            courses.add_file(users.trainer, main.lessons[-1], pdf_upload(f"时效表{made}.pdf"))
            db.session.commit()
            made += 1
        if attempt is None:
            attempt = quiz.start_attempt(users.agent, main.id)
            db.session.commit()
        agent, trainer, lead, admin = users.agent, users.trainer, users.lead, users.admin
        _pages(client, auth, [
            ("courses", trainer, "/training/courses"), ("courses_agent", agent, "/training/courses"),
            ("course", trainer, f"/training/courses/{main.id}"), ("course_lead", lead, f"/training/courses/{main.id}"),
            ("course_agent", agent, f"/training/courses/{main.id}"), ("edit", trainer, f"/training/courses/{main.id}/edit"),
            ("matrix_lead", lead, "/training/matrix"), ("matrix_trainer", trainer, "/training/matrix"),
            ("person", trainer, f"/training/people/{agent.id}"), ("person_lead", lead, f"/training/people/{agent.id}"),
            ("stats", trainer, f"/training/courses/{main.id}/quiz/stats"),
            ("questions", trainer, f"/training/courses/{main.id}/questions"),
            ("quiz_home", agent, f"/training/courses/{main.id}/quiz"), ("attempt", agent, f"/training/quiz/{attempt.id}"),
            ("programmes", admin, "/training/programmes"), ("programme", admin, f"/training/programmes/{programme.id}"),
            ("assign", trainer, f"/training/courses/{main.id}/assign"),
            ("lesson", agent, f"/training/lessons/{main.lessons[-1].id}"),
            ("matrix_course", trainer, f"/training/matrix?course={main.id}"),
            ("matrix_status", lead, "/training/matrix?status=passed"),
            ("matrix_export", trainer, "/training/matrix/export.xlsx"), ("matrix_export_lead", lead, "/training/matrix/export.xlsx"),
            ("questions_export", trainer, f"/training/courses/{main.id}/questions/export.xlsx"),
        ], counted)
    expected = {"courses": 6, "courses_agent": 5, "course": 14, "course_lead": 9, "course_agent": 16, "edit": 9,
                "matrix_lead": 20, "matrix_trainer": 21, "person": 19, "person_lead": 18, "stats": 7, "questions": 8,
                "quiz_home": 8, "attempt": 6, "programmes": 6, "programme": 15, "assign": 7, "lesson": 9,
                "matrix_course": 18, "matrix_status": 20, "matrix_export": 17, "matrix_export_lead": 18,
                "questions_export": 3}
    _assert_pinned(counted, expected)


def _reference_record(agent_id: int) -> list[tuple]:
    """An agent's record read course by course (``matrix.record`` before it read every course at once)."""
    from kdcs.models.training import PracticalSignoff, QuizAttempt, TrainingCourse
    from kdcs.training.certification import matrix, service

    courses = {c.id: c for c in matrix.published_courses()}
    for course_id in db.session.scalars(db.select(QuizAttempt.course_id).where(QuizAttempt.user_id == agent_id)):
        courses.setdefault(course_id, db.session.get(TrainingCourse, course_id))
    out = []
    for course in courses.values():
        attempts = db.session.scalars(db.select(QuizAttempt).where(
            QuizAttempt.user_id == agent_id, QuizAttempt.course_id == course.id).order_by(QuizAttempt.number.desc()))
        item_ids = [i.id for i in course.practical_items]
        signoffs = db.session.scalars(db.select(PracticalSignoff).where(
            PracticalSignoff.user_id == agent_id, PracticalSignoff.item_id.in_(item_ids or [-1])).order_by(
            PracticalSignoff.signed_at.desc(), PracticalSignoff.id.desc()))
        latest = [(item.id, getattr(service.latest_signoff(agent_id, item), "id", None))
                  for item in service.active_items(course)]
        latest_now = [(item.id, getattr(service.latest_signoff(agent_id, item, course.revision), "id", None))
                      for item in service.active_items(course)]
        result = service.result_for(agent_id, course.id)
        out.append((course.id, service.course_status(agent_id, course), getattr(result, "id", None),
                    [a.id for a in attempts], [s.id for s in signoffs], latest, latest_now))
    return out


def _batched_record(actor, agent_id: int) -> list[tuple]:
    from kdcs.training.certification import matrix, service

    _agent, records = matrix.record(actor, agent_id)
    out = []
    for r in records:
        items = [item for item, _latest in r.items]
        latest_now = service.latest_signoffs(agent_id, items, r.course.revision)
        out.append((r.course.id, r.status, getattr(r.result, "id", None), [a.id for a in r.attempts],
                    [s.id for s in r.signoffs], [(item.id, getattr(s, "id", None)) for item, s in r.items],
                    [(item.id, getattr(latest_now.get(item.id), "id", None)) for item in items]))
    return out


def test_an_agents_record_read_at_once_equals_course_by_course(users):
    """An agent's record (every published course, and a draft course attempted before it was
    unpublished) read at once is the course-by-course reading: attempts newest first, sign-offs
    (archived too), the latest kept sign-off per active item (and of the current revision, the
    course page's box), the status and the result."""
    from kdcs.models.training import CourseStatus, PracticalItem
    from kdcs.training.certification import service
    from tests.training_cert_data import make_course, sign_off, take_quiz

    trainer, admin = users.trainer, users.admin
    agents = [users.agent] + [factories.make_user("agent", username=f"record{n}", team=users.team) for n in range(3)]
    rules = make_course(items=2)
    comms = make_course("沟通技巧与共情话术", questions=0, items=1)
    recap = make_course("季度复盘", required=False, items=3)
    empty = make_course("空课程", required=False, questions=0, items=0)
    draft = make_course("旧版课程", required=False, items=1)
    take_quiz(agents[0], rules, False)
    take_quiz(agents[0], rules, True)
    sign_off(trainer, agents[0], rules, passed=False)
    sign_off(trainer, agents[0], rules)
    sign_off(trainer, agents[0], comms)
    take_quiz(agents[0], draft, True)
    sign_off(trainer, agents[0], draft)
    take_quiz(agents[1], recap, True)
    sign_off(trainer, agents[1], recap)
    service.reset_attempts(admin, agents[1].id, recap.id, "重新考核")  # archived attempts and sign-offs
    sign_off(trainer, agents[1], recap, passed=False)
    take_quiz(agents[2], rules, True)
    sign_off(trainer, agents[2], rules)
    sign_off(trainer, agents[3], recap)
    service.reset_attempts(admin, agents[3].id, recap.id, "重新考核")
    service.record_signoff(trainer, agents[3].id, recap.practical_items[0].id, passed=True, score=90, ticked=[0],
                           comment="只重做了第一项")  # the third item's only sign-off is archived
    rules.revision += 1  # a new revision: the agent's sign-offs are of the old one
    draft.status = CourseStatus.DRAFT
    db.session.get(PracticalItem, recap.practical_items[1].id).is_active = False
    db.session.commit()
    assert empty.id
    for agent in agents:
        expected = _reference_record(agent.id)
        db.session.expire_all()
        assert _batched_record(trainer, agent.id) == expected, agent.username
        db.session.expire_all()
    assert any(course[0] == draft.id for course in _reference_record(agents[0].id))
    recap_row = next(course for course in _reference_record(agents[1].id) if course[0] == recap.id)
    assert len(recap_row[4]) == 6 and len(recap_row[5]) == 2  # 3 archived sign-offs, 3 new; 2 items still in use
    rules_row = next(course for course in _reference_record(agents[2].id) if course[0] == rules.id)
    assert next(c for c in _reference_record(agents[3].id) if c[0] == recap.id)[5][1][1] is None
    assert rules_row[5][0][1] is not None and rules_row[6][0][1] is None  # signed, not for this revision


def test_the_handover_page_reads_a_waiting_request_as_the_inbox_does():
    """The handover page of a request still waiting (for its substitutes' answers, or for the
    decision) shows the rows, loads, staffing and overrides read as the inbox reads them: equal to
    the one-request readings for a submitted request too (several substitutes, one of another team,
    an outlet handed to nobody, a substitute busy covering someone else, a short team)."""
    from kdcs.leave import inbox, service
    from kdcs.models import LeaveRequest
    from tests.test_leave_service import request
    from tests.test_leave_statements import _batched, _due_on, _leaver, _reference

    world = make_leave_world()
    service.set_min_staffing(world.admin, world.team, 5)
    first = next_monday(7)
    make_leave(world.agent3, [world.outlet, world.outlet2], world.agent4, first + timedelta(days=1),
               first + timedelta(days=3))
    _due_on(world.outlet, first + timedelta(days=2))
    _due_on(world.own4, first, 9)
    leaves = []
    for n, substitutes in enumerate([(world.agent4, world.far), (world.far, None), (world.agent4, world.agent4)]):
        agent, outlets = _leaver(world, n)
        _due_on(outlets[0], first + timedelta(days=n))
        leave = request(world, agent, start=first + timedelta(days=n), end=first + timedelta(days=n + 2),
                        substitute=world.agent4)
        for item, substitute in zip(leave.handover, substitutes, strict=True):
            item.substitute_id = substitute.id if substitute else None
        leaves.append(leave)
    db.session.commit()
    service.substitute_answer(world.agent4, leaves[2], True)  # waiting for the decision now
    db.session.commit()
    assert [leave.status for leave in leaves] == ["submitted", "submitted", "substitute_accepted"]
    expected = [_reference(leave) for leave in leaves]
    db.session.expire_all()
    got = [_batched(inbox.items([db.session.get(LeaveRequest, leave.id)])[0]) for leave in leaves]
    assert got == expected
    assert len(expected[0][1]) == 2 and any(load.covered_outlets for _sub, load in expected[0][1])
    assert any(day.short for day in expected[0][2])


def test_return_digest_statements_do_not_grow_with_the_outlets(client, auth):
    """The return digest (/leave/<id>/digest) of a returned leave handing 2 and 6 outlets to as
    many substitutes, with tickets: the same number of statements."""
    world = make_leave_world()
    counted: dict = {}
    outlets, substitutes = [], []
    for size in (2, 6):
        while len(outlets) < size:
            outlets.append(factories.make_outlet(agent=world.agent3, name=f"销假网点{len(outlets)}"))
            substitutes.append(factories.make_user("agent", username=f"digest{len(substitutes)}", team=world.team))
            factories.make_ticket(outlets[-1])
        start = date.today() - timedelta(days=10 * size)
        leave = make_leave(world.agent3, outlets, None, start, start + timedelta(days=3), status=LeaveStatus.RETURNED)
        for item, substitute in zip(leave.handover, substitutes, strict=True):
            item.substitute_id = substitute.id
        db.session.commit()
        _pages(client, auth, [("digest", world.agent3, f"/leave/{leave.id}/digest"),
                              ("digest_lead", world.lead, f"/leave/{leave.id}/digest")], counted)
    _assert_pinned(counted, {"digest": 17, "digest_lead": 18})

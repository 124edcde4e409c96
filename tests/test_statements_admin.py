"""How many SQL statements the admin pages, the notifications page, the ticket import pages and
export and the dashboard pages other than the agent's and lead's home run, with K listed rows and
with 3K: the two counts are equal (nothing is read once per row) and pinned. A pin is an upper
limit: a change that removes a statement lowers it here; one that adds a statement per row fails.

Each test builds its world in two steps (K = 2 rows, then 4 more: 3K = 6) and counts the second
request of the page after each step (the first warms caches)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from kdcs.extensions import db
from kdcs.models import AuditLog, ImportJob, ImportJobRow, OutletRate, RowState, WorkCalendarDay
from kdcs.models.ticket import EvidenceItem
from tests import factories
from tests.sql_statements import statements

_seq = itertools.count(1)


def _count(client, url: str) -> tuple[int, str, str]:
    """(statements of the second request of ``url``, their text, the page's text)."""
    client.get(url)
    with statements() as seen:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(seen), "\n\n".join(seen), response.get_data().decode("utf-8", "replace")


def _counts(client, auth, viewer, url: str | Callable[[], str], add: Callable[[int], None]) -> tuple[list[int], str, str]:
    """The page's statement counts with K rows, then 3K (``add(n)`` adds n listed rows), the last
    request's statements and the last page's text."""
    counted = []
    for added in (2, 4):
        add(added)
        auth.login(viewer)
        count, sql, body = _count(client, url() if callable(url) else url)
        counted.append(count)
        auth.logout()
    return counted, sql, body


# --------------------------------------------------------------------------- users, teams, brands


def test_users_list_statements(client, auth, users):
    """The users list with the going-live badges (a 上岗必修 course is published): the page's users
    with their teams, the badges' certification rows and gate for the page at once."""
    from tests.training_cert_data import make_course

    make_course(items=1)

    def add(n):
        for _ in range(n):
            team = factories.make_team()
            factories.make_user("agent", team=team)
            factories.make_user("lead", team=team)

    counted, sql, _body = _counts(client, auth, users.admin, "/admin/users", add)
    assert counted == [10, 10], (counted, sql)


def test_user_page_statements(client, auth, users):
    """A user's page: their outlets and their audit entries (each with its actor) in one statement each."""
    def add(n):
        for _ in range(n):
            factories.make_outlet(agent=users.agent)
            db.session.add(AuditLog(actor_id=factories.make_user("admin").id, action="user.update",
                                    entity_type="user", entity_id=users.agent.id, summary="x"))
            db.session.commit()

    counted, sql, _body = _counts(client, auth, users.admin, f"/admin/users/{users.agent.id}", add)
    assert counted == [10, 10], (counted, sql)


def test_teams_list_statements(client, auth, users):
    """The teams list: each team with its lead and member counts in one statement."""
    def add(n):
        for _ in range(n):
            team = factories.make_team(lead=factories.make_user("lead"))
            factories.make_user("agent", team=team)

    counted, sql, _body = _counts(client, auth, users.admin, "/admin/teams", add)
    assert counted == [6, 6], (counted, sql)


def test_team_page_statements(client, auth, users):
    """A team's page: members with their outlet counts, the team's audit entries with their actors."""
    def add(n):
        for _ in range(n):
            agent = factories.make_user("agent", team=users.team)
            factories.make_outlet(agent=agent)
            db.session.add(AuditLog(actor_id=agent.id, action="team.update", entity_type="team",
                                    entity_id=users.team.id, summary="x"))
            db.session.commit()

    counted, sql, _body = _counts(client, auth, users.admin, f"/admin/teams/{users.team.id}", add)
    assert counted == [9, 9], (counted, sql)


def test_brands_list_statements(client, auth, users):
    """The brands list: each brand with its outlet counts in one statement."""
    def add(n):
        for _ in range(n):
            factories.make_outlet(brand=factories.make_brand())

    counted, sql, _body = _counts(client, auth, users.admin, "/admin/brands", add)
    assert counted == [5, 5], (counted, sql)


# --------------------------------------------------------------------------- outlets


def test_outlets_list_statements(client, auth, users):
    """The admin outlet list (active and inactive outlets, each with a rate history and an agent):
    the page's outlets, the filters' brands and agents, the rates in force for the page at once."""
    def add(n):
        for _ in range(n):
            agent = factories.make_user("agent", team=factories.make_team())
            outlet = factories.make_outlet(agent=agent, active=bool(next(_seq) % 2))
            db.session.add(OutletRate(outlet_id=outlet.id, month=date(2026, 1, 1), rate=Decimal("0.0300"),
                                      created_by_id=agent.id))
            factories.make_volume(outlet, date(2026, 10, 1), 10, 20)

    counted, sql, _body = _counts(client, auth, users.admin, "/admin/outlets?active=", add)
    assert counted == [9, 9], (counted, sql)


def test_outlets_export_statements(client, auth, users):
    """The outlet export (.xlsx): the outlets with their brands and agents, and the rates, at once."""
    def add(n):
        for _ in range(n):
            agent = factories.make_user("agent", team=factories.make_team())
            outlet = factories.make_outlet(agent=agent)
            db.session.add(OutletRate(outlet_id=outlet.id, month=date(2026, 1, 1), rate=Decimal("0.0300"),
                                      created_by_id=agent.id))
            factories.make_volume(outlet, date(2026, 10, 1), 10, 20)

    counted, sql, _body = _counts(client, auth, users.admin, "/admin/outlets/export.xlsx", add)
    assert counted == [2, 2], (counted, sql)


def test_outlet_page_statements(client, auth, users):
    """An outlet's page with its volumes and its rate history, each rate entered by someone else:
    the authors come with the history (they were read one by one: 12 statements at 2 entries, 16 at 6)."""
    outlet = factories.make_outlet(agent=users.agent)
    months = itertools.count(0)
    authors = []

    def add(n):
        for _ in range(n):
            i = next(months)
            month = date(2024 + i // 12, i % 12 + 1, 1)
            factories.make_volume(outlet, month, 10 + i, 20)
            author = factories.make_user("admin", display_name=f"录入人{i}")
            authors.append(author.display_name)
            db.session.add(OutletRate(outlet_id=outlet.id, month=month, rate=Decimal("0.0300"),
                                      created_by_id=author.id))
            db.session.commit()

    counted, sql, body = _counts(client, auth, users.admin, f"/outlets/{outlet.id}", add)
    assert counted == [13, 13], (counted, sql)  # + 月度指标: tickets, fines, overtime (kdcs/outlets/kpis.py)
    assert all(name in body for name in authors), authors


# --------------------------------------------------------------------------- ticket settings


def test_deadline_rules_statements(client, auth, users):
    """The deadline rules: each rule with its brand and reason, read with the rules."""
    def add(n):
        for _ in range(n):
            factories.make_rule(brand=factories.make_brand(), reason=factories.make_reason())

    counted, sql, _body = _counts(client, auth, users.admin, "/tickets/rules", add)
    assert counted == [13, 13], (counted, sql)


def test_rule_preview_statements(client, auth, users):
    """A rule's preview over days off (service hours): the calendar's days are read at once."""
    rule = factories.make_rule(mode="service_hours")
    days = itertools.count(0)

    def add(n):
        for _ in range(n):
            db.session.add(WorkCalendarDay(day=date(2026, 3, 1) + timedelta(days=next(days)), is_workday=False,
                                           name="节"))
            db.session.commit()

    url = f"/tickets/rules/preview?rule_id={rule.id}&start=2026-03-01T10:00"
    counted, sql, _body = _counts(client, auth, users.admin, url, add)
    assert counted == [11, 11], (counted, sql)


def test_reasons_statements(client, auth, users):
    """The reason lists: the reasons, and their usage (tickets, rules) for all of them at once."""
    def add(n):
        for _ in range(n):
            reason = factories.make_reason()
            factories.make_reason(category="work_order")
            factories.make_rule(reason=reason)
            db.session.add(EvidenceItem(reason_id=reason.id, name=f"照片{next(_seq)}"))
            db.session.commit()

    counted, sql, _body = _counts(client, auth, users.admin, "/tickets/reason-lists", add)
    assert counted == [7, 7], (counted, sql)


def test_canned_replies_statements(client, auth, users):
    """The canned replies, each for a reason of its own: the reasons come with the replies (they
    were read one by one: 9 statements at 2 replies, 13 at 6)."""
    names = []

    def add(n):
        for _ in range(n):
            reply = factories.make_canned()
            reason = factories.make_reason(category="work_order", name=f"原因甲{next(_seq)}")
            reply.reason_id = reason.id
            names.append(reason.name)
            db.session.commit()

    counted, sql, body = _counts(client, auth, users.admin, "/tickets/canned-replies", add)
    assert counted == [7, 7], (counted, sql)
    assert all(name in body for name in names), names


def test_evidence_checklists_statements(client, auth, users):
    """The evidence checklists of every 仲裁/问题件 reason: the items of all reasons in one statement
    (they were read reason by reason: 8 statements at 2 reasons, 12 at 6)."""
    names = []

    def add(n):
        for _ in range(n):
            reason = factories.make_reason()
            name = f"照片{next(_seq)}"
            names.append(name)
            db.session.add(EvidenceItem(reason_id=reason.id, name=name))
            db.session.commit()

    counted, sql, body = _counts(client, auth, users.admin, "/tickets/evidence-items", add)
    assert counted == [7, 7], (counted, sql)
    assert all(name in body for name in names), names


def test_items_by_reason_matches_items_for_each_reason():
    """``items_by_reason`` (the checklists page's one statement) gives each reason what ``items_for``
    gives it alone, active only or with the inactive items: items in sort order then id, another
    reason's items kept apart, a reason without items, an unknown reason id."""
    from kdcs.tickets.attachments import checklist

    reasons = [factories.make_reason(), factories.make_reason(category="arbitration"), factories.make_reason()]
    other = factories.make_reason()
    for reason, specs in zip(reasons, [[(20, True), (10, True), (10, False), (5, True)],
                                       [(0, False), (1, True)], []], strict=True):
        for sort_order, active in specs:
            db.session.add(EvidenceItem(reason_id=reason.id, name=f"项{next(_seq)}", sort_order=sort_order,
                                        is_active=active))
    db.session.add(EvidenceItem(reason_id=other.id, name="别的原因的项", sort_order=1))
    db.session.commit()
    ids = [reason.id for reason in reasons] + [999_999]
    for include_inactive in (True, False):
        expected = {reason_id: checklist.items_for(reason_id, include_inactive=include_inactive) for reason_id in ids}
        assert expected[reasons[0].id] and not expected[reasons[2].id]
        with statements() as seen:
            assert checklist.items_by_reason(ids, include_inactive=include_inactive) == expected
        assert len(seen) == 1, seen
    assert checklist.items_by_reason([]) == {}


def _calendar_days_from(first: date) -> Callable[[int], None]:
    """``add(n)``: n more exception days (every other day from ``first``, alternately off and on)."""
    days = itertools.count(0)

    def add(n):
        for _ in range(n):
            day = first + timedelta(days=next(days) * 2)
            db.session.add(WorkCalendarDay(day=day, is_workday=bool(day.day % 2), name="节"))
            db.session.commit()

    return add


def test_work_calendar_statements(client, auth, users):
    """The work calendar's month with a day selected: the month's days off and make-up days at once."""
    counted, sql, _body = _counts(client, auth, users.admin, "/tickets/calendar?year=2026&month=1&day=2026-01-05",
                                  _calendar_days_from(date(2026, 1, 1)))
    assert counted == [8, 8], (counted, sql)


def test_holiday_notice_statements(client, auth, users):
    """The holiday notice page of a year that already has days: their count only."""
    counted, sql, _body = _counts(client, auth, users.admin, "/work-calendar/notice?year=2027",
                                  _calendar_days_from(date(2027, 1, 1)))
    assert counted == [4, 4], (counted, sql)


# --------------------------------------------------------------------------- audit, notifications


def test_audit_log_statements(client, auth, users):
    """The audit log (each entry by another actor): entries with their actors, the filters' options."""
    def add(n):
        for _ in range(n):
            actor = factories.make_user("admin")
            db.session.add(AuditLog(actor_id=actor.id, action=f"x.y{next(_seq)}", entity_type=f"e{next(_seq)}",
                                    entity_id=1, summary="x"))
            db.session.commit()

    counted, sql, _body = _counts(client, auth, users.admin, "/admin/audit", add)
    assert counted == [9, 9], (counted, sql)
    url = f"/admin/audit?entity=user&entity_id={users.agent.id}"

    def add_user_entries(n):
        for _ in range(n):
            db.session.add(AuditLog(actor_id=factories.make_user("admin").id, action="user.update",
                                    entity_type="user", entity_id=users.agent.id, summary="x",
                                    before={"phone": "1"}, after={"phone": "2"}))
            db.session.commit()

    counted, sql, _body = _counts(client, auth, users.admin, url, add_user_entries)
    assert counted == [10, 10], (counted, sql)


def test_notifications_page_statements(client, auth, users):
    """The notifications page: the user's notifications in one statement (an agent's and an admin's)."""
    def add(n):
        for _ in range(n):
            factories.make_notification(users.agent, link="/tickets/")
            factories.make_notification(users.admin, link="/tickets/")

    counted, sql, _body = _counts(client, auth, users.agent, "/notifications/", add)
    assert counted == [5, 5], (counted, sql)
    counted, sql, _body = _counts(client, auth, users.admin, "/notifications/", add)
    assert counted == [6, 6], (counted, sql)


# --------------------------------------------------------------------------- ticket import and export


def _job(user, brand, status: str = "done", **fields) -> ImportJob:
    job = ImportJob(created_by_id=user.id, brand_id=brand.id, filename="工单.xlsx", file_kind="xlsx", status=status,
                    **fields)
    db.session.add(job)
    db.session.commit()
    return job


def test_import_jobs_list_statements(client, auth, users):
    """The import page's recent jobs, each of another brand and uploader: brands and uploaders come
    with the jobs (the uploaders were read one by one: 8 statements at 2 jobs, 12 at 6)."""
    uploaders = []

    def add(n):
        for _ in range(n):
            uploader = factories.make_user("admin", display_name=f"上传人{next(_seq)}")
            uploaders.append(uploader.display_name)
            _job(uploader, factories.make_brand(), inserted_rows=3)

    counted, sql, body = _counts(client, auth, users.admin, "/tickets/import", add)
    assert counted == [6, 6], (counted, sql)
    assert all(name in body for name in uploaders), uploaders


def test_import_job_page_statements(client, auth, users):
    """A job's page, finished (its error rows) and checked (error rows and samples of the valid
    and duplicate rows): one statement per kind of row, whatever their number."""
    done = _job(users.admin, factories.make_brand(), status="done")
    checked = _job(users.admin, factories.make_brand(), status="validated")

    def add_to(job):
        def add(n):
            for _ in range(n):
                line = next(_seq)
                for state, offset in ((RowState.ERROR, 0), (RowState.OK, 1000), (RowState.DUPLICATE, 2000)):
                    db.session.add(ImportJobRow(
                        job_id=job.id, line=line + offset, state=state, waybill_text="75120000001",
                        errors=[["waybill_no", "运单号格式不对", "other"]] if state == RowState.ERROR else None,
                        outlet_text="网点", reason_text="原因", category="problem"))
                db.session.commit()
        return add

    counted, sql, _body = _counts(client, auth, users.admin, f"/tickets/import/{done.id}", add_to(done))
    assert counted == [7, 7], (counted, sql)
    counted, sql, _body = _counts(client, auth, users.admin, f"/tickets/import/{checked.id}", add_to(checked))
    assert counted == [9, 9], (counted, sql)


def test_ticket_export_statements(client, auth, users):
    """The ticket export (.xlsx): the names (outlets, brands, reasons, users) once, then the tickets."""
    def add(n):
        for _ in range(n):
            agent = factories.make_user("agent", team=factories.make_team())
            factories.make_ticket(factories.make_outlet(agent=agent))

    counted, sql, _body = _counts(client, auth, users.admin, "/tickets/export.xlsx", add)
    assert counted == [6, 6], (counted, sql)


# --------------------------------------------------------------------------- dashboard


def test_admin_home_statements(client, auth, users):
    """The admin's home: the counts, the newest audit entries with their actors, the worker, the calendar,
    and the 毛利 card (the newest month with parcels, then 人均毛利's eight statements and the people)."""
    def add(n):
        for _ in range(n):
            agent = factories.make_user("agent", team=factories.make_team())
            factories.make_ticket(factories.make_outlet(agent=agent))
            db.session.add(AuditLog(actor_id=agent.id, action="x", entity_type="user", entity_id=1, summary="x"))
            db.session.commit()

    counted, sql, _body = _counts(client, auth, users.admin, "/", add)
    assert counted == [23, 23], (counted, sql)


def test_trainer_home_statements(client, auth, users):
    """The trainer's home: active agents with their teams, grouped by team; this week's 质检 per team
    (the teams, the pass line, the week's checks and the disputes waiting: four statements)."""
    def add(n):
        for _ in range(n):
            factories.make_user("agent", team=factories.make_team())

    counted, sql, _body = _counts(client, auth, users.trainer, "/", add)
    assert counted == [11, 11], (counted, sql)


def test_lead_team_page_statements(client, auth, users):
    """The lead's team page: members, their outlets and last month's fees for all of them at once,
    and who is on leave now (one statement for all)."""
    def add(n):
        for _ in range(n):
            agent = factories.make_user("agent", team=users.team)
            outlet = factories.make_outlet(agent=agent)
            factories.make_volume(outlet, date(2026, 10, 1), 10, 20)
            factories.make_ticket(outlet)

    counted, sql, _body = _counts(client, auth, users.lead, "/team", add)
    assert counted == [10, 10], (counted, sql)

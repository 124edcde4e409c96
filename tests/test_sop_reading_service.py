"""Required reading (72-hour rule): targets, minor edits, acknowledgements, reminders, lead scope."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kdcs.extensions import db
from kdcs.models import Notification
from kdcs.models.sop import SopAcknowledgement, SopReadingNotice
from kdcs.permissions import PermissionDenied
from kdcs.service_errors import NotFound, ValidationError
from kdcs.sop.reading import service
from kdcs.sop.reading.tasks import send_reading_reminders
from tests import factories
from tests.sop_reading_data import T0, acknowledge, make_reading_world, make_scenario, publish

H = timedelta(hours=1)


@pytest.fixture
def w():
    return make_reading_world()


def notifications(user, kind="sop_reading"):
    return list(db.session.scalars(select(Notification).where(
        Notification.user_id == user.id, Notification.kind == kind).order_by(Notification.id)))


def unread(user, now):
    """``unread_for``; the banner's one statement (``banner_for``) lists the same items."""
    items = service.unread_for(user, now)
    assert _shown(service.banner_for(user, now)) == _shown(items)
    return items


def unread_titles(user, now):
    return [(item.version.title, item.version.number) for item in unread(user, now)]


def _shown(items):
    return [(i.version.id, i.version.scenario_id, i.version.title, i.version.number, i.start_at, i.due_at,
             i.acknowledged_at, i.status) for i in items]


# --------------------------------------------------------------------------- targets and publishing


def test_publishing_sets_the_72_hour_deadline_and_tells_every_targeted_agent(w):
    version = publish(make_scenario())
    assert version.reading_due_at == T0 + 72 * H
    assert {u.username for u in service.targets(version)} == {"agent_a", "agent_b", "agent_c"}
    for agent in (w.agent_a, w.agent_b, w.agent_c):
        [note] = notifications(agent)
        assert note.link == f"/sop/{version.scenario_id}"
        assert "破损理赔" in note.title
    for other in (w.lead_a, w.trainer, w.admin):
        assert notifications(other) == []


def test_a_team_version_targets_that_team_only(w):
    version = publish(make_scenario(), teams=[w.two])
    assert [u.username for u in service.targets(version)] == ["agent_c"]
    assert unread_titles(w.agent_a, T0 + H) == []
    assert unread_titles(w.agent_c, T0 + H) == [("破损理赔", 1)]


def test_not_required_and_inactive_and_other_roles_are_not_targets(w):
    publish(make_scenario("催件"), required=False)
    assert unread_titles(w.agent_a, T0 + H) == []
    version = publish(make_scenario("查件"))
    w.agent_b.is_active_account = False
    db.session.commit()
    assert [u.username for u in service.targets(version)] == ["agent_a", "agent_c"]
    assert service.items_for(w.lead_a, T0 + H) == [] and service.items_for(w.trainer, T0 + H) == []


def test_an_archived_scenario_asks_nothing(w):
    scenario = make_scenario()
    publish(scenario)
    scenario.is_archived = True
    db.session.commit()
    assert unread_titles(w.agent_a, T0 + H) == []


def test_an_agent_joining_a_target_team_before_the_deadline_must_read_it(w):
    publish(make_scenario(), teams=[w.one])
    assert unread_titles(w.agent_c, T0 + H) == []
    w.agent_c.team_id = w.one.id
    db.session.commit()
    assert unread_titles(w.agent_c, T0 + 2 * H) == [("破损理赔", 1)]


def test_an_agent_created_after_publishing_gets_their_own_window_and_is_not_overdue_retroactively(w):
    version = publish(make_scenario())
    newcomer = factories.make_user("agent", username="agent_new", team=w.one)
    newcomer.created_at = T0 + 60 * H
    db.session.commit()
    assert service.window_of(version, newcomer) == (T0 + 60 * H, T0 + 132 * H)
    [item] = unread(newcomer, T0 + 80 * H)  # past the version's deadline, inside theirs
    assert item.status == service.PENDING
    assert unread(w.agent_a, T0 + 80 * H)[0].status == service.OVERDUE_STATUS
    late = factories.make_user("agent", username="agent_late", team=w.one)
    late.created_at = T0 + 73 * H  # after the deadline: not asked
    db.session.commit()
    assert unread(late, T0 + 80 * H) == []


# --------------------------------------------------------------------------- minor edits and acknowledging


def test_a_minor_edit_needs_no_new_acknowledgement(w):
    scenario = make_scenario()
    v1 = publish(scenario)
    acknowledge(w.agent_a, v1, T0 + 2 * H)
    v2 = publish(scenario, minor=True, published_at=T0 + 10 * H)
    assert v2.reading_due_at is not None
    assert notifications(w.agent_a)[1:] == []  # no new "required reading" notice
    assert unread_titles(w.agent_a, T0 + 11 * H) == []
    assert unread_titles(w.agent_b, T0 + 11 * H) == [("破损理赔", 1)]  # still owes version 1
    state = service.ack_state(w.agent_b, v2, T0 + 11 * H)
    assert state.required.id == v1.id and state.can_acknowledge  # reading v2 covers v1
    service.acknowledge(w.agent_b, v2, T0 + 12 * H)
    assert unread_titles(w.agent_b, T0 + 13 * H) == []


def test_a_new_required_version_asks_again_and_supersedes_the_older_one(w):
    scenario = make_scenario()
    v1 = publish(scenario)
    acknowledge(w.agent_a, v1, T0 + H)
    v2 = publish(scenario, published_at=T0 + 5 * H)
    items = unread(w.agent_a, T0 + 6 * H)
    assert [(i.version.id, i.due_at) for i in items] == [(v2.id, T0 + 77 * H)]
    assert [i.version.id for i in unread(w.agent_b, T0 + 6 * H)] == [v2.id]
    state = service.ack_state(w.agent_a, v1, T0 + 6 * H)  # the old page: not the one to acknowledge
    assert state.required.id == v2.id and not state.can_acknowledge
    with pytest.raises(ValidationError):
        service.acknowledge(w.agent_b, v1)  # agent_b owes version 2: version 1 no longer counts


def test_acknowledge_records_version_and_time_once(w):
    version = publish(make_scenario())
    first = service.acknowledge(w.agent_a, version, T0 + 3 * H)
    again = service.acknowledge(w.agent_a, version, T0 + 4 * H)
    assert first.id == again.id and again.acknowledged_at == T0 + 3 * H
    assert db.session.scalar(select(func.count(SopAcknowledgement.id))) == 1
    assert unread(w.agent_a, T0 + 5 * H) == []
    from kdcs.models import AuditLog

    assert db.session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "sop.acknowledge")) == 1


def test_acknowledge_refuses_who_is_not_asked_and_unpublished_versions(w):
    version = publish(make_scenario(), teams=[w.two])
    with pytest.raises(ValidationError):
        service.acknowledge(w.agent_a, version)  # another team
    with pytest.raises(ValidationError):
        service.acknowledge(w.trainer, version)
    version.status = "draft"
    db.session.commit()
    with pytest.raises(NotFound):
        service.acknowledge(w.agent_c, version)


def test_mine_lists_what_to_read_and_what_was_read(w):
    read = publish(make_scenario("查件"))
    publish(make_scenario("拒收"), published_at=T0 + H)
    acknowledge(w.agent_a, read, T0 + 2 * H)
    mine = service.mine(w.agent_a, T0 + 3 * H)
    assert [i.version.title for i in mine.to_read] == ["拒收"]
    assert [i.version.title for i in mine.read] == ["查件"]
    assert [a.version_id for a in mine.history] == [read.id]


# --------------------------------------------------------------------------- reminders


def run(now):
    return send_reading_reminders.call_local(now)


def test_reminders_at_24_and_48_hours_then_the_lead_at_the_deadline_each_once(w):
    version = publish(make_scenario())
    acknowledge(w.agent_b, version, T0 + 2 * H)
    assert run(T0 + 23 * H) == {"24h": 0, "48h": 0, "overdue": 0}
    assert run(T0 + 24 * H) == {"24h": 2, "48h": 0, "overdue": 0}  # agent_a and agent_c
    assert run(T0 + 25 * H) == {"24h": 0, "48h": 0, "overdue": 0}
    assert run(T0 + 48 * H) == {"24h": 0, "48h": 2, "overdue": 0}
    acknowledge(w.agent_c, version, T0 + 50 * H)
    assert run(T0 + 72 * H) == {"24h": 0, "48h": 0, "overdue": 1}
    assert run(T0 + 73 * H) == {"24h": 0, "48h": 0, "overdue": 0}
    assert len(notifications(w.agent_a)) == 3  # published, 24 h, 48 h
    assert len(notifications(w.agent_b)) == 1  # published only: acknowledged in time
    [to_lead] = notifications(w.lead_a)
    assert "张伟" in to_lead.body and "李娜" not in to_lead.body
    assert to_lead.link == f"/sop/reading?team={w.one.id}"
    assert notifications(w.lead_b) == []  # agent_c acknowledged before the deadline
    thresholds = db.session.scalars(select(SopReadingNotice.threshold).where(
        SopReadingNotice.user_id == w.agent_a.id).order_by(SopReadingNotice.id))
    assert list(thresholds) == ["24h", "48h", "overdue"]


def test_a_worker_that_was_down_sends_only_the_highest_threshold(w):
    publish(make_scenario(), teams=[w.two])
    assert run(T0 + 50 * H) == {"24h": 0, "48h": 1, "overdue": 0}
    assert run(T0 + 51 * H) == {"24h": 0, "48h": 0, "overdue": 0}
    assert len(notifications(w.agent_c)) == 2


def test_the_lead_gets_one_notice_listing_every_overdue_agent(w):
    publish(make_scenario(), teams=[w.one])
    run(T0 + 80 * H)
    run(T0 + 81 * H)
    [note] = notifications(w.lead_a)
    assert "张伟" in note.body and "李娜" in note.body


def test_the_task_through_the_queue_and_twice_at_the_same_time_sends_once(w):
    publish(make_scenario(), teams=[w.two])
    send_reading_reminders(T0 + 30 * H)  # enqueued; immediate mode in tests runs it in-process
    assert len(notifications(w.agent_c)) == 2  # published, 24 h (a periodic task stores no result)
    assert run(T0 + 30 * H) == {"24h": 0, "48h": 0, "overdue": 0}
    assert len(notifications(w.agent_c)) == 2


def test_two_workers_running_at_the_same_moment_send_each_notice_once(w):
    import threading

    publish(make_scenario())
    agent_ids = [w.agent_a.id, w.agent_b.id, w.agent_c.id]
    db.session.remove()  # the workers use their own sessions; the test's must not hold a transaction
    start, results, errors = threading.Barrier(2), [], []

    def worker():
        try:
            start.wait(timeout=10)
            results.append(run(T0 + 30 * H))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sum(r["24h"] for r in results) == 3  # agent_a, agent_b, agent_c: once each, between the two
    for agent_id in agent_ids:
        assert db.session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == agent_id)) == 2  # published, 24 h


def test_a_marker_written_by_another_worker_first_is_skipped(w):
    version = publish(make_scenario(), teams=[w.two])
    db.session.add(SopReadingNotice(user_id=w.agent_c.id, version_id=version.id, threshold="24h", sent_at=T0))
    db.session.commit()
    assert run(T0 + 30 * H) == {"24h": 0, "48h": 0, "overdue": 0}
    assert len(notifications(w.agent_c)) == 1


def test_no_reminders_for_minor_edits_superseded_or_long_past_versions(w):
    scenario = make_scenario()
    v1 = publish(scenario)
    for agent in (w.agent_a, w.agent_b, w.agent_c):
        acknowledge(agent, v1, T0 + H)
    publish(scenario, minor=True, published_at=T0 + 2 * H)
    assert run(T0 + 100 * H) == {"24h": 0, "48h": 0, "overdue": 0}
    old = make_scenario("查件")
    publish(old, published_at=T0 - timedelta(days=60))
    assert run(T0 + 100 * H) == {"24h": 0, "48h": 0, "overdue": 0}


def test_a_late_joiner_is_reminded_from_their_own_start(w):
    publish(make_scenario(), teams=[w.one])
    newcomer = factories.make_user("agent", username="agent_new", team=w.one, display_name="新人")
    newcomer.created_at = T0 + 60 * H
    db.session.commit()
    assert run(T0 + 73 * H) == {"24h": 0, "48h": 0, "overdue": 2}  # agent_a, agent_b; not the newcomer
    assert "新人" not in notifications(w.lead_a)[0].body
    assert run(T0 + 84 * H) == {"24h": 1, "48h": 0, "overdue": 0}  # 24 h after the account was created
    assert run(T0 + 132 * H) == {"24h": 0, "48h": 0, "overdue": 1}
    assert "新人" in notifications(w.lead_a)[-1].body


# --------------------------------------------------------------------------- the matrix and its scope


def test_matrix_statuses_and_counts(w):
    scenario = make_scenario()
    version = publish(scenario)
    acknowledge(w.agent_a, version, T0 + 2 * H)
    data = service.matrix(w.trainer, now=T0 + 80 * H)
    assert [a.username for a in data.agents] == ["agent_a", "agent_b", "agent_c"]
    [row] = data.rows
    assert [c.status for c in row.cells] == ["acknowledged", "overdue", "overdue"]
    assert row.cells[0].acknowledged_at == T0 + 2 * H
    assert row.counts == {"acknowledged": 1, "pending": 0, "overdue": 2, "total": 3}
    assert [c.status for c in service.matrix(w.admin, now=T0 + H).rows[0].cells] == [
        "acknowledged", "pending", "pending"]


def test_matrix_cells_for_agents_a_version_does_not_ask(w):
    publish(make_scenario("查件"), teams=[w.one])
    publish(make_scenario("拒收"), teams=[w.two])
    data = service.matrix(w.trainer, now=T0 + H)
    by_title = {r.version.title: [c.status for c in r.cells] for r in data.rows}
    assert by_title["查件"] == ["pending", "pending", None]
    assert by_title["拒收"] == [None, None, "pending"]


def test_matrix_team_filter_and_lead_scope(w):
    publish(make_scenario())
    assert [a.username for a in service.matrix(w.trainer, team_id=w.two.id, now=T0).agents] == ["agent_c"]
    lead_view = service.matrix(w.lead_a, now=T0)
    assert [a.username for a in lead_view.agents] == ["agent_a", "agent_b"]
    assert [t.name for t in lead_view.teams] == ["一组"]
    assert [a.username for a in service.matrix(w.lead_a, team_id=w.one.id, now=T0).agents] == ["agent_a", "agent_b"]
    with pytest.raises(PermissionDenied):
        service.matrix(w.lead_a, team_id=w.two.id)
    with pytest.raises(PermissionDenied):
        service.matrix(w.agent_a)
    with pytest.raises(NotFound):
        service.matrix(w.trainer, team_id=9999)


def test_matrix_show_all_includes_superseded_versions(w):
    scenario = make_scenario()
    v1 = publish(scenario)
    acknowledge(w.agent_a, v1, T0 + H)
    publish(scenario, published_at=T0 + 5 * H)
    assert [r.version.number for r in service.matrix(w.trainer, now=T0 + 6 * H).rows] == [2]
    rows = service.matrix(w.trainer, show_all=True, now=T0 + 6 * H).rows
    assert [(r.version.number, r.superseded) for r in rows] == [(2, False), (1, True)]
    assert rows[1].cells[0].status == "acknowledged"


def test_export_writes_the_matrix_through_the_safe_writer(w):
    from io import BytesIO

    from openpyxl import load_workbook

    scenario = make_scenario("=HYPERLINK(\"http://evil.example\",\"点我\")")
    version = publish(scenario)
    acknowledge(w.agent_a, version, T0 + 2 * H)
    book = load_workbook(BytesIO(service.export_matrix(w.lead_a, now=T0 + 80 * H)))
    summary, details = book.worksheets
    assert [c.value for c in summary[2]][:2] == [scenario.title, 1]
    assert summary["A2"].data_type == "s"
    rows = [[c.value for c in row] for row in details.iter_rows(min_row=2)]
    assert [(r[2], r[5]) for r in rows] == [("agent_a", "已确认"), ("agent_b", "已逾期")]
    assert rows[0][6].strftime("%Y-%m-%d %H:%M") == "2026-11-02 11:00"  # Beijing time


def test_matrix_leaves_out_versions_that_ask_nobody_in_scope(w):
    publish(make_scenario("查件"), teams=[w.one])
    publish(make_scenario("拒收"), teams=[w.two])
    lead_view = service.matrix(w.lead_b, now=T0 + H)
    assert [r.version.title for r in lead_view.rows] == ["拒收"] and lead_view.published == 2
    assert service.matrix(w.trainer, team_id=w.one.id, now=T0 + H).rows[0].version.title == "查件"

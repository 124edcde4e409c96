"""The lead's Monday 团队周报 (kdcs/dashboard/digest.py): last week's figures in the bell from Monday 08:00
Beijing, once per lead and week whatever runs the task again, with 团队表现's totals and a link to the week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from kdcs.dashboard import digest, performance
from kdcs.extensions import db
from kdcs.models import Notification, SentMark
from tests import factories
from tests.test_team_performance import _ticket

MONDAY_0759 = datetime(2026, 11, 29, 23, 59, tzinfo=UTC)  # Monday 30 November, 07:59 in Beijing
MONDAY_0800 = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)  # 08:00 in Beijing
LAST_WEEK = date(2026, 11, 23)
TUESDAY = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # in last week, 10:00 Beijing


def _digests(user=None):
    query = db.select(Notification).where(Notification.kind == "team_week").order_by(Notification.id)
    if user is not None:
        query = query.where(Notification.user_id == user.id)
    return db.session.scalars(query).all()


def test_the_week_to_report():
    assert digest.week_to_report(MONDAY_0759) is None
    assert digest.week_to_report(MONDAY_0800) == LAST_WEEK
    assert digest.week_to_report(MONDAY_0800 + timedelta(days=6, hours=15)) == LAST_WEEK  # Sunday 23:00
    assert digest.week_to_report(MONDAY_0800 + timedelta(days=7)) == date(2026, 11, 30)


@pytest.fixture
def week(ticket_world):
    """Last week agent_a answered one ticket late and missed one; the teammate answered one on time."""
    w = ticket_world
    _ticket(w, w.own, due=TUESDAY, first=TUESDAY + timedelta(hours=1))
    _ticket(w, w.own, due=TUESDAY)
    _ticket(w, w.team_outlet, due=TUESDAY, first=TUESDAY - timedelta(minutes=10))
    return w


def test_each_lead_is_told_once_with_the_weeks_figures(week):
    w = week
    assert digest.send_team_week_digests(MONDAY_0759) == 0 and not _digests()
    assert digest.send_team_week_digests(MONDAY_0800) == 1  # lead_a; 二组 has no lead
    (sent,) = _digests(w.lead)
    report = performance.team_period(w.lead, w.team, "week", LAST_WEEK, MONDAY_0800)
    assert report.total.due == 3 and report.total.on_time_rate == 33
    assert sent.title == "上周团队表现：一组 11-23 至 11-29"
    assert sent.body.startswith("回复时限 3 单，按时率 33%，超时未回复 1 单")
    assert "超时未回复最多：" in sent.body and w.agent.display_name in sent.body
    assert sent.link == "/team/performance?period=week&start=2026-11-23"
    assert sent.body.endswith("质检：该周没有抽检回复。")  # a nudge: nobody was scored (no reply recorded either)
    assert digest.send_team_week_digests(MONDAY_0800 + timedelta(minutes=15)) == 0  # the next run: nothing
    assert digest.send_team_week_digests(MONDAY_0800 + timedelta(days=3)) == 0
    assert len(_digests()) == 1


def test_the_digest_sums_up_last_week_s_quality_checks(week):
    """Replies of last week scored by 质检: how many, the average, how many below the pass line."""
    w = week
    for awarded in (18, 14):  # 90 and 70 (below 80)
        reply = factories.make_reply(w.mine, w.agent, sent_at=TUESDAY)
        factories.make_quality_review(reply, w.lead, awarded=awarded, possible=20)
    factories.make_quality_review(factories.make_reply(w.mine, w.agent, sent_at=TUESDAY + timedelta(days=7)), w.lead)
    factories.make_reply(w.mine, w.agent, sent_at=TUESDAY)  # a third reply, not scored: short of the target (3)
    digest.send_team_week_digests(MONDAY_0800)
    (sent,) = _digests(w.lead)
    assert sent.body.endswith("质检：抽检回复 2 条，平均 80.0 分，不合格 1 条。 1 名客服未达每周 3 条的抽检目标。")


def test_a_second_worker_cannot_send_it_again(week):
    """The mark is unique: the same (kind, lead, week) cannot be written twice, even by a run that
    did not see the first one's mark."""
    w = week
    digest.send_team_week_digests(MONDAY_0800)
    db.session.add(SentMark(kind="team_week", user_id=w.lead.id, period="2026-11-23"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert len(_digests()) == 1


def test_who_is_not_told(week):
    """A lead without a team and a deactivated lead get nothing; the lead of a team of one gets their own line."""
    w = week
    lonely = factories.make_user("lead", username="lead_lonely")
    gone = factories.make_user("lead", username="lead_gone", team=w.other_team)
    gone.is_active_account = False
    empty_team = factories.make_team("三组")
    empty_lead = factories.make_user("lead", username="lead_empty", team=empty_team)
    db.session.commit()
    digest.send_team_week_digests(MONDAY_0800)
    told = {n.user_id for n in _digests()}
    assert w.lead.id in told and lonely.id not in told and gone.id not in told
    assert empty_lead.id in told  # the lead is in the team: their own line (nothing missed, no "最多")
    assert "超时未回复最多" not in _digests(empty_lead)[0].body


def test_the_task_is_periodic(app):
    from kdcs import tasks
    from kdcs.dashboard.tasks import send_team_week_digests

    assert "kdcs.dashboard.tasks.send_team_week_digests" in tasks.huey._registry._registry
    assert send_team_week_digests.s().validate_datetime(datetime(2026, 11, 30, 0, 15))  # every 15 minutes

"""质检 (kdcs/quality): the scoring rules, who may score whom, the draw, scoring, the sheets, an
agent's own reviews, the scorecard, and the pages."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kdcs.extensions import db
from kdcs.models import AuditLog, Notification, QualityReview, Role, TicketReply, utcnow
from kdcs.permissions import PermissionDenied
from kdcs.quality import rules, service
from kdcs.service_errors import NotFound, StaleEdit, ValidationError
from tests import factories
from tests.html import parse

# --------------------------------------------------------------------------- rules


@pytest.mark.parametrize("text, points, expected", [
    ("8", 10, 8), (" 0 ", 10, 0), ("10", 10, 10), ("８", 10, 8), ("8分", 10, 8), ("8 分", 10, 8),
    ("11", 10, None), ("-1", 10, None), ("8.5", 10, None), ("", 10, None), (None, 10, None), ("abc", 10, None),
    ("٣", 10, None), ("9" * 30, 100, None), ("1e1", 100, None)])
def test_parse_awarded(text, points, expected):
    assert rules.parse_awarded(text, points) == expected


@pytest.mark.parametrize("awarded, possible, fatal, expected", [
    (100, 100, False, 100), (90, 100, False, 90), (0, 100, False, 0), (45, 50, False, 90),
    (1, 3, False, 33), (2, 3, False, 67), (1, 8, False, 13), (100, 100, True, 0), (5, 0, False, 0)])
def test_score_rounds_half_up_and_a_fatal_error_is_zero(awarded, possible, fatal, expected):
    assert rules.score(awarded, possible, fatal) == expected


def test_a_deduction_or_a_fatal_error_needs_a_reason_and_the_pass_line_is_inclusive():
    assert not rules.comment_needed(100, 100, False)
    assert rules.comment_needed(99, 100, False) and rules.comment_needed(100, 100, True)
    assert rules.passed(80, 80) and not rules.passed(79, 80)


# --------------------------------------------------------------------------- a world


@pytest.fixture
def qw(ticket_world):
    """``ticket_world`` with a scorecard (10 + 30 + 20, one inactive), a second lead for 二组, and replies:
    the agent's two this week and one a month ago, a correction, the stranger's one (二组)."""
    w = ticket_world
    w["lead2"] = factories.make_user("lead", username="lead_b", team=w.other_team)
    w["greeting"] = factories.make_criterion("开场与称呼", points=10)
    w["sop"] = factories.make_criterion("按SOP处理", points=30)
    w["accuracy"] = factories.make_criterion("信息准确完整", points=20)
    w["retired"] = factories.make_criterion("旧评分项", points=40, active=False)
    now, monday = utcnow(), _week()[0]

    def this_week(minutes_ago):  # never before this week's Monday, whenever the test runs
        return max(now - timedelta(minutes=minutes_ago), monday + timedelta(seconds=60 - minutes_ago))

    w["r1"] = factories.make_reply(w.mine, w.agent, body="您好，已为您核实。", sent_at=this_week(20))
    w["r2"] = factories.make_reply(w.mine, w.agent, body="快件明天派送。", sent_at=this_week(10))
    w["old"] = factories.make_reply(w.mine, w.agent, body="上个月的回复", sent_at=now - timedelta(days=40))
    w["fix"] = factories.make_reply(w.mine, w.agent, body="更正：后天派送。", sent_at=this_week(5), corrects=w.r2)
    w["far_reply"] = factories.make_reply(w.far, w.stranger, body="二组的回复", sent_at=this_week(30))
    w["this_week"] = this_week
    return w


def _week(now=None):
    """[since, until) of the running Beijing week."""
    from kdcs.dashboard.performance import period_start
    from kdcs.workcalendar import SHANGHAI

    today = (now or datetime.now(UTC)).astimezone(SHANGHAI).date()
    return service.period_bounds("week", period_start("week", today))


def _full(w, **changes):
    values = {f"c-{w.greeting.id}": "10", f"c-{w.sop.id}": "30", f"c-{w.accuracy.id}": "20"}
    values.update(changes)
    return values


# --------------------------------------------------------------------------- scope


def test_who_may_score_whom(qw):
    w = qw
    assert service.can_review(w.lead, w.agent) and service.can_review(w.lead, w.teammate)
    assert not service.can_review(w.lead, w.stranger)  # another team's agent
    assert service.can_review(w.lead2, w.stranger) and not service.can_review(w.lead2, w.agent)
    assert service.can_review(w.trainer, w.agent) and service.can_review(w.admin, w.stranger)
    assert not service.can_review(w.agent, w.teammate)  # agents do not score
    assert not service.can_review(w.admin, w.lead)  # only agents' replies are scored
    assert not service.can_review(w.lead, w.lead)


def test_the_draw_takes_an_unscored_reply_of_the_period_at_random(qw):
    w = qw
    since, until = _week()
    drawn = {service.draw(w.lead, w.agent.id, since, until, random.Random(seed)).id for seed in range(30)}
    assert drawn == {w.r1.id, w.r2.id}  # not last month's, not the correction
    factories.make_quality_review(w.r1, w.lead)
    assert {service.draw(w.lead, w.agent.id, since, until, random.Random(s)).id for s in range(10)} == {w.r2.id}
    factories.make_quality_review(w.r2, w.lead)
    with pytest.raises(ValidationError) as refused:
        service.draw(w.lead, w.agent.id, since, until)
    assert "没有未抽检的回复" in refused.value.errors["agent_id"]


def test_the_draw_keeps_to_the_viewer_s_scope(qw):
    w = qw
    since, until = _week()
    with pytest.raises(NotFound):
        service.draw(w.lead, w.stranger.id, since, until)
    with pytest.raises(NotFound):
        service.draw(w.lead, None, since, until)
    with pytest.raises(PermissionDenied):
        service.draw(w.agent, w.teammate.id, since, until)
    assert service.draw(w.trainer, w.stranger.id, since, until).id == w.far_reply.id


# --------------------------------------------------------------------------- scoring


def test_scoring_keeps_the_criteria_tells_the_agent_and_audits(qw):
    w = qw
    review = service.review(w.lead, w.r1.id, _full(w, **{f"c-{w.sop.id}": "18"}), fatal=False,
                            comment="没有按SOP先致歉。")
    assert (review.awarded, review.possible, review.score, review.agent_id) == (48, 60, 80, w.agent.id)
    assert [(i.name, i.points, i.awarded) for i in review.items] == [
        ("开场与称呼", 10, 10), ("按SOP处理", 30, 18), ("信息准确完整", 20, 20)]  # the inactive one is not scored
    notice = db.session.scalars(select(Notification).where(Notification.user_id == w.agent.id)).one()
    assert "80 分" in notice.title and "合格" in notice.title and notice.link == f"/quality/reviews/{review.id}"
    assert "没有按SOP先致歉" in notice.body
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.entity_type == "quality_review")) == "quality.review"
    # renaming the criterion later does not rewrite the review
    service.update_criterion(w.admin, w.sop, version=w.sop.version, name="按SOP处理（新）", points=40)
    db.session.commit()
    db.session.expire_all()
    assert service.get_review(w.agent, review.id).items[1].name == "按SOP处理"


def test_a_deduction_without_a_reason_and_bad_points_store_nothing(qw):
    w = qw
    with pytest.raises(ValidationError) as refused:
        service.review(w.lead, w.r1.id, _full(w, **{f"c-{w.sop.id}": "20"}), fatal=False, comment="  ")
    assert "扣分原因" in refused.value.errors["comment"]
    with pytest.raises(ValidationError) as refused:
        service.review(w.lead, w.r1.id, _full(w, **{f"c-{w.sop.id}": "31", f"c-{w.greeting.id}": "abc"}),
                       fatal=False, comment="x")
    assert set(refused.value.errors) == {f"c-{w.sop.id}", f"c-{w.greeting.id}"}
    assert "0 到 30" in refused.value.errors[f"c-{w.sop.id}"]
    with pytest.raises(ValidationError) as refused:
        service.review(w.lead, w.r1.id, _full(w), fatal=False, comment="长" * 1001)
    assert "1000" in refused.value.errors["comment"]
    assert db.session.scalar(select(QualityReview.id)) is None
    assert db.session.scalar(select(Notification.id)) is None


def test_a_fatal_error_scores_zero_and_needs_a_reason(qw):
    w = qw
    with pytest.raises(ValidationError):
        service.review(w.lead, w.r1.id, _full(w), fatal=True, comment="")
    review = service.review(w.lead, w.r1.id, _full(w), fatal=True, comment="回复里写出了客户完整手机号。")
    assert (review.score, review.fatal, review.awarded) == (0, True, 60)
    assert "不合格" in db.session.scalars(select(Notification.title)).one()


def test_a_reply_is_scored_once(qw):
    w = qw
    first = service.review(w.lead, w.r1.id, _full(w), fatal=False, comment="")
    with pytest.raises(service.AlreadyReviewed) as again:
        service.review(w.trainer, w.r1.id, _full(w), fatal=False, comment="")
    assert again.value.review_id == first.id
    assert db.session.scalar(select(db.func.count(QualityReview.id))) == 1


def test_scoring_keeps_to_the_scope_and_needs_a_scorecard(qw):
    w = qw
    with pytest.raises(NotFound):
        service.review(w.lead, w.far_reply.id, {}, fatal=False, comment="")
    with pytest.raises(PermissionDenied):
        service.review(w.agent, w.r1.id, _full(w), fatal=False, comment="")
    for card in (w.greeting, w.sop, w.accuracy):
        service.set_criterion_active(w.admin, card, False)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        service.review(w.lead, w.r1.id, {}, fatal=False, comment="")
    assert "没有启用的评分项" in refused.value.errors["form"]


def test_who_reads_a_review(qw):
    w = qw
    review = factories.make_quality_review(w.r1, w.lead)
    for reader in (w.agent, w.lead, w.trainer, w.admin):
        assert service.get_review(reader, review.id).id == review.id
    for stranger in (w.teammate, w.lead2, w.stranger):
        with pytest.raises(NotFound):
            service.get_review(stranger, review.id)
    with pytest.raises(NotFound):
        service.get_review(w.admin, 999999)


# --------------------------------------------------------------------------- sheets


def test_the_team_sheet_counts_the_period(qw):
    w = qw
    factories.make_quality_review(w.r1, w.lead, awarded=18, possible=20)  # 90
    factories.make_quality_review(w.r2, w.trainer, awarded=10, possible=20, fatal=True)  # 0
    factories.make_quality_review(w.old, w.lead, awarded=2, possible=20)  # last month: not this week
    factories.make_reply(w.team_ticket, w.teammate, sent_at=w.this_week(15))
    from kdcs.dashboard.performance import period_start
    from kdcs.workcalendar import SHANGHAI

    monday = period_start("week", datetime.now(SHANGHAI).date())
    sheet = service.team_sheet(w.lead, w.team, "week", monday, datetime.now(UTC))
    lines = {line.user.username: line for line in sheet.lines}
    assert set(lines) == {"agent_a", "agent_mate"}  # agents only, this team
    agent = lines["agent_a"]
    assert (agent.replies, agent.reviewed, agent.average, agent.lowest, agent.failed, agent.fatal) == (2, 2, 45.0, 0, 1, 1)
    assert (lines["agent_mate"].replies, lines["agent_mate"].reviewed, lines["agent_mate"].average) == (1, 0, None)
    assert sheet.reviewed == 2 and sheet.average == 45.0 and sheet.pass_score == 80
    # the weekly target (3): agent_a has 2 replies, both scored; the teammate 1, none scored
    assert sheet.target == 3 and sheet.short_of_target(agent) == 0
    assert sheet.short_of_target(lines["agent_mate"]) == 1 and sheet.under_target == 1
    assert service.team_sheet(w.lead, w.team, "month", monday.replace(day=1), datetime.now(UTC)).target == 0
    assert agent.weakest == ("按SOP处理", 12) and lines["agent_mate"].weakest is None  # 2 + 10 points lost
    assert sheet.lost == [("按SOP处理", 12)]
    assert [r.reply_id for r in sheet.reviews] == [w.r2.id, w.r1.id]  # newest first
    with pytest.raises(PermissionDenied):
        service.team_sheet(w.lead2, w.team, "week", monday, datetime.now(UTC))
    with pytest.raises(PermissionDenied):
        service.team_sheet(w.agent, w.team, "week", monday, datetime.now(UTC))
    assert service.teams_for(w.lead) == [w.team] and len(service.teams_for(w.trainer)) == 2


def test_an_agent_reads_their_own_reviews(qw):
    w = qw
    factories.make_quality_review(w.r1, w.lead, awarded=18, possible=20)  # 90
    factories.make_quality_review(w.r2, w.lead, awarded=14, possible=20)  # 70: below the line
    factories.make_quality_review(w.old, w.lead, awarded=2, possible=20, created_at=utcnow() - timedelta(days=39))
    factories.make_quality_review(w.far_reply, w.lead2)
    own = service.own_reviews(w.agent)
    assert len(own.reviews) == 3 and all(r.agent_id == w.agent.id for r in own.reviews)
    assert (own.recent, own.average, own.failed, own.pass_score) == (2, 80.0, 1, 80)
    with pytest.raises(PermissionDenied):
        service.own_reviews(w.trainer)


# --------------------------------------------------------------------------- the scorecard


def test_the_scorecard_rules(qw):
    w = qw
    with pytest.raises(ValidationError) as refused:
        service.create_criterion(w.trainer, name=" 按SOP处理 ", points=0, hint="x" * 201)
    assert set(refused.value.errors) == {"name", "points", "hint"}
    made = service.create_criterion(w.trainer, name="结束语", points=10, hint="礼貌结束")
    db.session.commit()
    assert service.criteria()[-1].id == made.id
    with pytest.raises(StaleEdit):
        service.update_criterion(w.trainer, made, version=made.version + 1, name="结束语", points=5)
    with pytest.raises(PermissionDenied):
        service.create_criterion(w.lead, name="x", points=5)
    with pytest.raises(ValidationError):
        service.save_settings(w.admin, pass_score_text="0", target_text="3")
    with pytest.raises(ValidationError):
        service.save_settings(w.admin, pass_score_text="101", target_text="3")
    assert service.save_settings(w.trainer, pass_score_text="85", target_text="3")[0] == 85
    db.session.commit()
    assert service.pass_score() == 85


# --------------------------------------------------------------------------- pages


def test_a_lead_draws_scores_and_the_agent_reads_it(client, auth, qw):
    w = qw
    auth.login(w.lead)
    sheet = parse(client.get("/quality/"))
    row = sheet.one("tr", data_agent="agent_a")
    assert "2" in row.text and row.find("button", data_testid="draw") is not None
    monday = row.one("input", name="start").get("value")
    drawn = client.post("/quality/draw", data={"agent_id": w.agent.id, "period": "week", "start": monday})
    assert drawn.status_code == 303
    reply_id = int(drawn.headers["Location"].split("/")[3])
    assert reply_id in (w.r1.id, w.r2.id)
    page = parse(client.get(drawn.headers["Location"]))
    body = db.session.get(TicketReply, reply_id).body
    assert page.one(data_testid="reply-body").text == body
    assert page.one("input", name=f"c-{w.sop.id}").get("value") == "30"  # full points to start with
    assert "13912345678" not in page.text  # no customer phone on a review
    refused = client.post(f"/quality/replies/{reply_id}/review", data=_full(w, **{f"c-{w.sop.id}": "20"}))
    assert refused.status_code == 422
    again = parse(refused)
    assert again.one("input", name=f"c-{w.sop.id}").get("value") == "20"  # what was typed is kept
    assert "扣分原因" in again.text
    saved = client.post(f"/quality/replies/{reply_id}/review",
                        data={**_full(w, **{f"c-{w.sop.id}": "20"}), "comment": "先致歉再解释。"})
    assert saved.status_code == 303 and "/quality/reviews/" in saved.headers["Location"]
    review = parse(client.get(saved.headers["Location"]))
    assert review.one(data_figure="score").text == "83"
    assert review.one(data_testid="review-comment").text == "先致歉再解释。"
    twice = client.post(f"/quality/replies/{reply_id}/review", data=_full(w))
    assert twice.status_code == 303 and twice.headers["Location"] == saved.headers["Location"]
    auth.logout()
    auth.login(w.agent)
    mine = parse(client.get("/quality/mine"))
    assert mine.one(data_figure="recent").text == "1" and "先致歉再解释" in mine.one(data_testid="own-reviews").text
    assert client.get(saved.headers["Location"]).status_code == 200


def test_the_draw_by_htmx_and_when_nothing_is_left(client, auth, qw):
    w = qw
    auth.login(w.lead)
    drawn = client.post("/quality/draw", data={"agent_id": w.agent.id}, headers={"HX-Request": "true"})
    assert drawn.headers.get("HX-Redirect", "").startswith("/quality/replies/")
    nothing = client.post("/quality/draw", data={"agent_id": w.teammate.id, "start": "garbage"},
                          follow_redirects=True)
    assert "没有未抽检的回复" in nothing.get_data(as_text=True)


def test_a_trainer_picks_the_team_and_keeps_the_scorecard(client, auth, qw):
    w = qw
    factories.make_quality_review(w.far_reply, w.lead2)
    auth.login(w.trainer)
    page = parse(client.get(f"/quality/?team={w.other_team.id}"))
    assert page.one("tr", data_agent="agent_far").find(data_figure="reviewed").text == "1 / 1"  # of the target
    assert page.one("select", name="team") is not None
    criteria = parse(client.get("/quality/criteria"))
    assert "开场与称呼" in criteria.one(data_testid="criteria").text
    assert "60" in criteria.one(data_testid="criteria-total").text  # the active ones: 10 + 30 + 20
    made = client.post("/quality/criteria/new", data={"name": "结束语", "points": "10", "hint": ""},
                       headers={"HX-Request": "true"})
    assert made.status_code == 200 and "criterions-changed" in made.headers.get("HX-Trigger", "")
    bad = client.post("/quality/criteria/settings", data={"pass_score": "abc", "weekly_target": "51"})
    assert bad.status_code == 422 and "1 到 100" in bad.get_data(as_text=True) and "0 到 50" in bad.get_data(as_text=True)
    assert service.pass_score() == 80 and service.weekly_target() == 3  # nothing saved
    good = client.post("/quality/criteria/settings", data={"pass_score": "85", "weekly_target": "0"})
    assert good.status_code == 303 and (service.pass_score(), service.weekly_target()) == (85, 0)


def test_the_sheet_statements_do_not_grow_with_agents_and_reviews(client, auth, qw):
    from tests.test_statements_admin import _counts

    w = qw

    def add(n):
        for _ in range(n):
            agent = factories.make_user(Role.AGENT, team=w.team)
            reply = factories.make_reply(w.team_ticket, agent, sent_at=w.this_week(15))
            factories.make_quality_review(reply, w.lead)
            factories.make_reply(w.team_ticket, agent, sent_at=w.this_week(15))

    counted, sql, _body = _counts(client, auth, w.lead, "/quality/", add)
    assert counted[0] == counted[1], (counted, sql)


# --------------------------------------------------------------------------- appeals (申诉)


def test_an_agent_disputes_once_within_the_week_and_the_reviewer_is_told(qw):
    w = qw
    review = factories.make_quality_review(w.r1, w.lead, awarded=14, possible=20)
    with pytest.raises(ValidationError) as refused:
        service.appeal(w.agent, review.id, "   ")
    assert "评分哪里不对" in refused.value.errors["appeal_reason"]
    with pytest.raises(NotFound):
        service.appeal(w.teammate, review.id, "不是我的")
    with pytest.raises(PermissionDenied):
        service.appeal(w.lead, review.id, "组长不能申诉")
    service.appeal(w.agent, review.id, "我已经按SOP先致歉了，\n见第一句。")
    assert (review.appeal_state, review.appeal_reason) == ("open", "我已经按SOP先致歉了， 见第一句。")
    notice = db.session.scalars(select(Notification).where(Notification.user_id == w.lead.id)).one()
    assert "申诉" in notice.title and notice.link == f"/quality/reviews/{review.id}"
    with pytest.raises(ValidationError) as again:
        service.appeal(w.agent, review.id, "再申诉一次")
    assert "已经申诉过" in again.value.errors["appeal_reason"]
    late = factories.make_quality_review(w.r2, w.lead, created_at=utcnow() - timedelta(days=7, minutes=1))
    with pytest.raises(ValidationError) as expired:
        service.appeal(w.agent, late.id, "过期了")
    assert "7 天内" in expired.value.errors["appeal_reason"]


def test_a_dispute_is_upheld_or_scored_again(qw):
    w = qw
    review = factories.make_quality_review(w.r1, w.lead, awarded=14, possible=20)  # 70
    service.appeal(w.agent, review.id, "漏看了致歉句。")
    item = review.items[0]
    with pytest.raises(NotFound):  # another team's lead
        service.decide_appeal(w.lead2, review.id, version=review.version, change=False, values={}, fatal=False, note="x")
    with pytest.raises(ValidationError) as refused:
        service.decide_appeal(w.lead, review.id, version=review.version, change=True,
                              values={f"i-{item.id}": "14"}, fatal=False, note="")
    assert set(refused.value.errors) == {"appeal_note"}  # "the same score" waits for the other errors
    with pytest.raises(ValidationError) as same:
        service.decide_appeal(w.lead, review.id, version=review.version, change=True,
                              values={f"i-{item.id}": "14"}, fatal=False, note="复核")
    assert "原分相同" in same.value.errors["form"]
    with pytest.raises(StaleEdit):
        service.decide_appeal(w.lead, review.id, version=review.version + 5, change=False, values={}, fatal=False,
                              note="复核")
    decided = service.decide_appeal(w.trainer, review.id, version=review.version, change=True,
                                    values={f"i-{item.id}": "18"}, fatal=False, note="确实有致歉句，补回 4 分。")
    assert (decided.appeal_state, decided.original_score, decided.score, decided.items[0].awarded) == (
        "changed", 70, 90, 18)
    told = db.session.scalars(select(Notification).where(Notification.user_id == w.agent.id)).one()
    assert "70 → 90" in told.title
    with pytest.raises(StaleEdit):  # decided: a second decision is refused
        service.decide_appeal(w.lead, review.id, version=decided.version, change=False, values={}, fatal=False,
                              note="维持")
    other = factories.make_quality_review(w.r2, w.lead, awarded=10, possible=20)
    service.appeal(w.agent, other.id, "不同意")
    assert [r.id for r in service.open_appeals(w.lead, w.team)] == [other.id]
    upheld = service.decide_appeal(w.lead, other.id, version=other.version, change=False, values={}, fatal=False,
                                   note="开场确实没有称呼客户。")
    assert (upheld.appeal_state, upheld.score, upheld.original_score) == ("upheld", 50, None)
    assert service.open_appeals(w.lead, w.team) == []


def test_the_dispute_on_the_pages(client, auth, qw):
    w = qw
    review = factories.make_quality_review(w.r1, w.lead, awarded=14, possible=20)
    auth.login(w.agent)
    page = parse(client.get(f"/quality/reviews/{review.id}"))
    assert page.one(data_testid="appeal").find("textarea", name="appeal_reason") is not None
    refused = client.post(f"/quality/reviews/{review.id}/appeal", data={"appeal_reason": ""})
    assert refused.status_code == 422 and "评分哪里不对" in refused.get_data(as_text=True)
    sent = client.post(f"/quality/reviews/{review.id}/appeal", data={"appeal_reason": "漏看了致歉句。"})
    assert sent.status_code == 303
    waiting = parse(client.get(f"/quality/reviews/{review.id}"))
    assert waiting.one(data_testid="appeal").get("data-state") == "open"
    assert waiting.find(data_testid="appeal-decision") is None  # the agent does not decide
    auth.logout()
    auth.login(w.lead)
    assert "漏看了致歉句" in parse(client.get("/quality/")).one(data_testid="open-appeals").text
    item = review.items[0]
    assert client.post(f"/quality/reviews/{review.id}/appeal/decide",
                       data={"decision": "maybe", "version": review.version}).status_code == 400
    bad = client.post(f"/quality/reviews/{review.id}/appeal/decide",
                      data={"decision": "change", "version": review.version, f"i-{item.id}": "99", "appeal_note": ""})
    assert bad.status_code == 422
    kept = parse(bad)
    assert kept.one("input", name=f"i-{item.id}").get("value") == "99"
    assert "0 到 20" in kept.text and "处理结果和理由" in kept.text
    done = client.post(f"/quality/reviews/{review.id}/appeal/decide",
                       data={"decision": "change", "version": review.version, f"i-{item.id}": "18",
                             "appeal_note": "补回 4 分。"})
    assert done.status_code == 303
    result = parse(client.get(f"/quality/reviews/{review.id}"))
    assert result.one(data_figure="score").text == "90"
    assert "70 → 90" in result.one(data_testid="appeal-outcome").text
    stale = client.post(f"/quality/reviews/{review.id}/appeal/decide",
                        data={"decision": "uphold", "version": review.version, "appeal_note": "维持"},
                        follow_redirects=True)
    assert "刚刚已被处理" in stale.get_data(as_text=True)


def test_the_export_writes_the_period_s_reviews_as_text(client, auth, qw):
    import io

    from openpyxl import load_workbook

    w = qw
    factories.make_quality_review(w.r1, w.lead, awarded=14, possible=20, comment='=HYPERLINK("http://x","点我")')
    factories.make_quality_review(w.far_reply, w.lead2)  # another team: not on 一组's sheet
    auth.login(w.lead)
    page = parse(client.get("/quality/"))
    answer = client.get(page.one("a", data_testid="quality-export").get("href"))
    assert answer.status_code == 200 and answer.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(answer.data)).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("质检时间", "客服", "工号") and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["工号"], row["得分"], row["结果"], row["各项得分"]) == ("agent_a", 70, "不合格", "按SOP处理 14/20")
    assert row["给客服的反馈"] == '=HYPERLINK("http://x","点我")'  # text, never a formula
    assert row["回复内容"] == "您好，已为您核实。"
    sheet = parse(client.get("/quality/"))
    assert sheet.one("tr", data_agent="agent_a").one(data_figure="weakest").text == "按SOP处理 −6"
    assert "按SOP处理 −6" in sheet.one(data_testid="points-lost").text


def test_the_lead_home_says_which_disputes_wait(client, auth, qw):
    w = qw
    mine = factories.make_quality_review(w.r1, w.lead)
    far = factories.make_quality_review(w.far_reply, w.lead2)
    service.appeal(w.agent, mine.id, "漏看了致歉句。")
    service.appeal(w.stranger, far.id, "不同意")  # another team: not lead_a's
    assert service.open_appeal_count(w.lead) == 1 and service.open_appeal_count(w.agent) == 0
    auth.login(w.lead)
    link = parse(client.get("/")).one(data_testid="lead-disputes-waiting")
    assert link.get("href") == "/quality/" and "1 条质检申诉" in link.text


# --------------------------------------------------------------------------- from a score to training


def test_a_trainer_assigns_a_course_after_a_review(client, auth, qw):
    from datetime import date

    from kdcs.leave.rules import beijing_today
    from kdcs.models import TrainingAssignment
    from tests.training_cert_data import make_course

    w = qw
    course = make_course("沟通技巧与共情话术", required=False, questions=0, items=0)
    draft = make_course("草稿课程", published=False, questions=0, items=0)
    review = factories.make_quality_review(w.r1, w.lead, awarded=10, possible=20)
    today = date(2026, 12, 4)
    with pytest.raises(PermissionDenied):  # leads do not assign training
        service.assign_refresher(w.lead, review.id, course.id, today, today)
    with pytest.raises(ValidationError) as refused:
        service.assign_refresher(w.trainer, review.id, draft.id, today + timedelta(days=91), today)
    assert set(refused.value.errors) == {"course_id", "due_on"}
    service.assign_refresher(w.trainer, review.id, course.id, today + timedelta(days=7), today)
    assignment = db.session.scalars(select(TrainingAssignment).where(TrainingAssignment.user_id == w.agent.id)).one()
    assert (assignment.course_id, assignment.due_on) == (course.id, date(2026, 12, 11))
    notice = db.session.scalars(select(Notification).where(Notification.user_id == w.agent.id,
                                                           Notification.kind == "training_assigned")).one()
    assert "沟通技巧与共情话术" in notice.title and notice.link == f"/training/courses/{course.id}"

    auth.login(w.trainer)
    page = parse(client.get(f"/quality/reviews/{review.id}"))
    form = page.one(data_testid="refresher")
    assert "沟通技巧与共情话术" in form.text and "草稿课程" not in form.text
    assert form.one("input", name="due_on").get("value") == (beijing_today() + timedelta(days=7)).isoformat()
    bad = client.post(f"/quality/reviews/{review.id}/refresher", data={"course_id": "abc", "due_on": "明天"})
    assert bad.status_code == 422 and "已发布的课程" in bad.get_data(as_text=True)
    done = client.post(f"/quality/reviews/{review.id}/refresher",
                       data={"course_id": course.id, "due_on": (beijing_today() + timedelta(days=3)).isoformat()})
    assert done.status_code == 303
    auth.logout()
    auth.login(w.lead)
    assert parse(client.get(f"/quality/reviews/{review.id}")).find(data_testid="refresher") is None


def test_the_draw_keeps_to_a_category(client, auth, qw):
    w = qw
    since, until = _week()
    arbitration = factories.make_ticket(w.own, category="arbitration")
    on_arbitration = factories.make_reply(arbitration, w.agent, sent_at=w.this_week(25))
    drawn = {service.draw(w.lead, w.agent.id, since, until, random.Random(s), category="arbitration").id
             for s in range(10)}
    assert drawn == {on_arbitration.id}
    with pytest.raises(ValidationError):
        service.draw(w.lead, w.agent.id, since, until, category="message")
    auth.login(w.lead)
    page = parse(client.get("/quality/?category=arbitration"))
    assert page.one("select", name="category").find("option", selected="") is not None
    form = page.one("tr", data_agent="agent_a").one("form")
    assert form.one("input", name="category").get("value") == "arbitration"
    answer = client.post("/quality/draw", data={"agent_id": w.agent.id, "category": "arbitration"})
    assert answer.headers["Location"] == f"/quality/replies/{on_arbitration.id}/review"
    nothing = client.post("/quality/draw", data={"agent_id": w.agent.id, "category": "message"})
    assert "category=message" in nothing.headers["Location"]  # back to the sheet with the same scope
    assert client.get("/quality/?category=zzz").status_code == 200  # an unknown category is every category


def test_the_draw_can_keep_to_risky_replies(client, auth, qw):
    """风险回复: sent after the ticket's reply deadline, or on a fined ticket; the others are not drawn."""
    from decimal import Decimal

    w = qw
    since, until = _week()
    late_ticket = factories.make_ticket(w.own, registered_at=utcnow() - timedelta(hours=3), reply_minutes=60)
    late = factories.make_reply(late_ticket, w.agent, sent_at=w.this_week(15))
    fined_ticket = factories.make_ticket(w.own, fine_amount=Decimal("20.00"))
    fined = factories.make_reply(fined_ticket, w.agent, sent_at=w.this_week(12))
    unfined_ticket = factories.make_ticket(w.own, fine_amount=Decimal("0.00"))
    factories.make_reply(unfined_ticket, w.agent, sent_at=w.this_week(11))
    drawn = {service.draw(w.lead, w.agent.id, since, until, random.Random(s), risky=True).id for s in range(30)}
    assert drawn == {late.id, fined.id}  # not r1/r2 (in time, no fine), not the ticket fined 0
    auth.login(w.lead)
    page = parse(client.get("/quality/?risky=1"))
    assert page.one("input", name="risky", type="checkbox").get("checked") is not None
    form = page.one("tr", data_agent="agent_a").one("form")
    assert form.one("input", name="risky").get("value") == "1"
    assert not parse(client.get("/quality/")).one("input", name="risky", type="checkbox").get("checked") is not None
    for reply in (late, fined):
        factories.make_quality_review(reply, w.lead)
    with pytest.raises(ValidationError) as refused:
        service.draw(w.lead, w.agent.id, since, until, risky=True)
    assert "风险回复" in refused.value.errors["agent_id"]
    nothing = client.post("/quality/draw", data={"agent_id": w.agent.id, "risky": "1", "category": "problem"})
    assert "risky=1" in nothing.headers["Location"] and "category=problem" in nothing.headers["Location"]
    assert "风险回复" in client.get(nothing.headers["Location"]).get_data(as_text=True)
    drawn = client.post("/quality/draw", data={"agent_id": w.agent.id, "risky": "0"})  # not asked: every reply
    assert drawn.headers["Location"].endswith("/review")


def test_a_dispute_waiting_two_days_is_put_to_the_lead_once(qw):
    from kdcs.quality import tasks

    w = qw
    review = factories.make_quality_review(w.r1, w.trainer)
    appealed = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    service.appeal(w.agent, review.id, "漏看了致歉句。", now=appealed)
    review.appealed_at = appealed
    db.session.commit()
    db.session.query(Notification).delete()
    db.session.commit()
    assert service.remind_waiting_appeals(appealed + timedelta(days=1, hours=23)) == 0  # not two days yet
    assert service.remind_waiting_appeals(appealed + timedelta(days=2, hours=1)) == 1
    (notice,) = db.session.scalars(select(Notification)).all()
    assert notice.user_id == w.lead.id and "已等待处理 2 天" in notice.title  # the lead, not the trainer
    assert notice.link == f"/quality/reviews/{review.id}"
    assert service.remind_waiting_appeals(appealed + timedelta(days=3)) == 0  # once
    assert "kdcs.quality.tasks.remind_waiting_appeals" in tasks.huey._registry._registry


def test_the_ticket_page_links_each_reply_to_its_check(client, auth, qw):
    w = qw
    review = factories.make_quality_review(w.r1, w.lead, awarded=18, possible=20)
    auth.login(w.lead)
    page = parse(client.get(f"/tickets/{w.mine.id}"))
    scored = page.one("li", data_reply_id=str(w.r1.id)).one("a", data_testid="reply-review")
    assert scored.get("href") == f"/quality/reviews/{review.id}" and scored.text == "质检 90 分"
    to_score = page.one("li", data_reply_id=str(w.r2.id)).one("a", data_testid="score-reply")
    assert to_score.get("href") == f"/quality/replies/{w.r2.id}/review"
    assert page.one("li", data_reply_id=str(w.fix.id)).find("a", data_testid="score-reply") is None  # a correction
    auth.logout()
    auth.login(w.agent)
    page = parse(client.get(f"/tickets/{w.mine.id}"))
    assert not page.find_all("a", data_testid="score-reply") and not page.find_all("a", data_testid="reply-review")


def test_a_trainer_home_shows_each_team_s_week(client, auth, qw):
    w = qw
    factories.make_quality_review(w.r1, w.lead, awarded=18, possible=20)  # 90
    disputed = factories.make_quality_review(w.r2, w.lead, awarded=10, possible=20)  # 50
    service.appeal(w.agent, disputed.id, "不同意")
    factories.make_quality_review(w.old, w.lead)  # last month: not this week
    weeks = {week.team.name: week for week in service.teams_this_week(w.trainer)}
    assert (weeks["一组"].reviewed, weeks["一组"].average, weeks["一组"].failed, weeks["一组"].disputes) == (2, 70.0, 1, 1)
    assert (weeks["二组"].reviewed, weeks["二组"].disputes) == (0, 0)
    auth.login(w.trainer)
    card = parse(client.get("/")).one(data_testid="trainer-quality")
    row = card.one("tr", data_team="一组")
    assert row.one(data_figure="reviewed").text == "2" and row.one(data_figure="disputes").text == "1"


def test_a_lead_sees_but_cannot_draw_for_an_agent_who_moved_out(client, auth, qw):
    """Last week's sheet lists who was in the team then; one who has moved to 二组 since is no longer the
    lead's to score: no draw button (and no "all scored"), a trainer still draws."""
    from kdcs.workcalendar import SHANGHAI
    from tests.test_team_memberships import _move

    w = qw
    monday = _week()[0]
    last_week = monday - timedelta(days=6)
    factories.make_reply(w.mine, w.teammate, sent_at=last_week)
    _move(w, w.teammate, w.other_team, monday + timedelta(seconds=1))
    start = (monday + timedelta(hours=12) - timedelta(days=7)).astimezone(SHANGHAI).date().isoformat()
    auth.login(w.lead)
    row = parse(client.get(f"/quality/?period=week&start={start}")).one("tr", data_agent="agent_mate")
    assert row.find("button", data_testid="draw") is None and "已全部抽检" not in row.text
    auth.logout()
    auth.login(w.trainer)
    row = parse(client.get(f"/quality/?period=week&start={start}&team={w.team.id}")).one("tr", data_agent="agent_mate")
    assert row.find("button", data_testid="draw") is not None

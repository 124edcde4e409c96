"""The queue's rows are placed without Jinja's autoescape (queue.table_rows escapes every text
once): names and texts with HTML characters come out exactly as autoescape wrote them."""

from __future__ import annotations

from markupsafe import escape

from kdcs.extensions import db
from kdcs.models import utcnow
from kdcs.tickets import queue
from tests import factories

NASTY = {
    "customer": "<script>\"x\"</script>&'y'",
    "outlet": "<i>良渚</i> & \"网点\"",
    "code": "O<1>'&",
    "brand": "<b>中通</b>",
    "reason": "\"破损\" & <em>少件</em>",
    "assignee": "<u>张 & 李</u>",
}


def test_html_escape_is_markupsafe_escape():
    for text in (*NASTY.values(), "", "plain 中文", "a&b<c>d'e\"f", None, 12):
        assert queue.html_escape(text) == str(escape(text))


def test_row_texts_with_html_characters_are_escaped(client, auth, users):
    brand = factories.make_brand("ZZX", NASTY["brand"])
    outlet = factories.make_outlet(brand, users.agent, code=NASTY["code"], name=NASTY["outlet"])
    reason = factories.make_reason("problem", NASTY["reason"])
    users.agent.display_name = NASTY["assignee"]
    db.session.commit()
    open_ticket = factories.make_ticket(outlet, reason=reason, customer_name=NASTY["customer"], assignee=users.agent)
    closed = factories.make_ticket(outlet, reason=reason, customer_name=NASTY["customer"], status="closed",
                                   closed_at=utcnow(), resolved_at=utcnow())
    auth.login(users.lead)
    html = client.get("/tickets/?status=all").get_data(as_text=True)
    for text in NASTY.values():
        assert str(escape(text)) in html, text
    for raw in ("<script>", "<i>良渚", "<b>中通", "<em>少件", "<u>张"):
        assert raw not in html
    assert f'<tr id="ticket-{open_ticket.id}"' in html and f'<tr id="ticket-{closed.id}"' in html
    # no double escaping either
    assert "&amp;lt;" not in html and "&amp;amp;" not in html and "&amp;#34;" not in html


def test_filter_choices_match_the_service_readers(app, ticket_world):
    """The queue's prebuilt option readers list what the service's general readers list."""
    from kdcs.outlets.service import active_brands
    from kdcs.tickets import service

    factories.make_reason("work_order", "催件 <急>")
    factories.make_reason("work_order", "停用", active=False)
    w = ticket_world
    for user in (w["agent"], w["lead"], w["admin"], w["trainer"]):
        with app.test_request_context("/tickets/"):
            assert queue.outlet_options(user) == [(i, str(escape(t))) for i, t in service.outlet_choices(user)]
            everyone, certified = queue.assignee_options(user)
            assert everyone == [(u.id, str(escape(u.display_name)))
                                for u in service.assignable_users(user, certified_only=False)]
            assert certified == [(u.id, str(escape(u.display_name))) for u in service.assignable_users(user)]
    assert queue.brand_options() == [(b.id, b.name) for b in active_brands()]
    for category in (None, "work_order"):
        expected: dict = {}
        for reason in service.reasons_for(category):
            expected.setdefault(reason.category, []).append((reason.id, str(escape(reason.name))))
        assert queue.reason_options(category) == expected
    for user in (w["agent"], w["lead"], w["admin"], w["trainer"]):
        for category in (None, "work_order", "problem"):
            with app.test_request_context("/tickets/"):
                _assert_one_statement_options(user, category)


def _assert_one_statement_options(user, category):
    """``queue.queue_options`` (one UNION ALL statement) lists what the separate readers list, in order."""
    from tests.sql_statements import statements

    everyone, certified = queue.assignee_options(user)
    expected = (queue.outlet_options(user), queue.brand_options(), queue.reason_options(category), everyone, certified)
    with statements() as seen:
        options = queue.queue_options(user, category)
    assert (options.outlets, options.brands, options.reasons, options.assignees, options.certified) == expected
    assert len([s for s in seen if "UNION ALL" in s]) == 1
    without = queue.queue_options(user, category, assignees=False)
    assert (without.outlets, without.brands, without.reasons, without.assignees) == (*expected[:3], [])


def test_bulk_assignees_are_the_certified_ones(app, users):
    """With a 上岗必修 course published, the bulk bar offers only who passes the gate (certified,
    or flagged until a later day; leads always), the filter everyone."""
    from datetime import timedelta

    from kdcs.models.training import AgentCertification
    from kdcs.tickets import service
    from tests.training_cert_data import make_course

    make_course("品牌规则与条款")
    today = utcnow().date()
    for name, state, until in (("已上岗", "certified", None), ("待复训", "flagged", today + timedelta(days=3)),
                               ("已过期", "flagged", today - timedelta(days=3)), ("未上岗", "none", None)):
        agent = factories.make_user("agent", team=users.team, display_name=name)
        db.session.add(AgentCertification(user_id=agent.id, state=state, flagged_until=until))
    db.session.commit()
    for user in (users.lead, users.admin, users.agent):
        with app.test_request_context("/tickets/"):
            everyone, certified = queue.assignee_options(user)
            assert everyone == [(u.id, str(escape(u.display_name)))
                                for u in service.assignable_users(user, certified_only=False)]
            assert certified == [(u.id, str(escape(u.display_name))) for u in service.assignable_users(user)]
            _assert_one_statement_options(user, None)
    with app.test_request_context("/tickets/"):
        names = [name for _id, name in queue.assignee_options(users.lead)[1]]
    assert "已上岗" in names and "待复训" in names and "已过期" not in names and "未上岗" not in names

"""``labels.kept()``: every list's {code: label} translated once per catalog (one per language) for
the ticket page; a request in another language gets that language's labels."""

from __future__ import annotations

from kdcs.tickets import labels


def test_kept_labels_per_language(app):
    seen = {}
    for lang, new, bearer in (("", "新建", "公司"), ("en", "New", "Company"), ("", "新建", "公司")):
        # each request in its own app context, as a served request is (Flask-Babel keeps its locale there)
        with app.app_context(), app.test_request_context(f"/?lang={lang}"):
            kept = labels.kept()
            assert kept["status"]["new"] == new and kept["fine_bearer"]["company"] == bearer
            assert kept["status"]["no_such_code"] == "no_such_code"  # shown as itself, as .get(code, code) did
            assert kept is seen.setdefault(lang, kept)  # built once per language
    assert seen[""] is not seen["en"]
    assert labels.kept()["status"]["new"] in ("新建", "New")  # outside a request: built, not kept


def test_ticket_page_labels_in_the_requests_language(client, auth, users, ticket_world):
    ticket = ticket_world["mine"]
    auth.login(users["agent"])
    zh = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    en = client.get(f"/tickets/{ticket.id}?lang=en").get_data(as_text=True)
    status = labels.STATUS_LABELS[ticket.status]
    with client.application.app_context(), client.application.test_request_context("/?lang=en"):
        english = str(status)
    assert f'status-{ticket.status}">{english}<' in en
    assert f'status-{ticket.status}">{english}<' not in zh and f'status-{ticket.status}">' in zh
    assert 'id="act-fine"' not in zh  # an agent decides no fines: the form is not built
    # the countdowns' words are kept per catalog (routes._countdown_formats)
    import re

    for html, words in ((zh, ("剩余 ", "已超时 ")), (en, ("Left ", "Overdue "))):
        countdowns = re.findall(r'<span class="countdown badge[^"]*" data-due="[^"]*">([^<]*)</span>', html)
        assert countdowns and all(text.startswith(words) for text in countdowns), countdowns
    # the displayed forms' labels are kept per catalog too (forms._static)
    assert '<label for="status-to_status">新状态</label>' in zh
    assert '<label for="status-to_status">New status</label>' in en
    assert '<label for="status-to_status">新状态</label>' in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)


def test_deadline_rule_minutes_in_the_requests_language(client, auth, users, ticket_world):
    """The rule's "2 小时" is kept per catalog (routes._kept_minutes): each request its language."""
    from kdcs.extensions import db
    from tests import factories

    ticket = ticket_world["mine"]
    ticket.deadline_rule_id = factories.make_rule(reply_minutes=120, resolve_minutes=2880).id
    db.session.commit()
    auth.login(users["agent"])
    for lang, text in (("", "2 小时内回复，2 天内处理完"), ("en", "reply within 2 hours, resolve within 2 days"),
                       ("", "2 小时内回复，2 天内处理完")):
        assert text in client.get(f"/tickets/{ticket.id}?lang={lang}").get_data(as_text=True), lang

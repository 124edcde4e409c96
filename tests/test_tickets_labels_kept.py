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
    # the displayed forms' labels are kept per catalog too (forms._static)
    assert '<label for="status-to_status">新状态</label>' in zh
    assert '<label for="status-to_status">New status</label>' in en
    assert '<label for="status-to_status">新状态</label>' in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)

"""Templates' _() asks the merged catalogs once per request (kdcs/i18n.py request_translations)."""

from __future__ import annotations

from kdcs.i18n import request_translations


def test_one_lookup_per_request_and_per_locale(app):
    # each request in its own app context, as a served request is (Flask-Babel keeps its lookup there)
    with app.app_context(), app.test_request_context("/"):
        first = request_translations()
        assert request_translations() is first
        assert first.ugettext("Log out") == "退出登录"
    with app.app_context(), app.test_request_context("/?lang=en"):
        english = request_translations()
        assert english is not first
        assert english.ugettext("Log out") == "Log out"


def test_outside_a_request_still_translates(app):
    assert request_translations().ugettext("Log out") in ("退出登录", "Log out")


def test_template_gettext_formats_and_escapes_like_jinja(app):
    from flask import render_template_string

    with app.app_context(), app.test_request_context("/"):
        html = render_template_string('{{ _("Also open now by: %(names)s.", names=who) }}|{{ _("Log out") }}',
                                      who="<b>甲</b>")
        assert html == "&lt;b&gt;甲&lt;/b&gt; 也正在查看此工单。|退出登录", html
        assert render_template_string('{{ _("%(n)d unread", n=3) }}') == "3 条未读"


def test_kept_texts_follow_each_requests_language(app, client):
    """A text without variables is kept per catalog (kdcs/i18n.py template_gettext): the next
    request in another language gets that language, and back again."""
    from flask import render_template_string

    from kdcs import i18n

    for lang, expected in (("", "退出登录"), ("en", "Log out"), ("", "退出登录"), ("en", "Log out")):
        # each request in its own app context, as a served request is (Flask-Babel keeps its locale there)
        with app.app_context(), app.test_request_context(f"/?lang={lang}"):
            assert render_template_string('{{ _("Log out") }}') == expected
            texts = i18n._request_texts()
            assert texts[("Log out", True)] == expected
    assert len([texts for texts in i18n._TEMPLATE_TEXTS.values() if ("Log out", True) in texts]) == 2
    for lang, expected in (("", "登录"), ("en", "Log in"), ("", "登录")):  # whole pages, served
        html = client.get(f"/login?lang={lang}").get_data(as_text=True)
        assert f"<h1>{expected}</h1>" in html or f">{expected}<" in html, (lang, html[:2000])


def test_kept_texts_keep_the_autoescape_mode_and_formatting(app):
    """Markup where autoescaping (a translated text is trusted), a plain str where not; ``%%`` is
    ``%`` with or without variables, as Jinja's own newstyle gettext does."""
    from flask import render_template_string

    with app.app_context(), app.test_request_context("/"):
        for _ in range(2):  # the second time from the kept texts
            assert render_template_string('{{ _("x<y")|e }}') == "x<y"
            assert render_template_string('{% autoescape false %}{{ _("x<y")|e }}{% endautoescape %}') == "x&lt;y"
            assert render_template_string('{{ _("100%% sure") }}') == "100% sure"
            assert render_template_string('{{ _("%(n)s%% sure", n="<b>") }}') == "&lt;b&gt;% sure"
            # a kept pattern is formatted with each call's own values
            assert render_template_string('{{ _("%(n)d unread", n=3) }}|{{ _("%(n)d unread", n=4) }}') == "3 条未读|4 条未读"
            assert render_template_string(
                '{% autoescape false %}{{ _("%(n)s%% sure", n="<b>") }}{% endautoescape %}') == "<b>% sure"


def test_python_gettext_and_lazy_texts_use_the_requests_catalog(app, monkeypatch):
    """``flask_babel.gettext`` and lazy texts (form labels) in a request ask Flask-Babel's catalog
    lookup once per language and process, not on every call; the same texts as before; outside
    a request Flask-Babel's own lookup answers."""
    from flask_babel import Domain, gettext, lazy_gettext

    from kdcs import i18n

    asked = []
    monkeypatch.setattr(i18n, "_FLASK_BABEL_GET_TRANSLATIONS",
                        lambda domain: asked.append(domain) or i18n.Domain.get_translations.flask_babel_own(domain))
    assert Domain.get_translations is i18n._request_kept_translations
    label = lazy_gettext("Log out")
    app.extensions.pop("kdcs_catalogs", None)
    for lang, expected in (("", "退出登录"), ("en", "Log out"), ("", "退出登录")):
        with app.app_context(), app.test_request_context(f"/?lang={lang}"):
            for _ in range(3):
                assert gettext("Log out") == expected and str(label) == expected
                assert gettext("%(n)d unread", n=2) == ("2 条未读" if not lang else "2 unread")
    assert len(asked) == 2  # once per language in three requests of nine texts each
    with app.app_context():
        assert gettext("Log out") in ("退出登录", "Log out")

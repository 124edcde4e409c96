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

"""The fixed per-request work kept short without changing its answers: ``app.ensure_sync``
remembers the plain functions, the locale is parsed once per process, the security headers
are added in one pass."""

from __future__ import annotations

import pytest
from babel import Locale
from flask import Response
from flask_babel import get_locale

from kdcs import i18n, security


def test_ensure_sync_returns_registered_plain_functions_as_they_are(app):
    functions = list(app.view_functions.values())
    functions += [f for hooks in app.before_request_funcs.values() for f in hooks]
    functions += [f for hooks in app.template_context_processors.values() for f in hooks]
    assert len(functions) > 50
    for function in functions:
        assert app.ensure_sync(function) is function


def test_ensure_sync_still_hands_async_and_unknown_callables_to_flask(app):
    async def later():  # registered nowhere: Flask's own check (wraps it, or asks for the async extra)
        return "x"

    try:
        wrapped = app.ensure_sync(later)
    except RuntimeError as error:  # Flask without asgiref
        assert "async" in str(error)
    else:
        assert wrapped is not later

    class Hook:
        def method(self):
            return "y"

    bound = Hook().method
    assert app.ensure_sync(bound) == bound


@pytest.mark.parametrize(("query", "expected"), [("", "zh_CN"), ("?lang=en", "en"), ("?lang=xx", "zh_CN")])
def test_the_locale_is_parsed_once_and_chosen_as_before(app, query, expected):
    with app.test_request_context(f"/{query}"):
        locale = get_locale()
        assert locale == Locale.parse(expected)  # what Flask-Babel parsed from the name before
        assert i18n.selected_locale() is locale  # the same object every request
    with app.test_request_context(f"/{query}"):
        assert get_locale() is locale


def test_security_headers_in_one_pass_match_one_at_a_time():
    plain = security.add_security_headers(Response("x", headers={"Vary": "Cookie"}))
    assert [(k, v) for k, v in plain.headers.items() if k != "Content-Type" and k != "Content-Length"] == [
        ("Vary", "Cookie"), *security.SECURITY_HEADERS.items()]
    # A view's own value, whatever the case of its name, is kept and not doubled.
    own = security.add_security_headers(Response("x", headers={"x-frame-options": "SAMEORIGIN"}))
    assert own.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert own.headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY


def test_the_catalogs_are_looked_up_once_per_locale_and_app(app, monkeypatch):
    import flask_babel

    calls = []
    real = i18n._FLASK_BABEL_GET_TRANSLATIONS  # Flask-Babel's own lookup (the class's goes through the request)

    def counted(domain):
        calls.append(1)
        return real(domain)

    monkeypatch.setattr(i18n, "_FLASK_BABEL_GET_TRANSLATIONS", counted)
    monkeypatch.setitem(app.extensions, "kdcs_catalogs", {})
    seen = {}
    for query in ("", "?lang=en", "", "?lang=en", "?lang=xx"):
        with app.app_context(), app.test_request_context(f"/{query}"):
            catalog = i18n.request_translations()
            assert catalog is real(flask_babel.get_domain())  # what Flask-Babel itself answers for this request
            assert flask_babel.get_translations() is catalog  # and what its callers now get
            seen.setdefault(query.replace("?lang=xx", ""), set()).add(id(catalog))
    assert len(calls) == 2
    assert all(len(ids) == 1 for ids in seen.values()) and seen[""] != seen["?lang=en"]
    with app.app_context(), app.test_request_context("/"):
        assert i18n.request_translations().ugettext("Log out") == "退出登录"


def test_templates_still_get_g_request_and_session_once_from_the_app(app):
    from flask import render_template_string
    from flask.templating import _default_template_ctx_processor

    processors = app.template_context_processors
    assert processors[None].count(_default_template_ctx_processor) == 1
    assert all(_default_template_ctx_processor not in p for name, p in processors.items() if name is not None)
    with app.test_request_context("/tickets/?q=x"):
        from flask import g

        g.marker = "m"
        html = render_template_string("{{ g.marker }}|{{ request.args.q }}|{{ session is defined }}")
    assert html == "m|x|True"

"""Flask-Babel set-up: zh_CN first, one catalog per feature domain.

Every ``*.po`` under ``kdcs/translations/zh_CN/LC_MESSAGES`` is a domain
(``messages`` for the core, one per feature package); Flask-Babel merges
them, so a feature adds its catalog without touching anyone else's.
"""

from __future__ import annotations

import weakref
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request
from flask_babel import Domain, get_translations
from jinja2 import pass_eval_context
from markupsafe import Markup

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
# Flask-Babel's own, kept before ``_install_request_kept_translations`` routes the class's through
# the request's catalog (which it still asks once per language and app).
_FLASK_BABEL_GET_TRANSLATIONS = getattr(Domain.get_translations, "flask_babel_own", Domain.get_translations)
SUPPORTED_LOCALES = ("zh_CN", "en")


def catalog_domains() -> list[str]:
    lc = TRANSLATIONS_DIR / "zh_CN" / "LC_MESSAGES"
    domains = sorted(p.stem for p in lc.glob("*.po"))
    if "messages" in domains:  # core first
        domains.remove("messages")
        domains.insert(0, "messages")
    return domains or ["messages"]


# Babel expands zh_CN to zh_Hans_CN and gettext then looks for that folder
# (or plain "zh"), so each compiled catalog is also written under the
# canonical name. Sources stay in zh_CN/, the name everyone expects.
CANONICAL_LOCALE_DIRS = {"zh_CN": "zh_Hans_CN"}


def compile_catalogs(force: bool = False) -> list[Path]:
    """Compile .po to .mo where the .mo is missing or older; returns what was written."""
    written = []
    for po_path in TRANSLATIONS_DIR.glob("*/LC_MESSAGES/*.po"):
        locale_name = po_path.parent.parent.name
        targets = [po_path.with_suffix(".mo")]
        if locale_name in CANONICAL_LOCALE_DIRS:
            targets.append(TRANSLATIONS_DIR / CANONICAL_LOCALE_DIRS[locale_name] / "LC_MESSAGES" / f"{po_path.stem}.mo")
        stale = [t for t in targets if force or not t.exists() or t.stat().st_mtime < po_path.stat().st_mtime]
        if not stale:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=locale_name)
        for mo_path in stale:
            mo_path.parent.mkdir(parents=True, exist_ok=True)
            with mo_path.open("wb") as mo_file:
                write_mo(mo_file, catalog)
            written.append(mo_path)
    return written


def select_locale() -> str:
    """The request's locale name: zh_CN; ?lang=en exists for the developers' screenshots only."""
    wanted = request.args.get("lang") if request else None
    if wanted in SUPPORTED_LOCALES:
        return wanted
    return "zh_CN"


# Each supported locale parsed once per process: Flask-Babel parses the selector's answer on every
# request unless it is a ``babel.Locale`` already (which it returns as it is). Locales are immutable.
_PARSED_LOCALES: dict[str, object] = {}


def selected_locale():
    """``select_locale()`` as a ``babel.Locale``, parsed once per process (Flask-Babel's selector)."""
    name = select_locale()
    locale = _PARSED_LOCALES.get(name)
    if locale is None:
        from babel import Locale

        locale = _PARSED_LOCALES[name] = Locale.parse(name)
    return locale


def init_app(app, babel) -> None:
    domains = catalog_domains()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(TRANSLATIONS_DIR) for _ in domains)
    app.config["BABEL_DOMAIN"] = ";".join(domains)
    try:
        compile_catalogs()
    except OSError:  # read-only install: catalogs were compiled at build time
        pass
    babel.init_app(app, locale_selector=selected_locale, timezone_selector=lambda: "Asia/Shanghai")
    from flask_babel import get_locale

    app.jinja_env.globals["get_locale"] = get_locale
    _install_request_cached_gettext(app)
    _install_request_kept_translations()


def request_translations():
    """The merged catalogs, looked up once per request (templates call _() dozens of times):
    kept on the request context itself, found through its context variable (not ``g``'s proxy)."""
    if _REQUEST_CONTEXT is None:
        return _translations_on_g()
    ctx = _REQUEST_CONTEXT.get(None)
    if ctx is None:
        return get_translations()
    translations = ctx.__dict__.get("_kdcs_translations")
    if translations is None:
        translations = ctx._kdcs_translations = _catalog(ctx.app)
    return translations


def _catalog(app):
    """The merged catalogs of the request's locale: Flask-Babel's (its lookup goes through ``g``,
    the domain and the locale each time), asked once per app and locale and kept on the app."""
    from flask_babel import get_domain

    locale = selected_locale()  # the locale Flask-Babel's get_locale() gives (the same selector)
    catalogs = app.extensions.setdefault("kdcs_catalogs", {})
    catalog = catalogs.get(locale)
    if catalog is None:
        catalog = catalogs[locale] = _FLASK_BABEL_GET_TRANSLATIONS(get_domain())
    return catalog


def _request_kept_translations(domain):
    """``flask_babel.Domain.get_translations`` in a request: the request's kept catalog (KDCS has
    one domain, the merged catalogs, and never forces another locale inside a request), so the
    Python side's ``gettext`` and lazy texts (form labels, choices) skip Flask-Babel's lookups of
    the context, the domain and the locale on every call, as the templates' ``_()`` does."""
    if _REQUEST_CONTEXT is None or _REQUEST_CONTEXT.get(None) is None:
        return _FLASK_BABEL_GET_TRANSLATIONS(domain)
    return request_translations()


_request_kept_translations.flask_babel_own = _FLASK_BABEL_GET_TRANSLATIONS


def _install_request_kept_translations() -> None:
    """Route every ``Domain.get_translations`` through ``_request_kept_translations`` (idempotent)."""
    if Domain.get_translations is _FLASK_BABEL_GET_TRANSLATIONS:
        Domain.get_translations = _request_kept_translations


def per_catalog(store, limit: int | None = None) -> dict | None:
    """The dict kept in ``store`` (a ``weakref.WeakKeyDictionary``) for the request's catalog, one per
    language, for texts worth translating once per process; None outside a request or for a catalog
    that takes no weak reference (then nothing is kept). Cleared when it grows past ``limit`` (looked
    at once per request: the dict found is remembered on the request context for the next calls)."""
    from flask import has_request_context

    ctx = _REQUEST_CONTEXT.get(None) if _REQUEST_CONTEXT is not None else None
    if ctx is not None:
        found = ctx.__dict__.get("_kdcs_per_catalog")
        if found is None:
            found = ctx._kdcs_per_catalog = {}
        cache = found.get(id(store))  # the stores are module-level and live as long as the process
        if cache is not None:
            return cache
    elif not has_request_context():
        return None
    catalog = request_translations()
    try:
        cache = store.get(catalog)
        if cache is None:
            cache = store[catalog] = {}
    except TypeError:
        return None
    if limit is not None and len(cache) > limit:
        cache.clear()
    if ctx is not None:
        found[id(store)] = cache
    return cache


def kept_per_catalog(store, key, make, *args, limit: int | None = None):
    """``make(*args)`` kept under ``key`` in ``per_catalog(store, limit)``: made once per language
    and process; made on every call outside a request (nothing is kept then)."""
    cache = per_catalog(store, limit)
    if cache is None:
        return make(*args)
    value = cache.get(key)
    if value is None:
        value = cache[key] = make(*args)
    return value


def _translations_on_g():
    """The same through ``g``, for a Flask without the context variable below."""
    from flask import g, has_request_context

    if not has_request_context():
        return get_translations()
    translations = g.get("_kdcs_translations")
    if translations is None:
        translations = g._kdcs_translations = get_translations()
    return translations


try:  # Flask 3.0/3.1: the request context's own context variable
    from flask.globals import _cv_request as _REQUEST_CONTEXT
except ImportError:  # pragma: no cover - a Flask that renamed it
    _REQUEST_CONTEXT = None


def _install_request_cached_gettext(app) -> None:
    # Same callables Flask-Babel installs, minus the per-call domain/locale lookups.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
    )
    # ``_()`` is the most frequent call in the templates (a hundred and more per page): straight to
    # the catalog, without the i18n extension's alias and ``Context.call`` layers around it. Same
    # result as the extension's newstyle gettext: Markup when autoescaping (the variables are
    # then escaped by ``%``), and always formatted, so ``%%`` means ``%``.
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = template_gettext


# {(msgid, autoescape): the text as ``_()`` returns it} per catalog (one per language), for the
# calls without variables: a page says the same hundred-odd fixed texts on every request; and
# {(msgid, autoescape, "pattern"): the translated text before formatting} for the calls with variables.
_TEMPLATE_TEXTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TEMPLATE_TEXTS_LIMIT = 10_000  # template literals are finite; a bound in case of _(variable)


def _request_texts() -> dict | None:
    """The request's dict of ``_TEMPLATE_TEXTS`` (looked up once per request, kept on its context);
    None outside a request (nothing is kept)."""
    if _REQUEST_CONTEXT is None:
        return per_catalog(_TEMPLATE_TEXTS, _TEMPLATE_TEXTS_LIMIT)
    ctx = _REQUEST_CONTEXT.get(None)
    if ctx is None:
        return None
    texts = ctx.__dict__.get("_kdcs_texts")
    if texts is None:
        texts = per_catalog(_TEMPLATE_TEXTS, _TEMPLATE_TEXTS_LIMIT)
        if texts is None:  # a catalog without weak references: kept for this request only
            texts = {}
        ctx._kdcs_texts = texts
    return texts


@pass_eval_context
def template_gettext(eval_ctx, string: str, **variables) -> str:
    """``_("…", name=value)`` in a template: the request's catalog, formatted, escaped as Jinja would.

    A text without variables is the same on every call for a catalog and an autoescape mode: kept
    (still formatted once, so ``%%`` is ``%``); a text with variables keeps its translated pattern
    and is formatted (its variables escaped by ``%``) on every call. Only the evaluation context is needed (the
    autoescape mode), so Jinja passes it without deriving a context for a block's or loop's ``set``.
    """
    texts = _request_texts()
    if variables:  # the translated pattern is kept (Markup when autoescaping); formatted on every call
        key = (string, bool(eval_ctx.autoescape), "pattern")
        pattern = texts.get(key) if texts is not None else None
        if pattern is None:
            pattern = request_translations().ugettext(string)
            if key[1]:
                pattern = Markup(pattern)
            if texts is not None:
                texts[key] = pattern
        return pattern % variables
    key = (string, bool(eval_ctx.autoescape))
    if texts is not None:
        text = texts.get(key)
        if text is not None:
            return text
    translated = request_translations().ugettext(string)
    if key[1]:
        translated = Markup(translated)
    text = translated % variables
    if texts is not None:
        texts[key] = text
    return text

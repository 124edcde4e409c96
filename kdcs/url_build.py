"""``url_for`` for the templates without Werkzeug's rule search on every call.

A page builds 40-odd URLs (a ticket page's actions, the navigation); Flask's ``url_for`` goes
through the request's URL adapter each time, which sorts out method, defaults, host and
scheme and tries the endpoint's rules one by one (~7-9 µs a URL). Which rule builds a URL
depends only on the endpoint and the names of the values given, as long as none of the
endpoint's rules has defaults, a host, a subdomain or a websocket: ``url_for`` here finds that
rule once per process (the same search, ``Map``'s own order) and afterwards only runs the
rule's compiled builder and prefixes the script root, as the adapter does. Anything else
(a relative ``.endpoint``, ``_external``/``_anchor``/``_method``/``_scheme``, URL default
functions, no request, a value the converter refuses) is Flask's ``url_for`` as before.
``tests/test_url_build.py`` builds every route both ways and compares.
"""

from __future__ import annotations

from flask import url_for as flask_url_for

try:  # Flask 3.0/3.1: the request context's own context variable
    from flask.globals import _cv_request as _REQUEST_CONTEXT
except ImportError:  # pragma: no cover - a Flask that renamed it
    _REQUEST_CONTEXT = None

# (endpoint, names of the values) -> the rule that builds it, or None: Flask's url_for.
# Kept per URL map (one per app); bounded because the names come from template calls.
RULES_LIMIT = 5000


def _rules_of(url_map) -> dict:
    rules = url_map.__dict__.get("_kdcs_build_rules")
    if rules is None or len(rules) >= RULES_LIMIT:
        rules = url_map._kdcs_build_rules = {}
    return rules


def _rule_for(adapter, endpoint: str, names: tuple):
    """The rule ``MapAdapter.build`` would pick for these value names, if the choice depends on
    the names alone (no rule of the endpoint has defaults, host, subdomain or websocket); else None."""
    url_map = adapter.map
    if url_map.host_matching or url_map._remap:
        return None
    candidates = url_map._rules_by_endpoint.get(endpoint, ())
    if not candidates or any(rule.defaults or rule.host or rule.subdomain or rule.websocket for rule in candidates):
        return None
    values = dict.fromkeys(names, "")
    for method in (adapter.default_method, None):
        for rule in candidates:
            if rule.suitable_for(values, method):
                return rule
    return None


_MISSING = object()


def url_for(endpoint: str, **values) -> str:
    """Flask's ``url_for`` (same URL), with the endpoint's rule found once per process."""
    ctx = _REQUEST_CONTEXT.get(None) if _REQUEST_CONTEXT is not None else None
    if ctx is None or endpoint[:1] == "." or ctx.app.url_default_functions:
        return flask_url_for(endpoint, **values)
    if any(name[:1] == "_" for name in values):  # _anchor, _external, _method, _scheme
        return flask_url_for(endpoint, **values)
    if any(value is None for value in values.values()):  # dropped, as Werkzeug drops them
        values = {k: v for k, v in values.items() if v is not None}
    adapter = ctx.url_adapter
    if adapter is None:
        return flask_url_for(endpoint, **values)
    rules = _rules_of(adapter.map)
    names = tuple(values)
    rule = rules.get((endpoint, names), _MISSING)
    if rule is _MISSING:
        rule = rules[(endpoint, names)] = _rule_for(adapter, endpoint, names)
    if rule is None:
        return flask_url_for(endpoint, **values)
    built = rule.build(values, True)
    if built is None or built[0] != adapter.subdomain:
        return flask_url_for(endpoint, **values)
    return f"{adapter.script_name.rstrip('/')}/{built[1].lstrip('/')}"


def install(app) -> None:
    """Templates' ``url_for`` is this one (Python code keeps Flask's)."""
    app.jinja_env.globals["url_for"] = url_for

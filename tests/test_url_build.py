"""Templates' ``url_for`` (kdcs/url_build.py) gives Flask's URL for every route, with and without
query values, under a script root, and leaves what it does not handle to Flask."""

from __future__ import annotations

import re

import pytest
from flask import render_template_string
from flask import url_for as flask_url_for
from werkzeug.routing import BuildError

from kdcs import url_build

SAMPLES = {"int": 7, "default": "甲 b&c", "path": "a/b c.txt", "string": "x y"}


def _values(rule) -> dict:
    """A value for each of the rule's parts, by its converter (``<int:ticket_id>``, ``<path:name>``)."""
    kinds = dict((name, kind or "default") for kind, name in re.findall(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>", rule.rule))
    return {name: SAMPLES.get(kind, SAMPLES["default"]) for name, kind in kinds.items()}


@pytest.mark.parametrize("script_root", ["", "/kdcs"])
def test_every_route_is_built_as_flask_builds_it(app, script_root):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(rules) > 100
    with app.test_request_context("/tickets/", base_url=f"http://localhost{script_root}/"):
        for rule in rules:
            values = _values(rule)
            for extra in ({}, {"page": 2, "q": "运单 7701&x"}, {"scope": None}):
                wanted = flask_url_for(rule.endpoint, **values, **extra)
                assert url_build.url_for(rule.endpoint, **values, **extra) == wanted, (rule.rule, extra)
            assert wanted.startswith(script_root + "/"), (wanted, rule.rule)
        assert url_build.url_for("static", filename="css/app.css") == flask_url_for("static", filename="css/app.css")


def test_the_rule_is_found_once_then_reused(app):
    with app.test_request_context("/"):
        url_build._rules_of(app.url_map).clear()
        first = url_build.url_for("tickets.detail", ticket_id=5)
        kept = dict(url_build._rules_of(app.url_map))
        assert first == "/tickets/5" and list(kept) == [("tickets.detail", ("ticket_id",))]
        assert url_build.url_for("tickets.detail", ticket_id=6) == "/tickets/6"
        assert url_build._rules_of(app.url_map)[("tickets.detail", ("ticket_id",))] is kept[
            ("tickets.detail", ("ticket_id",))]


def test_what_it_does_not_handle_is_flasks(app):
    with app.test_request_context("/tickets/"):
        assert url_build.url_for("tickets.detail", ticket_id=5, _anchor="replies") == "/tickets/5#replies"
        assert url_build.url_for("tickets.index", scope=None, _anchor="x") == "/tickets/#x"  # a None before it
        assert url_build.url_for("tickets.detail", ticket_id=5, _external=True) == "http://localhost/tickets/5"
        assert url_build.url_for(".detail", ticket_id=5) == "/tickets/5"
        with pytest.raises(BuildError):
            url_build.url_for("tickets.detail")
        with pytest.raises(BuildError):
            url_build.url_for("no.such_endpoint")
        for build in (flask_url_for, url_build.url_for):  # the int converter refuses a text: the same error
            with pytest.raises(ValueError):
                build("tickets.detail", ticket_id="abc")
    with app.app_context():  # no request: Flask's url_for (SERVER_NAME decides)
        try:
            wanted = flask_url_for("auth.login")
        except RuntimeError:
            with pytest.raises(RuntimeError):
                url_build.url_for("auth.login")
        else:
            assert url_build.url_for("auth.login") == wanted


def test_templates_use_it(app):
    assert app.jinja_env.globals["url_for"] is url_build.url_for
    with app.test_request_context("/"):
        assert render_template_string('{{ url_for("tickets.detail", ticket_id=3) }}') == "/tickets/3"

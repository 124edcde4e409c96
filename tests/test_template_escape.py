"""Compiled templates escape their output without a Markup per value (kdcs/template_escape.py),
with the same result as markupsafe's escape."""

from __future__ import annotations

import enum

import jinja2
import jinja2.runtime
import markupsafe
import pytest
from markupsafe import Markup

from kdcs.template_escape import output_escape


class Kind(enum.StrEnum):
    NOTE = "note"


class Lazy:
    def __html__(self):
        return "<b>safe</b>"

    def __str__(self):
        return "<unsafe>"


VALUES = ["plain", "a<b>&'\"", "", 0, -12, 3.5, None, True, Markup("<i>kept</i>"), Lazy(), Kind.NOTE,
          ["x<y"], {"k": "<v>"}]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_output_escape_is_markupsafe_as_text(value):
    assert output_escape(value) == str(markupsafe.escape(value))
    assert type(output_escape(value)) in (str, Markup)


SOURCES = [
    "{{ v }}|{{ v ~ '<' }}|{{ v|e }}|{{ v|safe }}",
    "{% set block %}<p>{{ v }}</p>{% endset %}{{ block }}{{ block|length }}",
    "{% macro m(x) %}<em>{{ x }}</em>{% endmacro %}{{ m(v) }}{{ m(v)|upper }}",
    "{% autoescape false %}{{ v }}{% endautoescape %}{{ v }}",
    "{% for i in [v, v] %}{{ loop.index }}{{ i }}{% endfor %}",
    "{% macro caller_macro() %}[{{ caller('<c>') }}]{% endmacro %}"
    "{% call(x) caller_macro() %}{{ x }}{{ v }}{% endcall %}",
]


def _render(source: str, value, escape) -> str:
    saved = jinja2.runtime.escape
    jinja2.runtime.escape = escape  # compiled templates import the name when they are compiled
    try:
        template = jinja2.Environment(autoescape=True).from_string(source)
    finally:
        jinja2.runtime.escape = saved
    return template.render(v=value)


@pytest.mark.parametrize("source", SOURCES)
def test_templates_render_the_same_as_with_markupsafe(source):
    for value in VALUES:
        assert _render(source, value, output_escape) == _render(source, value, markupsafe.escape), (source, value)


def test_the_app_compiles_its_templates_with_it(app):
    assert jinja2.runtime.escape is output_escape
    template = app.jinja_env.from_string("{{ v }}")
    assert template.render(v="<x>") == "&lt;x&gt;"

"""The escape Jinja writes around every ``{{ value }}`` of an autoescaped template, without a
``Markup`` object per value.

Compiled templates call ``jinja2.runtime.escape`` (``markupsafe.escape``) on each value they
print; it wraps every result in a ``Markup`` (a ``str`` subclass: an object and an ``__html__``
check each). Those results are only ever written into the output, where they are joined as plain
text: a ticket page printed ~480 of them, ~0.5 ms. ``output_escape`` escapes exactly as
markupsafe does (``&<>'"``; an object with ``__html__`` gives that as it is) and returns ``str``.

It replaces the name in ``jinja2.runtime`` (the module compiled templates import it from) when
``kdcs`` is imported, before any template is compiled. ``|e``, ``escape()`` called from Python and
the i18n extension keep markupsafe's own. ``tests/test_template_escape.py`` renders the same
templates with both and compares them.
"""

from __future__ import annotations

import jinja2.runtime
import markupsafe

try:
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - a platform without markupsafe's C speedups
    from markupsafe._native import _escape_inner


def output_escape(value, _inner=_escape_inner, _str=str) -> str:
    """``str(markupsafe.escape(value))`` without the Markup: for a compiled template's output."""
    kind = type(value)
    if kind is _str:
        return _inner(value)
    if kind is int:
        return _str(value)  # digits and a sign: nothing to escape
    if hasattr(value, "__html__"):
        return value.__html__()
    return _inner(_str(value))


def install() -> None:
    """Make compiled templates use ``output_escape`` (idempotent; only if Jinja still names markupsafe's)."""
    if jinja2.runtime.escape is markupsafe.escape:
        jinja2.runtime.escape = output_escape


install()

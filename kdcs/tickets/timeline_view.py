"""The ticket page's timeline, described in one pass with the texts looked up once.

A busy ticket shows dozens of events, and each one used to ask Flask-Babel for its label, its
change lines ("状态：处理中 → 已回复") and badges. ``lines(rows)`` gives the template plain
``Line``s: what ``kdcs.auditing.describe_event`` says, with the change lines of the kinds whose
text depends only on the event's own values kept per catalog (one per locale) for the process.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import NamedTuple

from markupsafe import Markup

from ..auditing import describe_event
from .labels import label

# Kinds whose change lines are a pure function of (kind, from_value, to_value), and whose body is
# the event's own (``describe_event`` passes it through); "edit" names the changed fields in its
# body and shows no body. The others (the SOP panel's "sop" looks its version up) are described
# on every page.
_PURE = {"status", "reopen", "created", "assign", "first_reply", "fine", "reply"}
_KEPT = _PURE | {"edit", "note"}  # kinds whose whole line is a function of the row's values
_CACHE_LIMIT = 20_000
_CHANGES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# {row's values: <li>} per catalog, for the kinds in _KEPT. The key is everything the line shows
# (an event is never edited; a renamed actor or a reused id makes another key): never stale.
_HTML: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
EVENT_TEMPLATE = "tickets/_timeline_event.html"


@dataclass
class Line:
    """One event as the timeline shows it; ``html`` its <li> (tickets/_timeline_event.html)."""

    kind: str
    label: str
    changes: tuple[str, ...]
    body: str
    actor_id: int | None
    actor_name: str | None
    at: object
    html: Markup | None = None
    event_id: int | None = None  # the <li>'s id ("ev-<id>"): a line added twice (a resent note) is shown once


def _catalog_cache(caches: weakref.WeakKeyDictionary) -> dict | None:
    from ..i18n import per_catalog

    return per_catalog(caches, _CACHE_LIMIT)


def _described(row, cache: dict | None) -> tuple[tuple[str, ...], str]:
    """(change lines, body) of one event row, as ``describe_event`` says them."""
    if row.kind == "edit":
        key = (row.kind, row.body or "")
    elif row.kind in _PURE:
        key = (row.kind, row.from_value, row.to_value)
    else:
        key = None
    if cache is not None and key is not None:
        changes = cache.get(key)
        if changes is not None:
            return changes, "" if row.kind == "edit" else row.body or ""
    line = describe_event(row)
    changes = tuple(str(change) for change in line.changes)
    if cache is not None and key is not None:
        cache[key] = changes
    return changes, line.body


def lines(rows) -> list[Line]:
    """The timeline rows (``service.timeline_rows``) as ``Line``s with their HTML, oldest first."""
    from flask import current_app

    cache = _catalog_cache(_CHANGES)
    html_cache = _catalog_cache(_HTML)
    template = current_app.jinja_env.get_template(EVENT_TEMPLATE)  # a reloaded template: new keys
    event_line = None
    result = []
    for row in rows:
        # Only lines that say nothing but the row's own values are kept (not the SOP panel's "sop":
        # its line names a version, which may be deleted later).
        key = (template, tuple(row)) if row.kind in _KEPT else None
        html = html_cache.get(key) if html_cache is not None and key is not None else None
        if html is not None:  # what the line says is in its HTML already
            result.append(Line(row.kind, "", (), "", row.actor_id, row.actor_name, row.at, html, row.id))
            continue
        changes, body = _described(row, cache)
        line = Line(row.kind, label("event", row.kind), changes, body, row.actor_id, row.actor_name, row.at,
                    event_id=row.id)
        if event_line is None:
            event_line = template.module.event_line
        line.html = event_line(line)
        if html_cache is not None and key is not None:
            html_cache[key] = line.html
        result.append(line)
    return result


class EventRow(NamedTuple):
    """An event as ``service.timeline_rows`` gives it, for an event this request just stored."""

    id: int
    at: object
    actor_id: int | None
    kind: str
    from_value: str | None
    to_value: str | None
    body: str | None
    actor_name: str | None


def line_of(event, actor_name: str | None) -> Line:
    """The timeline line of one stored ``TicketEvent`` (its actor's name given): the same HTML the
    page shows for it, without reading the timeline again."""
    row = EventRow(event.id, event.at, event.actor_id, event.kind, event.from_value, event.to_value,
                   event.body, actor_name)
    return lines([row])[0]

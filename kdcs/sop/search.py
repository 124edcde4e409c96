"""The SOP scenario search: one index row per scenario, from its current published version.

``reindex_scenario(scenario)`` is called by the SOP service whenever a scenario's
current published version changes (publish, archive, restore): an archived
scenario, or one with no published version, has no row and is never found.
``search(actor, query, ...)`` answers the ``/sop/`` page: the scenarios that
contain every query word (``kdcs.search``), title matches first, with the title
and a snippet highlighted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..markdown import markdown_text
from ..models.sop import SopScenario, SopVersion, VersionStatus
from ..permissions import Permission, ensure
from ..search import SearchIndex, highlight, snippet

INDEX = SearchIndex("sop")
PER_PAGE = 20


_LIST_MARKER = re.compile(r"^(?:[-*+]|\d+[.)])\s+")


def _reader_lines(markdown: str) -> list[str]:
    # The text a reader sees (the one Markdown pipeline), one line per block, without list markers.
    return [_LIST_MARKER.sub("", line.strip()) for line in markdown_text(markdown).splitlines() if line.strip()]


def document(scenario: SopScenario, version: SopVersion) -> tuple[str, str]:
    """(title, body) as indexed: the version's title; script, steps, authority and escalation
    (the tags are indexed too, as keywords: the result list shows them)."""
    lines = _reader_lines(version.script or "")
    for step in version.steps or ():
        text = step.get("text") if isinstance(step, dict) else step
        if text:
            lines.append(str(text).strip())
    lines += _reader_lines(version.authority or "")
    lines += _reader_lines(version.escalation or "")
    return version.title or scenario.title, "\n".join(line for line in lines if line)


def _sort_key(version: SopVersion) -> int:
    when = version.published_at
    return int(when.timestamp()) if isinstance(when, datetime) else 0


def reindex_scenario(scenario: SopScenario) -> None:
    """Rebuild the search row of one scenario from its current published version (in the caller's transaction)."""
    version = scenario.current_version
    if (scenario.id is None or scenario.is_archived or version is None
            or version.status != VersionStatus.PUBLISHED):
        if scenario.id is not None:
            INDEX.delete(scenario.id)
        return
    title, body = document(scenario, version)
    INDEX.put(scenario.id, title=title, body=body, kind=scenario.kind, tags=scenario.tags or (),
              ref_id=version.id, sort_key=_sort_key(version), keywords=" ".join(scenario.tags or ()))


def reindex_all() -> int:
    """Rebuild the whole SOP index (after a tokenizer change or a restore); returns the rows written."""
    INDEX.clear()
    scenarios = db.session.scalars(
        select(SopScenario)
        .where(SopScenario.is_archived.is_(False), SopScenario.current_version_id.is_not(None))
        .options(selectinload(SopScenario.current_version))
    )
    count = 0
    for scenario in scenarios:
        reindex_scenario(scenario)
        count += 1 if scenario.current_version and scenario.current_version.is_published else 0
    return count


@dataclass
class SearchRow:
    """One scenario in the result list: highlighted title and snippet."""

    scenario_id: int
    version_id: int | None
    kind: str
    tags: list[str]
    title: Markup
    snippet: Markup
    in_title: bool


@dataclass
class SearchPage:
    """One page of results, with what the pager macro needs."""

    query: str
    words: list[str]
    rows: list[SearchRow]
    total: int
    page: int
    per_page: int
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.rows)


def search(actor, query: str = "", kind: str | None = None, tag: str | None = None,
           limit: int = PER_PAGE, offset: int = 0) -> list[SearchRow]:
    """The scenarios containing every word of ``query`` (all when empty), best first, highlighted."""
    ensure(actor, Permission.VIEW_SOP)
    return _rows(_query(query, kind, tag, limit, offset))


def _query(query: str, kind: str | None, tag: str | None, limit: int, offset: int):
    return INDEX.search(query or "", kind=kind or None, tag=tag or None, limit=limit, offset=offset)


def _rows(result) -> list[SearchRow]:
    rows = []
    for hit in result.hits:
        words = result.query_words
        rows.append(SearchRow(
            scenario_id=hit.doc_id, version_id=hit.ref_id, kind=hit.kind, tags=hit.tags,
            title=highlight(hit.title, words) if words else escape(hit.title),
            snippet=snippet(hit.body, words),
            in_title=hit.title_hits > 0,
        ))
    return rows


def search_page(actor, query: str = "", kind: str | None = None, tag: str | None = None,
                page: int = 1, per_page: int = PER_PAGE) -> SearchPage:
    """One page of ``search`` with the total, for the ``/sop/`` page."""
    ensure(actor, Permission.VIEW_SOP)
    page = max(1, page)
    result = _query(query, kind, tag, per_page, (page - 1) * per_page)
    return SearchPage(query=query or "", words=result.query_words, rows=_rows(result), total=result.total,
                      page=page, per_page=per_page)


def facets(actor, kind: str | None = None, tag: str | None = None,
           query: str = "") -> tuple[dict[str, int], list[tuple[str, int]]]:
    """(scenarios per kind within the tag, tags with counts within the kind, most used first),
    counting only the scenarios that match ``query``."""
    ensure(actor, Permission.VIEW_SOP)
    tags = sorted(INDEX.tags(kind=kind or None, query=query).items(), key=lambda item: (-item[1], item[0]))
    return INDEX.kinds(tag=tag or None, query=query), tags

"""The SOP library page ``/sop/``: browse by kind and tag, search as the agent types.

One page, one swappable block: typing in the search box (or choosing a kind or a
tag) asks for the ``results`` block — the kind tabs, the tags, the result list and
the pager — and pushes the URL, so the address keeps the query and the back button
returns to it (a history restore gets the whole page).
"""

from __future__ import annotations

from flask import request
from flask_login import current_user

from ..htmx import render
from ..models.sop import SopKind
from ..permissions import Permission, has_permission, require
from ..search.text import MAX_QUERY_CHARS
from . import bp
from . import search as sop_search

INDEX_PAGE = "sop/index.html"
MAX_TAGS_SHOWN = 60
TAGS_BEFORE_MORE = 12  # the rest behind 更多标签


def _filters() -> tuple[str, str | None, str | None, int]:
    q = " ".join(request.args.get("q", "")[:MAX_QUERY_CHARS].split())
    kind = request.args.get("kind") or None
    if kind not in {k.value for k in SopKind}:
        kind = None
    tag = (request.args.get("tag") or "").strip()[:50] or None
    page = request.args.get("page", 1, type=int) or 1
    return q, kind, tag, max(1, min(page, 10_000))


@bp.get("/")
@require(Permission.VIEW_SOP)
def index():
    """The SOP library: kinds, tags and the scenarios found (highlighted), as a page or its results block."""
    q, kind, tag, page = _filters()
    result = sop_search.search_page(current_user, q, kind, tag, page)
    if result.page > result.pages:  # a page past the end (old link, fewer results now): the last one
        result = sop_search.search_page(current_user, q, kind, tag, result.pages)
    kinds, tags = sop_search.facets(current_user, kind, tag, q)
    shown_tags = tags[:MAX_TAGS_SHOWN]
    if tag and tag not in {name for name, _ in shown_tags}:
        shown_tags.insert(0, (tag, dict(tags).get(tag, 0)))
    return render(
        INDEX_PAGE, "results", result=result, q=q, kind=kind, tag=tag,
        kinds=[(k.value, kinds.get(k.value, 0)) for k in SopKind if kinds.get(k.value) or k.value == kind],
        kinds_total=sum(kinds.values()), tags=shown_tags[:TAGS_BEFORE_MORE], more_tags=shown_tags[TAGS_BEFORE_MORE:],
        can_edit=has_permission(current_user, Permission.EDIT_SOP),
    )


@bp.cli.command("reindex")
def reindex_command():
    """Rebuild the SOP search index from every scenario's current published version."""
    import click

    from ..extensions import db

    count = sop_search.reindex_all()
    db.session.commit()
    click.echo(f"indexed {count} scenarios")

"""The one full-page-vs-fragment rule and the htmx response helpers."""

from __future__ import annotations

import json

from flask import Response, get_flashed_messages, render_template, request, url_for
from jinja2_fragments.flask import render_block


def wants_fragment() -> bool:
    """A fragment only for an htmx request that is not boosted and not a history restore."""
    hx = getattr(request, "htmx", None)
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(template: str, block: str | None = None, **context) -> str:
    """Render ``block`` of ``template`` for htmx, the whole page otherwise."""
    if block and wants_fragment():
        return render_block(template, block, **context)
    return render_template(template, **context)


def render_fragment(template: str, block: str, **context) -> str:
    """Always a block: for responses that are only ever asked for by htmx."""
    return render_block(template, block, **context)


def trigger(response: Response, event: str, detail=True) -> Response:
    """Add a client event to HX-Trigger, merging with any already set."""
    existing = response.headers.get("HX-Trigger")
    events = json.loads(existing) if existing else {}
    events[event] = detail
    # ASCII only: HTTP headers are latin-1; htmx decodes the \u escapes.
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def hx_redirect(location: str) -> Response:
    response = Response(status=204)
    response.headers["HX-Redirect"] = location
    return response


def init_app(app) -> None:
    @app.after_request
    def htmx_after_request(response: Response) -> Response:
        response.vary.add("HX-Request")
        hx = getattr(request, "htmx", None)
        if hx and (response.status_code < 300 or response.status_code in (409, 422)):
            # Fragments cannot show flashed messages: hand them to the toast listener.
            messages = get_flashed_messages(with_categories=True)
            if messages:
                toasts = [{"message": str(m), "level": c} for c, m in messages]
                trigger(response, "toast", toasts)
        return response

    @app.context_processor
    def htmx_context():
        return {"is_fragment": wants_fragment()}

    app.jinja_env.globals.setdefault("url_for", url_for)

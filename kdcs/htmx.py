"""The one full-page-vs-fragment rule and the htmx response helpers.

Views never look at ``request.htmx`` themselves (a test fails if one does):

* ``render(template, block=...)`` answers the block for htmx and the whole page
  otherwise, and takes the status, the toast and the client events, so a view
  never branches on the request kind just to attach a header;
* ``render_fragment`` always answers a block (for regions only htmx asks for);
* ``@fragment_only(endpoint)`` gives every fragment-only endpoint the same answer
  to a plain browser request: a 303 to the page the fragment belongs to;
* ``hx_redirect`` / ``redirect_or_fragment`` for the end of a form post.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import wraps

from flask import (
    Response,
    flash,
    get_flashed_messages,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from jinja2_fragments.flask import render_block

Events = str | Iterable[str] | Mapping[str, object] | None


def wants_fragment() -> bool:
    """A fragment only for an htmx request that is not boosted and not a history restore."""
    hx = getattr(request, "htmx", None)
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def is_htmx() -> bool:
    """Any htmx request (also boosted ones): for answers such as HX-Redirect."""
    return bool(getattr(request, "htmx", None))


def current_url() -> str | None:
    """The browser's URL as htmx reports it (HX-Current-URL), for a safe ``next``."""
    hx = getattr(request, "htmx", None)
    return hx.current_url if hx else None


def render(
    template: str,
    block: str | None = None,
    *,
    status: int = 200,
    toast: str | tuple[str, str] | None = None,
    events: Events = None,
    **context,
) -> Response:
    """Render ``block`` of ``template`` for htmx, the whole page otherwise, as a Response.

    ``toast`` is a message (or ``(message, level)``): a toast for fragments, a
    flash on full pages. ``events`` become ``HX-Trigger`` client events.
    """
    if toast is not None:
        message, level = (toast, "success") if isinstance(toast, str) else toast
        flash(message, level)
    if block and wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return with_events(make_response(body, status), events)


def render_fragment(template: str, block: str, *, status: int = 200, toast=None, events: Events = None,
                    **context) -> Response:
    """Always a block: for responses that are only ever asked for by htmx."""
    if toast is not None:
        message, level = (toast, "success") if isinstance(toast, str) else toast
        flash(message, level)
    return with_events(make_response(render_block(template, block, **context), status), events)


def with_events(response: Response, events: Events) -> Response:
    """Add client events (a name, names, or name → detail) to HX-Trigger."""
    if not events:
        return response
    if isinstance(events, str):
        events = {events: True}
    elif not isinstance(events, Mapping):
        events = {name: True for name in events}
    for name, detail in events.items():
        trigger(response, name, detail)
    return response


def trigger(response: Response, event: str, detail=True) -> Response:
    """Add a client event to HX-Trigger, merging with any already set."""
    existing = response.headers.get("HX-Trigger")
    events = json.loads(existing) if existing else {}
    events[event] = detail
    # ASCII only: HTTP headers are latin-1; htmx decodes the \u escapes.
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def retarget(response: Response, target: str, swap: str = "innerHTML") -> Response:
    """Swap the answer into ``target`` (a CSS selector) instead of the element's own ``hx-target``:
    a write that answers only the part it changed (HX-Retarget, HX-Reswap)."""
    response.headers["HX-Retarget"] = target
    response.headers["HX-Reswap"] = swap
    return response


def hx_redirect(location: str) -> Response:
    """Tell htmx to load ``location`` as a whole page (204 with HX-Redirect)."""
    response = Response(status=204)
    response.headers["HX-Redirect"] = location
    return response


def redirect_after_post(location: str) -> Response:
    """The end of a successful form post: HX-Redirect for htmx, 303 otherwise."""
    return hx_redirect(location) if is_htmx() else redirect(location, code=303)


def fragment_only(fallback_endpoint: str):
    """Decorator for endpoints that only serve a fragment: a plain request gets a 303 to the page.

    ``fallback_endpoint`` is the page the fragment belongs to; it receives the
    view's URL arguments that it accepts (e.g. ``ticket_id``).
    """

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not wants_fragment():
                return redirect(_fallback_url(fallback_endpoint, kwargs), code=303)
            return view(*args, **kwargs)

        wrapper.fragment_only_fallback = fallback_endpoint  # the sweep test finds them by this
        return wrapper

    return decorate


def _fallback_url(endpoint: str, view_args: dict) -> str:
    from flask import current_app

    accepted = set().union(*(rule.arguments for rule in current_app.url_map.iter_rules(endpoint)))
    return url_for(endpoint, **{k: v for k, v in view_args.items() if k in accepted})


def init_app(app) -> None:
    """Vary on HX-Request everywhere; flashed messages become toasts on fragments."""

    @app.after_request
    def htmx_after_request(response: Response) -> Response:
        response.vary.add("HX-Request")
        swapped = response.status_code < 300 or response.status_code in (409, 422)
        if is_htmx() and swapped and "HX-Redirect" not in response.headers:
            # Fragments cannot show flashed messages: hand them to the toast listener
            # (an HX-Redirect keeps them for the page it loads).
            messages = get_flashed_messages(with_categories=True)
            if messages:
                toasts = [{"message": str(m), "level": c} for c, m in messages]
                trigger(response, "toast", toasts)
        return response

    @app.context_processor
    def htmx_context():
        return {"is_fragment": wants_fragment()}

    app.jinja_env.globals.setdefault("url_for", url_for)

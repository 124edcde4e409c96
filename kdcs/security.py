"""Security headers every response inherits: one ``after_request`` (see README, "Security headers").

Scripts come only from our own origin (``script-src 'self'``: no inline script,
no event-handler attributes, no eval — htmx runs with ``allowEval: false``), and
no other site may frame a page. Headers are set with ``setdefault``: a view that
sends its own, stricter value on purpose (an attachment download with
``Content-Security-Policy: sandbox; default-src 'none'``, say) keeps it.
"""

from __future__ import annotations

from flask import Flask, Response

# Styles: our stylesheets only. Style *attributes* (layout tweaks in templates,
# the import progress bar's width, htmx settling copies ``style``) need
# 'unsafe-inline'; CSP 3 browsers get it for attributes only (style-src-attr),
# while <style> elements stay limited to 'self' (style-src-elem). ``style-src``
# itself is the fallback for browsers without the CSP 3 directives, where the
# attributes would otherwise be dropped and pages break.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "style-src-elem 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    # Intranet URLs (waybill numbers, filters) never leave the site in a Referer.
    "Referrer-Policy": "same-origin",
}


_PAIRS = tuple(SECURITY_HEADERS.items())
_NAMES = frozenset(name.lower() for name in SECURITY_HEADERS)


def add_security_headers(response: Response) -> Response:
    """Add the security headers the response does not set itself: one pass over its headers
    (the common case, none set by the view, appends all four at once)."""
    headers = response.headers
    if any(key.lower() in _NAMES for key in headers.keys()):
        for name, value in _PAIRS:  # a view set one on purpose: keep it
            headers.setdefault(name, value)
    else:
        headers.extend(_PAIRS)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)

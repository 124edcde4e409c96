"""Flask's signed-cookie session, with the verified contents of a cookie remembered per process.

Every request opens the session: Flask checks the cookie's HMAC signature and decodes its
compressed JSON again, though a browser sends the same cookie for hours (a session is not
permanent here, so the cookie is only re-signed when its contents change). The polls
(bell, presence) are most of the requests and that was ~10 % of their CPU.

``CachingSessionInterface`` remembers, for the last ``LIMIT`` cookie values it verified,
the signing time and the decoded contents. What stays exactly as Flask does it:

- The cookie's age is checked on every request against ``PERMANENT_SESSION_LIFETIME``
  (older, or signed in the future: an empty session, as itsdangerous' ``SignatureExpired``).
- Only a cookie whose signature verified is remembered, keyed by its whole value: a
  tampered cookie is another value, verified in full (and refused) like before.
- The secret keys are part of the memory: a new ``SECRET_KEY`` (or fallbacks) forgets it.
- Each request gets its own copy of the contents (deep when a value is a list or dict, as
  ``flash()`` appends to the stored list), so no request sees another's changes.
"""

from __future__ import annotations

import copy
import threading
import time

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

# Cookie values remembered per process (a few hundred bytes each: ~1-2 MB at most).
LIMIT = 4096

# Values a shallow copy of the contents may share between requests (immutable).
_IMMUTABLE = frozenset({str, int, float, bool, bytes, type(None)})


class CachingSessionInterface(SecureCookieSessionInterface):
    """``SecureCookieSessionInterface`` that verifies and decodes each cookie value once per process."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._keys: tuple | None = None
        self._serializer: URLSafeTimedSerializer | None = None
        # cookie value -> (signed at, in whole seconds as itsdangerous counts them; contents; flat?)
        self._verified: dict[str, tuple[int, dict, bool]] = {}

    def _current(self, app: Flask) -> tuple[URLSafeTimedSerializer | None, dict]:
        """The serializer for the app's keys (built once per key set) and the memory that goes with them."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys != self._keys:
            with self._lock:
                if keys != self._keys:
                    self._serializer = super().get_signing_serializer(app)
                    self._verified = {}
                    self._keys = keys
        return self._serializer, self._verified

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask's serializer for the current keys, built once per key set instead of on every request."""
        return self._current(app)[0]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The request's session: from memory when this cookie value verified before and is not
        too old now, else verified and decoded as Flask does (and remembered if it verified)."""
        serializer, verified = self._current(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = verified.get(value)
        if known is None:
            try:
                data, signed_at = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:  # tampered, expired, or signed with another key: an empty session
                return self.session_class()
            if not isinstance(data, dict):
                return self.session_class(data)
            known = (int(signed_at.timestamp()), data, all(type(v) in _IMMUTABLE for v in data.values()))
            self._remember(verified, value, known)
        else:
            age = int(time.time()) - known[0]  # itsdangerous' own check: age > max_age or < 0
            if age > max_age or age < 0:
                return self.session_class()
        _, data, flat = known
        return self.session_class(dict(data) if flat else copy.deepcopy(data))

    def _remember(self, verified: dict, value: str, known: tuple) -> None:
        with self._lock:
            while len(verified) >= self.limit:  # the oldest first (dicts keep insertion order)
                verified.pop(next(iter(verified)))
            verified[value] = known


def init_app(app: Flask) -> None:
    """Use the caching session interface for ``app``."""
    app.session_interface = CachingSessionInterface()

"""kdcs/session_cookie.py: a cookie value is verified and decoded once per process, and
everything Flask checks on each request is still checked on each request (age, tampering,
the secret key), with no request seeing another's changes to the session."""

from __future__ import annotations

import time

import pytest
from flask import Flask, flash, get_flashed_messages, session

from kdcs import session_cookie
from kdcs.session_cookie import CachingSessionInterface

HX = {"HX-Request": "true"}
LIFETIME = 3600


@pytest.fixture
def small_app():
    """A bare Flask app with the caching interface: ``/set`` stores, ``/get`` shows the session."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret", PERMANENT_SESSION_LIFETIME=LIFETIME)
    session_cookie.init_app(app)

    @app.route("/set/<name>")
    def set_value(name):
        session["name"] = name
        session["items"] = [1, 2]
        return "ok"

    @app.route("/get")
    def get_value():
        return f"{session.get('name')}|{session.get('items')}"

    @app.route("/mutate")
    def mutate():
        session["items"].append(3)  # in place, as flash() does with its list; not marked modified
        flash("hello")
        return "mutated"

    @app.route("/flashes")
    def flashes():
        return "|".join(get_flashed_messages())

    return app


def _cookie(client) -> str:
    return client.get_cookie("session").value


def test_a_cookie_value_is_verified_once_and_answers_the_same(small_app):
    client = small_app.test_client()
    client.get("/set/alice")
    interface = small_app.session_interface
    assert isinstance(interface, CachingSessionInterface)
    assert client.get("/get").text == "alice|[1, 2]"
    assert list(interface._verified) == [_cookie(client)]
    known = interface._verified[_cookie(client)]
    for _ in range(3):
        assert client.get("/get").text == "alice|[1, 2]"
    assert interface._verified[_cookie(client)] is known  # answered from memory, not verified again


def test_a_tampered_cookie_is_refused_even_when_the_genuine_one_is_remembered(small_app):
    client = small_app.test_client()
    client.get("/set/alice")
    genuine = _cookie(client)
    assert client.get("/get").text == "alice|[1, 2]"  # remembered
    payload, timestamp, signature = genuine.rsplit(".", 2)
    forged = [
        # another signature: the first character carries six whole bits (the last one's low bits
        # are base64 padding, so changing only those would decode to the same signature)
        f"{payload}.{timestamp}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}",
        f"{payload[:-2]}xx.{timestamp}.{signature}",  # other contents, the genuine signature
        f"{payload}.{timestamp}",  # no signature
    ]
    for value in forged:
        client.set_cookie("session", value)
        assert client.get("/get").text == "None|None", value
        assert value not in small_app.session_interface._verified
    client.set_cookie("session", genuine)
    assert client.get("/get").text == "alice|[1, 2]"


def test_the_age_is_checked_on_every_request(small_app, monkeypatch):
    client = small_app.test_client()
    client.get("/set/alice")
    assert client.get("/get").text == "alice|[1, 2]"  # remembered now
    now = time.time()
    monkeypatch.setattr(session_cookie.time, "time", lambda: now + LIFETIME - 5)
    assert client.get("/get").text == "alice|[1, 2]"
    monkeypatch.setattr(session_cookie.time, "time", lambda: now + LIFETIME + 5)  # expired
    assert client.get("/get").text == "None|None"
    monkeypatch.setattr(session_cookie.time, "time", lambda: now - 60)  # signed "in the future"
    assert client.get("/get").text == "None|None"


def test_an_expired_cookie_never_seen_before_is_refused(small_app, monkeypatch):
    client = small_app.test_client()
    client.get("/set/alice")
    small_app.session_interface._verified.clear()
    later = time.time() + LIFETIME + 5
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    assert client.get("/get").text == "None|None"
    assert small_app.session_interface._verified == {}


def test_requests_do_not_share_changes_to_the_remembered_contents(small_app):
    client = small_app.test_client()
    client.get("/set/alice")
    cookie = _cookie(client)
    other = small_app.test_client()
    other.set_cookie("session", cookie)  # the same cookie value in another browser tab
    assert client.get("/get").text == "alice|[1, 2]"
    assert client.get("/mutate").text == "mutated"  # a new cookie for this client (the flash)
    assert other.get("/get").text == "alice|[1, 2]"  # the remembered contents are untouched
    assert other.get("/flashes").text == ""
    assert client.get("/flashes").text == "hello"


def test_a_new_secret_key_forgets_what_the_old_one_verified(small_app):
    client = small_app.test_client()
    client.get("/set/alice")
    assert client.get("/get").text == "alice|[1, 2]"
    small_app.secret_key = "rotated-secret"
    assert client.get("/get").text == "None|None"
    small_app.config["SECRET_KEY_FALLBACKS"] = ["test-secret"]  # the old key as a fallback: accepted again
    assert client.get("/get").text == "alice|[1, 2]"


def test_the_memory_is_bounded(small_app, monkeypatch):
    interface = small_app.session_interface
    monkeypatch.setattr(interface, "limit", 3)
    cookies = []
    for name in ("a", "b", "c", "d", "e"):
        client = small_app.test_client()
        client.get(f"/set/{name}")
        assert client.get("/get").text == f"{name}|[1, 2]"
        cookies.append(_cookie(client))
    assert list(interface._verified) == cookies[-3:]


def test_logout_is_honoured_and_a_rotated_token_still_ends_the_session(client, auth, users):
    """The app uses the caching interface; after logout the polls ask for a login again, and a
    remembered cookie whose user's session token rotated (password reset) is refused by the
    user loader as before."""
    from kdcs.extensions import db
    from kdcs.models import User

    assert isinstance(client.application.session_interface, CachingSessionInterface)
    auth.login(users["agent"])
    assert client.get("/notifications/bell", headers=HX).status_code == 200
    logged_in = _cookie(client)
    auth.logout()
    assert client.get("/notifications/bell", headers=HX).headers.get("HX-Redirect", "").startswith("/login")
    auth.login(users["agent"])
    assert client.get("/notifications/bell", headers=HX).status_code == 200
    db.session.execute(db.update(User).where(User.id == users["agent"].id).values(session_token="rotated"))
    db.session.commit()
    for cookie in (_cookie(client), logged_in):
        client.set_cookie("session", cookie)
        assert client.get("/notifications/bell", headers=HX).headers.get("HX-Redirect", "").startswith("/login")

"""Tests that drive running servers over HTTP (the multi-host CI stage, ``.ci/multihost.sh``).

They need no app or database of their own: the servers' URLs come from the environment,

    KDCS_MULTIHOST_A / KDCS_MULTIHOST_B   two app servers (gunicorn) on one database
    KDCS_MULTIHOST_WAITRESS               the same app under waitress
    KDCS_MULTIHOST_NGINX / _NGINX_HTTP    nginx (deploy/nginx-kdcs.conf) in front of A and B: https / http

and without them every test here is skipped (``make test``). ``KDCS_MULTIHOST_REQUIRED=1``
(set by the CI stage) turns a missing URL into a failure instead.
"""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def app_ctx():
    """Overrides tests/conftest.py's: these tests talk to servers, not to an app in this process."""
    yield


def server_url(name: str) -> str:
    """The base URL of a server from ``KDCS_MULTIHOST_<NAME>``; skip (or fail in CI) without it."""
    url = os.environ.get(f"KDCS_MULTIHOST_{name}", "").rstrip("/")
    if not url:
        if os.environ.get("KDCS_MULTIHOST_REQUIRED") == "1":
            pytest.fail(f"KDCS_MULTIHOST_{name} is not set")
        pytest.skip(f"no server: set KDCS_MULTIHOST_{name} (the multihost CI stage, .ci/multihost.sh)")
    assert url.startswith(("http://127.", "https://127.", "http://localhost")), "only servers on this machine"
    return url


@pytest.fixture(scope="session")
def server_a() -> str:
    return server_url("A")


@pytest.fixture(scope="session")
def server_b() -> str:
    return server_url("B")


@pytest.fixture(scope="session")
def waitress() -> str:
    return server_url("WAITRESS")


@pytest.fixture(scope="session")
def nginx() -> str:
    return server_url("NGINX")


@pytest.fixture(scope="session")
def nginx_http() -> str:
    return server_url("NGINX_HTTP")

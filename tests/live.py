"""A real HTTP server for concurrency tests: the test app served by werkzeug on a free
loopback port (threaded, so requests really run at the same time, each in its own app
context and database session), and a tiny cookie-keeping HTTP client per simulated browser.

Not the test client: these tests are about what happens between requests of several
threads against one database file (SQLite) or server (PostgreSQL).
"""

from __future__ import annotations

import http.client
import threading
from contextlib import contextmanager
from urllib.parse import urlencode

from werkzeug.serving import make_server


@contextmanager
def live_server(app):
    """Serve ``app`` on 127.0.0.1 in a thread; yields (host, port); stopped afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="kdcs-live-test-server", daemon=True)
    thread.start()
    try:
        yield ("127.0.0.1", server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class Browser:
    """One user's browser: keeps its cookies, never follows redirects."""

    def __init__(self, address: tuple[str, int]):
        self.host, self.port = address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None, headers: dict | None = None):
        """(status, text, headers) of one request; Set-Cookie is remembered."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if data is not None:
                body = urlencode(data)
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
            return response.status, text, response.headers
        finally:
            connection.close()

    def login(self, username: str, password: str):
        """POST the login form; (status, text, headers)."""
        return self.request("POST", "/login", {"username": username, "password": password})


def run_together(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released at the same moment; their results in order
    (an exception is returned as the result, never lost)."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as exc:  # the test asserts on it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results

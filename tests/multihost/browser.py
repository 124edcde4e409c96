"""A small HTTP "browser" on the standard library: one cookie jar, no automatic redirects,
forms read from the page (CSRF token included) and posted back, multipart uploads.

Cookies are sent to every port of the same host, as a browser does behind one address:
a session made on server A travels to server B, which is the point of the multi-host tests.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from dataclasses import dataclass
from http.cookiejar import CookieJar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import (
    HTTPCookieProcessor,
    HTTPRedirectHandler,
    HTTPSHandler,
    Request,
    build_opener,
)

from tests.html import Element, parse

DEMO_PASSWORD = "demo1234"
TIMEOUT = 30  # seconds per request


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the test sees the 302/303 itself


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    text: str
    url: str

    @property
    def page(self) -> Element:
        return parse(self.text)

    def json(self):
        return json.loads(self.text)

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    def __init__(self) -> None:
        self.cookies = CookieJar()
        self.page_url = ""  # the last page fetched: a form posted from it sends it as Referer
        # Only servers on this machine (conftest checks): CI's nginx has a self-signed certificate.
        local_tls = ssl._create_unverified_context()
        self._opener = build_opener(HTTPCookieProcessor(self.cookies), _NoRedirects(), HTTPSHandler(context=local_tls))

    def request(self, method: str, url: str, data: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:
        request = Request(url, data=data, method=method, headers=headers or {})
        try:
            answer = self._opener.open(request, timeout=TIMEOUT)
        except HTTPError as error:  # 3xx (redirects are not followed), 4xx, 5xx
            answer = error
        with answer:
            body = answer.read().decode("utf-8", "replace")
            return Response(answer.status if hasattr(answer, "status") else answer.code,
                            {k.lower(): v for k, v in answer.headers.items()}, body, url)

    def get(self, url: str, htmx: bool = False) -> Response:
        if not htmx:
            self.page_url = url
        return self.request("GET", url, headers={"HX-Request": "true"} if htmx else None)

    def post(self, url: str, fields: dict[str, str], files: dict[str, tuple[str, bytes]] | None = None,
             referer: bool = True) -> Response:
        if files:
            body, kind = _multipart(fields, files)
        else:
            body, kind = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        headers = {"Content-Type": kind}
        if self.page_url and referer:  # as a browser does (Referrer-Policy: same-origin); CSRF over HTTPS wants it
            headers["Referer"] = self.page_url
        return self.request("POST", url, body, headers)

    def login(self, base: str, username: str, password: str = DEMO_PASSWORD) -> Response:
        page = self.get(f"{base}/login")
        assert page.status == 200, page.status
        fields = form_values(page.page.find("form", action="/login"))
        fields.update(username=username, password=password)
        answer = self.post(f"{base}/login", fields)
        assert answer.status in (302, 303), f"login of {username} on {base}: {answer.status} {answer.text[:300]}"
        return answer


def form_values(form: Element | None) -> dict[str, str]:
    """What a browser would submit from ``form`` as it stands (pre-filled values, checked boxes)."""
    assert form is not None, "no such form on the page"
    values: dict[str, str] = {}
    for el in form.iter():
        name = el.get("name")
        if not name or el.get("disabled") is not None:
            continue
        if el.tag == "input":
            kind = (el.get("type") or "text").lower()
            if kind in ("submit", "button", "file", "reset", "image"):
                continue
            if kind in ("checkbox", "radio") and el.get("checked") is None:
                continue
            values[name] = el.get("value", "on" if kind in ("checkbox", "radio") else "")
        elif el.tag == "select":
            options = [o for o in el.iter() if o.tag == "option"]
            chosen = [o for o in options if o.get("selected") is not None] or options[:1]
            if chosen:
                values[name] = chosen[0].get("value", chosen[0].text)
        elif el.tag == "textarea":
            values[name] = el.text
    return values


def wait_until(check, timeout: float, what: str, every: float = 0.25):
    """Call ``check`` until it returns something true (returned), at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = f"kdcs{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, content) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     "Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"

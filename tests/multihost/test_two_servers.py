"""Two app servers on one PostgreSQL database, one task worker on Redis, driven over HTTP.

Started by the CI stage ``.ci/multihost.sh`` (gunicorn on two ports, ``flask --app kdcs worker``
with ``KDCS_TASK_URL=redis://…``, waitress once) on the demo company. Each test acts on
server A and looks on server B, as users behind a load balancer do:

* an import uploaded on A is checked and committed by the worker; B shows its progress and result;
* a session (login cookie) made on A is valid on B, and a logout on B ends it on A;
* a notice written through A (a ticket assigned to an agent) is in the agent's bell on B;
* both servers' /healthz see the database and the worker;
* waitress serves the login page and a logged-in queue;
* nginx with README's snippet (deploy/nginx-kdcs.conf) serves both over HTTPS.
"""

from __future__ import annotations

import io
import re
import secrets
from pathlib import Path

import pytest

from .browser import Browser, form_values, wait_until

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sto_inbound_complaints.xls"
SAMPLE_CSV = SAMPLE.with_name("sto_inbound_complaints_utf8bom.csv")
COPIES = 25  # the sample's 60 rows this many times: long enough to watch the progress from B
JOB_TIMEOUT = 180  # seconds for checking or writing ~1,500 rows on CI's 2 cores


def _number(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text) or 0)


def _big_export() -> tuple[bytes, list[str]]:
    """The STO sample with its data rows repeated under fresh waybill and work-order numbers."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(SAMPLE.read_bytes()))
    sheet = workbook["进港投诉明细"]
    rows = [list(r) for r in sheet.iter_rows(min_row=4, values_only=True)]
    run = f"{secrets.randbelow(10**4):04d}"
    waybills = []
    for copy in range(COPIES):
        for i, row in enumerate(rows):
            row = list(row)
            if row[1]:  # 运单编号 (a row without one stays an error on purpose)
                row[1] = f"79{run}{copy:03d}{i:05d}"
                waybills.append(row[1])
            if row[12]:  # 工单编号
                row[12] = f"GD{run}{copy:03d}{i:05d}"
            if copy:
                sheet.append(row)
            else:
                for column, value in enumerate(row, start=1):
                    sheet.cell(row=4 + i, column=column, value=value)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue(), waybills


def _job_page(browser: Browser, base: str, job_path: str):
    page = browser.get(base + job_path)
    assert page.status == 200, f"{base}{job_path}: {page.status}"
    return page.page


def _counts(page) -> dict[str, int]:
    box = page.find(data_import_counts="")
    assert box is not None, "no counts on the job page"
    return {el.get("data-count"): _number(el.text) for el in box.find_all(cls="value") if el.get("data-count")}


def _watch(browser: Browser, base: str, job_path: str, seen: list[str]) -> bool:
    """One poll of the job's progress on ``base`` as the page does it: True when the step is over."""
    answer = browser.get(f"{base}{job_path}/progress", htmx=True)
    assert answer.status in (200, 204), f"progress on {base}: {answer.status}"
    if answer.status == 204:
        assert answer.headers.get("hx-redirect") == job_path
        return True
    progress = answer.page.find(data_progress="")
    if progress is not None:
        seen.append(" ".join(progress.text.split()))
    return False


def test_an_import_uploaded_on_a_is_done_by_the_worker_and_followed_on_b(server_a, server_b):
    admin = Browser()
    admin.login(server_a, "admin")
    data, waybills = _big_export()

    # Upload on A.
    index = admin.get(f"{server_a}/tickets/import")
    assert index.status == 200
    form = index.page.find("form", enctype="multipart/form-data")
    fields = form_values(form)
    brand = next(o for o in form.find_all("option") if "申通" in o.text)
    fields["brand_id"] = brand.get("value")
    upload = admin.post(f"{server_a}/tickets/import", fields, {"file": ("申通进港投诉明细.xlsx", data)})
    assert upload.status == 303, upload.text[:500]
    job_path = upload.location
    assert re.fullmatch(r"/tickets/import/\d+", job_path), job_path

    # Map the columns on A as suggested; the worker checks every row.
    page = _job_page(admin, server_a, job_path)
    mapping = page.find("form", action=f"{job_path}/map")
    answer = admin.post(server_a + mapping.get("action"), form_values(mapping))
    assert answer.status == 303, answer.text[:800]

    # B follows the check, then shows the preview.
    checking: list[str] = []
    wait_until(lambda: _watch(admin, server_b, job_path, checking), JOB_TIMEOUT, "the check, seen from B", 0.1)
    preview = _job_page(admin, server_b, job_path)
    counts = _counts(preview)
    assert counts["valid"] >= 50 * COPIES, counts
    assert counts["errors"] >= COPIES, counts  # the sample's wrong rows stay wrong
    commit = preview.find("form", action=f"{job_path}/commit")
    assert commit is not None, "no commit button on B's preview"

    # Commit on A; B follows the writing and shows the result.
    answer = admin.post(server_a + commit.get("action"), form_values(commit))
    assert answer.status == 303, answer.text[:500]
    writing: list[str] = []
    wait_until(lambda: _watch(admin, server_b, job_path, writing), JOB_TIMEOUT, "the commit, seen from B", 0.1)
    done = _job_page(admin, server_b, job_path)
    assert done.find(data_import_done="") is not None, "B does not show the finished import"
    assert _counts(done)["valid"] == counts["valid"]
    assert checking or writing, "B never saw the progress bar"
    assert any(re.search(r"\d", text) for text in checking + writing)

    # The tickets are there, on B.
    queue = admin.get(f"{server_b}/tickets/?q={waybills[-1]}")
    assert queue.status == 200
    assert waybills[-1] in " ".join(a.text for a in queue.page.find_all("a", cls="waybill"))


def test_a_session_made_on_a_is_valid_on_b_and_ends_everywhere(server_a, server_b):
    agent = Browser()
    agent.login(server_a, "agent1")
    home_b = agent.get(f"{server_b}/")
    assert home_b.status == 200, f"B refused A's session: {home_b.status} {home_b.location}"
    assert home_b.page.find("form", action="/logout") is not None
    # A form of A's page posts to B (the CSRF token is signed with the shared secret key).
    home_a = agent.get(f"{server_a}/")
    logout = form_values(home_a.page.find("form", action="/logout"))
    assert agent.post(f"{server_b}/logout", logout).status == 303
    again = agent.get(f"{server_a}/")
    assert again.status == 302 and again.location.startswith("/login")


def _bell(browser: Browser, base: str) -> int:
    answer = browser.get(f"{base}/notifications/bell", htmx=True)
    assert answer.status == 200
    count = answer.page.find(data_testid="bell-count")
    return _number(count.text) if count is not None else 0


def test_a_notice_written_through_a_rings_the_bell_on_b(server_a, server_b):
    agent, lead = Browser(), Browser()
    agent.login(server_b, "agent1")
    lead.login(server_a, "lead1")
    before = _bell(agent, server_b)

    # Lead 一组 gives agent1 a ticket of the team that agent1 does not have (on A).
    queue = lead.get(f"{server_a}/tickets/")
    assert queue.status == 200
    links = [a.get("href") for a in queue.page.find_all("a", cls="waybill")]
    assert links, "lead1's queue is empty"
    for link in links:
        page = lead.get(server_a + link).page
        form = page.find("form", action=f"{link}/assign")
        if form is None:
            continue
        option = next((o for o in form.find_all("option") if "（agent1）" in o.text), None)
        if option is not None:
            break
    else:
        pytest.fail("no ticket in lead1's queue could be given to agent1")
    fields = form_values(form)
    select = next(el for el in form.find_all("select") if el.get("name", "").endswith("assignee_id"))
    fields[select.get("name")] = option.get("value")
    note = next((el.get("name") for el in form.iter() if (el.get("name") or "").endswith("note")), None)
    if note:
        fields[note] = "多机测试：A 上指派"
    answer = lead.post(server_a + form.get("action"), fields)
    assert answer.status == 303, answer.text[:500]

    # agent1's bell on B rings, and the notice links to the ticket.
    assert wait_until(lambda: _bell(agent, server_b) == before + 1, 10, "the bell on B")
    notices = agent.get(f"{server_b}/notifications/")
    assert notices.status == 200
    newest = next(f for f in notices.page.find_all("form")  # newest first
                  if re.fullmatch(r"/notifications/\d+/open", f.get("action", "")))
    opened = agent.post(server_b + newest.get("action"), form_values(newest))
    assert (opened.status, opened.location) == (303, link)


@pytest.mark.parametrize("which", ["A", "B"])
def test_healthz_on_each_server_sees_the_database_and_the_worker(which, server_a, server_b):
    base = {"A": server_a, "B": server_b}[which]
    answer = Browser().get(f"{base}/healthz")
    assert answer.status == 200 and answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["status"] == "ok" and body["database"] == "ok", body
    assert body["worker"]["state"] == "ok" and body["worker"]["seconds_since_beat"] <= 60, body
    assert "set-cookie" not in answer.headers


def test_waitress_serves_the_login_page_and_a_logged_in_queue(waitress):
    browser = Browser()
    login = browser.get(f"{waitress}/login")
    assert login.status == 200 and login.page.find("form", action="/login") is not None
    assert "content-security-policy" in login.headers
    browser.login(waitress, "agent1")
    queue = browser.get(f"{waitress}/tickets/")
    assert queue.status == 200
    rows = [tr for tr in queue.page.find_all("tr") if (tr.get("id") or "").startswith("ticket-")]
    assert rows, "agent1's queue is empty under waitress"


def test_nginx_with_the_readme_snippet_serves_both_servers_over_https(nginx, nginx_http):
    plain = Browser().get(f"{nginx_http}/login")
    assert plain.status == 301 and plain.location.startswith("https://")
    browser = Browser()
    health = browser.get(f"{nginx}/healthz")
    assert health.status == 200 and health.json()["status"] == "ok"
    assert health.headers.get("x-frame-options") == "DENY"  # the app's headers pass through
    # The app sees HTTPS through nginx's X-Forwarded-Proto (KDCS_TRUSTED_PROXIES=1): its CSRF check
    # then wants a same-site Referer, as browsers send; without one a login is refused.
    page = browser.get(f"{nginx}/login")
    fields = {**form_values(page.page.find("form", action="/login")), "username": "admin", "password": "demo1234"}
    refused = browser.post(f"{nginx}/login", fields, referer=False)
    assert refused.status == 400, refused.status
    browser.login(nginx, "admin")
    for _ in range(6):  # round robin over A and B: one session everywhere
        queue = browser.get(f"{nginx}/tickets/")
        assert queue.status == 200, queue.status
    # An upload over nginx's default 1 MB (client_max_body_size 55m in the snippet): a 2 MB CSV export.
    lines = SAMPLE_CSV.read_bytes().splitlines(keepends=True)
    data = lines[0] + b"".join(lines[1:]) * 100
    assert len(data) > 2_000_000
    index = browser.get(f"{nginx}/tickets/import")
    form = index.page.find("form", enctype="multipart/form-data")
    fields = form_values(form)
    fields["brand_id"] = next(o for o in form.find_all("option") if "申通" in o.text).get("value")
    upload = browser.post(f"{nginx}/tickets/import", fields, {"file": ("进港投诉明细.csv", data)})
    assert upload.status == 303, f"{upload.status}: {upload.text[:300]}"
    job_path = upload.location
    cancel = _job_page(browser, nginx, job_path).find("form", action=f"{job_path}/cancel")
    assert browser.post(nginx + cancel.get("action"), form_values(cancel)).status == 303

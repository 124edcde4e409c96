"""Developer tool: log in as a user and screenshot pages at 1366×768 in Debian's Chromium.

    python scripts/screenshot.py --base http://127.0.0.1:5000 --user admin /admin/users /admin/audit
Screenshots go to test-artifacts/shots/. Uses /usr/bin/chromium, never downloads a browser.
"""

from __future__ import annotations

import argparse
import os
import re

from playwright.sync_api import sync_playwright


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--base", default="http://127.0.0.1:5000")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="demo1234")
    parser.add_argument("--out", default="test-artifacts/shots")
    parser.add_argument("--full", action="store_true", help="full-page screenshot")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                  # Chromium refuses some ports (e.g. 5060/5061, SIP) unless allowed.
                  "--explicitly-allowed-ports=" + ",".join(str(p) for p in range(5000, 5100))],
        )
        page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        if args.user != "-":
            page.goto(args.base + "/login")
            page.fill("input[name=username]", args.user)
            page.fill("input[name=password]", args.password)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
        for path in args.paths:
            page.goto(args.base + path)
            page.wait_for_load_state("networkidle")
            name = re.sub(r"[^A-Za-z0-9]+", "_", f"{args.user}{path}").strip("_") + ".png"
            page.screenshot(path=os.path.join(args.out, name), full_page=args.full)
            print(os.path.join(args.out, name))
        browser.close()


if __name__ == "__main__":
    main()

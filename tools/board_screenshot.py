"""Take the README's screenshot of the board: run the demo, sign in with Chromium, capture.

    .venv/bin/python tools/board_screenshot.py docs/board.png [docs/figures.png]

Needs the ``embedded`` and ``dev`` extras and Debian's chromium.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"]


def main(out: Path, figures_out: Path | None) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDI_")}
    with tempfile.TemporaryDirectory() as data_dir:
        demo = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [sys.executable, "-m", "monitor", "demo", "--run-for", "120", "--data-dir", data_dir],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            if demo.stdout is None:
                raise SystemExit("no output from the demo")
            match = None
            for line in demo.stdout:
                match = re.search(
                    r"board\s+(http://\S+/)\s+sign in as (\S+) with password (\S+)", line
                )
                if match:
                    break
            if match is None:
                raise SystemExit("the demo did not print the board's address")
            url, username, password = match.groups()
            time.sleep(40)  # let the backfill arrive and a few live alerts be raised
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(f"{url}login")
                page.get_by_label("Username").fill(username)
                page.get_by_label("Password").fill(password)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(url)
                page.locator("#rows tr").first.wait_for()
                first = page.locator("#rows tr").first
                first.get_by_role("button", name=re.compile("^Acknowledge")).click()
                page.locator("#rows tr .handling", has_text="acknowledged by").first.wait_for()
                page.wait_for_timeout(1500)
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(out))
                if figures_out is not None:
                    page.get_by_role("button", name="Today's figures").click()
                    page.wait_for_timeout(500)
                    page.screenshot(path=str(figures_out))
                browser.close()
        finally:
            demo.terminate()
            demo.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))

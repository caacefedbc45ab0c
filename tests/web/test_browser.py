"""The console in real headless Chromium (the Debian package), driven by Playwright:
sign in, open the queue, open the incident awaiting approval, approve it, see it move.

Needs /usr/bin/chromium (``apt-get install chromium``); Playwright's own browser download
is never used. Without Chromium the test skips, except under CI, where it fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from tests.api._app import Served, serve_lab
from tests.web._server import ServerThread

from healops.api.tokens import Role
from healops.domain.incidents import IncidentState

pytestmark = pytest.mark.integration

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--no-first-run"]


def _chromium() -> str:
    path = shutil.which("chromium") or ("/usr/bin/chromium"
                                        if os.path.exists("/usr/bin/chromium") else None)
    if path is None:
        reason = "Chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {reason}")
        pytest.skip(reason)
    return path


@pytest.fixture
def browser() -> Iterator[Any]:
    executable = _chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("CI is set and Playwright is not installed (pip install playwright)")
        pytest.skip("Playwright is not installed (pip install playwright)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def served() -> Served:
    return serve_lab()


def test_an_approver_approves_the_pending_failover_from_the_console(
        browser: Any, served: Served) -> None:
    inc = served.lab.engine.incidents[served.pending]
    assert inc.state is IncidentState.AWAITING_APPROVAL
    with ServerThread(served.app) as server:
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.goto(server.url + "/ui/incidents")
        assert "/ui/login" in page.url  # not signed in yet
        page.fill("#token", served.tokens[Role.APPROVER])
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/incidents")
        row = page.locator(f"tr[data-incident='{served.pending}']")
        assert "awaiting approval" in row.inner_text()
        row.locator("a").click()
        page.wait_for_url(f"**/ui/incidents/{served.pending}")
        assert page.locator("#state").inner_text() == "awaiting approval"
        assert "failover" in page.locator("#approval").inner_text()
        assert page.locator("svg.chart").count() >= 2
        page.click("#approve")
        page.wait_for_selector(".flash")
        assert "Approved" in page.locator(".flash").inner_text()
        state = page.locator("#state").inner_text()
        assert state in ("verifying", "acting"), state
        assert page.locator("#approval").count() == 0
        assert "approved by approver-user" in page.locator("#timeline").inner_text()
        page.goto(server.url + "/ui/incidents")
        assert "awaiting approval" not in page.locator(
            f"tr[data-incident='{served.pending}']").inner_text()
    assert inc.state in (IncidentState.VERIFYING, IncidentState.ACTING)


def test_a_viewer_sees_the_pending_action_but_no_buttons(browser: Any, served: Served) -> None:
    with ServerThread(served.app) as server:
        page = browser.new_page()
        page.set_default_timeout(15_000)
        page.goto(server.url + f"/ui/incidents/{served.pending}")
        page.fill("#token", served.tokens[Role.VIEWER])
        page.click("button[type=submit]")
        page.wait_for_url(f"**/ui/incidents/{served.pending}")
        assert page.locator("#approval").count() == 1
        assert page.locator("#approve").count() == 0
        assert "needs the approver role" in page.locator("#approval").inner_text()
        page.goto(server.url + "/ui/services")
        node = page.locator("g.node[data-service='db']")
        assert node.get_attribute("data-health") == "awaiting_approval"
    assert served.lab.engine.incidents[served.pending].state is IncidentState.AWAITING_APPROVAL

"""Fixtures for the real-browser tests: Debian's headless Chromium driven by Playwright, the
local identity provider and the example app on loopback, and a tab that records every request
it makes and screenshots each step (kept, and their folder named, only when the test fails).

Without the ``playwright`` package or ``/usr/bin/chromium`` the tests are skipped; with ``CI``
set they fail instead, so CI never passes without running them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Generator
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from ..conftest import unavailable

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import Page
    from playwright.sync_api import Request

#: Debian's chromium package; Playwright's own browser downloads are never used.
CHROMIUM = "/usr/bin/chromium"
#: Flags that work headless as root in a container, with no traffic of the browser's own
#: (``--headless`` comes with ``headless=True``; Playwright also adds a fresh user-data dir).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: How long a Playwright action or wait may take before the test fails (ms).
TIMEOUT_MS = 5_000


def _missing() -> str | None:
    """What is missing to run a real browser, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[tests]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for the module; each test gets a fresh context (cookies) in it.

    Playwright's ``launch`` starts it on a new temporary user-data dir and removes it after."""
    problem = _missing()
    if problem is not None:
        unavailable(f"the real-browser tests cannot run: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Tab:
    """A page in a fresh browser context: the URL of every request the context made, in order
    (each redirect hop is a request of its own), and a screenshot after each :meth:`step`."""

    page: Page
    shots: Path
    requests: list[str] = field(default_factory=list)
    steps: int = 0
    keep: bool = False

    def record(self, request: Request) -> None:
        self.requests.append(request.url)

    def step(self, name: str) -> None:
        self.steps += 1
        self.page.screenshot(path=self.shots / f"{self.steps:02d}-{name}.png")

    def to(self, path: str, since: int = 0) -> list[str]:
        """The requests to ``path`` on any origin, from the ``since``-th request on."""
        return [url for url in self.requests[since:] if urlsplit(url).path == path]

    def off_loopback(self) -> list[str]:
        """Recorded network requests to any host but this machine's loopback."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob", "about")
            and (urlsplit(url).hostname or "") not in LOOPBACK_HOSTS
        ]


_TAB = pytest.StashKey[Tab]()


@pytest.fixture
def tab(chromium: Browser, request: pytest.FixtureRequest) -> Iterator[Tab]:
    context = chromium.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    shots = Path(tempfile.mkdtemp(prefix="idguard-browser-"))
    tab = Tab(context.new_page(), shots)
    context.on("request", tab.record)
    request.node.stash[_TAB] = tab
    try:
        yield tab
    finally:
        context.close()
        if not tab.keep:
            shutil.rmtree(shots, ignore_errors=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failed test with a tab: one more screenshot (the page as it failed), keep them
    all and name their folder in the failure's report."""
    report = yield
    tab = item.stash.get(_TAB, None)
    if tab is not None and report.when == "call" and report.failed and not tab.keep:
        tab.keep = True
        try:
            tab.step("failed")
        except Exception as exc:  # the browser may be what failed
            report.sections.append(("browser", f"no screenshot of the failure: {exc}"))
        report.sections.append(("browser", f"screenshots of each step kept in {tab.shots}"))
    return report

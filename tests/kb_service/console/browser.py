"""Debian's Chromium driven by Playwright's async API on a thread of its own.

Playwright's sync API refuses to run where an asyncio loop is already running (the
MCP tests leave anyio/pytest-asyncio loops about), so the browser lives on a daemon
thread with its own event loop, and each test hands it one coroutine (`Browser.run`).
Playwright's own browser download is not reachable here: `executable_path` points at
`/usr/bin/chromium` (`apt-get install chromium`; `scripts/setup.sh` installs it as root).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

CHROMIUM = Path(os.environ.get("KB_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "console"
T = TypeVar("T")


def chromium_or_skip() -> Path:
    """The Chromium binary; outside CI a missing one skips, under CI=true it fails."""
    if CHROMIUM.exists():
        return CHROMIUM
    message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + ": the browser tests must run in CI")
    pytest.skip(message)


class Browser:
    """One headless Chromium; `run(scenario)` runs `await scenario(page)` on a fresh page."""

    def __init__(self, executable: Path) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._playwright: Any = None
        self._browser: Any = None
        self._call(self._start(executable), timeout=60)

    async def _start(self, executable: Path) -> None:
        from playwright.async_api import async_playwright

        self._playwright = await async_playwright().start()
        self._browser = await self._playwright.chromium.launch(
            executable_path=str(executable), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )

    def _call(self, coroutine: Awaitable[T], timeout: float) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)  # type: ignore[arg-type]

    def run(
        self,
        scenario: Callable[[Any], Awaitable[T]],
        *,
        width: int = 1440,
        height: int = 900,
        timeout: float = 120,
    ) -> T:
        """Run `scenario(page)` in a new browser context (its own sessionStorage)."""

        async def on_page() -> T:
            context = await self._browser.new_context(viewport={"width": width, "height": height})
            context.set_default_timeout(20_000)
            page = await context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            try:
                result = await scenario(page)
            except BaseException:
                test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].split(" ")[0]
                await screenshot(page, f"failed-{test or scenario.__name__}")  # what it showed
                raise
            finally:
                await context.close()
            assert errors == [], f"uncaught errors in the page: {errors}"
            return result

        return self._call(on_page(), timeout)

    def close(self) -> None:
        async def stop() -> None:
            await self._browser.close()
            await self._playwright.stop()

        try:
            self._call(stop(), timeout=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)


async def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot under test-artifacts/console/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def sign_in(page: Any, base: str, key: str, path: str = "/console") -> None:
    """Open `path` and sign in with `key` through the sign-in form."""
    await page.goto(base + path)
    await page.get_by_label("API key").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_test_id("who").wait_for()

"""The console in Chromium: drag-and-drop re-uploads (a no-op, then a new version),
keyboard use, and a 375 px wide screen."""

from __future__ import annotations

from typing import Any

from tests.conftest import SAMPLE_DOCS
from tests.kb_service.console.browser import Browser, screenshot, sign_in
from tests.kb_service.console.conftest import Console

DROP = """async ([name, text]) => {
  const data = new DataTransfer();
  data.items.add(new File([text], name, {type: "text/markdown"}));
  const zone = document.querySelector("[data-testid=dropzone]");
  for (const type of ["dragover", "drop"]) {
    zone.dispatchEvent(new DragEvent(type, {dataTransfer: data, bubbles: true, cancelable: true}));
  }
}"""


async def dropped(page: Any, name: str, text: str, row: int) -> tuple[str, str]:
    """Drop one file on the upload zone; its row's final (status, details)."""
    await page.evaluate(DROP, [name, text])
    status = page.get_by_test_id("upload-status").nth(row)
    await page.wait_for_function(
        "([i]) => ['indexed', 'unchanged', 'failed'].includes("
        "document.querySelectorAll('[data-testid=upload-status]')[i]?.textContent)",
        arg=[row],
        timeout=60_000,
    )
    details = page.get_by_test_id("upload-details").nth(row)
    return await status.inner_text(), await details.inner_text()


def test_dropping_a_file_again_is_a_no_op_and_a_changed_one_a_new_version(
    browser: Browser, console: Console
) -> None:
    with console.api() as api:
        kb = api.post("/knowledge-bases", json={"name": "Runbooks"}).json()["data"]
    runbook = (SAMPLE_DOCS / "runbook.md").read_text()

    async def scenario(page: Any) -> None:
        await sign_in(page, console.base, console.admin_key, f"/console/kb/{kb['id']}")
        await page.get_by_test_id("dropzone").wait_for()
        status, details = await dropped(page, "runbook.md", runbook, 0)
        assert status == "indexed" and details.startswith("v1, ") and "chunks" in details
        status, details = await dropped(page, "runbook.md", runbook, 1)
        assert status == "unchanged" and "no-op" in details and "v1" in details
        changed = runbook + "\n## Contacts\n\nThe payments lead is Ines Duarte.\n"
        status, details = await dropped(page, "runbook.md", changed, 2)
        assert (status, details) == ("indexed", "new version: v2 replaces v1")
        row = page.locator("tr[data-document='runbook.md']")
        await row.get_by_text("v2").wait_for()
        assert await page.locator("tr[data-document]").count() == 1
        await screenshot(page, "reupload-versions")

    browser.run(scenario)


def test_keyboard_reaches_the_content_with_a_visible_focus(
    browser: Browser, console: Console
) -> None:
    async def scenario(page: Any) -> None:
        await sign_in(page, console.base, console.admin_key)
        await page.goto(console.base + "/console/kb")
        # after a page change the focus is on its heading, so a screen reader announces it
        await page.wait_for_function("() => document.activeElement.tagName === 'H1'")
        active = "document.activeElement"
        await page.keyboard.press("Tab")  # the first control of the page
        assert await page.evaluate(f"{active}.labels[0].textContent") == "Name"
        assert await page.evaluate(f"getComputedStyle({active}).outlineStyle") == "solid"
        await page.keyboard.press("Shift+Tab")  # back out of the content to the header
        assert await page.evaluate(f"{active}.textContent") == "Sign out"
        await page.locator("a.skip").focus()
        assert await page.evaluate(f"getComputedStyle({active}).outlineStyle") == "solid"
        await page.keyboard.press("Enter")
        assert await page.evaluate(f"{active}.id") == "main"
        # every form control has a label
        unlabeled = await page.evaluate(
            "[...document.querySelectorAll('input:not([type=file]), select, textarea')]"
            ".filter(el => !el.labels?.length && !el.getAttribute('aria-label')).length"
        )
        assert unlabeled == 0

    browser.run(scenario)


def test_pages_fit_a_375_px_screen(browser: Browser, console: Console) -> None:
    with console.api() as api:
        kbs = api.get("/knowledge-bases").json()["data"]

    async def scenario(page: Any) -> None:
        await sign_in(page, console.base, console.admin_key)
        for path, name in [
            ("/console/kb", "mobile-knowledge-bases"),
            (f"/console/kb/{kbs[0]['id']}" if kbs else "/console/kb", "mobile-knowledge-base"),
            ("/console/ask", "mobile-ask"),
        ]:
            await page.goto(console.base + path)
            await page.locator("main h1").wait_for()
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, (path, width)
            await screenshot(page, name)

    browser.run(scenario, width=375, height=812)

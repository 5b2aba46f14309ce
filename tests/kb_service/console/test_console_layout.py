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
        # deleted from its own page, after a confirmation; the list is empty again
        await row.get_by_role("link").click()
        await page.get_by_role("button", name="Delete document").click()
        await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        await page.get_by_text("No documents yet.").wait_for()

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


# Elements whose own text contrasts under 4.5:1 (WCAG AA) with the background behind them.
LOW_CONTRAST = """() => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => v / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = (el) => {
    for (; el; el = el.parentElement) {
      const c = rgb(getComputedStyle(el).backgroundColor);
      if (c.length < 4 || c[3] > 0) return c;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll("body *")]
    .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))
    .filter((el) => el.getClientRects().length && !el.closest(".sr-only, :disabled"))
    .map((el) => {
      const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(behind(el))].sort((x, y) => y - x);
      return [el.tagName + " " + el.textContent.trim().slice(0, 30), (a + 0.05) / (b + 0.05)];
    })
    .filter(([, ratio]) => ratio < 4.5);
}"""


def test_pages_fit_a_375_px_screen_with_readable_contrast(
    browser: Browser, console: Console
) -> None:
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
            assert await page.evaluate(LOW_CONTRAST) == [], path
            await screenshot(page, name)

    browser.run(scenario, width=375, height=812)

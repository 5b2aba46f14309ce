"""The console in Chromium: sign in, create a knowledge base, upload every sample format,
watch each reach `indexed`, ask, and click a citation through to the highlighted span."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import SAMPLE_DOCS
from tests.kb_service.console.browser import Browser, screenshot, sign_in
from tests.kb_service.console.conftest import Console

FORMATS = [
    "handbook.pdf",
    "onboarding.docx",
    "roadmap.pptx",
    "architecture.html",
    "runbook.md",
    "notes.txt",
]


def test_sign_in_shows_the_organization_and_role_and_a_bad_key_verbatim(
    browser: Browser, console: Console
) -> None:
    async def scenario(page: Any) -> None:
        await page.goto(console.base + "/console")
        await page.get_by_label("API key").fill("sk_not_a_real_key")
        await page.get_by_role("button", name="Sign in").click()
        alert = page.get_by_role("alert")
        await alert.wait_for()
        assert "The API key is not valid" in await alert.inner_text()
        await page.get_by_label("API key").fill(console.admin_key)
        await page.get_by_role("button", name="Sign in").click()
        who = page.get_by_test_id("who")
        await who.wait_for()
        assert "acme" in await who.inner_text() and "admin" in await who.inner_text()
        # the key lives in sessionStorage, never in the address bar
        assert console.admin_key not in page.url
        stored = await page.evaluate("Object.values(sessionStorage)")
        assert stored == [console.admin_key]
        assert await page.get_by_role("link", name="API keys").is_visible()
        await screenshot(page, "signed-in")

    browser.run(scenario)


def test_upload_every_format_then_ask_and_open_the_cited_span(
    browser: Browser, console: Console
) -> None:
    async def scenario(page: Any) -> dict[str, Any]:
        await sign_in(page, console.base, console.admin_key)
        await page.get_by_label("Name", exact=True).fill("Company handbook")
        await page.get_by_label("Chunk size (tokens)").fill("160")
        await page.get_by_label("Chunk overlap (tokens)").fill("20")
        await page.get_by_role("button", name="Create").click()
        await page.get_by_role("heading", name="Company handbook", level=1).wait_for()
        kb_id = page.url.rsplit("/", 1)[1]
        assert kb_id.startswith("kb_")
        await page.locator("#upload-files").set_input_files(
            [str(SAMPLE_DOCS / name) for name in FORMATS]
        )
        statuses = page.get_by_test_id("upload-status")
        await page.wait_for_function(
            "n => [...document.querySelectorAll('[data-testid=upload-status]')]"
            ".filter(td => td.textContent === 'indexed').length === n",
            arg=len(FORMATS),
            timeout=120_000,
        )
        assert await statuses.all_inner_texts() == ["indexed"] * len(FORMATS)
        progress = await page.locator("progress").evaluate_all("bars => bars.map(b => b.value)")
        assert progress == [100] * len(FORMATS)  # each file's own upload bar, complete
        rows = page.locator("tr[data-document]")
        await page.wait_for_function(
            "() => document.querySelectorAll('tr[data-document]').length === 6"
        )
        assert sorted(await rows.evaluate_all("rs => rs.map(r => r.dataset.document)")) == sorted(
            FORMATS
        )
        await screenshot(page, "uploaded")
        return {"kb": kb_id}

    result = browser.run(scenario, timeout=240)
    kb = result["kb"]
    with console.api() as api:
        docs = api.get(f"/knowledge-bases/{kb}/documents").json()["data"]
    assert {d["source_type"] for d in docs} >= {"pdf", "docx", "pptx", "html", "markdown", "text"}
    assert all(d["status"] == "indexed" and d["chunk_count"] > 0 for d in docs)

    async def ask(page: Any) -> str:
        await sign_in(page, console.base, console.admin_key, f"/console/kb/{kb}")
        await page.get_by_label("Question").fill("How big is the home office stipend?")
        async with page.expect_response(lambda r: r.url.endswith("/query")) as asked:
            await page.get_by_role("button", name="Ask").click()
        response = await asked.value
        # streamed as Server-Sent Events, the key in a header and nowhere in the URL
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.request.headers["x-api-key"] == console.admin_key
        assert console.admin_key not in response.url
        final = page.get_by_test_id("final-answer")
        await final.wait_for()
        assert "600 euros" in await final.inner_text()
        assert "Found" in await page.get_by_test_id("found").inner_text()
        cite = final.locator("a.cite").first
        number = int((await cite.inner_text()).strip("[]"))
        quoted = page.locator(f"ol.citations li[value='{number}'] blockquote")
        cited_text = await quoted.inner_text()
        await screenshot(page, "answer")
        await cite.click()
        await page.locator("mark.cited").first.wait_for()
        assert re.search(rf"/console/kb/{kb}/doc/doc_\w+#span=\d+-\d+$", page.url)
        marks = await page.locator("mark.cited").all_text_contents()
        assert "".join(marks) == cited_text and "600 euros" in cited_text
        # scrolled into view and focused, inside a chunk that names its page
        assert await page.locator("mark.cited").first.is_visible()
        assert await page.evaluate("document.activeElement.tagName") == "MARK"
        region = page.locator(".region", has=page.locator("mark.cited")).first
        assert re.search(r"page \d", await region.locator(".region-head").inner_text())
        await screenshot(page, "citation-highlighted")
        deep_link = page.url
        # a question the documents do not answer is shown as not found
        await page.go_back()
        await page.get_by_label("Question").fill("What is the dress code for the summer party?")
        await page.get_by_role("button", name="Ask").click()
        await page.get_by_test_id("not-found").wait_for()
        assert await page.locator("a.cite").count() == 0
        # retrieve mode ranks passages with their scores
        await page.get_by_label("Mode").select_option("retrieve")
        await page.get_by_label("Question").fill("roll back a deploy")
        await page.get_by_role("button", name="Ask").click()
        await page.get_by_test_id("score").first.wait_for()
        scores = [float(s.split()[1]) for s in await page.get_by_test_id("score").all_inner_texts()]
        assert len(scores) == 5 and scores == sorted(scores, reverse=True)
        await screenshot(page, "retrieve")
        return deep_link

    deep_link = browser.run(ask)

    async def shared(page: Any) -> None:
        # a shared deep link, opened signed out, shows the span once the key is given
        await sign_in(page, console.base, console.reader_key, deep_link.removeprefix(console.base))
        await page.locator("mark.cited").first.wait_for()
        assert "600 euros" in "".join(await page.locator("mark.cited").all_text_contents())

    browser.run(shared)

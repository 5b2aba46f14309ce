"""The console in Chromium: a live meeting follows its callbacks, a dead webhook delivery
is retried, API keys are made and revoked, and a reader key sees no admin page."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from kb_service.db.base import utcnow
from kb_service.services.meeting_callbacks import sign
from kb_service.workers.webhooks.dispatcher import WebhookDispatcher
from tests.conftest import new_key
from tests.kb_service.console.browser import Browser, screenshot, sign_in
from tests.kb_service.console.conftest import Console
from tests.kb_service.live_servers import wait_until, webhook_receiver
from tests.kb_service.webhook_support import FakeClock, emit


def callback(console: Console, source: dict[str, Any], sequence: int, **payload: Any) -> Any:
    """A signed Sasha-style `segment_finalized` callback, as a meeting bot sends it."""
    body = json.dumps(
        {
            "type": "segment_finalized",
            "meetingId": "room-42",
            "sequence": sequence,
            "timestamp": int(time.time()),
            "payload": payload,
        }
    ).encode()
    with console.api() as api:
        response = api.post(
            f"/meetings/events/{source['id']}",
            content=body,
            headers={
                "X-Sasha-Signature": sign(source["signing_secret"], body),
                "Content-Type": "application/json",
            },
        )
    assert response.status_code == 200 and response.json()["data"]["result"] == "accepted"
    return response.json()["data"]


def test_a_live_meeting_shows_a_segment_when_its_signed_callback_arrives(
    browser: Browser, console: Console
) -> None:
    with console.api() as api:
        project = api.post("/projects", json={"name": "Payments live"}).json()["data"]
        source = api.post(
            "/meeting-sources", json={"name": "Sasha bot", "project_id": project["id"]}
        ).json()["data"]
    first = callback(
        console, source, 1, speaker="Ines", text="Any blockers for the release?", timestamp=3.2
    )
    meeting = first["meeting_id"]

    async def scenario(page: Any) -> None:
        await sign_in(page, console.base, console.reader_key, f"/console/projects/{project['id']}")
        await page.locator(f"a[href='/console/meetings/{meeting}']").click()
        transcript = page.get_by_test_id("transcript")
        await transcript.get_by_text("Any blockers for the release?").wait_for()
        assert "live" in await page.get_by_test_id("meeting-status").inner_text()
        said = "The staging Kafka cluster needs resizing before Friday."
        assert await transcript.get_by_text(said).count() == 0
        callback(console, source, 2, speaker="Tomas", text=said, timestamp=32.0)
        await transcript.get_by_text(said).wait_for(timeout=10_000)  # no reload
        turn = page.locator(".region[data-speaker='Tomas']")
        assert "0:32" in await turn.locator(".region-head").inner_text()
        await screenshot(page, "live-meeting")
        # a deep link to a span of the transcript highlights it at the speaker's turn
        with_text = await page.evaluate(
            "id => fetch(`/api/v1/meetings/${id}/transcript`, {headers: {'X-API-Key': "
            "sessionStorage.getItem('kb-service.api-key')}}).then(r => r.json())",
            meeting,
        )
        segment = with_text["data"]["segments"][1]
        await page.goto(
            f"{console.base}/console/meetings/{meeting}"
            f"#span={segment['char_start']}-{segment['char_end']}"
        )
        await page.locator("mark.cited").first.wait_for()
        assert "".join(await page.locator("mark.cited").all_text_contents()) == said
        assert "Tomas at 0:32" in await page.locator(".cited-note").inner_text()

    browser.run(scenario)
    question = "Who says the staging Kafka cluster needs resizing?"
    scope = {"project_ids": [project["id"]], "include_meetings": True}

    def searchable() -> bool:
        with console.api() as api:
            found = api.post("/search", json={"query": question, "scope": scope}).json()["data"]
        return any(c.get("meeting_id") == meeting for c in found["citations"])

    wait_until(searchable, timeout=30, what="the live segment to be searchable")

    async def cited(page: Any) -> None:
        await sign_in(page, console.base, console.reader_key, "/console/ask")
        await page.get_by_text("Scope").click()
        await page.get_by_label("Payments live").check()
        await page.get_by_label("Question", exact=True).fill(question)
        await page.get_by_role("button", name="Ask").click()
        link = page.locator(
            f"[data-testid=final-answer] a.cite[href^='/console/meetings/{meeting}']"
        )
        await link.first.wait_for()
        number = await link.first.get_attribute("data-citation")
        quoted = await page.locator(f"ol.citations li[value='{number}'] blockquote").inner_text()
        await link.first.click()
        await page.locator("mark.cited").first.wait_for()
        assert "".join(await page.locator("mark.cited").all_text_contents()) == quoted
        assert "Tomas at 0:32" in await page.locator(".cited-note").inner_text()
        await screenshot(page, "meeting-citation")

    browser.run(cited)


def test_a_dead_webhook_delivery_is_retried_from_the_console(
    browser: Browser, console: Console
) -> None:
    # an organization of its own: the other tests' events would be delivered here too
    admin = new_key(console.runtime, "initech", "admin")
    clock = FakeClock()
    healthy = {"now": False}
    with webhook_receiver(lambda _r: 200 if healthy["now"] else 500) as receiver:
        with console.api(admin["key"]) as api:
            hook = api.post("/webhooks", json={"url": receiver.url}).json()["data"]
        emit(console.runtime, admin["organization_id"])
        dispatcher = WebhookDispatcher(console.runtime.db, allow_private=True, clock=clock)
        try:
            dispatcher.run_once()
            clock.advance_to(clock.now + timedelta(hours=25))
            dispatcher.run_once()  # past the retry window: a dead letter

            async def retry(page: Any) -> None:
                await sign_in(page, console.base, admin["key"], "/console/webhooks")
                card = page.locator(f"[data-webhook='{hook['id']}']")
                status = card.get_by_test_id("delivery-status")
                await status.first.wait_for()
                assert await status.all_inner_texts() == ["dead"]
                assert "500" in await card.locator("tbody tr").first.inner_text()
                await screenshot(page, "webhook-dead")
                await card.get_by_role("button", name="Retry").click()
                await card.get_by_test_id("delivery-status").get_by_text("pending").wait_for()

            browser.run(retry)
            healthy["now"] = True
            clock.now = utcnow()
            dispatcher.run_once()
        finally:
            dispatcher.stop()

    async def delivered(page: Any) -> None:
        await sign_in(page, console.base, admin["key"], "/console/webhooks")
        card = page.locator(f"[data-webhook='{hook['id']}']")
        await card.get_by_test_id("delivery-status").get_by_text("succeeded").wait_for()
        await card.get_by_text("3 attempts").click()
        assert await card.locator("details li").count() == 3
        await card.get_by_role("button", name="Rotate secret").click()
        rotated = await card.locator("[data-secret]").inner_text()
        assert rotated.startswith("whsec_") and rotated != hook["secret"]
        assert "The old secret also signs until" in await card.inner_text()
        await screenshot(page, "webhook-retried")

    browser.run(delivered)


def test_api_keys_are_created_once_shown_and_revoked(browser: Browser, console: Console) -> None:
    async def scenario(page: Any) -> str:
        await sign_in(page, console.base, console.admin_key, "/console/keys")
        await page.get_by_label("Name").fill("support bot")
        await page.get_by_label("Role").select_option("reader")
        await page.get_by_role("button", name="Create key").click()
        secret = await page.locator("[data-secret]").inner_text()
        assert secret.startswith("sk_")
        await screenshot(page, "api-key-created")
        await page.get_by_role("button", name="Revoke support bot").click()
        await page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
        row = page.locator("tr", has_text="support bot")
        await row.get_by_text("revoked").wait_for()
        return secret

    secret = browser.run(scenario)
    with console.api(secret) as api:
        refused = api.get("/workspaces/me")
    assert refused.status_code == 401


def test_a_reader_key_sees_no_admin_page_and_no_write_control(
    browser: Browser, console: Console
) -> None:
    async def scenario(page: Any) -> None:
        await sign_in(page, console.base, console.reader_key)
        assert "reader" in await page.get_by_test_id("who").inner_text()
        nav = page.get_by_role("navigation", name="Main")
        assert await nav.get_by_role("link", name="Webhooks").count() == 0
        assert await nav.get_by_role("link", name="API keys").count() == 0
        assert await page.get_by_role("heading", name="New knowledge base").count() == 0
        for path in ("/console/webhooks", "/console/keys"):
            await page.goto(console.base + path)
            alert = page.get_by_role("alert")
            await alert.wait_for()
            assert "needs the admin role; your key has the reader role" in await alert.inner_text()
        await screenshot(page, "reader-refused")

    browser.run(scenario)
    with console.api(console.reader_key) as api:  # the API refuses it as well
        assert api.get("/webhooks").status_code == 403

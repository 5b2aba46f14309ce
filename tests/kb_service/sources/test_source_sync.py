"""A sitemap source kept in sync with a real loopback site: adds, edits, removals, failures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kb_service.db.events import Event
from retrieval.embedding import Embedder
from tests.kb_service.sources.site_server import Site, serve_site
from tests.kb_service.sources.source_support import (
    API,
    add_source,
    documents,
    new_kb,
    page_text,
    source_env,
    sync_now,
)

NAMES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"]


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path, embedder: Embedder) -> Iterator[Any]:
    with serve_site() as site, source_env(tmp_path, embedder, request.param) as (rt, c, h):
        yield site, rt, c, h


def _publish(site: Site) -> None:
    for name in NAMES:
        site.page(f"/{name}.html", f"{name.title()} handbook", page_text(name))
    # a page that moved: the sitemap lists the old address, which redirects
    site.set("/old-juliet.html", status=301, location="/juliet.html")
    site.page("/juliet.html", "Juliet handbook", page_text("juliet"))
    site.sitemap = [f"/{n}.html" for n in NAMES] + ["/old-juliet.html"]


def test_a_sitemap_source_follows_adds_edits_and_removals(env: Any) -> None:
    site, runtime, client, headers = env
    _publish(site)
    kb_id = new_kb(client, headers)
    source = add_source(client, headers, kb_id, type="sitemap", url=site.url("/sitemap.xml"))
    assert source["id"].startswith("src_") and source["last_sync"] is None

    first = sync_now(runtime, client, headers, source["id"])
    assert first["status"] == "completed", first
    assert first["counts"] == {
        "fetched": 10,
        "created": 10,
        "unchanged": 0,
        "updated": 0,
        "deleted": 0,
        "failed": 0,
        "skipped": 0,
    }
    docs = documents(client, headers, kb_id)
    assert len(docs) == 10
    # the redirected page cites where its content really is
    assert site.url("/juliet.html") in docs
    alpha = docs[site.url("/alpha.html")]
    assert alpha["title"] == "Alpha handbook" and alpha["version"] == 1
    chunks = client.get(
        f"{API}/knowledge-bases/{kb_id}/documents/{alpha['id']}/chunks", headers=headers
    ).json()["data"]
    text = " ".join(c["text"] for c in chunks)
    assert "alpha runbooks" in text
    assert "Site navigation menu entry" not in text and "Copyright footer" not in text

    # an edit, an addition, one page gone (404) and one slow page, one erroring
    site.page("/bravo.html", "Bravo handbook", page_text("bravo", version=2))
    site.page("/kilo.html", "Kilo handbook", page_text("kilo"))
    site.remove("/charlie.html")
    site.set("/delta.html", status=500)
    site.set("/echo.html", body="<html><body><p>late</p></body></html>", delay=3.0)
    site.sitemap = [*site.sitemap, "/kilo.html"]
    second = sync_now(runtime, client, headers, source["id"])
    assert second["status"] == "completed", second
    counts = second["counts"]
    assert (counts["created"], counts["updated"], counts["deleted"]) == (1, 1, 1)
    assert (counts["failed"], counts["unchanged"]) == (2, 6)
    failed = {f["url"]: f["error"] for f in second["failures"]}
    assert failed[site.url("/delta.html")] == "HTTP 500"
    assert "timed out" in failed[site.url("/echo.html")]
    docs = documents(client, headers, kb_id)
    assert site.url("/charlie.html") not in docs
    assert docs[site.url("/bravo.html")]["version"] == 2
    # failures keep their pages: a 500 or a timeout says nothing about the page being gone
    assert site.url("/delta.html") in docs and site.url("/echo.html") in docs
    assert site.url("/kilo.html") in docs

    # unchanged pages were asked conditionally and answered 304 (no new versions)
    assert docs[site.url("/golf.html")]["version"] == 1
    with runtime.db.session() as session:
        events = session.scalars(select(Event).where(Event.type == "source.synced")).all()
        assert [e.data["id"] for e in events] == [first["id"], second["id"]]
        assert events[1].data["status"] == "completed"
        assert events[1].data["counts"]["deleted"] == 1
    assert all(agent.startswith("kb-service/") for _, agent in site.requests)

    # a page's document deleted by hand (or whose ingestion failed) comes back next time
    golf = docs[site.url("/golf.html")]
    deleted = client.delete(
        f"{API}/knowledge-bases/{kb_id}/documents/{golf['id']}", headers=headers
    )
    assert deleted.status_code == 200
    third = sync_now(runtime, client, headers, source["id"])
    assert third["counts"]["updated"] == 1 and third["counts"]["created"] == 0
    assert site.url("/golf.html") in documents(client, headers, kb_id)


def test_a_sync_that_would_delete_too_much_stops_and_changes_nothing(env: Any) -> None:
    site, runtime, client, headers = env
    _publish(site)
    kb_id = new_kb(client, headers)
    source = add_source(client, headers, kb_id, type="sitemap", url=site.url("/sitemap.xml"))
    assert sync_now(runtime, client, headers, source["id"])["status"] == "completed"

    # 2 of 10 dropped from the sitemap: 20% is allowed (not more than the share)
    site.sitemap = site.sitemap[2:]
    allowed = sync_now(runtime, client, headers, source["id"])
    assert allowed["status"] == "completed" and allowed["counts"]["deleted"] == 2
    assert len(documents(client, headers, kb_id)) == 8

    # the site breaks: 3 of the 8 remaining pages gone (37%) → the sync stops
    for name in NAMES[2:5]:
        site.remove(f"/{name}.html")
    stopped = sync_now(runtime, client, headers, source["id"])
    assert stopped["status"] == "stopped"
    assert "would delete 3 of the source's 8 pages" in stopped["error"]
    assert stopped["counts"]["deleted"] == 0 and stopped["ingest_job_ids"] == []
    assert len(documents(client, headers, kb_id)) == 8

    # confirmed by hand, the same sync deletes them
    forced = sync_now(runtime, client, headers, source["id"], allow_mass_delete=True)
    assert forced["status"] == "completed" and forced["counts"]["deleted"] == 3
    assert len(documents(client, headers, kb_id)) == 5

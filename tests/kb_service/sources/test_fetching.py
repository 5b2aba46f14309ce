"""Fetching a source's pages from a real loopback site: guard, redirects, robots, crawl."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator

import pytest

from kb_service.sources.fetch import PageFetcher, RefusedUrl, UrlGuard
from kb_service.sources.listing import ListingFailed, read_sitemap
from kb_service.sources.pages import KnownPage, PageOutcome
from kb_service.sources.plan import SourceSpec, plan_sync
from kb_service.statuses import SourceType
from tests.kb_service.sources.site_server import Site, serve_site
from tests.kb_service.sources.source_support import page_text


@pytest.fixture
def site() -> Iterator[Site]:
    with serve_site() as served:
        yield served


def _fetcher(guard: UrlGuard, max_bytes: int = 1_000_000) -> PageFetcher:
    return PageFetcher(guard=guard, timeout=2.0, max_bytes=max_bytes)


def _spec(site: Site, type: SourceType, path: str, **fields: object) -> SourceSpec:
    values: dict[str, object] = {"include": (), "exclude": (), "max_pages": 100, **fields}
    return SourceSpec(id="src_test", type=type, url=site.url(path), **values)  # type: ignore[arg-type]


def test_a_redirect_to_a_private_address_is_refused_before_any_request(site: Site) -> None:
    # the site's own origin is trusted (an intranet wiki); everything else private is not
    guard = UrlGuard.of(False, [site.base])
    port = site.base.rsplit(":", 1)[1]
    site.page("/target.html", "Target", page_text("target"))
    site.set("/inward.html", status=302, location=f"http://localhost:{port}/target.html")
    site.set("/along.html", status=307, location="/target.html")
    fetcher = _fetcher(guard)
    try:
        with pytest.raises(RefusedUrl, match="private, loopback or link-local"):
            fetcher.get(site.url("/inward.html"))
        assert site.requested("/target.html") == 0
        followed = fetcher.get(site.url("/along.html"))
        assert followed.status == 200 and followed.final_url == site.url("/target.html")
    finally:
        fetcher.close()
    with pytest.raises(RefusedUrl):
        UrlGuard.of(False).vet(site.url("/target.html"))
    assert UrlGuard.of(True).vet(site.url("/target.html")) == ()


def test_robots_txt_is_obeyed_and_an_unreachable_one_fetches_nothing(site: Site) -> None:
    site.page("/open.html", "Open", page_text("open"))
    site.page("/private/closed.html", "Closed", page_text("closed"))
    site.robots = "User-agent: kb-service\nDisallow: /private/\n"
    fetcher = _fetcher(UrlGuard.of(True))
    try:
        plan = plan_sync(_spec(site, SourceType.SITEMAP, "/sitemap.xml"), {}, fetcher)
        outcomes = {r.url: r.outcome for r in plan.results}
        assert outcomes == {
            site.url("/open.html"): PageOutcome.CREATED,
            site.url("/private/closed.html"): PageOutcome.SKIPPED,
        }
        assert site.requested("/private/closed.html") == 0

        site.robots_status = 503
        plan = plan_sync(
            _spec(site, SourceType.SITEMAP, "/sitemap.xml"), {}, _fetcher(UrlGuard.of(True))
        )
        assert {r.outcome for r in plan.results} == {PageOutcome.FAILED}
        assert site.requested("/open.html") == 1 and plan.to_delete == []
    finally:
        fetcher.close()


def test_a_crawl_stays_within_its_directory_and_filters(site: Site) -> None:
    site.page(
        "/docs/index.html",
        "Docs",
        page_text("index"),
        links=[
            "a.html",
            "/docs/b.html#part",
            "/docs/skip-me.html",
            "/blog/c.html",
            "http://example.com/",
        ],
    )
    site.page("/docs/a.html", "A", page_text("a"), links=["/docs/deep/d.html"])
    site.page("/docs/b.html", "B", page_text("b"))
    site.page("/docs/deep/d.html", "D", page_text("d"))
    site.page("/docs/skip-me.html", "Skip", page_text("skip"))
    site.page("/blog/c.html", "C", page_text("c"))
    spec = _spec(site, SourceType.URL, "/docs/index.html", exclude=("/docs/skip-*",))
    fetcher = _fetcher(UrlGuard.of(True))
    try:
        plan = plan_sync(spec, {}, fetcher)
        capped = plan_sync(
            _spec(site, SourceType.URL, "/docs/index.html", max_pages=2), {}, fetcher
        )
    finally:
        fetcher.close()
    assert [r.url for r in plan.results] == [
        site.url(p)
        for p in ("/docs/index.html", "/docs/a.html", "/docs/b.html", "/docs/deep/d.html")
    ]
    assert site.requested("/blog/c.html") == site.requested("/docs/skip-me.html") == 0
    assert len(capped.results) == 2


def test_oversized_and_non_text_pages_fail_alone(site: Site) -> None:
    site.page("/big.html", "Big", page_text("big") * 50)
    site.set("/logo.png", body="PNG", content_type="image/png")
    site.page("/fine.html", "Fine", page_text("fine"))
    fetcher = _fetcher(UrlGuard.of(True), max_bytes=4000)
    try:
        plan = plan_sync(_spec(site, SourceType.SITEMAP, "/sitemap.xml"), {}, fetcher)
    finally:
        fetcher.close()
    results = {r.url.rsplit("/", 1)[1]: r for r in plan.results}
    assert results["fine.html"].outcome == PageOutcome.CREATED
    assert "larger than 4000 bytes" in (results["big.html"].error or "")
    assert "unsupported content type 'image/png'" in (results["logo.png"].error or "")


def test_pages_no_longer_reached_or_now_disallowed_are_to_be_deleted(site: Site) -> None:
    site.page("/docs/index.html", "Docs", page_text("index"), links=["a.html", "b.html"])
    site.page("/docs/a.html", "A", page_text("a"))
    site.page("/docs/b.html", "B", page_text("b"))
    spec = _spec(site, SourceType.URL, "/docs/index.html")
    fetcher = _fetcher(UrlGuard.of(True))
    try:
        first = plan_sync(spec, {}, fetcher)
        known = {
            r.url: KnownPage(r.etag, r.last_modified, r.content_hash, r.final_url, r.links)
            for r in first.results
        }
        # the index stops linking to b; a is now disallowed
        site.page("/docs/index.html", "Docs", page_text("index"), links=["a.html"])
        site.robots = "User-agent: *\nDisallow: /docs/a.html\n"
        second = plan_sync(spec, known, fetcher)
    finally:
        fetcher.close()
    assert sorted(second.to_delete) == [site.url("/docs/a.html"), site.url("/docs/b.html")]
    assert second.deletion_share == 2 / 3
    # the index's text is as before (only its link list changed): no new version
    assert {r.url: r.outcome for r in second.results}[site.url("/docs/index.html")] == (
        PageOutcome.UNCHANGED
    )


def test_a_crawl_delay_spaces_the_requests_to_its_site(site: Site) -> None:
    for name in ("p1", "p2", "p3"):
        site.page(f"/{name}.html", name, page_text(name))
    site.robots = "User-agent: *\nCrawl-delay: 1\n"
    fetcher = _fetcher(UrlGuard.of(True))
    started = time.monotonic()
    try:
        plan = plan_sync(_spec(site, SourceType.SITEMAP, "/sitemap.xml"), {}, fetcher)
    finally:
        fetcher.close()
    assert [r.outcome for r in plan.results] == [PageOutcome.CREATED] * 3
    assert time.monotonic() - started >= 2.0  # two waits between three pages


def test_a_gzipped_sitemap_index_lists_the_pages_of_its_sitemaps(site: Site) -> None:
    site.page("/a.html", "A", page_text("a"))
    site.page("/b.html", "B", page_text("b"))
    child = (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.url('/a.html')}</loc></url><url><loc>/b.html</loc></url></urlset>"
    )
    site.set("/pages.xml.gz", body=gzip.compress(child.encode()), content_type="application/gzip")
    site.set(
        "/index.xml",
        body='<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{site.url('/pages.xml.gz')}</loc></sitemap></sitemapindex>",
        content_type="application/xml",
    )
    fetcher = _fetcher(UrlGuard.of(True))
    try:
        assert read_sitemap(fetcher, site.url("/index.xml")) == [
            site.url("/a.html"),
            site.url("/b.html"),
        ]
        with pytest.raises(ListingFailed, match="HTTP 404"):
            read_sitemap(fetcher, site.url("/missing.xml"))
    finally:
        fetcher.close()

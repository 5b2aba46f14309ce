"""What one sync would change: every page's outcome, and which kept pages are to go.

`plan_sync` reads the source's pages (a sitemap's list, or a crawl from its URL,
narrowed by include/exclude and capped at `max_pages`), fetches each allowed by
robots.txt (`pages.fetch_page`, spaced by its `Crawl-delay`), and returns a
`SyncPlan`; it writes nothing. A page the last sync kept is to be deleted when it is
gone (404/410), no longer listed or reached, or now disallowed by robots.txt. A page
that failed (500, timeout, robots.txt unreachable) is kept as it was: a failure says
nothing about whether it still exists.

`SyncPlan.deletion_share` is the deleted share of the pages kept so far; the caller
stops a sync whose share exceeds its limit (`KB_SOURCE_MAX_DELETE_SHARE`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from kb_service.sources.fetch import PageFetcher
from kb_service.sources.listing import CrawlScope, UrlFilter, read_sitemap
from kb_service.sources.pages import KnownPage, PageOutcome, PageResult, fetch_page
from kb_service.sources.robots import RobotsRules
from kb_service.statuses import SourceType


@dataclass(frozen=True)
class SourceSpec:
    """What a sync needs to know of its source."""

    id: str
    type: SourceType
    url: str
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    max_pages: int


@dataclass
class SyncPlan:
    results: list[PageResult] = field(default_factory=list)
    to_delete: list[str] = field(default_factory=list)  # URLs of kept pages
    known_count: int = 0

    def count(self, outcome: PageOutcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def fetched(self) -> int:
        """Pages requested (robots-disallowed ones are not)."""
        return sum(1 for r in self.results if r.outcome != PageOutcome.SKIPPED)

    @property
    def deletion_share(self) -> float:
        return len(self.to_delete) / self.known_count if self.known_count else 0.0

    @property
    def changed(self) -> list[PageResult]:
        return [r for r in self.results if r.outcome in (PageOutcome.CREATED, PageOutcome.UPDATED)]


def plan_sync(
    source: SourceSpec,
    known: Mapping[str, KnownPage],
    fetcher: PageFetcher,
    *,
    on_page: Callable[[], None] | None = None,
) -> SyncPlan:
    """Fetch the source's pages and decide every outcome (module docstring).

    `on_page` is called after each page (the caller renews its lease there). Raises
    `ListingFailed` when a sitemap cannot be read.
    """
    robots = RobotsRules(fetcher)
    filters = UrlFilter(source.include, source.exclude)
    plan = SyncPlan(known_count=len(known))
    if source.type == SourceType.SITEMAP:
        listed = [u for u in read_sitemap(fetcher, source.url) if filters.keeps(u)]
        for url in listed[: source.max_pages]:
            plan.results.append(_visit(fetcher, robots, url, known.get(url)))
            _tick(on_page)
    else:
        _crawl(source, known, fetcher, robots, filters, plan, on_page)
    outcomes = {r.url: r.outcome for r in plan.results}
    plan.to_delete = [
        url
        for url in known
        if outcomes.get(url, PageOutcome.GONE) in (PageOutcome.GONE, PageOutcome.SKIPPED)
    ]
    return plan


def _crawl(
    source: SourceSpec,
    known: Mapping[str, KnownPage],
    fetcher: PageFetcher,
    robots: RobotsRules,
    filters: UrlFilter,
    plan: SyncPlan,
    on_page: Callable[[], None] | None,
) -> None:
    scope = CrawlScope(source.url)
    queue: deque[str] = deque([source.url])
    queued = {source.url}
    while queue and len(plan.results) < source.max_pages:
        url = queue.popleft()
        result = _visit(fetcher, robots, url, known.get(url))
        plan.results.append(result)
        _tick(on_page)
        links = result.links
        if result.outcome == PageOutcome.FAILED and url in known:
            links = known[url].links  # follow what it linked to last time
        for link in links:
            if link not in queued and scope.covers(link) and filters.keeps(link):
                queued.add(link)
                queue.append(link)


def _visit(
    fetcher: PageFetcher, robots: RobotsRules, url: str, known: KnownPage | None
) -> PageResult:
    verdict = robots.verdict(url)
    if verdict is None:
        return PageResult(url, PageOutcome.FAILED, error="robots.txt could not be read")
    if not verdict:
        return PageResult(url, PageOutcome.SKIPPED, error="disallowed by robots.txt")
    robots.wait_turn(url)
    return fetch_page(fetcher, url, known)


def _tick(on_page: Callable[[], None] | None) -> None:
    if on_page is not None:
        on_page()

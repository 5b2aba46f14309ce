"""One page of a sync: fetched conditionally, its main text extracted, its outcome decided.

| the page answers | outcome |
|---|---|
| 304 Not Modified (validators of the page's last sync sent) | `unchanged` |
| 200, main text hashes as last time | `unchanged` (new validators kept) |
| 200, new or different main text | `created` / `updated` |
| 404 or 410 | `gone` |
| any other status, a refused URL, a timeout, an oversized or non-text body | `failed` (kept as it was) |

The content hash is of the extracted title and text, not of the HTML, so a page
whose navigation or timestamps change but whose content does not stays unchanged.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum

from ingest.web_pages import main_text
from kb_service.sources.fetch import Fetched, FetchFailed, PageFetcher
from kb_service.sources.listing import page_links

_HTML = ("text/html", "application/xhtml+xml")


class PageOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    GONE = "gone"
    FAILED = "failed"
    SKIPPED = "skipped"  # robots.txt disallows it


@dataclass(frozen=True)
class KnownPage:
    """What the last applied sync kept of a page."""

    etag: str | None
    last_modified: str | None
    content_hash: str
    final_url: str
    links: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PageResult:
    url: str
    outcome: PageOutcome
    final_url: str = ""
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str = ""
    title: str | None = None
    text: str = ""
    links: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def kept(self) -> bool:
        """The page stays in the source (with this result's validators)."""
        return self.outcome in (PageOutcome.CREATED, PageOutcome.UPDATED, PageOutcome.UNCHANGED)


def document_key(source_id: str, url: str) -> str:
    """The `external_id` of a page's document: per source, so sources never share one."""
    return f"{source_id}:{hashlib.sha256(url.encode()).hexdigest()[:40]}"


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def fetch_page(fetcher: PageFetcher, url: str, known: KnownPage | None) -> PageResult:
    """Fetch `url` (conditionally when `known`) and decide its outcome (module docstring)."""
    try:
        fetched = fetcher.get(
            url,
            etag=known.etag if known else None,
            last_modified=known.last_modified if known else None,
        )
    except FetchFailed as exc:
        return PageResult(url, PageOutcome.FAILED, error=str(exc))
    if fetched.status == 304 and known is not None:
        return PageResult(
            url,
            PageOutcome.UNCHANGED,
            final_url=fetched.final_url,
            etag=fetched.etag or known.etag,
            last_modified=fetched.last_modified or known.last_modified,
            content_hash=known.content_hash,
            links=known.links,
        )
    if fetched.status in (404, 410):
        return PageResult(url, PageOutcome.GONE, error=f"HTTP {fetched.status}")
    if fetched.status != 200:
        return PageResult(url, PageOutcome.FAILED, error=f"HTTP {fetched.status}")
    return _extracted(fetched, known)


def _extracted(fetched: Fetched, known: KnownPage | None) -> PageResult:
    url = fetched.url
    body = fetched.body.decode(fetched.charset or "utf-8", "replace")
    if fetched.media_type in _HTML or (not fetched.media_type and "<html" in body[:1000].lower()):
        page = main_text(body, fetched.final_url)
        title, text, links = page.title, page.text, page_links(body, fetched.final_url)
    elif fetched.media_type == "text/plain":
        title, text, links = None, body.strip(), []
    else:
        return PageResult(
            url, PageOutcome.FAILED, error=f"unsupported content type {fetched.media_type!r}"
        )
    if not text:
        return PageResult(url, PageOutcome.FAILED, error="the page has no main text")
    digest = hashlib.sha256(f"{title or ''}\n{text}".encode()).hexdigest()
    if known is not None and known.content_hash == digest:
        outcome = PageOutcome.UNCHANGED
    else:
        outcome = PageOutcome.UPDATED if known is not None else PageOutcome.CREATED
    return PageResult(
        url,
        outcome,
        final_url=fetched.final_url,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        content_hash=digest,
        title=title,
        text=text,
        links=links,
    )

"""Which pages a source has: a sitemap's `<loc>`s, or the links a crawl follows.

- A sitemap (`<urlset>`) lists its pages; a sitemap index (`<sitemapindex>`) lists
  sitemaps, read one level deep (at most `MAX_CHILD_SITEMAPS`). A gzipped sitemap
  (`sitemap.xml.gz`) is read too, up to `MAX_SITEMAP_BYTES` uncompressed.
- A crawl starts at the source URL and follows links within its scope: the same
  origin, under the start URL's directory (`https://x.org/docs/intro` covers
  `https://x.org/docs/...`). Fragments are dropped; only http(s) links count.
- `include` / `exclude` globs (`fnmatch`) narrow either: a pattern starting with `/`
  matches the URL's path (and query), any other the whole URL. A URL is kept when it
  matches some include pattern (or there are none) and no exclude pattern.

Errors: `ListingFailed` when the sitemap cannot be read (the sync fails and deletes
nothing: an unreachable sitemap says nothing about which pages are gone).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from urllib.parse import urldefrag, urljoin, urlsplit

from kb_service.sources.fetch import FetchFailed, PageFetcher, origin_of

MAX_CHILD_SITEMAPS = 50
MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps protocol's own limit


class ListingFailed(Exception):
    """The source's list of pages could not be read; `str(exc)` says why."""


@dataclass(frozen=True)
class UrlFilter:
    """The include / exclude globs of a source (module docstring)."""

    include: Sequence[str] = ()
    exclude: Sequence[str] = ()

    def keeps(self, url: str) -> bool:
        return (not self.include or any(self._match(p, url) for p in self.include)) and not any(
            self._match(p, url) for p in self.exclude
        )

    @staticmethod
    def _match(pattern: str, url: str) -> bool:
        if pattern.startswith("/"):
            parts = urlsplit(url)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            return fnmatchcase(target, pattern)
        return fnmatchcase(url, pattern)


def read_sitemap(fetcher: PageFetcher, url: str) -> list[str]:
    """The page URLs a sitemap (or a sitemap index, one level deep) lists, in order."""
    locations, children = _parse_sitemap(_fetch_xml(fetcher, url), url)
    for child in children[:MAX_CHILD_SITEMAPS]:
        pages, _ = _parse_sitemap(_fetch_xml(fetcher, child), child)
        locations.extend(pages)
    return list(dict.fromkeys(locations))


def _fetch_xml(fetcher: PageFetcher, url: str) -> bytes:
    try:
        fetched = fetcher.get(url)
    except FetchFailed as exc:
        raise ListingFailed(f"The sitemap could not be fetched: {exc}") from None
    if fetched.status != 200:
        raise ListingFailed(f"The sitemap {url} answered HTTP {fetched.status}.")
    if fetched.body[:2] != b"\x1f\x8b":
        return fetched.body
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(fetched.body, MAX_SITEMAP_BYTES)
    except zlib.error:
        raise ListingFailed(f"The sitemap {url} is not valid gzip.") from None
    if inflater.unconsumed_tail:
        raise ListingFailed(f"The sitemap {url} inflates to more than {MAX_SITEMAP_BYTES} bytes.")
    return body


def _parse_sitemap(body: bytes, url: str) -> tuple[list[str], list[str]]:
    """(page URLs, child sitemap URLs) of one sitemap document."""
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        raise ListingFailed(f"The sitemap {url} is not valid XML ({exc}).") from None
    kind = root.tag.rsplit("}", 1)[-1]
    if kind not in ("urlset", "sitemapindex"):
        raise ListingFailed(f"{url} is not a sitemap (its root element is <{kind}>).")
    found = [
        (loc.text or "").strip()
        for loc in root.iter()
        if loc.tag.rsplit("}", 1)[-1] == "loc" and (loc.text or "").strip()
    ]
    found = [
        urljoin(url, u) for u in found if urlsplit(urljoin(url, u)).scheme in ("http", "https")
    ]
    return ([], found) if kind == "sitemapindex" else (found, [])


@dataclass(frozen=True)
class CrawlScope:
    """The pages a crawl from `start` may follow: same origin, under its directory."""

    start: str

    @property
    def prefix(self) -> str:
        path = urlsplit(self.start).path or "/"
        return path[: path.rfind("/") + 1]

    def covers(self, url: str) -> bool:
        parts = urlsplit(url)
        return (
            parts.scheme in ("http", "https")
            and origin_of(url) == origin_of(self.start)
            and (parts.path or "/").startswith(self.prefix)
        )


def page_links(html: str, base_url: str) -> list[str]:
    """The absolute http(s) links of a page, fragments dropped, in document order."""
    import lxml.html

    try:
        tree = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return []
    links = []
    for href in tree.xpath("//a/@href"):
        absolute, _ = urldefrag(urljoin(base_url, str(href).strip()))
        if urlsplit(absolute).scheme in ("http", "https"):
            links.append(absolute)
    return list(dict.fromkeys(links))

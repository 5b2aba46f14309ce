"""Fetching web pages for a source sync, behind the webhook SSRF guard.

Every URL a sync requests passes `UrlGuard` first, and so does every redirect hop:
redirects are followed here, one hop at a time (at most `MAX_REDIRECTS`), never by
the HTTP client, so a public page cannot bounce the fetcher to a private address.
The guard is the webhooks' (`webhooks.urls.check_url`): the same private-address rule
and the same switch (`KB_WEBHOOK_ALLOW_PRIVATE`); the connection goes to an address
the guard vetted (`pin`), not to a fresh DNS lookup. Origins listed in
`KB_SOURCE_TRUSTED_ORIGINS` (e.g. an intranet wiki) pass without the address rule.

A fetch has one deadline for all its hops and the body (`timeout`), so a server that
drips bytes cannot hold a sync for longer, and a body larger than `max_bytes` is
refused. Requests carry the configured User-Agent (`USER_AGENT` by default) and, for
a page seen before, `If-None-Match` / `If-Modified-Since`.

Errors: `FetchFailed` (refused by the guard, timeout, too large, too many redirects,
connection error), with a sentence for the sync's failure list. HTTP error statuses
are not errors here: the caller decides what a 404 or a 500 means.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from kb_service import __version__
from kb_service.settings import Settings
from kb_service.webhooks.urls import UnsafeWebhookUrl, check_url
from kb_service.workers.webhooks.delivery import pin

USER_AGENT = f"kb-service/{__version__} (+web sources; robots.txt token: kb-service)"
ROBOTS_TOKEN = "kb-service"
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_REFUSALS = {  # by the field error `check_url` reports
    "not an http(s) URL": "{url} is not an absolute http:// or https:// URL.",
    "host does not resolve": "The host of {url} does not resolve.",
    "": "{url} points at a private, loopback or link-local address (set "
    "KB_WEBHOOK_ALLOW_PRIVATE=true, or name its origin in KB_SOURCE_TRUSTED_ORIGINS, to "
    "allow it).",
}


class FetchFailed(Exception):
    """The page could not be fetched; `str(exc)` says why in one sentence."""


class RefusedUrl(FetchFailed):
    """The URL is not http(s), or points at an address the SSRF guard refuses."""


def origin_of(url: str) -> str:
    """`scheme://host:port` of an http(s) URL (the port always spelled out)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


@dataclass(frozen=True)
class UrlGuard:
    """Which URLs a sync may request: the webhook rule, plus explicitly trusted origins."""

    allow_private: bool
    trusted_origins: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, allow_private: bool, trusted: Iterable[str] = ()) -> UrlGuard:
        return cls(allow_private, frozenset(origin_of(o.strip()) for o in trusted if o.strip()))

    @classmethod
    def from_settings(cls, settings: Settings) -> UrlGuard:
        """`KB_WEBHOOK_ALLOW_PRIVATE` and the comma-separated `KB_SOURCE_TRUSTED_ORIGINS`."""
        return cls.of(settings.webhooks.allow_private, settings.sources.trusted_origins.split(","))

    def vet(self, url: str) -> tuple[str, ...]:
        """The addresses to connect to (empty: resolve normally), or raise `RefusedUrl`."""
        trusted = urlsplit(url).scheme in ("http", "https") and origin_of(url) in (
            self.trusted_origins
        )
        try:
            return check_url(url, allow_private=self.allow_private or trusted)
        except UnsafeWebhookUrl as exc:
            problem = exc.errors[0]["message"] if exc.errors else ""
            raise RefusedUrl(_REFUSALS.get(problem, _REFUSALS[""]).format(url=url)) from None


@dataclass(frozen=True)
class Fetched:
    """A response: the URL asked for, where it ended after redirects, status, body."""

    url: str
    final_url: str
    status: int
    body: bytes
    etag: str | None
    last_modified: str | None
    content_type: str

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for part in self.content_type.split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return None


class PageFetcher:
    """GETs pages under the guard, following redirects by hand (module docstring)."""

    def __init__(
        self,
        *,
        guard: UrlGuard,
        timeout: float,
        max_bytes: int,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.guard = guard
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)

    def close(self) -> None:
        self._client.close()

    def get(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> Fetched:
        """The response to GET `url` after redirects (conditional when validators are given)."""
        deadline = time.monotonic() + self.timeout
        headers = {"user-agent": self.user_agent, "accept": "text/html,application/xml,*/*;q=0.5"}
        if etag:
            headers["if-none-match"] = etag
        if last_modified:
            headers["if-modified-since"] = last_modified
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if time.monotonic() > deadline:
                raise FetchFailed(f"timed out fetching {url}")
            addresses = self.guard.vet(current)
            status, response_headers, body = self._get_once(current, addresses, headers, deadline)
            location = response_headers.get("location")
            if status in _REDIRECTS and location:
                current = urljoin(current, location)
                continue
            return Fetched(
                url=url,
                final_url=current,
                status=status,
                body=body,
                etag=response_headers.get("etag"),
                last_modified=response_headers.get("last-modified"),
                content_type=response_headers.get("content-type", ""),
            )
        raise FetchFailed(f"more than {MAX_REDIRECTS} redirects from {url}")

    def _get_once(
        self, url: str, addresses: tuple[str, ...], headers: dict[str, str], deadline: float
    ) -> tuple[int, httpx.Headers, bytes]:
        targets: list[tuple[httpx.URL | str, dict[str, str], dict[str, str]]] = []
        if not addresses:
            targets.append((url, headers, {}))
        for address in addresses:
            pinned = pin(url, address)
            extensions: dict[str, str] = {}
            extra = {"host": pinned.host}
            if pinned.sni_hostname is not None:
                extensions["sni_hostname"] = pinned.sni_hostname
                extra["connection"] = "close"  # see `delivery._post_pinned`
            targets.append((pinned.url, {**headers, **extra}, extensions))
        for position, (target, request_headers, extensions) in enumerate(targets):
            try:
                return self._stream(target, request_headers, extensions, deadline, url)
            except httpx.ConnectError as exc:
                if position == len(targets) - 1:
                    raise FetchFailed(f"could not connect to {url}: {exc}"[:300]) from None
            except httpx.TimeoutException:
                raise FetchFailed(f"timed out fetching {url}") from None
            except httpx.HTTPError as exc:
                raise FetchFailed(f"{type(exc).__name__} fetching {url}: {exc}"[:300]) from None
        raise AssertionError("unreachable")

    def _stream(
        self,
        target: httpx.URL | str,
        headers: dict[str, str],
        extensions: dict[str, str],
        deadline: float,
        url: str,
    ) -> tuple[int, httpx.Headers, bytes]:
        with self._client.stream("GET", target, headers=headers, extensions=extensions) as r:
            if r.status_code in _REDIRECTS or r.status_code >= 400 or r.status_code == 304:
                return r.status_code, r.headers, b""
            declared = r.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchFailed(f"{url} is larger than {self.max_bytes} bytes")
            body = bytearray()
            for chunk in r.iter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise FetchFailed(f"{url} is larger than {self.max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise FetchFailed(f"timed out fetching {url}")
            return r.status_code, r.headers, bytes(body)


@dataclass(frozen=True)
class FetchPolicy:
    """How a sync fetches: the guard, the User-Agent, the time and size limits."""

    guard: UrlGuard
    user_agent: str
    timeout: float
    max_bytes: int
    max_delete_share: float

    @classmethod
    def of(cls, settings: Settings) -> FetchPolicy:
        sources = settings.sources
        return cls(
            guard=UrlGuard.from_settings(settings),
            user_agent=sources.user_agent or USER_AGENT,
            timeout=sources.fetch_timeout_seconds,
            max_bytes=int(sources.max_page_mb * 1024 * 1024),
            max_delete_share=sources.max_delete_share,
        )

    def fetcher(self) -> PageFetcher:
        return PageFetcher(
            guard=self.guard,
            timeout=self.timeout,
            max_bytes=self.max_bytes,
            user_agent=self.user_agent,
        )

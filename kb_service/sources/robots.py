"""robots.txt, read once per origin per sync and obeyed for every page of it.

Read through the sync's own `PageFetcher` (so the SSRF guard applies to it too) and
parsed by `urllib.robotparser`, matched against the `kb-service` token. What a
robots.txt that cannot be read means follows RFC 9309:

| /robots.txt answers | pages of that origin |
|---|---|
| 2xx | as its rules say |
| 4xx (none published) | all allowed |
| 5xx, a timeout, a refused or failed connection | none fetched, and none deleted (unreachable) |

A `Crawl-delay` for the token (or `*`) spaces the requests to that origin (`wait_turn`),
at most `MAX_CRAWL_DELAY` seconds apart so one site cannot stall a sync for hours.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from kb_service.sources.fetch import ROBOTS_TOKEN, FetchFailed, PageFetcher, origin_of

MAX_CRAWL_DELAY = 10.0


class RobotsRules:
    """Answers `verdict(url)` for any URL, fetching each origin's robots.txt once."""

    def __init__(self, fetcher: PageFetcher) -> None:
        self.fetcher = fetcher
        self._parsers: dict[str, RobotFileParser | None] = {}
        self._last_request: dict[str, float] = {}

    def verdict(self, url: str) -> bool | None:
        """True: may fetch; False: disallowed; None: robots.txt unreachable (fetch nothing)."""
        origin = origin_of(url)
        if origin not in self._parsers:
            self._parsers[origin] = self._read(url)
        parser = self._parsers[origin]
        return None if parser is None else parser.can_fetch(ROBOTS_TOKEN, url)

    def wait_turn(self, url: str) -> None:
        """Sleep until the origin's `Crawl-delay` since its last request has passed."""
        origin = origin_of(url)
        parser = self._parsers.get(origin)
        delay = parser.crawl_delay(ROBOTS_TOKEN) if parser is not None else None
        last = self._last_request.get(origin)
        if delay and last is not None:
            pause = min(float(delay), MAX_CRAWL_DELAY) - (time.monotonic() - last)
            if pause > 0:
                time.sleep(pause)
        self._last_request[origin] = time.monotonic()

    def _read(self, url: str) -> RobotFileParser | None:
        parts = urlsplit(url)
        parser = RobotFileParser()
        try:
            fetched = self.fetcher.get(f"{parts.scheme}://{parts.netloc}/robots.txt")
        except FetchFailed:
            return None
        if 200 <= fetched.status < 300:
            parser.parse(fetched.body.decode("utf-8", "replace").splitlines())
        elif 400 <= fetched.status < 500:
            parser.parse([])  # no rules: everything allowed
        else:
            return None
        return parser

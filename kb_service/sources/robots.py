"""robots.txt, read once per origin per sync and obeyed for every page of it.

Read through the sync's own `PageFetcher` (so the SSRF guard applies to it too) and
parsed by `urllib.robotparser`, matched against the `kb-service` token. What a
robots.txt that cannot be read means follows RFC 9309:

| /robots.txt answers | pages of that origin |
|---|---|
| 2xx | as its rules say |
| 4xx (none published) | all allowed |
| 5xx, a timeout, a refused or failed connection | none fetched, and none deleted (unreachable) |
"""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from kb_service.sources.fetch import ROBOTS_TOKEN, FetchFailed, PageFetcher, origin_of


class RobotsRules:
    """Answers `verdict(url)` for any URL, fetching each origin's robots.txt once."""

    def __init__(self, fetcher: PageFetcher) -> None:
        self.fetcher = fetcher
        self._parsers: dict[str, RobotFileParser | None] = {}

    def verdict(self, url: str) -> bool | None:
        """True: may fetch; False: disallowed; None: robots.txt unreachable (fetch nothing)."""
        origin = origin_of(url)
        if origin not in self._parsers:
            self._parsers[origin] = self._read(url)
        parser = self._parsers[origin]
        return None if parser is None else parser.can_fetch(ROBOTS_TOKEN, url)

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

"""A real website on 127.0.0.1 whose pages change between syncs (test helper).

Pages are set per path (`site.page(path, title, body)`), and can answer with a
status, a redirect or a delay instead. Responses carry an ETag and a Last-Modified
derived from the body and answer conditional requests with 304. `/sitemap.xml`
lists `site.sitemap` (default: every page), `/robots.txt` is `site.robots` (answered with `site.robots_status`; None: 404). Every
request is logged (`site.requests`: path and User-Agent).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: str | bytes = ""
    status: int = 200
    location: str | None = None
    delay: float = 0.0
    content_type: str = "text/html; charset=utf-8"
    modified: float = 0.0


class Site:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.sitemap: list[str] | None = None
        self.robots: str | None = None
        self.robots_status = 200
        self.requests: list[tuple[str, str]] = []
        self.base = ""
        self._lock = threading.Lock()

    def url(self, path: str) -> str:
        return self.base + path

    def page(self, path: str, title: str, text: str, links: list[str] = ()) -> None:  # type: ignore[assignment]
        anchors = "".join(f'<li><a href="{href}">{href}</a></li>' for href in links)
        body = (
            f"<!doctype html><html><head><title>{title}</title></head><body>"
            f'<nav><ul><li><a href="/">Home</a></li><li>Site navigation menu entry</li></ul></nav>'
            f"<main><article><h1>{title}</h1>"
            + "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
            + f"<ul>{anchors}</ul></article></main>"
            "<footer>Copyright footer text of the example site</footer></body></html>"
        )
        with self._lock:
            self.pages[path] = Page(body=body, modified=time.time())

    def set(self, path: str, **fields: object) -> None:
        with self._lock:
            self.pages[path] = Page(**fields)  # type: ignore[arg-type]

    def remove(self, path: str) -> None:
        with self._lock:
            self.pages.pop(path, None)

    def requested(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def sitemap_xml(self) -> str:
        paths = self.sitemap if self.sitemap is not None else sorted(self.pages)
        locs = "".join(f"<url><loc>{self.url(p)}</loc></url>" for p in paths)
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'
        )


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            site.requests.append((self.path, self.headers.get("user-agent", "")))
            if self.path == "/sitemap.xml":
                return self._send(200, site.sitemap_xml().encode(), "application/xml")
            if self.path == "/robots.txt":
                if site.robots is None:
                    return self._send(404, b"", "text/plain")
                return self._send(site.robots_status, site.robots.encode(), "text/plain")
            page = site.pages.get(self.path)
            if page is None:
                return self._send(404, b"not found", "text/plain")
            if page.delay:
                time.sleep(page.delay)
            if page.location:
                self.send_response(page.status)
                self.send_header("Location", page.location)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            if page.status != 200:
                return self._send(page.status, b"error", "text/plain")
            body = page.body if isinstance(page.body, bytes) else page.body.encode()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            modified = formatdate(page.modified, usegmt=True)
            if self.headers.get("if-none-match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return None
            return self._send(200, body, page.content_type, etag=etag, modified=modified)

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str,
            etag: str | None = None,
            modified: str | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if etag:
                self.send_header("ETag", etag)
            if modified:
                self.send_header("Last-Modified", modified)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serve_site() -> Iterator[Site]:
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()

"""The console's HTML shell and assets, as served by the app (no browser needed)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from kb_service.console import STATIC


def test_every_console_path_answers_the_shell_with_a_same_origin_policy(
    client: TestClient,
) -> None:
    for path in ("/console", "/console/", "/console/kb/kb_1/doc/doc_2", "/console/meetings/m"):
        page = client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/console/static/app.js"></script>' in page.text
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "connect-src 'self'" in policy
        assert "default-src 'none'" in policy
    script = client.get("/console/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get("/console/static/nothing.js").status_code == 404
    assert not any(p.startswith("/console") for p in client.get("/openapi.json").json()["paths"])


def test_the_console_loads_nothing_from_another_origin() -> None:
    sources = [p for p in STATIC.rglob("*") if p.suffix in (".js", ".css", ".html")]
    assert len(sources) >= 10
    for path in sources:
        text = path.read_text()
        assert not re.search(r"(src|href)=[\"']https?://", text), path
        assert not re.search(r"""\b(import|from)\s*\(?["']https?://""", text), path
        # API data goes in as text, never as markup
        assert not re.search(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML", text), path

"""Main text of web pages: content kept, navigation and footers dropped, fallbacks."""

from __future__ import annotations

from ingest.web_pages import main_text
from tests.conftest import SAMPLE_DOCS


def test_a_real_page_keeps_its_content_and_loses_its_navigation() -> None:
    html = (SAMPLE_DOCS / "architecture.html").read_text(encoding="utf-8")
    page = main_text(html, "https://wiki.example.com/architecture")
    assert page.title == "Ledgerline Billing Architecture"
    assert "meter-collector service receives usage events" in page.text
    assert "Failed card payments are retried after 3, 5 and 7 days." in page.text
    assert "Wiki home" not in page.text
    assert "\n\n" in page.text  # paragraphs stay apart


def test_a_page_too_short_for_trafilatura_falls_back_to_its_marked_content() -> None:
    html = (
        "<html><head><title>Status</title></head><body><nav>Home | About | Contact</nav>"
        "<main><p>All systems normal.</p></main><footer>Footer links</footer></body></html>"
    )
    page = main_text(html)
    assert page.title == "Status"
    assert "All systems normal." in page.text
    assert "Home | About" not in page.text and "Footer links" not in page.text


def test_a_page_without_text_gives_empty_text() -> None:
    assert main_text("<html><body><script>var x = 1;</script></body></html>").text == ""

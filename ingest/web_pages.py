"""Main content of a fetched web page: boilerplate (navigation, footers) removed.

`main_text(html, url)` returns the page's title and its main text as paragraphs
separated by blank lines. When the page marks its content itself (a `<main>`, else an
element with `role="main"`, else its only `<article>`), trafilatura reads that element
alone; otherwise it reads the whole page and finds the main content by itself. When
trafilatura keeps nothing (a page too short for its heuristics), the marked element's
text is used, else the body's. trafilatura runs in its `fast` mode (without its own
fallback extractors). `benchmarks/html_extraction.py` measured these choices (README,
"Web sources"): on the Python documentation trafilatura keeps the main text with far
less boilerplate than unstructured's partitioner, reading the marked element first is
both more precise and faster, and swapping in the marked element whenever it held
clearly more words than trafilatura kept lowered precision.

Input is decoded text; output may be empty (a page with no text), never None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from typing import Any

_DROP = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template")
_BLOCKS = frozenset(
    {"p", "div", "section", "article", "main", "li", "dt", "dd", "pre", "blockquote", "tr"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "figure", "br", "hr"}
)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class PageText:
    title: str | None
    text: str


def words(text: str) -> int:
    return len(_WORD.findall(text))


def trafilatura_text(html: str, url: str | None = None, *, fast: bool = True) -> PageText:
    """trafilatura's main text and title alone (no fallback of ours).

    `fast` skips trafilatura's own second opinions (jusText, readability): measured as
    good on real pages and about a quarter faster (`benchmarks/html_extraction.py`).
    """
    import trafilatura

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        include_formatting=False,
        favor_precision=False,
        fast=fast,
    )
    if document is None:
        return PageText(None, "")
    text = getattr(document, "text", None) or ""
    title = getattr(document, "title", None) or None
    return PageText(title, _paragraphs(text))


def main_text(html: str, url: str | None = None) -> PageText:
    """The page's title and main text (see the module docstring)."""
    import lxml.html

    tree = parse_html(html)
    element = main_element(tree) if tree is not None else None
    if element is None:
        extracted = trafilatura_text(html, url)
    else:
        title = _title_of(tree)
        marked = lxml.html.tostring(element, encoding="unicode")
        head = f"<head><title>{escape(title)}</title></head>" if title else ""
        extracted = trafilatura_text(f"<html>{head}<body>{marked}</body></html>", url)
    title = extracted.title or (_title_of(tree) if tree is not None else None)
    if extracted.text or tree is None:
        return PageText(title, extracted.text)
    if element is None:
        element = tree.find(".//body")
    return PageText(title, element_text(element if element is not None else tree))


def parse_html(html: str) -> Any:
    import lxml.html

    try:
        return lxml.html.document_fromstring(html)
    except (ValueError, TypeError, lxml.etree.ParserError):
        return None


def main_element(tree: Any) -> Any:
    """The element a page marks as its content: `<main>`, `role="main"`, or a lone `<article>`."""
    for xpath in ("//main", "//*[@role='main']"):
        found = tree.xpath(xpath)
        if found:
            return found[0]
    articles = tree.xpath("//article")
    return articles[0] if len(articles) == 1 else None


def _title_of(tree: Any) -> str | None:
    found = tree.xpath("//title")
    title = " ".join(found[0].text_content().split()) if found else ""
    return title or None


def element_text(element: Any) -> str:
    """An element's visible text, one paragraph per block element, boilerplate tags dropped."""
    pieces: list[str] = []

    def walk(node: Any) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _DROP:
            if node.tail:
                pieces.append(node.tail)
            return
        block = tag in _BLOCKS
        if block:
            pieces.append("\n\n")
        if node.text and tag:
            pieces.append(node.text)
        for child in node:
            walk(child)
        if block:
            pieces.append("\n\n")
        if node.tail:
            pieces.append(node.tail)

    walk(element)
    return _paragraphs("".join(pieces))


def _paragraphs(text: str) -> str:
    """Whitespace folded within paragraphs; paragraphs separated by one blank line."""
    text = text.replace("\u00b6", "")  # Sphinx's heading anchors
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text))
    return "\n\n".join(p for p in paragraphs if p)

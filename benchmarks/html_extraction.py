"""Main-content extraction from real HTML: trafilatura vs unstructured's HTML partitioner.

The pages are the Python 3.11 documentation as Debian ships it (`python3.11-doc`,
under /usr/share/doc/python3.11/html). The reference for each page's main text is
its own reStructuredText source, which Sphinx ships beside the HTML (`_sources/`),
with the markup stripped: it holds the content and none of the navigation, and it
comes from neither extractor nor from the HTML's structure, so no candidate is
scored against itself. Scores are word multisets: recall = reference words found in
the output, precision = output words found in the reference (navigation, footers and
sidebars lower it), averaged over pages. Markup that Sphinx renders differently
("versionadded" becomes "New in version") caps every candidate below 1.0 alike.
Speed is given per wall second and per CPU second of this process (the latter
holds still on a machine shared with other work). `nav_pages` counts the outputs that still carry the sidebar ("Previous topic",
"Quick search", ...).

Candidates: trafilatura alone (with its own jusText/readability fallbacks, and in its
`fast` mode without them); unstructured's `partition_html` (all elements);
trafilatura replaced by the page's `<main>`/`<article>`/`role="main"` element whenever
that element holds more than 1.25 times the words trafilatura kept (`share_fallback`); and
`ingest.web_pages.main_text`, what syncs use (trafilatura `fast` on the element the
page marks as its content, `<main>`, `role="main"` or a lone `<article>`, when it marks
one; the element's own text only when trafilatura finds nothing).

    .venv/bin/python -m benchmarks.html_extraction [--pages 60]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from ingest.web_pages import (
    element_text,
    main_element,
    main_text,
    parse_html,
    trafilatura_text,
    words,
)

DOCS = Path("/usr/share/doc/python3.11/html")
_WORD = re.compile(r"[a-z0-9]+")
_SIDEBAR = ("previous topic", "next topic", "quick search", "this page")


def reference_words(rst: str) -> Counter[str]:
    """The words of a reST source as rendered: labels, options, roles, targets stripped."""
    kept: list[str] = []
    for line in rst.splitlines():
        stripped = line.strip()
        if re.fullmatch(r"\.\. _[^:]*:.*|\.\.|([=\-~^\"'`#*+])\1{2,}", stripped):
            continue  # labels, empty comments, heading underlines
        if re.fullmatch(r":[a-z-]+:.*", stripped) and line.startswith((" ", "\t")):
            continue  # directive options
        line = re.sub(r"^\s*\.\. [a-z:-]+::", " ", line)  # directive name, keep argument
        line = re.sub(r":[a-z]+(:[a-z]+)?:", " ", line)  # roles
        line = re.sub(r"<[^<>`]*>`", "`", line)  # link targets
        kept.append(line)
    return Counter(_WORD.findall("\n".join(kept).lower()))


def unstructured_text(html: str, url: str | None = None) -> str:
    from ingest.nlp_setup import configure_offline_nlp

    configure_offline_nlp()
    from unstructured.partition.html import partition_html

    return "\n\n".join(e.text for e in partition_html(text=html) if e.text)


def share_fallback(html: str, url: str | None = None) -> str:
    """trafilatura, or the marked main element when trafilatura kept under 80% of its words."""
    text = trafilatura_text(html, url, fast=False).text
    tree = parse_html(html)
    element = main_element(tree) if tree is not None else None
    if element is not None:
        marked = element_text(element)
        if words(text) < 0.8 * words(marked):
            return marked
    return text


def _pages(count: int) -> list[tuple[Path, Path]]:
    pairs = []
    for html in sorted((DOCS / "library").glob("*.html")):
        rst = DOCS / "_sources" / "library" / (html.stem + ".rst.txt")
        if rst.is_file():
            pairs.append((html, rst))
    if not pairs:
        raise SystemExit(f"no pages under {DOCS}: apt-get install python3.11-doc")
    step = max(1, len(pairs) // count)
    return pairs[::step][:count]


def score(extract: Callable[[str, str], str], pages: list[tuple[Path, Path]]) -> dict[str, float]:
    recall = precision = 0.0
    nav = 0
    elapsed = cpu = 0.0
    for html_path, rst_path in pages:
        html = html_path.read_text(encoding="utf-8")
        reference = reference_words(rst_path.read_text(encoding="utf-8"))
        started, cpu_started = time.perf_counter(), time.process_time()
        text = extract(html, html_path.as_uri())
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
        output = Counter(_WORD.findall(text.lower()))
        overlap = sum((output & reference).values())
        recall += overlap / max(1, sum(reference.values()))
        precision += overlap / max(1, sum(output.values()))
        nav += any(marker in text.lower() for marker in _SIDEBAR)
    n = len(pages)
    return {
        "recall": round(recall / n, 3),
        "precision": round(precision / n, 3),
        "pages_per_second": round(n / elapsed, 1),
        "pages_per_cpu_second": round(n / cpu, 1),
        "nav_pages": nav,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=60)
    args = parser.parse_args()
    pages = _pages(args.pages)
    candidates: dict[str, Callable[[str, str], str]] = {
        "trafilatura": lambda html, url: trafilatura_text(html, url, fast=False).text,
        "trafilatura_fast": lambda html, url: trafilatura_text(html, url).text,
        "unstructured": unstructured_text,
        "share_fallback": share_fallback,
        "main_text": lambda html, url: main_text(html, url).text,
    }
    for extract in candidates.values():  # warm-up: imports, models, caches
        extract(pages[0][0].read_text(encoding="utf-8"), pages[0][0].as_uri())
    results = {name: score(extract, pages) for name, extract in candidates.items()}
    print(json.dumps({"pages": len(pages), **results}, indent=2))


if __name__ == "__main__":
    main()

"""Sentence splitting: abbreviations, initials, list numbers, decimals, CJK, blank lines."""

from __future__ import annotations

import pytest

from ingest.sentences import sentence_spans

# ---------------------------------------------------------------- sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr. Smith paid 3.5 dollars. He left.", ["Dr. Smith paid 3.5 dollars.", "He left."]),
        ("Use tools, e.g. Ruff. Then relax.", ["Use tools, e.g. Ruff.", "Then relax."]),
        ("J. R. R. Tolkien wrote it. Really!", ["J. R. R. Tolkien wrote it.", "Really!"]),
        (
            "It costs approx. five euros. Cheap?  Yes…  Fine",
            ["It costs approx. five euros.", "Cheap?", "Yes…", "Fine"],
        ),
        ('He said "Stop." Then ran.', ['He said "Stop."', "Then ran."]),
        ("Steps:\n1. Install it.\n2. Run it.", ["Steps:\n1. Install it.", "2. Run it."]),
        ("中文句子。第二句\uff01第三句", ["中文句子。", "第二句\uff01", "第三句"]),
        ("no punctuation\n\nnew paragraph", ["no punctuation", "new paragraph"]),
        (
            "Version 2.0.1 shipped in the U.S. yesterday.",
            ["Version 2.0.1 shipped in the U.S. yesterday."],
        ),
        ("  \n ", []),
    ],
)
def test_sentence_splitter(text: str, expected: list[str]) -> None:
    assert [text[s:e] for s, e in sentence_spans(text, 0, len(text))] == expected

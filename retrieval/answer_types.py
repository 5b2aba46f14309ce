"""What kind of answer a question expects, and whether a sentence has one.

A factoid question names the shape of its answer with its first words: "how long"
wants a duration or a length, "how often" a frequency, "when" a time, "how many" a
quantity, "who" a person or team, "where" a place or tool. The extractive answerer
ranks a sentence that has such an answer above one that only repeats the question's
words ("Passwords need at least 14 characters." over "You must change your password
only if ..." for "How long must a password be?").

The words that only carry the answer's shape ("long", "often", "must") are not
content terms: `shape_words` lists them so term coverage can leave them out.
"""

from __future__ import annotations

import re
from enum import Enum

_NUMBER = r"(?:\d[\d.,:%]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
_NUMBER += r"fifteen|twenty|thirty|forty|fifty|sixty|ninety|hundred|thousand|half|a|an)"
_COUNT = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
_COUNT += r"forty|fifty|hundred|thousand|dozen|half)"
_UNIT = r"(?:second|minute|hour|day|week|month|quarter|year|character|business day|night)s?"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?"
_MONTH = r"(?:january|february|march|april|may|june|july|august|september|october|november|"
_MONTH += r"december)"


class AnswerType(Enum):
    DURATION = "duration"
    FREQUENCY = "frequency"
    TIME = "time"
    QUANTITY = "quantity"
    AGENT = "agent"
    PLACE = "place"
    INSTRUCTION = "instruction"


_QUESTION = [
    (re.compile(r"^\W*how (long|much time)\b", re.I), AnswerType.DURATION),
    (re.compile(r"^\W*how (often|frequently)\b", re.I), AnswerType.FREQUENCY),
    (re.compile(r"^\W*(when|until when|by when|what time|what day)\b", re.I), AnswerType.TIME),
    (re.compile(r"^\W*how (many|much|big|large)\b", re.I), AnswerType.QUANTITY),
    (re.compile(r"^\W*(who|whom|which team)\b", re.I), AnswerType.AGENT),
    (re.compile(r"^\W*where\b", re.I), AnswerType.PLACE),
    (re.compile(r"^\W*(how (do|can|should) (i|we)|what (should|must|do) (i|we))\b", re.I),
     AnswerType.INSTRUCTION),
]  # fmt: skip

_SENTENCE = {
    AnswerType.DURATION: re.compile(
        rf"\b{_NUMBER}[\s-]+(?:\w+[\s-]+)?{_UNIT}\b|\b(?:until|within)\b|\b\d+ characters\b", re.I
    ),
    AnswerType.FREQUENCY: re.compile(
        rf"\b(?:every|each|daily|weekly|monthly|yearly|annually|hourly|twice|once)\b"
        rf"|\bper {_UNIT}\b|\b{_NUMBER} times\b",
        re.I,
    ),
    AnswerType.TIME: re.compile(
        rf"\b(?:{_WEEKDAY}|{_MONTH})\b|\b\d{{1,2}}:\d{{2}}\b|\b(?:within|after|before|by|until"
        rf"|every|each|next|end of|start of)\b|\b{_NUMBER}[\s-]+{_UNIT}\b|\b(?:19|20)\d\d\b",
        re.I,
    ),
    AnswerType.QUANTITY: re.compile(rf"\b\d[\d.,]*\b|\b{_COUNT}\b|euros?|dollars?|%", re.I),
    AnswerType.AGENT: re.compile(
        r"\b(?:team|owner|owners|manager|lead|led by|owned by|desk|engineer|commander|"
        r"department)\b|(?<!^)(?<![.!?] )\b[A-Z][a-z]+\b"
    ),
    AnswerType.PLACE: re.compile(
        r"\b(?:in|at|on|from|through|via) (?:the )?[A-Z#@]|\b(?:portal|desk|tool|floor|room|"
        r"office|region|building|channel|board|folder|site)\b|\w+@\w+|https?://|\w+\.\w+/",
        re.I,
    ),
    AnswerType.INSTRUCTION: re.compile(
        r"^\W*(?:report|open|use|submit|contact|email|ask|choose|run|check|write|switch|roll|"
        r"book|import|collect|request|escalate|call|send|follow|read|confirm|create|install|"
        r"regenerate|reset|restart|file|tell|go|pair|ship|badge)\b|\b(?:must|should|need to|"
        r"walks? you)\b",
        re.I,
    ),
}

_SHAPE_WORDS = frozenset(
    [
        "how",
        "long",
        "often",
        "many",
        "much",
        "big",
        "large",
        "when",
        "where",
        "who",
        "whom",
        "which",
        "what",
        "why",
        "must",
        "should",
        "can",
        "could",
        "would",
        "need",
        "do",
        "does",
        "did",
        "i",
        "we",
        "my",
        "our",
        "you",
        "your",
    ]
)


def expected_type(question: str) -> AnswerType | None:
    """The answer type a question's opening words ask for, if any."""
    for pattern, kind in _QUESTION:
        if pattern.search(question):
            return kind
    return None


def has_answer_type(sentence: str, kind: AnswerType) -> bool:
    """Whether `sentence` contains something of the shape `kind`."""
    return _SENTENCE[kind].search(sentence) is not None


def shape_words() -> frozenset[str]:
    """Question words that say what shape the answer has, not what it is about."""
    return _SHAPE_WORDS

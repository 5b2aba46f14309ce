"""Questions over the sample documents with the phrase the answer must lead with.

Each answerable entry is (question, expected phrase, expected source): the first sentence
of the extractive answer must contain the phrase (case-insensitive), and one citation
must name the source (a file name, or the title of a JSON record). The unanswerable ones
are about things no sample document mentions; they must be refused.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANSWERABLE: list[tuple[str, str, str]] = [
    # handbook.pdf
    ("How many days a week can I work remotely?", "three days per week", "handbook.pdf"),
    ("How long is the probation period?", "ninety days", "handbook.pdf"),
    ("What are the core collaboration hours?", "10:00 to 15:00", "handbook.pdf"),
    ("For how many days may I work from another country?", "30 days", "handbook.pdf"),
    ("Who approves working from another country?", "People team", "handbook.pdf"),
    ("Where do I book business travel?", "Wayfarer", "handbook.pdf"),
    ("What is the daily meal allowance when travelling?", "45 euros", "handbook.pdf"),
    ("How much can a hotel night cost in a capital city?", "160 euros", "handbook.pdf"),
    ("Where do I submit expense receipts?", "Ledgerline expense tool", "handbook.pdf"),
    ("Which expense claims need a second approval?", "500 euros", "handbook.pdf"),
    ("When are reimbursements paid?", "next monthly salary run", "handbook.pdf"),
    ("How big is the home office stipend?", "600 euros", "handbook.pdf"),
    ("Do we get money for internet at home?", "25 euros per month", "handbook.pdf"),
    ("When do laptops lock automatically?", "five minutes", "handbook.pdf"),
    ("What should I do if I lose my laptop?", "within one hour", "handbook.pdf"),
    ("Can I copy customer data to my own laptop?", "never be copied", "handbook.pdf"),
    ("How long does production database access last?", "8 hours", "handbook.pdf"),
    ("How many vacation days do full-time employees get?", "25 days", "handbook.pdf"),
    ("How many unused vacation days can I carry over?", "five unused days", "handbook.pdf"),
    # runbook.md
    ("When does the payments alert fire?", "more than 2%", "runbook.md"),
    ("Who gets paged when the payments alert fires?", "payments on-call", "runbook.md"),
    ("Which Grafana board shows the payments error rate?", "Payments Gateway", "runbook.md"),
    ("What does an error spike on one card network mean?", "acquirer is degraded", "runbook.md"),
    ("How do I roll back a bad deploy?", "deployctl rollback", "runbook.md"),
    ("How do I fail over to the secondary acquirer?", "acquirer_failover", "runbook.md"),
    ("When should we switch back from the secondary acquirer?", "24 hours", "runbook.md"),
    ("How much more does failover cost?", "0.2 percentage points", "runbook.md"),
    ("When is the postmortem due?", "five business days", "runbook.md"),
    ("Where is the postmortem presented?", "Thursday reliability review", "runbook.md"),
    ("Who owns decisions during a payments incident?", "incident commander", "runbook.md"),
    # notes.txt
    ("When does the Lisbon team move offices?", "21 March 2026", "notes.txt"),
    ("When do the movers arrive?", "08:00", "notes.txt"),
    ("How many parking spaces does the new building have?", "40", "notes.txt"),
    ("How are parking spaces allocated?", "lottery", "notes.txt"),
    ("What is the new Wi-Fi network called?", "QF-Alcantara", "notes.txt"),
    ("How often does the guest Wi-Fi password change?", "every Monday", "notes.txt"),
    # architecture.html
    ("Who owns the billing system?", "Payments team", "architecture.html"),
    ("How long does Kafka retain usage events?", "14 days", "architecture.html"),
    ("When do price book changes take effect?", "next billing cycle", "architecture.html"),
    ("When are failed card payments retried?", "3, 5 and 7 days", "architecture.html"),
    ("What happens to accounts unpaid after 30 days?", "collections queue", "architecture.html"),
    ("How long are invoice PDFs kept?", "10 years", "architecture.html"),
    # onboarding.docx
    ("What should I do on my first day?", "buddy walks you through", "onboarding.docx"),
    ("How often do staging deploys run?", "every 30 minutes", "onboarding.docx"),
    ("Where do I collect my YubiKey?", "Leeds IT desk", "onboarding.docx"),
    ("How long does the buddy programme last?", "six weeks", "onboarding.docx"),
    ("What if a system owner does not answer?", "engineering", "onboarding.docx"),
    # faq.json records (source is the record's title)
    ("How do I reset my VPN access?", "Regenerate VPN", "How do I reset my VPN access?"),
    ("How often do VPN profiles expire?", "90 days", "How do I reset my VPN access?"),
    (
        "Must I change my password regularly?",
        "no longer expire",
        "How often must I change my password?",
    ),
    (
        "How long must a password be?",
        "14 characters",
        "How often must I change my password?",
    ),
    (
        "Which printer should I use in Leeds?",
        "LDS-2F-Canon",
        "Which printer should I use in Leeds?",
    ),
]

UNANSWERABLE: list[str] = [
    "What is the dress code for client meetings?",
    "How do I apply for parental leave?",
    "Which health insurance provider do we use?",
    "What is the stock option vesting schedule?",
    "How do I configure the Kubernetes autoscaler?",
    "What is the capital of Australia?",
    "Who won the football world cup in 2022?",
    "What is the boiling point of ethanol?",
    "How do I bake sourdough bread?",
    "Which programming language is the mobile app written in?",
    "What is the refund policy for annual subscriptions?",
    "How many moons does Jupiter have?",
]


@dataclass
class GoldenScore:
    """How the answers to the golden questions fared."""

    first_sentence_hits: int = 0
    source_hits: int = 0
    refused_answerable: list[str] = field(default_factory=list)
    answered_unanswerable: list[str] = field(default_factory=list)
    misses: list[tuple[str, str]] = field(default_factory=list)  # (question, first sentence)
    words: list[int] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        n = len(ANSWERABLE)
        return {
            "questions": n + len(UNANSWERABLE),
            "first_sentence_has_answer": round(self.first_sentence_hits / n, 3),
            "right_source_cited": round(self.source_hits / n, 3),
            "answerable_refused": round(len(self.refused_answerable) / n, 3),
            "unanswerable_refused": round(
                1 - len(self.answered_unanswerable) / len(UNANSWERABLE), 3
            ),
            "median_words": float(statistics.median(self.words)) if self.words else 0.0,
        }


def first_sentence(answer: str) -> str:
    """The answer up to and including its first citation marker."""
    match = re.search(r"\[\d+\]", answer)
    return answer[: match.end()] if match else answer


def score(ask: Callable[[str], dict[str, Any]]) -> GoldenScore:
    """Ask every golden question through `ask` (question → the query response's data)."""
    result = GoldenScore()
    for question, phrase, source in ANSWERABLE:
        data = ask(question)
        if not data["citations"]:
            result.refused_answerable.append(question)
            continue
        result.words.append(len(re.sub(r"\[\d+\]", "", data["answer"]).split()))
        first = first_sentence(data["answer"])
        if phrase.lower() in first.lower():
            result.first_sentence_hits += 1
        else:
            result.misses.append((question, first))
        if any(source in (c["source"], c["title"]) for c in data["citations"]):
            result.source_hits += 1
    for question in UNANSWERABLE:
        if ask(question)["citations"]:
            result.answered_unanswerable.append(question)
    return result

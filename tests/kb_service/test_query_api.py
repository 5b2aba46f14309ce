"""Query and search over HTTP: real sample documents, model, SQLite and Qdrant Edge.

One knowledge base of the sample documents is ingested once for the module (workers
drained in-process, so "still ingesting" states are deterministic).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb_service.api.app import create_app
from kb_service.db.content import Project
from kb_service.jobs.worker import WorkerPool, worker_identity
from kb_service.runtime import Runtime
from kb_service.services.query_engine import build_query_engine
from retrieval.answer import NOT_FOUND
from retrieval.embedding import Embedder
from retrieval.index import IndexPoint
from tests.conftest import SAMPLE_DOCS, make_settings, new_key
from tests.retrieval.test_generative import RECORDED, ChatServer  # recorded wire format

FILES = ["handbook.pdf", "runbook.md", "notes.txt", "architecture.html", "onboarding.docx"]
QUESTIONS = [
    "How many days a week can I work remotely?",
    "What is the meal allowance for expenses?",
    "What should I do if I lose my laptop?",
    "How many days of paid time off do we get?",
    "When does the payments alert fire?",
    "How do I roll back the payments gateway?",
    "When should we switch back from the secondary acquirer?",
    "When is the postmortem due?",
    "When does the Lisbon team move offices?",
    "How are parking spaces allocated?",
    "What is the guest Wi-Fi password policy?",
    "How long does Kafka retain events?",
    "What is the retry schedule for failed invoices?",
    "Which accounts do new engineers get?",
    "Who owns the billing system?",
    "How do I reset my VPN access?",
    "Which printer should I use in Leeds?",
    "home office stipend",
    "YubiKey",
    "TLS certificate expiry",
]


class Env:
    def __init__(self, runtime: Runtime, client: TestClient) -> None:
        self.runtime, self.client = runtime, client
        key = new_key(runtime)
        self.org = key["organization_id"]
        self.h = {"X-API-Key": key["key"]}
        self._texts: dict[str, str] = {}

    def drain(self) -> None:
        pool = WorkerPool(
            queue=self.runtime.queue, processor=self.runtime.processor, count=0, poll_seconds=1
        )
        while pool.run_once(worker_identity()):
            pass

    def kb(self, name: str, **body: Any) -> str:
        r = self.client.post("/api/v1/knowledge-bases", json={"name": name, **body}, headers=self.h)
        assert r.status_code == 201, r.text
        return str(r.json()["data"]["id"])

    def upload(self, kb: str, names: list[str], metadata: dict[str, Any] | None = None) -> None:
        files = [("files", (n, (SAMPLE_DOCS / n).read_bytes())) for n in names]
        data = {"metadata": json.dumps(metadata)} if metadata else {}
        r = self.client.post(
            f"/api/v1/knowledge-bases/{kb}/ingest", files=files, data=data, headers=self.h
        )
        assert r.status_code == 202, r.text

    def records(self, kb: str, documents: list[dict[str, Any]]) -> None:
        r = self.client.post(
            f"/api/v1/knowledge-bases/{kb}/ingest", json={"documents": documents}, headers=self.h
        )
        assert r.status_code == 202, r.text

    def query(self, kb: str, query: str, **body: Any) -> Any:
        return self.client.post(
            f"/api/v1/knowledge-bases/{kb}/query", json={"query": query, **body}, headers=self.h
        )

    def text(self, kb: str, doc: str) -> str:
        if doc not in self._texts:
            r = self.client.get(
                f"/api/v1/knowledge-bases/{kb}/documents/{doc}?include_text=true", headers=self.h
            )
            self._texts[doc] = r.json()["data"]["text"]
        return self._texts[doc]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Env]:
    runtime = Runtime.build(make_settings(tmp_path_factory.mktemp("query")), embedder=embedder)
    with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
        e = Env(runtime, client)
        e.main = e.kb("Company docs")  # type: ignore[attr-defined]
        e.upload(e.main, FILES[:3], metadata={"team": "ops", "tier": 1})  # type: ignore[attr-defined]
        e.upload(e.main, FILES[3:], metadata={"team": "eng", "tier": 2})  # type: ignore[attr-defined]
        e.records(e.main, json.loads((SAMPLE_DOCS / "faq.json").read_text())["documents"])  # type: ignore[attr-defined]
        e.drain()
        yield e
    runtime.close()


def assert_sound(
    env: Env, kb: str, data: dict[str, Any], every_sentence_cited: bool = True
) -> None:
    """Every marker resolves, every citation is used, every cited span is literal."""
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", data["answer"])]
    assert (
        sorted(set(markers))
        == [c["index"] for c in data["citations"]]
        == list(range(1, len(data["citations"]) + 1))
    )
    if every_sentence_cited:
        assert not re.split(r"\[\d+\]", data["answer"])[-1].strip(), "a sentence is uncited"
    for c in data["citations"]:
        assert env.text(kb, c["document_id"])[c["char_start"] : c["char_end"]] == c["text"]
        assert (
            c["chunk_id"].startswith("chk_")
            and c["knowledge_base_id"] == kb
            and c["title"]
            and c["source"]
        )


def test_answers_cite_exact_passages_for_many_questions(env: Env) -> None:
    kb = env.main  # type: ignore[attr-defined]
    for question in QUESTIONS:
        r = env.query(kb, question)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        assert data["answerer"] == "extractive" and data["citations"], question
        assert_sound(env, kb, data)
        assert (
            "embed;dur=" in r.headers["server-timing"]
            and "liveness;dur=" in r.headers["server-timing"]
        )
    pdf = env.query(kb, "How many days a week can I work remotely?").json()["data"]
    assert "3 days" in pdf["answer"] or "three days" in pdf["answer"].lower()
    assert (
        pdf["citations"][0]["source"] == "handbook.pdf" and pdf["citations"][0]["page_number"] >= 1
    )


def test_retrieve_mode_ranks_chunks(env: Env) -> None:
    kb = env.main  # type: ignore[attr-defined]
    r = env.query(kb, "Kafka retention", mode="retrieve", top_k=7)
    data = r.json()["data"]
    assert r.status_code == 200 and data["answer"] is None and data["citations"] == []
    chunks = data["chunks"]
    assert len(chunks) == 7 and chunks[0]["source"] == "architecture.html"
    assert [c["score"] for c in chunks] == sorted((c["score"] for c in chunks), reverse=True)
    for c in chunks:
        assert env.text(kb, c["document_id"])[c["char_start"] : c["char_end"]] == c["text"]
        assert {"chunk_id", "title", "source", "page_number", "section", "source_type"} <= set(c)
    assert len(env.query(kb, "Kafka", mode="retrieve", top_k=100).json()["data"]["chunks"]) <= 100
    for search in ("dense", "sparse"):
        assert env.query(kb, "Kafka retention", mode="retrieve", search=search).json()["data"][
            "chunks"
        ]


def test_nothing_relevant_is_said_plainly(env: Env) -> None:
    data = env.query(env.main, "best banana bread recipe with walnuts").json()["data"]  # type: ignore[attr-defined]
    assert data["answer"] == NOT_FOUND and data["citations"] == []


def test_filters(env: Env) -> None:
    kb = env.main  # type: ignore[attr-defined]

    def sources(**f: Any) -> set[str]:
        r = env.query(kb, "policy rules and schedule", mode="retrieve", top_k=50, filter=f)
        assert r.status_code == 200, r.text
        return {c["source"] for c in r.json()["data"]["chunks"]}

    assert sources(source_types=["pdf", "markdown"]) == {"handbook.pdf", "runbook.md"}
    assert sources(metadata={"team": "ops"}) == set(FILES[:3])
    assert sources(metadata={"team": {"in": ["eng", "nobody"]}, "tier": 2}) == set(FILES[3:])
    assert sources(metadata={"tier": "1"}) == set()  # the string "1" is not the number 1
    doc = env.query(kb, "parking", mode="retrieve", top_k=1).json()["data"]["chunks"][0][
        "document_id"
    ]
    assert sources(document_ids=[doc]) == {"notes.txt"}
    assert sources(created_after="2100-01-01T00:00:00Z") == set()
    assert sources(created_before="2000-01-01T00:00:00Z") == set()
    assert sources(knowledge_base_ids=["kb_other"]) == set()
    assert sources(document_ids=[]) == set()
    nothing = env.query(kb, "parking", filter={"document_ids": ["doc_missing"]}).json()["data"]
    assert nothing["answer"] == NOT_FOUND and nothing["chunks"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": ""}, "query"),
        ({"query": "   "}, "query"),
        ({"query": "x" * 10_000}, "query"),
        ({"query": "ok", "top_k": 0}, "top_k"),
        ({"query": "ok", "top_k": 101}, "top_k"),
        ({"query": "ok", "filter": {"colour": "red"}}, "filter.colour"),
        ({"query": "ok", "filter": {"metadata": {"team": {"like": "o%"}}}}, "filter.metadata"),
        ({"query": "ok", "mode": "summarise"}, "mode"),
        ({"query": "ok", "answerer": "generative"}, "answerer"),
    ],
)
def test_bad_input_is_a_422_envelope(env: Env, body: dict[str, Any], field: str) -> None:
    r = env.client.post(f"/api/v1/knowledge-bases/{env.main}/query", json=body, headers=env.h)  # type: ignore[attr-defined]
    assert r.status_code == 422, r.text
    payload = r.json()
    assert payload["success"] is False and payload["meta"]["code"] == "validation_error"
    fields = [e["field"] or "" for e in payload["meta"]["errors"]]
    assert any(f == field or f.startswith(f"{field}.") for f in fields), payload


def test_other_organizations_and_roles(env: Env) -> None:
    other = {"X-API-Key": new_key(env.runtime, org="globex")["key"]}
    r = env.client.post(
        f"/api/v1/knowledge-bases/{env.main}/query", json={"query": "parking"}, headers=other
    )  # type: ignore[attr-defined]
    assert r.status_code == 404 and r.json()["meta"]["code"] == "not_found"
    r = env.client.post(
        "/api/v1/search",
        json={"query": "parking", "scope": {"knowledge_base_ids": [env.main]}},
        headers=other,
    )  # type: ignore[attr-defined]
    assert r.status_code == 404
    r = env.client.post(
        "/api/v1/search", json={"query": "parking", "mode": "retrieve"}, headers=other
    )
    assert r.status_code == 200 and r.json()["data"]["chunks"] == []  # nothing of acme leaks
    reader = {"X-API-Key": new_key(env.runtime, role="reader")["key"]}
    assert (
        env.client.post(
            f"/api/v1/knowledge-bases/{env.main}/query", json={"query": "parking"}, headers=reader
        ).status_code
        == 200
    )  # type: ignore[attr-defined]
    assert env.client.post("/api/v1/search", json={"query": "parking"}).status_code == 401


def test_organization_search_scope(env: Env) -> None:
    with env.runtime.db.session() as session:
        project = Project(organization_id=env.org, name="Payments")
        session.add(project)
        session.flush()
        project_id = project.id
    side = env.kb("Payments notes", project_id=project_id)
    env.records(
        side,
        [
            {
                "text": "The payments team holds its retro every second Friday at 15:00.",
                "title": "Retro",
            }
        ],
    )
    env.drain()

    def kbs(scope: dict[str, Any] | None) -> set[str]:
        body: dict[str, Any] = {
            "query": "When is the payments retro?",
            "mode": "retrieve",
            "top_k": 30,
        }
        if scope is not None:
            body["scope"] = scope
        r = env.client.post("/api/v1/search", json=body, headers=env.h)
        assert r.status_code == 200, r.text
        return {c["knowledge_base_id"] for c in r.json()["data"]["chunks"]}

    assert kbs(None) == {env.main, side}  # type: ignore[attr-defined]
    assert kbs({"knowledge_base_ids": [side]}) == {side}
    assert kbs({"project_ids": [project_id], "include_meetings": False}) == {side}
    assert kbs({"knowledge_base_ids": [env.main], "include_meetings": True}) == {env.main}  # type: ignore[attr-defined]
    answer = env.client.post(
        "/api/v1/search",
        json={"query": "When is the payments retro?", "scope": {"project_ids": [project_id]}},
        headers=env.h,
    ).json()["data"]
    assert "second Friday" in answer["answer"]
    assert_sound(env, side, answer)
    r = env.client.post(
        "/api/v1/search", json={"query": "x", "scope": {"project_ids": ["prj_nope"]}}, headers=env.h
    )
    assert r.status_code == 404
    r = env.client.post(
        "/api/v1/search", json={"query": "x", "scope": {"teams": ["a"]}}, headers=env.h
    )
    assert r.status_code == 422 and r.json()["meta"]["errors"][0]["field"] == "scope.teams"


def test_stale_and_orphan_points_are_never_shown(env: Env, embedder: Embedder) -> None:
    kb = env.kb("Liveness")
    env.records(
        kb,
        [
            {
                "text": "Zebra crossings near the office are repainted every spring.",
                "title": "Zebra",
                "external_id": "z",
            }
        ],
    )
    env.drain()
    live = env.query(kb, "zebra crossings repainted", mode="retrieve").json()["data"]["chunks"]
    assert len(live) == 1
    doc, pipeline = live[0]["document_id"], env.runtime.pipeline
    text = "Zebra crossings are repainted every autumn by unicorns."
    vector = embedder.embed_documents([text])[0].tolist()
    payload = {
        "organization_id": env.org,
        "knowledge_base_id": kb,
        "source_type": "json",
        "created_at": 1.0,
        "chunk_id": "chk_stale",
        "ordinal": 0,
        "text": text,
        "char_start": 0,
        "char_end": len(text),
        "page_number": None,
        "section": [],
    }
    env.runtime.index.upsert(
        [
            # a newer version whose SQL commit has not happened yet (re-ingest in flight)
            IndexPoint(
                str(uuid.uuid4()),
                vector,
                pipeline.sparse_encoder.embed_document(text),
                {**payload, "document_id": doc, "version": 2},
            ),
            # vectors of a document whose SQL row is gone (deleted; vector cleanup pending)
            IndexPoint(
                str(uuid.uuid4()),
                vector,
                pipeline.sparse_encoder.embed_document(text),
                {**payload, "document_id": "doc_deleted", "version": 1},
            ),
        ]
    )
    chunks = env.query(
        kb, "zebra crossings repainted by unicorns", mode="retrieve", top_k=10
    ).json()["data"]["chunks"]
    assert [c["document_id"] for c in chunks] == [doc] and "unicorns" not in chunks[0]["text"]


def test_a_kb_still_ingesting_returns_what_is_indexed(env: Env) -> None:
    kb = env.kb("Half done")
    env.records(
        kb, [{"text": "The staging cluster is rebuilt every Sunday night.", "title": "Staging"}]
    )
    env.drain()
    env.records(
        kb, [{"text": "The production cluster is never rebuilt on Sundays.", "title": "Production"}]
    )  # queued, not run
    r = env.query(kb, "When is the cluster rebuilt?")
    assert r.status_code == 200
    data = r.json()["data"]
    assert {c["title"] for c in data["chunks"]} == {"Staging"} and "Sunday night" in data["answer"]
    env.drain()
    assert {
        c["title"] for c in env.query(kb, "When is the cluster rebuilt?").json()["data"]["chunks"]
    } == {"Staging", "Production"}


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        assert set(lines) == {"event", "data"}, block
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def checked_stream(env: Env, kb: str, body: dict[str, Any], fallback: bool = False) -> Any:
    """Ask for a streamed answer, check every event against the SSE contract; the `done` data.

    Order: `citations`, `delta`s (an `error` only on a mid-answer LLM failure), `done`.
    The deltas concatenate to the draft, whose markers number the `citations` event's
    provisional sources. `done` is authoritative: its markers resolve to its own
    citations (renumbered 1..m, none unused); `used[i]` is the provisional number of
    `done.citations[i]`, so mapping `done.answer`'s markers back through `used` gives the
    draft (up to the whitespace tidied around dropped markers). With `fallback` the
    draft cited nothing and `done` carries the extractive answer instead.
    """
    r = env.query(kb, stream=True, **body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = sse_events(r.text)
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "citations" and kinds[-1] == "done", kinds
    assert "delta" in kinds and set(kinds[1:-1]) <= {"delta", "error"}, kinds
    provisional = events[0][1]["citations"]
    assert [c["index"] for c in provisional] == list(range(1, len(provisional) + 1))
    draft = "".join(data["text"] for kind, data in events if kind == "delta")
    assert {int(n) for n in re.findall(r"\[(\d+)\]", draft)} <= {c["index"] for c in provisional}
    done = events[-1][1]
    assert_sound(env, kb, done, every_sentence_cited=done["answerer"] == "extractive")
    if fallback:
        assert done["answerer"] == "extractive" and done["used"] == [] and done["notice"]
        return done
    used = done["used"]
    assert [c["chunk_id"] for c in done["citations"]] == [
        provisional[n - 1]["chunk_id"] for n in used
    ]
    back = re.sub(r"\[(\d+)\]", lambda m: f"[{used[int(m.group(1)) - 1]}]", done["answer"])
    assert re.sub(r"\s+", "", back) == re.sub(r"\s+", "", draft)
    return done


def test_streaming_extractive_answer(env: Env) -> None:
    done = checked_stream(env, env.main, {"query": "How are parking spaces allocated?"})  # type: ignore[attr-defined]
    assert done["answerer"] == "extractive" and "lottery" in done["answer"] and done["found"]
    assert done["used"] == [c["index"] for c in done["citations"]]  # provisional = final


@pytest.fixture
def llm(env: Env) -> Iterator[type[ChatServer]]:
    """The recorded chat-completions server, wired in as the generative answerer."""
    ChatServer.reset()
    server = ThreadingHTTPServer(("127.0.0.1", 0), ChatServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = env.runtime.settings.model_copy(
        update={"llm_base_url": f"http://127.0.0.1:{server.server_address[1]}/v1", "llm_model": "m"}
    )
    extractive_only = env.runtime.query_engine
    env.runtime.query_engine = build_query_engine(
        settings,
        embedder=env.runtime.embedder,
        sparse_encoder=env.runtime.pipeline.sparse_encoder,
        index=env.runtime.index,
    )
    try:
        yield ChatServer
    finally:
        env.runtime.query_engine = extractive_only
        server.shutdown()
        server.server_close()


def test_generative_answerer_over_http_and_its_fallback(env: Env, llm: type[ChatServer]) -> None:
    kb = env.main  # type: ignore[attr-defined]
    data = env.query(kb, "How do I reset my VPN access?").json()["data"]
    assert (
        data["answerer"] == "generative"
        and "[7]" not in data["answer"]
        and RECORDED[:20] in data["answer"]
    )
    assert [c["index"] for c in data["citations"]] == [1, 2]
    assert_sound(env, kb, data, every_sentence_cited=False)  # the [7] claim lost its marker
    assert env.query(kb, "VPN", answerer="extractive").json()["data"]["answerer"] == "extractive"
    done = checked_stream(env, kb, {"query": "How do I reset my VPN access?"})
    assert done["answerer"] == "generative" and done["used"] == [2, 1]
    assert (done["answer"], done["citations"]) == (data["answer"], data["citations"])
    llm.fail_with = 503
    down = env.query(kb, "How do I reset my VPN access?").json()["data"]
    assert down["answerer"] == "extractive" and "HTTP 503" in down["notice"] and down["citations"]
    done = checked_stream(env, kb, {"query": "How do I reset my VPN access?"})
    assert done["answerer"] == "extractive" and "HTTP 503" in done["notice"]


def test_generative_nothing_relevant_never_calls_the_model(env: Env, llm: type[ChatServer]) -> None:
    kb = env.main  # type: ignore[attr-defined]
    data = env.query(kb, "best banana bread recipe with walnuts").json()["data"]
    assert data["answer"] == NOT_FOUND and data["citations"] == [] and data["chunks"]
    done = checked_stream(env, kb, {"query": "best banana bread recipe with walnuts"})
    assert done["answer"] == NOT_FOUND and done["citations"] == [] and done["found"] is False
    assert llm.requests == []  # every chunk was under KB_ANSWER_MIN_SIMILARITY


def test_a_generative_reply_citing_nothing_falls_back_to_extractive(
    env: Env, llm: type[ChatServer]
) -> None:
    kb = env.main  # type: ignore[attr-defined]
    llm.reply = "Reset it in the self-service portal [9]. It takes a minute."  # [9]: no source
    data = env.query(kb, "How do I reset my VPN access?").json()["data"]
    assert len(llm.requests) == 1 and "portal [9]" not in data["answer"]
    assert data["answerer"] == "extractive" and "cited none of the sources" in data["notice"]
    assert data["citations"]
    assert_sound(env, kb, data)
    done = checked_stream(env, kb, {"query": "How do I reset my VPN access?"}, fallback=True)
    assert "cited none of the sources" in done["notice"] and done["citations"]
    assert (done["answer"], done["citations"]) == (data["answer"], data["citations"])

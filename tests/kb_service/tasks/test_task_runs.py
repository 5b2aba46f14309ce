"""Task runs: an on-demand run answers with citations; `since` keeps older content out;
each finished run writes its event; schedule slots queue one run each, missed slots once."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from kb_service.db.base import iso_z, utcnow
from kb_service.db.events import Event
from kb_service.db.tasks import Task, TaskRun
from kb_service.workers.scheduler import Scheduler
from kb_service.workers.tasks.worker import task_schedule
from retrieval.embedding import Embedder
from tests.conftest import SAMPLE_DOCS
from tests.kb_service.meeting_support import wait_for_meeting
from tests.kb_service.tasks.task_support import API, create_task, run_now, task_env
from tests.kb_service.webhook_support import FakeClock


def _events(env: Any, type_: str) -> list[dict[str, Any]]:
    with env.runtime.db.session() as session:
        rows = session.scalars(select(Event).where(Event.type == type_)).all()
        return [e.envelope() for e in rows]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_an_on_demand_run_answers_with_citations_and_emits_its_event(
    backend: str, tmp_path: Path, embedder: Embedder
) -> None:
    import json

    with task_env(tmp_path, embedder, backend) as env:
        kb = env.kb("Helpdesk")
        env.records(kb, json.loads((SAMPLE_DOCS / "faq.json").read_text())["documents"])
        env.drain()
        task = create_task(
            env.client,
            env.h,
            prompt="How long must a password be?",
            scope={"knowledge_base_ids": [kb]},
        )
        run = run_now(env, task["id"])
        assert run["status"] == "completed" and run["found"] is True and run["error"] is None
        assert run["trigger"] == "manual" and run["scheduled_for"] is None
        assert run["citations"] and all(c["knowledge_base_id"] == kb for c in run["citations"])
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", run["answer"])}
        assert markers == {c["index"] for c in run["citations"]}
        assert "14" in run["answer"]
        assert run["timings"]["run_ms"] > 0 and "embed" in run["timings"]["stages_ms"]
        [event] = _events(env, "task.completed")
        assert event["data"]["id"] == run["id"] and event["data"]["task_name"] == "Digest"
        assert event["data"]["citations"] == run["citations"]
        runs = env.client.get(f"{API}/tasks/{task['id']}/runs", headers=env.h).json()["data"]
        assert [r["id"] for r in runs] == [run["id"]]

        # the scope's knowledge base is deleted: the next run fails, saying why
        env.client.delete(f"{API}/knowledge-bases/{kb}", headers=env.h)
        failed = run_now(env, task["id"])
        assert failed["status"] == "failed" and "knowledge base" in failed["error"]
        assert [e["data"]["id"] for e in _events(env, "task.failed")] == [failed["id"]]


def test_since_keeps_content_from_before_the_window_out(tmp_path: Path, embedder: Embedder) -> None:
    with task_env(tmp_path, embedder) as env:
        env.runtime.start_meeting_indexer()
        project = env.client.post(f"{API}/projects", json={"name": "Data"}, headers=env.h)
        project_id = project.json()["data"]["id"]
        texts = {
            30: "We set the Kafka consumer lag alert threshold to 15 minutes.",
            2: "The invoice renderer canary stays at ten percent of the traffic.",
        }
        ids = {}
        for age, text in texts.items():
            meeting = env.client.post(
                f"{API}/meetings",
                json={
                    "title": f"Platform sync, {age} days ago",
                    "project_id": project_id,
                    "started_at": iso_z(utcnow() - timedelta(days=age)),
                    "segments": [{"speaker": "Priya", "text": text, "timestamp": 4.0}],
                },
                headers=env.h,
            ).json()["data"]
            wait_for_meeting(env.client, meeting["id"], env.h)
            ids[age] = meeting["id"]
        prompt = "What is the Kafka consumer lag alert threshold?"
        scope: dict[str, Any] = {"project_ids": [project_id]}
        everything = create_task(env.client, env.h, prompt=prompt, scope=scope)
        recent = create_task(env.client, env.h, prompt=prompt, scope={**scope, "since": "7d"})
        old = run_now(env, everything["id"])
        assert old["found"] is True and "15 minutes" in old["answer"]
        assert {c["meeting_id"] for c in old["citations"]} == {ids[30]}
        run = run_now(env, recent["id"])
        assert run["status"] == "completed" and run["found"] is False
        assert ids[30] not in {c.get("meeting_id") for c in run["citations"]}
        assert "15 minutes" not in (run["answer"] or "")
        assert run["window_start"] < iso_z(utcnow() - timedelta(days=6))


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_slot_queues_one_run_and_missed_slots_run_once(
    backend: str, tmp_path: Path, embedder: Embedder
) -> None:
    with task_env(tmp_path, embedder, backend) as env:
        task = create_task(
            env.client, env.h, schedule={"interval_minutes": 10}, scope={"since": "1h"}
        )
        with env.runtime.db.session() as session:
            anchor = session.get(Task, task["id"]).schedule_anchor  # type: ignore[union-attr]
        assert anchor is not None
        clock = FakeClock()
        clock.now = anchor + timedelta(minutes=9)
        scheduler = Scheduler(env.runtime.db, [task_schedule()], poll_seconds=1, clock=clock)
        assert scheduler.tick() == 0  # the first slot is one interval after creation
        clock.now = anchor + timedelta(minutes=10)
        assert scheduler.tick() == 1 and scheduler.tick() == 0
        clock.now = anchor + timedelta(minutes=75)  # down for 65 minutes: six slots missed
        assert scheduler.tick() == 1 and scheduler.tick() == 0
        with env.runtime.db.session() as session:
            runs = session.scalars(select(TaskRun).order_by(TaskRun.scheduled_for)).all()
            row = session.get(Task, task["id"])
            assert row is not None and row.next_run_at == anchor + timedelta(minutes=80)
        slots = [r.scheduled_for for r in runs]
        assert slots == [anchor + timedelta(minutes=10), anchor + timedelta(minutes=20)]
        assert [r.window_start for r in runs] == [s - timedelta(hours=1) for s in slots if s]
        assert {r.trigger for r in runs} == {"schedule"}

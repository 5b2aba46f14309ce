"""A weekly digest over the sample project: the Monday 9:00 (Lisbon) slot fires, the run
answers from the week's meeting and the project's documents with citations, and the
answer reaches a loopback receiver as a signed `task.completed` webhook that verifies."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from standardwebhooks import Webhook as StandardWebhook

from kb_service.db.base import iso_z
from kb_service.workers.scheduler import Scheduler
from kb_service.workers.tasks.worker import task_schedule
from retrieval.embedding import Embedder
from tests.kb_service.live_servers import wait_until, webhook_receiver
from tests.kb_service.meeting_support import STANDUP, wait_for_meeting
from tests.kb_service.tasks.task_support import API, create_task, run_queued, task_env
from tests.kb_service.webhook_support import FakeClock, make_hook

PROMPT = "Who will resize the staging Kafka cluster, and what is blocked on it?"


def test_a_weekly_digest_is_delivered_as_a_signed_webhook(
    tmp_path: Path, embedder: Embedder
) -> None:
    with task_env(tmp_path, embedder) as env, webhook_receiver() as receiver:
        env.runtime.start_meeting_indexer()
        env.runtime.start_webhook_dispatcher()
        c, h = env.client, env.h
        hook = make_hook(c, h, receiver.url, ["task.completed", "task.failed"])
        project = c.post(f"{API}/projects", json={"name": "Payments"}, headers=h).json()["data"]
        kb = env.kb("Payments docs", project_id=project["id"])
        env.upload(kb, ["runbook.md"])
        env.drain()
        task = create_task(
            c,
            h,
            name="Payments weekly digest",
            prompt=PROMPT,
            scope={"project_ids": [project["id"]], "include_meetings": True, "since": "7d"},
            schedule={"cron": "0 9 * * 1", "timezone": "Europe/Lisbon"},
        )
        slot = datetime.fromisoformat(task["next_run_at"])
        this_week = c.post(
            f"{API}/meetings",
            json={
                **STANDUP,
                "project_id": project["id"],
                "started_at": iso_z(slot - timedelta(days=3)),
            },
            headers=h,
        ).json()["data"]
        last_month = c.post(
            f"{API}/meetings",
            json={
                "title": "Payments stand-up, a month ago",
                "project_id": project["id"],
                "started_at": iso_z(slot - timedelta(days=30)),
                "segments": [
                    {
                        "speaker": "Tomas Eriksen",
                        "text": "Priya will resize the staging Kafka cluster next quarter.",
                        "timestamp": 5.0,
                    }
                ],
            },
            headers=h,
        ).json()["data"]
        for meeting in (this_week, last_month):
            wait_for_meeting(c, meeting["id"], h)

        clock = FakeClock()
        clock.now = slot + timedelta(seconds=1)
        scheduler = Scheduler(env.runtime.db, [task_schedule()], poll_seconds=1, clock=clock)
        assert scheduler.tick() == 1 and scheduler.tick() == 0
        assert run_queued(env.runtime) == 1
        wait_until(lambda: len(receiver.received) >= 1, what="the digest webhook")

        [received] = receiver.received
        event = StandardWebhook(hook["secret"]).verify(received.body, received.headers)
        assert event["type"] == "task.completed" and received.headers["webhook-id"] == event["id"]
        run = event["data"]
        assert run["task_id"] == task["id"] and run["task_name"] == "Payments weekly digest"
        assert run["scheduled_for"] == iso_z(slot) and run["trigger"] == "schedule"
        assert run["window_start"] == iso_z(slot - timedelta(days=7))
        assert run["status"] == "completed" and run["found"] is True
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", run["answer"])}
        assert markers and markers == {c["index"] for c in run["citations"]}
        cited_meetings = {c.get("meeting_id") for c in run["citations"]} - {None}
        assert cited_meetings == {this_week["id"]}
        assert "resize" in run["answer"]
        stored = c.get(f"{API}/task-runs/{run['id']}", headers=h).json()["data"]
        assert stored["answer"] == run["answer"] and stored["citations"] == run["citations"]

"""Webhook test helpers: register an endpoint, record an event, list deliveries, a clock."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from kb_service.db.base import utcnow
from kb_service.db.events import record_event
from kb_service.runtime import Runtime

API = "/api/v1"


class FakeClock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance_to(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


def make_hook(client: TestClient, headers: dict, url: str, types: list[str] | None = None) -> dict:
    response = client.post(
        f"{API}/webhooks", json={"url": url, "event_types": types or ["*"]}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def emit(runtime: Runtime, organization_id: str, type: str = "kb.deleted") -> str:
    with runtime.db.session() as session:
        event = record_event(session, organization_id=organization_id, type=type, data={"n": 1})
        session.flush()
        return event.id


def deliveries(client: TestClient, headers: dict, hook_id: str, **params: str) -> list[dict]:
    response = client.get(f"{API}/webhooks/{hook_id}/deliveries", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]

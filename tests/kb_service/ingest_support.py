"""Ingest test helpers: make a knowledge base, upload files, read a sample document."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import SAMPLE_DOCS

FILES = [
    "handbook.pdf",
    "onboarding.docx",
    "roadmap.pptx",
    "architecture.html",
    "runbook.md",
    "notes.txt",
]


def create_kb(client: TestClient, headers: dict[str, str], **body: object) -> dict:
    response = client.post(
        "/api/v1/knowledge-bases", json={"name": "Docs", **body}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def upload(
    client: TestClient,
    headers: dict[str, str],
    kb_id: str,
    files: list[tuple[str, bytes]],
    **form: str,
):
    return client.post(
        f"/api/v1/knowledge-bases/{kb_id}/ingest",
        files=[("files", (name, data)) for name, data in files],
        data=form,
        headers=headers,
    )


def sample(name: str) -> tuple[str, bytes]:
    return name, (SAMPLE_DOCS / name).read_bytes()

"""Projects: create, list, read, and the content (knowledge bases, documents) attached."""

from __future__ import annotations

from fastapi.testclient import TestClient

from kb_service.runtime import Runtime
from tests.conftest import new_key, wait_for_job
from tests.kb_service.ingest_support import create_kb

API = "/api/v1"


def create_project(client: TestClient, headers: dict[str, str], name: str) -> dict:
    response = client.post(
        f"{API}/projects",
        json={"name": name, "description": "d", "metadata": {"team": "ops"}},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]


def test_projects_are_created_listed_and_private(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    created = [create_project(client, headers, f"Project {n}") for n in range(3)]
    assert all(p["id"].startswith("prj_") for p in created)
    assert created[0]["metadata"] == {"team": "ops"} and created[0]["meeting_count"] == 0
    first = client.get(f"{API}/projects?limit=2", headers=headers).json()
    rest = client.get(
        f"{API}/projects?limit=2&cursor={first['meta']['next_cursor']}", headers=headers
    ).json()
    assert [p["id"] for p in first["data"] + rest["data"]] == [p["id"] for p in created]
    assert rest["meta"]["next_cursor"] is None

    got = client.get(f"{API}/projects/{created[1]['id']}", headers=headers).json()["data"]
    assert got["name"] == "Project 1"
    stranger = {"X-API-Key": new_key(runtime, org="globex")["key"]}
    assert client.get(f"{API}/projects/{created[1]['id']}", headers=stranger).status_code == 404
    for path in ("content", "meetings"):
        response = client.get(f"{API}/projects/{created[1]['id']}/{path}", headers=stranger)
        assert response.status_code == 404
    assert client.get(f"{API}/projects", headers=stranger).json()["data"] == []
    reader = {"X-API-Key": new_key(runtime, role="reader")["key"]}
    assert client.post(f"{API}/projects", json={"name": "x"}, headers=reader).status_code == 403
    assert client.post(f"{API}/projects", json={"name": ""}, headers=headers).status_code == 422


def test_project_content_pages_over_knowledge_bases_and_documents(
    client: TestClient, admin: dict
) -> None:
    headers = admin["headers"]
    project = create_project(client, headers, "Handbooks")
    kb = create_kb(client, headers, project_id=project["id"])
    create_kb(client, headers)  # not in the project
    documents = [
        {"title": f"Doc {n}", "text": f"Document number {n} about ducks."} for n in range(3)
    ]
    job = client.post(
        f"{API}/knowledge-bases/{kb['id']}/ingest", json={"documents": documents}, headers=headers
    ).json()["data"]
    assert wait_for_job(client, job["id"], headers)["status"] == "completed"
    second_kb = create_kb(client, headers, project_id=project["id"])

    seen, cursor = [], None
    while True:
        url = f"{API}/projects/{project['id']}/content?limit=2" + (
            f"&cursor={cursor}" if cursor else ""
        )
        body = client.get(url, headers=headers).json()
        seen += body["data"]
        cursor = body["meta"]["next_cursor"]
        if cursor is None:
            break
    assert [i["type"] for i in seen] == ["knowledge_base"] + ["document"] * 3 + ["knowledge_base"]
    assert seen[0]["id"] == kb["id"] and seen[-1]["id"] == second_kb["id"]
    assert seen[0]["knowledge_base"]["document_count"] == 3
    assert sorted(i["document"]["title"] for i in seen[1:4]) == ["Doc 0", "Doc 1", "Doc 2"]
    assert all(i["knowledge_base_id"] == kb["id"] for i in seen[:4])
    got = client.get(f"{API}/projects/{project['id']}", headers=headers).json()["data"]
    assert got["knowledge_base_count"] == 2


def test_project_ids_are_checked_wherever_they_are_given(
    client: TestClient, admin: dict, runtime: Runtime
) -> None:
    headers = admin["headers"]
    foreign = create_project(
        client, {"X-API-Key": new_key(runtime, org="globex")["key"]}, "Not yours"
    )
    segment = {"speaker": "Ines", "text": "Any blockers?", "timestamp": 1.0}
    for project_id in ("prj_doesnotexist", foreign["id"]):
        attempts = {
            "knowledge base": client.post(
                f"{API}/knowledge-bases",
                json={"name": "KB", "project_id": project_id},
                headers=headers,
            ),
            "meeting": client.post(
                f"{API}/meetings",
                json={"title": "Sync", "project_id": project_id, "segments": [segment]},
                headers=headers,
            ),
            "meeting source": client.post(
                f"{API}/meeting-sources",
                json={"name": "Bot", "project_id": project_id},
                headers=headers,
            ),
        }
        for what, response in attempts.items():
            assert response.status_code == 404, (what, response.text)
            assert response.json()["meta"]["code"] == "not_found", what
    kb = create_kb(client, headers)
    moved = client.patch(
        f"{API}/knowledge-bases/{kb['id']}", json={"project_id": foreign["id"]}, headers=headers
    )
    assert moved.status_code == 404
    assert (
        client.get(f"{API}/knowledge-bases", headers=headers).json()["data"][0]["project_id"]
        is None
    )
    assert client.get(f"{API}/meetings/x", headers=headers).status_code == 404
    listed = client.get(f"{API}/projects/{foreign['id']}/meetings", headers=headers)
    assert listed.status_code == 404


def test_an_imported_meeting_lists_given_participants_and_its_speakers(
    client: TestClient, admin: dict
) -> None:
    headers = admin["headers"]
    project = create_project(client, headers, "Payments")
    created = client.post(
        f"{API}/meetings",
        json={
            "title": "Design review",
            "project_id": project["id"],
            "participants": ["Ana Silva", "Ines"],
            "segments": [
                {"speaker": "Ines", "text": "We ship on Friday.", "timestamp": 2.0},
                {"speaker": "Tomas", "text": "Then I freeze the branch.", "timestamp": 5.5},
            ],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    meeting = created.json()["data"]
    assert meeting["participants"] == ["Ana Silva", "Ines", "Tomas"]
    listed = client.get(f"{API}/projects/{project['id']}/meetings", headers=headers).json()
    assert listed["data"][0]["participants"] == ["Ana Silva", "Ines", "Tomas"]

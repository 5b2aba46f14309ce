"""Workspace members and invitations through the API, on SQLite and PostgreSQL.

An admin invites an address; accepting the invitation (once, before it expires)
creates the member and its first key; roles change and members leave, taking their
keys with them; the last admin stays; another organization's workspace is not found.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from kb_service.api.app import create_app
from kb_service.db.events import Event
from kb_service.db.identity import ApiKey
from kb_service.runtime import Runtime
from tests.conftest import make_settings, new_key, postgres_url_or_skip

API = "/api/v1"


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path, embedder: Any) -> Iterator[Any]:
    overrides = {"database_url": postgres_url_or_skip()} if request.param == "postgresql" else {}
    runtime = Runtime.build(make_settings(tmp_path, **overrides), embedder=embedder)
    try:
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
            key = new_key(runtime)
            yield runtime, client, key["organization_id"], {"X-API-Key": key["key"]}
    finally:
        runtime.close()


def invite(client: TestClient, org: str, headers: dict, email: str, role: str) -> dict:
    r = client.post(
        f"{API}/workspaces/{org}/invite", json={"email": email, "role": role}, headers=headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def accept(client: TestClient, accept_url: str, name: str = "Ines") -> Any:
    path = accept_url[accept_url.index(API) :]
    return client.post(path, json={"name": name})


def join(client: TestClient, org: str, headers: dict, email: str, role: str) -> dict:
    r = accept(client, invite(client, org, headers, email, role)["accept_url"])
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def test_an_invitation_is_accepted_once_and_gives_a_working_key(env: Any) -> None:
    runtime, client, org, headers = env
    invitation = invite(client, org, headers, "Ines@Example.com ", "writer")
    assert invitation["email"] == "ines@example.com" and invitation["role"] == "writer"
    assert invitation["accept_url"].startswith("http://testserver/api/v1/invitations/")
    with runtime.db.session() as session:
        event = session.scalars(select(Event).where(Event.type == "invitation.created")).one()
        assert event.data["accept_url"] == invitation["accept_url"]
        assert event.data["invitation"]["id"] == invitation["id"]
    first = accept(client, invitation["accept_url"])
    assert first.status_code == 201, first.text
    joined = first.json()["data"]
    assert joined["member"]["email"] == "ines@example.com" and joined["member"]["role"] == "writer"
    assert (
        joined["key"]["key"].startswith("sk_")
        and joined["key"]["member_id"] == joined["member"]["id"]
    )
    me = client.get(f"{API}/workspaces/me", headers={"X-API-Key": joined["key"]["key"]}).json()[
        "data"
    ]
    assert me["role"] == "writer" and me["member_id"] == joined["member"]["id"]
    again = accept(client, invitation["accept_url"])
    assert again.status_code == 409 and "already accepted" in again.json()["message"]
    unknown = client.post(f"{API}/invitations/not-a-token/accept", json={})
    assert unknown.status_code == 404 and unknown.json()["meta"]["code"] == "not_found"
    members = client.get(f"{API}/workspaces/{org}/members", headers=headers).json()["data"]
    assert [(m["role"], m["is_owner"]) for m in members] == [("admin", True), ("writer", False)]
    twice = client.post(
        f"{API}/workspaces/{org}/invite", json={"email": "ines@example.com"}, headers=headers
    )
    assert twice.status_code == 409 and "already a member" in twice.json()["message"]


def test_an_expired_invitation_or_a_bad_address_is_refused(tmp_path: Path, embedder: Any) -> None:
    runtime = Runtime.build(make_settings(tmp_path, invitation_ttl_hours=0.0001), embedder=embedder)
    try:
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as client:
            key = new_key(runtime)
            org, headers = key["organization_id"], {"X-API-Key": key["key"]}
            invitation = invite(client, org, headers, "late@example.com", "reader")
            time.sleep(0.5)
            late = accept(client, invitation["accept_url"])
            assert late.status_code == 409 and "expired" in late.json()["message"]
            for email in ("not an address", "a@b", "x" * 330 + "@example.com"):
                bad = client.post(
                    f"{API}/workspaces/{org}/invite", json={"email": email}, headers=headers
                )
                assert bad.status_code == 422, (email, bad.text)
            role = client.post(
                f"{API}/workspaces/{org}/invite",
                json={"email": "a@example.com", "role": "owner"},
                headers=headers,
            )
            assert role.status_code == 422
    finally:
        runtime.close()


def test_the_last_admin_cannot_be_demoted_or_removed(env: Any) -> None:
    _, client, org, headers = env
    [owner] = client.get(f"{API}/workspaces/{org}/members", headers=headers).json()["data"]
    url = f"{API}/workspaces/{org}/members/{owner['id']}"
    demoted = client.patch(url, json={"role": "reader"}, headers=headers)
    assert demoted.status_code == 409 and "last admin" in demoted.json()["message"]
    assert client.delete(url, headers=headers).status_code == 409
    second = join(client, org, headers, "ada@example.com", "admin")
    assert (
        client.patch(url, json={"role": "writer"}, headers=headers).json()["data"]["role"]
        == "writer"
    )
    # the owner's admin key now acts as a writer: it may no longer manage members
    assert client.get(f"{API}/workspaces/{org}/members", headers=headers).status_code == 403
    ada = {"X-API-Key": second["key"]["key"]}
    last = client.patch(
        f"{API}/workspaces/{org}/members/{second['member']['id']}",
        json={"role": "reader"},
        headers=ada,
    )
    assert last.status_code == 409


def test_removing_a_member_revokes_their_keys_at_once(env: Any) -> None:
    runtime, client, org, headers = env
    joined = join(client, org, headers, "tomas@example.com", "writer")
    theirs = {"X-API-Key": joined["key"]["key"]}
    assert client.get(f"{API}/knowledge-bases", headers=theirs).status_code == 200
    gone = client.delete(
        f"{API}/workspaces/{org}/members/{joined['member']['id']}", headers=headers
    )
    assert gone.status_code == 200 and gone.json()["data"]["removed_at"]
    refused = client.get(f"{API}/knowledge-bases", headers=theirs)
    assert refused.status_code == 401
    with runtime.db.session() as session:
        key = session.get(ApiKey, joined["key"]["id"])
        assert key is not None and key.revoked_at is not None
    members = client.get(f"{API}/workspaces/{org}/members", headers=headers).json()["data"]
    assert [m["email"] for m in members] == [None]
    assert (
        client.delete(
            f"{API}/workspaces/{org}/members/{joined['member']['id']}", headers=headers
        ).status_code
        == 404
    )


def test_a_demoted_members_keys_act_with_the_new_role(env: Any) -> None:
    _, client, org, headers = env
    joined = join(client, org, headers, "priya@example.com", "writer")
    theirs = {"X-API-Key": joined["key"]["key"]}
    assert (
        client.post(f"{API}/knowledge-bases", json={"name": "Mine"}, headers=theirs).status_code
        == 201
    )
    client.patch(
        f"{API}/workspaces/{org}/members/{joined['member']['id']}",
        json={"role": "reader"},
        headers=headers,
    )
    refused = client.post(f"{API}/knowledge-bases", json={"name": "Again"}, headers=theirs)
    assert refused.status_code == 403 and "reader" in refused.json()["message"]
    over = client.post(
        f"{API}/api-keys",
        json={"role": "writer", "member_id": joined["member"]["id"]},
        headers=headers,
    )
    assert over.status_code == 422 and "member's role" in over.json()["message"]


def test_another_organizations_workspace_and_members_are_not_found(env: Any) -> None:
    runtime, client, org, headers = env
    joined = join(client, org, headers, "mia@example.com", "reader")
    intruder = new_key(runtime, org="intruder")
    theirs = {"X-API-Key": intruder["key"]}
    for method, path, body in [
        ("POST", f"/workspaces/{org}/invite", {"email": "x@example.com"}),
        ("GET", f"/workspaces/{org}/members", None),
        (
            "PATCH",
            f"/workspaces/{intruder['organization_id']}/members/{joined['member']['id']}",
            {"role": "admin"},
        ),
        (
            "DELETE",
            f"/workspaces/{intruder['organization_id']}/members/{joined['member']['id']}",
            None,
        ),
    ]:
        r = client.request(method, API + path, json=body, headers=theirs)
        assert r.status_code == 404 and r.json()["meta"]["code"] == "not_found", (
            method,
            path,
            r.text,
        )
    reader = {"X-API-Key": joined["key"]["key"]}
    assert client.get(f"{API}/workspaces/{org}/members", headers=reader).status_code == 403

"""Two writers at once on members and invitations, on SQLite and PostgreSQL.

Two admins demoting each other at the same moment leave one admin; two accepts of one
invitation create one member. The service functions run in two threads released
together by a barrier, each with its own connection.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kb_service.db.database import Database
from kb_service.errors import Conflict
from kb_service.services import keys, members
from tests.conftest import postgres_url_or_skip


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    url = (
        postgres_url_or_skip()
        if request.param == "postgresql"
        else f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    )
    database = Database(url)
    database.migrate()
    return database


def _race(*calls: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Conflict as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _invite(db: Database, org: str, email: str, role: str) -> str:
    created = members.invite(
        db,
        organization_id=org,
        workspace_id=org,
        email=email,
        role=role,
        invited_by_key_id="key_x",
        ttl_hours=1,
        api_base_url="http://127.0.0.1",
    )
    return created.accept_url.rsplit("/", 2)[1]


@pytest.mark.parametrize("round_", range(3))
def test_two_admins_demoting_each_other_at_once_leave_one_admin(db: Database, round_: int) -> None:
    org = keys.get_or_create_organization(db, name=f"acme{round_}").id
    keys.create_api_key(db, organization_id=org, role="admin")  # the owner member
    ada = members.accept_invitation(
        db, token=_invite(db, org, "ada@example.com", "admin"), name=None
    )
    page = members.list_members(db, organization_id=org, workspace_id=org, limit=10, cursor=None)
    owner = next(m for m in page.items if m.is_owner)

    def demote(member_id: str) -> Any:
        return members.change_role(
            db, organization_id=org, workspace_id=org, member_id=member_id, role="reader"
        )

    results = _race(lambda: demote(owner.id), lambda: demote(ada.member.id))
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    left = members.list_members(db, organization_id=org, workspace_id=org, limit=10, cursor=None)
    assert [m.role for m in left.items].count("admin") == 1


def test_two_accepts_of_one_invitation_create_one_member(db: Database) -> None:
    org = keys.get_or_create_organization(db, name="acme").id
    token = _invite(db, org, "tomas@example.com", "writer")
    results = _race(*[lambda: members.accept_invitation(db, token=token, name=None)] * 2)
    assert sum(isinstance(r, Conflict) for r in results) == 1, results
    page = members.list_members(db, organization_id=org, workspace_id=org, limit=10, cursor=None)
    assert [m.email for m in page.items] == ["tomas@example.com"]

"""Key scopes: what an API key limited to some knowledge bases and projects may see.

A key without scopes (`None`) sees its whole organization. A scoped key sees only:

- a knowledge base whose id is in `knowledge_base_ids`, or whose project is in `project_ids`;
- a project whose id is in `project_ids`;
- a meeting whose project is in `project_ids`;
- what belongs to those: a knowledge base's documents, versions, chunks, ingest jobs,
  web sources and their syncs; a meeting's transcript and passages; search results and
  answers drawn from them;
- a task (and its runs) whose scope names knowledge bases or projects, each of them
  inside; a task naming neither searches the whole organization, so it is outside.

Everything else is "not found" for that key (404 with the message another organization's
id gets, never 403), and lists, searches and answers leave it out. A list the key does
not give grants nothing, as an empty one does. Organization-level administration (API
keys, members, invitations, webhooks, meeting sources, new knowledge bases and
projects) is outside every scope. Scopes name ids, so a knowledge base created later
in a scoped project is inside, and one moved out of it is outside.

The API applies this in one place (`kb_service.api.scope_guard`); services whose
results are lists or searches take the `scope` and filter with the conditions here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from kb_service.db.content import Document, KnowledgeBase, Project
from kb_service.db.jobs import IngestJob
from kb_service.db.meetings import Meeting
from kb_service.db.sources import WebSource
from kb_service.db.tasks import Task, TaskRun
from kb_service.errors import NotFound


@dataclass(frozen=True)
class KeyScope:
    """The ids a scoped key names; `None` in place of a `KeyScope` is the whole organization."""

    knowledge_base_ids: frozenset[str] = frozenset()
    project_ids: frozenset[str] = frozenset()

    def has_project(self, project_id: str | None) -> bool:
        return project_id is not None and project_id in self.project_ids

    def has_kb(self, kb: KnowledgeBase) -> bool:
        return kb.id in self.knowledge_base_ids or self.has_project(kb.project_id)

    def has_meeting(self, meeting: Meeting) -> bool:
        return self.has_project(meeting.project_id)

    def to_json(self) -> dict[str, list[str]]:
        return {
            "knowledge_base_ids": sorted(self.knowledge_base_ids),
            "project_ids": sorted(self.project_ids),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> KeyScope | None:
        if raw is None:
            return None
        return cls(
            frozenset(raw.get("knowledge_base_ids") or ()), frozenset(raw.get("project_ids") or ())
        )


Scope = KeyScope | None  # None: the whole organization


def checked_scope(
    session: Session,
    *,
    organization_id: str,
    knowledge_base_ids: Sequence[str] | None,
    project_ids: Sequence[str] | None,
) -> KeyScope:
    """A scope for a new key: every id must be the organization's (else `NotFound`)."""
    for kb_id in knowledge_base_ids or ():
        kb = session.get(KnowledgeBase, kb_id)
        if kb is None or kb.organization_id != organization_id:
            raise NotFound.of("knowledge base", kb_id)
    for project_id in project_ids or ():
        project = session.get(Project, project_id)
        if project is None or project.organization_id != organization_id:
            raise NotFound.of("project", project_id)
    return KeyScope(frozenset(knowledge_base_ids or ()), frozenset(project_ids or ()))


def kb_condition(scope: Scope) -> ColumnElement[bool]:
    """SQL: the knowledge base is inside the scope."""
    if scope is None:
        return true()
    return or_(
        KnowledgeBase.id.in_(scope.knowledge_base_ids),
        KnowledgeBase.project_id.in_(scope.project_ids),
    )


def project_condition(scope: Scope) -> ColumnElement[bool]:
    """SQL: the project is inside the scope."""
    return true() if scope is None else Project.id.in_(scope.project_ids)


def meeting_condition(scope: Scope) -> ColumnElement[bool]:
    """SQL: the meeting is inside the scope."""
    if scope is None:
        return true()
    return Meeting.project_id.in_(scope.project_ids) if scope.project_ids else false()


def check_project(scope: Scope, project_id: str | None) -> None:
    """`NotFound` unless the scope holds the project a write names (a scoped key cannot
    put a meeting or knowledge base outside its scope, nor at organization level)."""
    if scope is not None and not scope.has_project(project_id):
        if project_id is None:
            raise NotFound("A key scoped to projects can only add a meeting to one of them.")
        raise NotFound.of("project", project_id)


def check_kb(scope: Scope, kb: KnowledgeBase) -> None:
    if scope is not None and not scope.has_kb(kb):
        raise NotFound.of("knowledge base", kb.id)


def check_meeting(scope: Scope, meeting: Meeting) -> None:
    if scope is not None and not scope.has_meeting(meeting):
        raise NotFound.of("meeting", meeting.id)


def _kb_inside(session: Session, scope: KeyScope, kb_id: str | None) -> bool:
    kb = session.get(KnowledgeBase, kb_id) if kb_id else None
    return kb is not None and scope.has_kb(kb)


def _via_kb(model: Any) -> Callable[[Session, KeyScope, str], bool]:
    def inside(session: Session, scope: KeyScope, object_id: str) -> bool:
        row = session.get(model, object_id)
        return row is not None and _kb_inside(session, scope, row.knowledge_base_id)

    return inside


def _meeting_inside(session: Session, scope: KeyScope, meeting_id: str) -> bool:
    meeting = session.get(Meeting, meeting_id)
    return meeting is not None and scope.has_meeting(meeting)


def task_inside(session: Session, scope: KeyScope, task_scope: dict[str, Any]) -> bool:
    """Does the key's scope hold everything a task's stored scope names (naming none: no)?"""
    kb_ids, project_ids = task_scope.get("knowledge_base_ids"), task_scope.get("project_ids")
    if kb_ids is None and project_ids is None:
        return False
    return all(_kb_inside(session, scope, k) for k in kb_ids or ()) and all(
        scope.has_project(p) for p in project_ids or ()
    )


def _task_inside(session: Session, scope: KeyScope, task_id: str) -> bool:
    task = session.get(Task, task_id)
    return task is not None and task_inside(session, scope, task.scope)


def _run_inside(session: Session, scope: KeyScope, run_id: str) -> bool:
    run = session.get(TaskRun, run_id)
    return run is not None and _task_inside(session, scope, run.task_id)


def task_names(
    session: Session,
    scope: Scope,
    knowledge_base_ids: Sequence[str] | None,
    project_ids: Sequence[str] | None,
) -> tuple[list[str] | None, list[str] | None]:
    """The knowledge bases and projects a task saved by this key names: for a scoped
    key each must be inside (else `NotFound`), and naming neither names the key's own
    scope (the ids of it that still exist), so its task never spans the organization."""
    if scope is not None and knowledge_base_ids is None and project_ids is None:
        kbs = [k for k in sorted(scope.knowledge_base_ids) if session.get(KnowledgeBase, k)]
        return kbs, [p for p in sorted(scope.project_ids) if session.get(Project, p)]
    for kb_id in knowledge_base_ids or ():
        check_named(session, scope, "knowledge-bases", kb_id)
    for project_id in project_ids or ():
        check_project(scope, project_id)
    return (
        None if knowledge_base_ids is None else list(knowledge_base_ids),
        None if project_ids is None else list(project_ids),
    )


def task_ids_inside(session: Session, *, organization_id: str, scope: KeyScope) -> list[str]:
    """The ids of the organization's tasks inside the scope (decided on each task's
    stored scope, which is JSON, so here rather than in SQL)."""
    tasks = session.execute(
        select(Task.id, Task.scope).where(Task.organization_id == organization_id)
    ).all()
    return [task_id for task_id, stored in tasks if task_inside(session, scope, stored)]


# The collections of the URL (the segment before an id) whose objects a scope can hold,
# with what each is called in a 404 and how to tell whether an id is inside.
COLLECTIONS: dict[str, tuple[str, Callable[[Session, KeyScope, str], bool]]] = {
    "knowledge-bases": ("knowledge base", _kb_inside),
    "documents": ("document", _via_kb(Document)),
    "ingest-jobs": ("ingest job", _via_kb(IngestJob)),
    "sources": ("source", _via_kb(WebSource)),
    "projects": ("project", lambda _session, scope, pid: scope.has_project(pid)),
    "meetings": ("meeting", _meeting_inside),
    "tasks": ("task", _task_inside),
    "task-runs": ("task run", _run_inside),
}


def check_named(session: Session, scope: Scope, collection: str, object_id: str) -> None:
    """`NotFound` unless the object a URL names (`/{collection}/{object_id}`) is inside."""
    if scope is None:
        return
    known = COLLECTIONS.get(collection)
    if known is None:
        raise NotFound(f"No {collection} with id {object_id!r} exists for this scoped key.")
    kind, inside = known
    if not inside(session, scope, object_id):
        raise NotFound.of(kind, object_id)


def kb_ids_inside(session: Session, *, organization_id: str, scope: KeyScope) -> list[str]:
    """The ids of the organization's knowledge bases inside the scope."""
    return list(
        session.scalars(
            select(KnowledgeBase.id).where(
                KnowledgeBase.organization_id == organization_id, kb_condition(scope)
            )
        ).all()
    )


def narrowed(
    session: Session,
    *,
    organization_id: str,
    scope: Scope,
    knowledge_base_ids: Sequence[str] | None,
    project_ids: Sequence[str] | None,
) -> tuple[Sequence[str] | None, Sequence[str] | None]:
    """The knowledge bases and projects an organization-wide search names, for this key.

    Unscoped: as asked. Scoped: ids the request names must be inside (else `NotFound`);
    naming none names everything the scope holds (its knowledge bases, its projects and
    so their meetings), which for an empty scope is nothing.
    """
    if scope is None:
        return knowledge_base_ids, project_ids
    if knowledge_base_ids is not None or project_ids is not None:
        for kb_id in knowledge_base_ids or ():
            check_named(session, scope, "knowledge-bases", kb_id)
        for project_id in project_ids or ():
            check_project(scope, project_id)
        return knowledge_base_ids, project_ids
    existing = session.scalars(
        select(Project.id).where(
            Project.organization_id == organization_id, Project.id.in_(scope.project_ids)
        )
    ).all()
    return kb_ids_inside(session, organization_id=organization_id, scope=scope), list(existing)

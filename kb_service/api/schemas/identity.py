"""Request and response bodies of the API-key, workspace, member and invitation routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kb_service.db.identity import ApiKey, Invitation, Member

Role = Literal["admin", "writer", "reader"]


class KeyScopesIn(BaseModel):
    """Limits a key to these knowledge bases and projects (a missing list grants nothing)."""

    model_config = ConfigDict(extra="forbid")
    knowledge_base_ids: list[str] | None = Field(default=None, max_length=1000)
    project_ids: list[str] | None = Field(
        default=None, max_length=1000, description="Their knowledge bases and meetings too."
    )


class KeyScopesOut(BaseModel):
    knowledge_base_ids: list[str]
    project_ids: list[str]


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    role: Role = "reader"
    member_id: str | None = Field(
        default=None, max_length=40, description="Whose key it is (default: the owner member)."
    )
    expires_at: AwareDatetime | None = Field(
        default=None, description="After this instant the key is refused (with a time zone)."
    )
    scopes: KeyScopesIn | None = Field(
        default=None,
        description="Limit the key to some knowledge bases and projects; absent: the whole "
        "organization. Everything outside is 404 for the key.",
    )


class ApiKeyRotateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    grace_seconds: int = Field(
        default=0, ge=0, description="How long the old secret keeps working (0: not at all)."
    )


class ApiKeyOut(BaseModel):
    id: str
    name: str | None
    role: str
    prefix: str
    member_id: str | None
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None = Field(description="Updated at most once a minute.")
    revoked_at: datetime | None
    previous_valid_until: datetime | None = Field(
        default=None, description="Until when the secret before the last rotation works."
    )
    key: str | None = Field(
        default=None, description="The secret; only in the creation and rotation responses."
    )
    scopes: KeyScopesOut | None = Field(
        default=None, description="What the key is limited to (null: the whole organization)."
    )

    @classmethod
    def of(cls, key: ApiKey, secret: str | None = None) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            role=key.role,
            prefix=key.key_prefix,
            member_id=key.member_id,
            created_at=key.created_at,
            expires_at=key.expires_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
            previous_valid_until=key.previous_valid_until,
            key=secret,
            scopes=KeyScopesOut(**key.scopes) if key.scopes is not None else None,
        )


class WorkspaceOut(BaseModel):
    organization_id: str
    organization_name: str
    key_id: str
    member_id: str | None
    role: str


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=320)
    role: Role = "reader"


class InvitationOut(BaseModel):
    id: str
    email: str
    role: str
    created_at: datetime
    expires_at: datetime
    accept_url: str = Field(
        description="POST here to accept; shown once (send it to the invitee yourself)."
    )

    @classmethod
    def of(cls, invitation: Invitation, accept_url: str) -> InvitationOut:
        return cls(
            id=invitation.id,
            email=invitation.email,
            role=invitation.role,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
            accept_url=accept_url,
        )


class MemberOut(BaseModel):
    id: str
    email: str | None
    name: str | None
    role: str
    is_owner: bool
    created_at: datetime
    removed_at: datetime | None

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(
            id=member.id,
            email=member.email,
            name=member.name,
            role=member.role,
            is_owner=member.is_owner,
            created_at=member.created_at,
            removed_at=member.removed_at,
        )


class MemberPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Role


class AcceptIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)


class AcceptOut(BaseModel):
    workspace_id: str
    member: MemberOut
    key: ApiKeyOut

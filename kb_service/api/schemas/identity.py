"""Request and response bodies of the API-key and workspace routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kb_service.db.identity import ApiKey


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    role: Literal["admin", "writer", "reader"] = "reader"


class ApiKeyOut(BaseModel):
    id: str
    name: str | None
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    key: str | None = Field(default=None, description="The secret; only in the creation response.")

    @classmethod
    def of(cls, key: ApiKey, secret: str | None = None) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            role=key.role,
            prefix=key.key_prefix,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
            key=secret,
        )


class WorkspaceOut(BaseModel):
    organization_id: str
    organization_name: str
    key_id: str
    role: str

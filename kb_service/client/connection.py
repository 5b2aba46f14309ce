"""What both clients share: where the API is, how they authenticate, how a call becomes a request."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from kb_service import __version__
from kb_service.client.binding import Prepared
from kb_service.client.retries import RetryPolicy
from kb_service.client.uploads import Counted, Tracker

USER_AGENT = f"kb-service-client/{__version__}"


@dataclass(frozen=True)
class Connection:
    base_url: str
    api_key: str | None
    organization_id: str | None = None
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def of(
        cls,
        base_url: str,
        api_key: str | None,
        *,
        organization_id: str | None,
        timeout: float,
        max_retries: int | None,
        retry: RetryPolicy | None,
    ) -> Connection:
        if max_retries is not None and retry is not None:
            raise ValueError("give max_retries or retry, not both")
        policy = retry or (
            RetryPolicy(max_retries=max_retries) if max_retries is not None else None
        )
        return cls(base_url.rstrip("/"), api_key, organization_id, timeout, policy or RetryPolicy())

    def http_options(self) -> dict[str, Any]:
        """Keyword arguments for the httpx client this connection owns."""
        return {"base_url": self.base_url, "timeout": self.timeout}

    def build(
        self, http: httpx.Client | httpx.AsyncClient, call: Prepared, tracker: Tracker | None
    ) -> httpx.Request:
        headers = {"User-Agent": USER_AGENT, **call.headers}
        if call.authenticated and self.api_key:
            headers["X-API-Key"] = self.api_key
            if self.organization_id:
                headers["X-Organization-Id"] = self.organization_id
        request = http.build_request(
            call.method,
            call.path,
            params=call.params or None,
            json=call.json,
            content=call.content,
            data=call.data,
            files=call.files,
            headers=headers,
        )
        if tracker is not None:
            request.stream = Counted(request.stream, tracker)
        return request

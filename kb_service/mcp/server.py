"""The MCP server and its tools, on the official SDK's `MCPServer`.

Each tool declares a typed input schema (its annotated parameters) and an output schema
(the `schemas` model it returns); a call answers with both the structured content and
its text rendering. Every call, on either transport:

1. resolves the caller (`callers`): over HTTP the key `http.McpEndpoint` authenticated
   for this request, over stdio `KB_API_KEY`, looked up again;
2. checks the role the REST route for the same data needs (`reader` for all of them);
3. spends one token of the key's rate-limit bucket (over HTTP the REST API's buckets);
4. runs the tool (`tools`, service calls only, scoped to the key's organization).

A domain error (no such id in the organization, a bad cursor, an empty query, an
exhausted rate limit, a key revoked under stdio) is a tool error the model can read (`isError`,
"<code>: <sentence>"); arguments that fail the input schema are refused by the SDK the
same way. Anything else is logged, and the caller sees only that the tool failed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from kb_service import __version__
from kb_service.db.pagination import MAX_LIMIT
from kb_service.errors import PermissionDenied, ServiceError
from kb_service.mcp import tools
from kb_service.mcp.callers import Caller, CallerOf
from kb_service.mcp.schemas import (
    CitedAnswer,
    FetchedPassage,
    KnowledgeBaseList,
    MeetingList,
    ProjectList,
    SearchResults,
    SearchScope,
    ToolOutput,
)
from kb_service.services.search import MAX_QUERY_CHARS

ROLE = "reader"  # every tool reads; the REST routes for the same data need this role

INSTRUCTIONS = (
    "Grounding over this organization's knowledge bases and meeting transcripts. "
    "`search` finds passages (each with a page or speaker and timestamp, a character span "
    "and a link); `fetch` reads a passage or a whole source by id; `answer` composes an "
    "answer whose every [n] cites a passage. Cite passages by their url."
)

Text = Annotated[str, Field(min_length=1, max_length=MAX_QUERY_CHARS)]
TopK = Annotated[int, Field(ge=1, le=50, description="how many passages to return")]
Limit = Annotated[int, Field(ge=1, le=MAX_LIMIT, description="page size")]
Cursor = Annotated[str | None, Field(description="`next_cursor` of the previous page")]
Scope = Annotated[SearchScope | None, Field(description="narrow to knowledge bases or projects")]
_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=False)


def build_server(caller_of: CallerOf) -> MCPServer:
    """An `MCPServer` with the six grounding tools, for callers resolved by `caller_of`."""
    server: MCPServer = MCPServer("kb-service", version=__version__, instructions=INSTRUCTIONS)

    def run(ctx: Context, work: Callable[[Caller], ToolOutput]) -> CallToolResult:
        try:
            caller = caller_of(ctx.request_context.request)
            principal = caller.principal
            if not principal.can(ROLE):
                raise PermissionDenied(
                    f"This needs the {ROLE} role; your key has {principal.role}."
                )
            if caller.limiter is not None:
                caller.limiter.take(principal.key_id)
            output = work(caller)
        except ServiceError as exc:
            raise ToolError(f"{exc.code}: {exc.message}") from exc
        return CallToolResult(
            content=[TextContent(type="text", text=output.render())],
            structured_content=output.model_dump(mode="json"),
        )

    @server.tool(annotations=_READ_ONLY)
    def search(
        ctx: Context,
        query: Annotated[Text, Field(description="what to look for, in words")],
        top_k: TopK = 5,
        scope: Scope = None,
    ) -> Annotated[CallToolResult, SearchResults]:
        """Search the organization's documents and meetings for passages about `query`.

        Each result has an `id` for `fetch`, a `url` to the passage, its `text`, and where
        it is: `page_number` and `char_start`/`char_end` in its document, or for meetings
        `meeting_id`, `speaker` and `timestamp` (seconds).
        """
        return run(ctx, lambda c: tools.search(c, query=query, top_k=top_k, scope=scope))

    @server.tool(annotations=_READ_ONLY)
    def fetch(
        ctx: Context,
        id: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="a search result's id (chk_... or mtg_...:START-END), "
                "a document (doc_...) or a meeting (mtg_...)",
            ),
        ],
    ) -> Annotated[CallToolResult, FetchedPassage]:
        """Read a passage, a whole document or a meeting transcript by id, with its metadata."""
        return run(ctx, lambda c: tools.fetch(c, passage_id=id))

    @server.tool(annotations=_READ_ONLY)
    def answer(
        ctx: Context,
        question: Annotated[Text, Field(description="the question, in words")],
        scope: Scope = None,
    ) -> Annotated[CallToolResult, CitedAnswer]:
        """Answer a question from the organization's knowledge, citing every claim [n].

        `found` is false (and nothing is cited) when the knowledge does not answer it.
        """
        return run(ctx, lambda c: tools.answer(c, question=question, scope=scope))

    @server.tool(annotations=_READ_ONLY)
    def list_knowledge_bases(
        ctx: Context, limit: Limit = 50, cursor: Cursor = None
    ) -> Annotated[CallToolResult, KnowledgeBaseList]:
        """List the organization's knowledge bases (ids for `search`'s scope), oldest first."""
        return run(ctx, lambda c: tools.list_knowledge_bases(c, limit=limit, cursor=cursor))

    @server.tool(annotations=_READ_ONLY)
    def list_projects(
        ctx: Context, limit: Limit = 50, cursor: Cursor = None
    ) -> Annotated[CallToolResult, ProjectList]:
        """List the organization's projects (ids for `search`'s scope), oldest first."""
        return run(ctx, lambda c: tools.list_projects(c, limit=limit, cursor=cursor))

    @server.tool(annotations=_READ_ONLY)
    def list_meetings(
        ctx: Context,
        project_id: Annotated[str | None, Field(description="only this project's")] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Annotated[CallToolResult, MeetingList]:
        """List the organization's meetings, newest first (ids for `fetch`)."""
        return run(
            ctx,
            lambda c: tools.list_meetings(c, project_id=project_id, limit=limit, cursor=cursor),
        )

    return server

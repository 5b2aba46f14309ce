"""The MCP server: grounding tools for agents, over Streamable HTTP (`/mcp`) and stdio.

Built on the official `mcp` SDK. `server.build_server` registers the tools, which call
the service layer through `tools` (no SQL here, no HTTP to ourselves); `schemas` holds
their typed inputs and outputs and the text each output renders to. Who calls comes
from `callers`: `http.McpEndpoint` authenticates the API key of every HTTP request
and is mounted at `/mcp` by the app factory; `stdio.serve_stdio` authenticates
`KB_API_KEY` on every tool call (`kb-service mcp`).
"""

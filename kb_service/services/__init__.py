"""Service functions: what routers and the CLI call. Keyword-only, no HTTP."""

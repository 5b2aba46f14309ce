"""Service functions: one per use case, called alike by HTTP routes, the CLI and any other surface.

A use case takes the `Database` first and everything else by keyword, runs in one
transaction of its own (committed before it returns, so after-commit work such as
removing vectors happens here too) and raises `kb_service.errors`, never HTTP codes.
Lists return a `db.pagination.Page`. Functions that take a `Session` instead are
read-only building blocks that join the caller's transaction (`load_kb`,
`load_project`, `kb_counts`, `job_items`, the search scope and liveness lookups,
`load_segments`), except `tombstones.bury`, which writes into the caller's delete.
"""

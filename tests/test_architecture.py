"""The layering rules of DESIGN.md, checked on the source: one direction, thin routers, no circles.

`kb_service -> retrieval -> ingest`; routers and MCP tools never touch the SQL layer, and
routers never import each other;
no package imports itself in a circle; source files stay readable in one sitting.
Imports are read with `ast` (module level and inside functions alike), so a lazy
import inside a function counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kb_service", "ingest", "retrieval")
MAX_LINES = 300


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """Every module `name` imports (absolute, resolved against the project's modules)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    result: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            result.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            result.add(base)
            result.update(f"{base}.{alias.name}" for alias in node.names)
    return result


def _project_imports(name: str) -> set[str]:
    return {m for m in _imports(name) if m in MODULES and m != name}


def _offenders(prefix: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name in MODULES
        if name == prefix or name.startswith(prefix + ".")
        for target in _imports(name)
        if any(target == f or target.startswith(f + ".") for f in forbidden)
    )


def test_ingest_imports_neither_retrieval_nor_kb_service() -> None:
    assert _offenders("ingest", ("retrieval", "kb_service")) == []


def test_retrieval_imports_no_kb_service() -> None:
    assert _offenders("retrieval", ("kb_service",)) == []


def test_routers_import_neither_sqlalchemy_nor_the_sql_layer() -> None:
    assert _offenders("kb_service.api.routes", ("sqlalchemy", "kb_service.db")) == []


def test_mcp_tools_import_neither_sqlalchemy_nor_the_sql_models() -> None:
    # MCP tools reach data only through the service layer, like the routers
    forbidden = (
        "sqlalchemy",
        "kb_service.db.content",
        "kb_service.db.meetings",
        "kb_service.db.database",
    )
    assert _offenders("kb_service.mcp", forbidden) == []


def test_routers_never_import_each_other() -> None:
    routes = "kb_service.api.routes"
    offenders = sorted(
        f"{name} imports {target}"
        for name in MODULES
        if name.startswith(routes + ".")
        for target in _project_imports(name)
        if target.startswith(routes + ".") and target != name
    )
    assert offenders == []


def test_no_import_circles() -> None:
    graph = {name: _project_imports(name) for name in MODULES}
    # a package's face (__init__) re-exports its modules: an edge into it stands for them
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if target in stack and not node.startswith(target + "."):
                if not target.startswith(node + "."):
                    cycles.append([*stack[stack.index(target) :], target])
            elif state.get(target) is None:
                visit(target)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if state.get(name) is None:
            visit(name)
    assert cycles == []


# The tests and benchmarks are source too (migrations are not held to it).
SOURCE_FILES = sorted(
    str(path.relative_to(ROOT))
    for folder in (*PACKAGES, "tests", "benchmarks")
    for path in (ROOT / folder).rglob("*.py")
    if "migrations" not in path.parts
)


@pytest.mark.parametrize("name", SOURCE_FILES)
def test_source_files_stay_under_300_lines(name: str) -> None:
    lines = len((ROOT / name).read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"

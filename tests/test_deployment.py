"""Static checks of what ships for users: docker-compose.yml, Dockerfile, README, .ci/run."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kb_service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_production_topology() -> None:
    services = compose()["services"]
    assert set(services) == {"api", "worker", "postgres", "qdrant"}
    assert services["api"]["command"][:2] == ["kb-service", "serve"]
    assert services["worker"]["command"][:2] == ["kb-service", "worker"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["qdrant"]["image"].startswith("qdrant/qdrant:")
    assert "6333:6333" in services["qdrant"]["ports"]


def test_compose_env_wires_api_and_worker_to_postgres_and_qdrant() -> None:
    data = compose()
    services = data["services"]
    pg = services["postgres"]["environment"]
    known = set(Settings.env_names())
    for name in ("api", "worker"):
        env = services[name]["environment"]
        kb_vars = {k for k in env if k.startswith("KB_")}
        assert kb_vars <= known, kb_vars - known  # every variable is one the code reads
        url = env["KB_DATABASE_URL"]
        match = re.fullmatch(r"postgresql://(\w+):(\w+)@postgres:(\d+)/(\w+)", url)
        assert match, url
        assert match.groups() == (
            pg["POSTGRES_USER"],
            pg["POSTGRES_PASSWORD"],
            "5432",
            pg["POSTGRES_DB"],
        )
        assert env["KB_QDRANT_URL"] == "http://qdrant:6333"
        settings = Settings.model_validate(
            {k.removeprefix("KB_").lower(): v for k, v in env.items() if k.startswith("KB_")}
        )
        assert settings.resolved_database_url.startswith("postgresql+psycopg://")
    assert services["api"]["environment"]["KB_IN_PROCESS_WORKERS"] == "0"
    api_port = services["api"]["command"][services["api"]["command"].index("--port") + 1]
    assert f"{api_port}:{api_port}" in services["api"]["ports"]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    blocks = re.findall(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    test_command = blocks[1].strip()
    assert "pytest" in test_command
    assert test_command in ci


def test_dockerfile_installs_fail_the_build() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    runs = re.findall(r"^RUN (.*?)(?<!\\)$", dockerfile, re.M | re.S)
    installs = [r for r in runs if "pip install" in r]
    assert installs and all("|| true" not in r for r in installs), installs
    assert "torch==2.13.0" in dockerfile  # the CPU build, never an unpinned CUDA torch

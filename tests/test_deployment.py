"""Static checks of what ships for users: docker-compose.yml, Dockerfile, README, .ci/run."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import yaml

from kb_service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_production_topology() -> None:
    services = compose()["services"]
    assert set(services) == {"api", "worker", "postgres", "qdrant", "prometheus"}
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


def test_prometheus_scrapes_the_api_and_every_worker() -> None:
    services = compose()["services"]
    prometheus = services["prometheus"]
    assert prometheus["image"].startswith("prom/prometheus:")
    mounts = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"]}
    config_file = mounts["/etc/prometheus/prometheus.yml"]
    assert "--config.file=/etc/prometheus/prometheus.yml" in prometheus["command"]
    config = yaml.safe_load((ROOT / config_file).read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert {job.get("metrics_path", "/metrics") for job in jobs.values()} == {"/metrics"}

    api = services["api"]["command"]
    api_target = f"api:{api[api.index('--port') + 1]}"
    assert [api_target] == [t for c in jobs["kb-api"]["static_configs"] for t in c["targets"]]
    assert "KB_METRICS_ENABLED" not in services["api"]["environment"]  # on by default

    # every replica of `worker`, found by DNS, on the port each worker serves its metrics on
    worker_env = services["worker"]["environment"]
    (discovery,) = jobs["kb-worker"]["dns_sd_configs"]
    assert discovery["names"] == ["worker"] and discovery["type"] == "A"
    assert str(discovery["port"]) == worker_env["KB_WORKER_METRICS_PORT"]
    assert worker_env["KB_WORKER_METRICS_HOST"] == "0.0.0.0"  # reachable from prometheus
    assert worker_env["KB_WORKER_METRICS_PORT"] in [str(p) for p in services["worker"]["expose"]]
    assert set(prometheus["depends_on"]) == {"api", "worker"}


def test_grafana_dashboard_plots_every_family_and_only_families_the_service_exports() -> None:
    from prometheus_client import REGISTRY

    from kb_service.observability import metrics  # noqa: F401  (registers the families)
    from kb_service.observability.store import StoreCollector, StoreGauges

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    gauges = StoreGauges({"queued": 0}, None, 0, 0, now=datetime.now(UTC))
    families = {
        f.name: f.type
        for f in [*REGISTRY.collect(), *StoreCollector(gauges).collect()]
        if f.name.startswith("kb_")
    }
    exported = {f + s for f, kind in families.items() for s in suffixes.get(kind, ("",))}
    dashboard = json.loads((ROOT / "deploy" / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    used = {name for e in exprs for name in re.findall(r"\b(kb_[a-z_]+)", e)}
    assert used <= exported, used - exported
    plotted = {
        f for f, kind in families.items() if any(f + s in used for s in suffixes.get(kind, ("",)))
    }
    # kb_ingest_jobs (jobs by status, kept from the first /metrics) is drawn by its parts
    assert set(families) - plotted == {"kb_ingest_jobs"}, set(families) - plotted


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

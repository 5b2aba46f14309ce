#!/usr/bin/env bash
# Creates .venv and installs kb-service with pinned, offline-safe dependencies.
# Safe to re-run: a complete install is detected and skipped in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# pandoc (Debian) converts .rst, .rtf, .odt and .epub files for unstructured; without it
# those files fail with a sentence naming pandoc, and everything else works.
if ! command -v pandoc >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q pandoc >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q pandoc >/dev/null 2>&1; } \
      || echo "setup: could not install pandoc; .rst/.rtf/.odt/.epub files will fail" >&2
  else
    echo "setup: pandoc is not installed (apt-get install pandoc); .rst/.rtf/.odt/.epub files will fail" >&2
  fi
fi
# Debian's chromium runs the web console's browser tests (tests/kb_service/console), driven by
# Playwright with executable_path: Playwright's own browser download is not reachable here.
# Without it those tests skip (outside CI) or fail (CI=true) with a sentence naming it.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium >/dev/null 2>&1; } \
      || echo "setup: could not install chromium; the console's browser tests cannot run" >&2
  else
    echo "setup: chromium is not installed (apt-get install chromium); the console's browser tests will skip" >&2
  fi
fi
stamp=.venv/.kb-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first, alone: the pinned CPU build must be in place before anything asks for torch,
# or the resolver pulls the newest CUDA build (gigabytes).
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -c constraints.txt -e ".[dev]"
# unstructured[pdf] pulls timm -> torchvision, whose only PyPI build is compiled against the
# CUDA torch; importing it next to the CPU torch breaks `transformers` ("torchvision::nms
# does not exist"). It is needed only by the hi_res PDF strategy, which we never use.
.venv/bin/python -m pip uninstall --quiet --yes torchvision || true
echo "$want" > "$stamp"
echo "kb-service installed in .venv"

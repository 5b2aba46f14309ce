#!/usr/bin/env bash
# Creates .venv and installs kb-service with pinned, offline-safe dependencies.
# Safe to re-run: a complete install is detected and skipped in about a second.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# Debian programs the parsers and the browser tests call:
# - pandoc converts .rst, .rtf, .odt and .epub files for unstructured;
# - tesseract (with its English data) reads images and PDF pages without a text layer.
# Without one, only the files that need it fail, with a sentence naming it.
# apt_install COMMAND PACKAGES... installs PACKAGES when COMMAND is missing (as root only).
apt_install() {
  local command=$1 && shift
  if command -v "$command" >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # another apt-get may hold the lock for a while: wait for it rather than fail
    local apt=(apt-get -o DPkg::Lock::Timeout=300 install -y -q "$@")
    "${apt[@]}" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && "${apt[@]}" >/dev/null 2>&1; } \
      || echo "setup: could not install $*; what needs $command will fail" >&2
  else
    echo "setup: $command is not installed (apt-get install $*); what needs it will fail" >&2
  fi
}
apt_install pandoc pandoc
apt_install tesseract tesseract-ocr tesseract-ocr-eng
# chromium runs the web console's browser tests (Playwright with executable_path: its own
# browser download is not reachable); without it they skip, or fail under CI=true.
apt_install chromium chromium
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

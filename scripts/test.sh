#!/usr/bin/env bash
# Every check and test: lint, format, types, the pytest suite (real Go dumps, real
# Graphviz, a fresh Go 1.27 build) and the benchmark at a small size (not timed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dot -V
echo "== ruff"
.venv/bin/ruff check server tests bench
.venv/bin/ruff format --check server tests bench
echo "== mypy"
.venv/bin/mypy
echo "== benchmark (small size, keeps the script working; times not asserted)"
.venv/bin/python bench/bench.py --quick --out "${TMPDIR:-/tmp}/heapspurs-bench-quick.md"
echo "== pytest"
.venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Every check and test: lint, format, types, the VS Code extension (types, lint, unit
# tests, the .vsix, the end-to-end test in a real VS Code), the benchmark at a small size
# (not timed) and the pytest suite (real Go dumps, real Graphviz, a fresh Go 1.27 build).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/setup-editor.sh
dot -V
echo "== ruff"
.venv/bin/ruff check server tests bench
.venv/bin/ruff format --check server tests bench
echo "== mypy"
.venv/bin/mypy
# before the editor's tests: it also compiles the numba kernels their server then finds cached
echo "== benchmark (small size, keeps the script working; times not asserted)"
.venv/bin/python bench/bench.py --quick --out "${TMPDIR:-/tmp}/heapspurs-bench-quick.md"
.venv/bin/python bench/types_bench.py --quick --out "${TMPDIR:-/tmp}/heapspurs-types-quick.md"
.venv/bin/python bench/goroutines_bench.py --quick --out "${TMPDIR:-/tmp}/heapspurs-goroutines-quick.md"
.venv/bin/python bench/dominators_bench.py --quick --out "${TMPDIR:-/tmp}/heapspurs-dominators-quick.md"
.venv/bin/python bench/export_bench.py --quick --out "${TMPDIR:-/tmp}/heapspurs-export-quick.md"
.venv/bin/python bench/compare_bench.py --quick --out "${TMPDIR:-/tmp}/heapspurs-compare-quick.md"
.venv/bin/python bench/views_bench.py --quick --out "${TMPDIR:-/tmp}/heapspurs-views-quick.md"
echo "== vscode-client: tsc, eslint, unit tests, .vsix, end-to-end in code-server"
(
  cd vscode-client
  npx tsc --noEmit -p .
  npx eslint .
  npm run -s test:unit
  HEAPSPURS_E2E_REQUIRED=1 npm run -s test:e2e  # installs what it needs, builds the .vsix
)
echo "== pytest (on both cores: most tests wait on a subprocess, a server or Go)"
.venv/bin/python -m pytest -n 2 --durations=15 "$@"

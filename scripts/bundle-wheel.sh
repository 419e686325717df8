#!/usr/bin/env bash
# The heapspurs wheel the .vsix carries (vscode-client/bundled/): the extension installs it
# into a private environment when no server is configured or found. Built from this
# checkout with the project's venv (pip fetches the build backend in isolation).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf vscode-client/bundled build
.venv/bin/pip wheel -q --no-deps --disable-pip-version-check -w vscode-client/bundled .
rm -rf build
ls vscode-client/bundled/heapspurs-*.whl

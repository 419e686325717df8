#!/usr/bin/env bash
# The main job on the bundled sample: a Go 1.27 program that leaks a *Request through a
# global session cache. Prints the anchors of the leaked object, then writes its owner
# graph to leak.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
SAMPLE=tests/fixtures/data/go1.27
LEAKED=$(.venv/bin/python -c "import json; print(json.load(open('$SAMPLE/truth.json'))['scenarios']['leak']['address'])")
set -x
.venv/bin/heapspurs --oid $SAMPLE/oid.txt --program $SAMPLE/scenarios $SAMPLE/heap.dump \
  --address "$LEAKED" --anchors
.venv/bin/heapspurs --oid $SAMPLE/oid.txt --program $SAMPLE/scenarios $SAMPLE/heap.dump \
  --address "$LEAKED" --output leak.svg

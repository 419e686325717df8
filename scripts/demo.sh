#!/usr/bin/env bash
# The main job on the bundled sample, a leak hunt in a Go 1.27 program that leaks *Request
# values through a global session cache: which type holds the memory (histogram), the
# objects of the suspect type, then why one of them is still alive (anchors with the Go
# path that reaches it), and its owner graph in leak.svg.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
SAMPLE=tests/fixtures/data/go1.27
LEAKED=$(.venv/bin/python -c "import json; print(json.load(open('$SAMPLE/truth.json'))['scenarios']['leak']['address'])")
H=(.venv/bin/heapspurs --oid $SAMPLE/oid.txt --program $SAMPLE/scenarios $SAMPLE/heap.dump)
set -x
"${H[@]}" --histogram | head -20
"${H[@]}" --find '^main\.Request$' | grep -v '^Pointer' | head -5
"${H[@]}" --address "$LEAKED" --anchors
"${H[@]}" --address "$LEAKED" --output leak.svg

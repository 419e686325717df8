#!/usr/bin/env bash
# The main job on the bundled sample, a leak hunt in a Go 1.27 program that leaks *Request
# values through a global session cache: which type holds the memory (histogram), which
# objects retain most (--top), the objects of the suspect type, then why one of them is
# still alive (anchors with the Go path that reaches it), and its owner graph in leak.svg;
# then the leak suspects of a service whose cache grows without bound (--suspects, --top,
# drilling down with --top --address, anchors); what grew between two dumps of one process
# and who holds the new objects (--baseline), and its tables for DuckDB (--export).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
SAMPLE=tests/fixtures/data/go1.27
LEAKED=$(.venv/bin/python -c "import json; print(json.load(open('$SAMPLE/truth.json'))['scenarios']['leak']['address'])")
H=(.venv/bin/heapspurs --oid $SAMPLE/oid.txt --program $SAMPLE/scenarios $SAMPLE/heap.dump)
set -x
"${H[@]}" --histogram | head -20
"${H[@]}" --top 5
"${H[@]}" --find '^main\.Request$' | grep -v '^Pointer' | head -5
"${H[@]}" --address "$LEAKED" --anchors
"${H[@]}" --address "$LEAKED" --output leak.svg
# where the memory goes in a service whose response cache grows without bound: the leak
# suspects, the largest retainers, what the biggest one dominates, and why it is alive
set +x
LEAKY=tests/fixtures/leakcache/go1.27
L=(.venv/bin/heapspurs --program $LEAKY/leakcache $LEAKY/heap.dump)
CACHE=$("${L[@]}" --top 1 --json | .venv/bin/python -c "import json, sys; print(json.load(sys.stdin)['objects'][0]['address'])")
set -x
"${L[@]}" --suspects | head -16
"${L[@]}" --top 3
"${L[@]}" --top 3 --address "$CACHE"
"${L[@]}" --address "$CACHE" --anchors
# what grew in an hour: two dumps of one process, the types that grew, the groups of new
# objects with the anchor that holds them, then the dump's tables queried with DuckDB
set +x
GROWN=tests/fixtures/growth/go1.27
G=(.venv/bin/heapspurs --program $GROWN/growth)
TABLES=$(mktemp -d)/heap2-tables
set -x
"${G[@]}" $GROWN/heap2.dump --baseline $GROWN/heap1.dump --histogram | head -6
"${G[@]}" $GROWN/heap2.dump --baseline $GROWN/heap1.dump --top 2 | sed -n '/^new since/,$p' | head -8
"${G[@]}" $GROWN/heap2.dump --export "$TABLES"
.venv/bin/python -c "import duckdb, sys; duckdb.sql(\"SELECT type, count(*) AS objects, sum(size) AS bytes FROM '\" + sys.argv[1] + \"/objects.parquet' GROUP BY type ORDER BY bytes DESC LIMIT 5\").show()" "$TABLES"

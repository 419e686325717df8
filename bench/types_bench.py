#!/usr/bin/env python3
"""Types: how much of each fixture heap gets its Go type, and what typing costs.

    .venv/bin/python bench/types_bench.py                      # fixtures + random:5e6
    .venv/bin/python bench/types_bench.py --quick              # fixtures + random:1e5, 1 run
    .venv/bin/python bench/types_bench.py --versions 1.22.10 1.24.11 1.26.6   # also these Go

1. Typed share: per fixture dump (tests/fixtures/data, plus the scenarios program built
   with each ``--versions`` toolchain into .cache/bench/types), the share of live bytes
   and live objects (every record but phantoms) that get a type. Goals: >= 95 % of bytes,
   >= 90 % of objects.
2. Cost, on generated dumps (bench/make_dumps.py, whose generator binary is the program):
   a cold ``heapspurs DUMP --program GEN --histogram --json --no-cache`` (read, index, read
   DWARF, type every object) against the numpy floor process of bench.py, taken in turns,
   medians; its peak RSS; the typing pass alone in process; a reopen with the saved index
   (``--histogram --json``) against today's reopen look-up (``--address A --hexdump``).
   Goals: cold <= 15x floor, RSS <= 1.3 GB, typing <= 1 CPU s per 5M objects, reopen as
   fast.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))
sys.path.insert(0, str(REPO / "tests" / "fixtures"))

import make_dumps  # noqa: E402
from bench import MB, RESULT_MARK, run_child  # noqa: E402

GOAL_BYTES, GOAL_OBJECTS = 95.0, 90.0
GOAL_COLD_RATIO, GOAL_RSS_MB, GOAL_TYPING_S_PER_5M = 15.0, 1300.0, 1.0
DEFAULT_OUT = BENCH_DIR / "types-results.md"


def typed_share(dump: Path, binary: Path) -> dict:
    from heapspurs.loaded import load_dump

    ld = load_dump(dump, program=str(binary), cache=False)
    heap, typed = ld.heap, ld.names.typed
    live = ~heap.phantom
    known = live & (typed.type >= 0)
    return {
        "go": heap.params.go_version + ("/386" if heap.params.ptr_size == 4 else ""),
        "objects": int(live.sum()),
        "bytes": int(heap.size[live].sum()),
        "typed_objects_pct": 100.0 * known.sum() / max(live.sum(), 1),
        "typed_bytes_pct": 100.0 * heap.size[known].sum() / max(heap.size[live].sum(), 1),
    }


def fixture_dirs(versions: list[str]) -> list[Path]:
    dirs = sorted(p for p in (REPO / "tests" / "fixtures" / "data").iterdir() if p.is_dir())
    if versions:
        import make_fixtures

        for v in versions:
            out = REPO / ".cache" / "bench" / "types" / make_fixtures.version_dir_name(v)
            if not (out / "heap.dump").exists():
                make_fixtures.build_fixture(v, out)
            dirs.append(out)
    return sorted(dirs, key=lambda d: d.name)


def worker(argv: list[str]) -> None:
    """In a child: time the typing pass alone on a dump (DWARF read, then typing: the best
    of three, wall and CPU; CPU is less skewed by other work on the machine)."""
    from heapspurs.analysis.typing import type_objects
    from heapspurs.loaded import load_dump
    from heapspurs.program.dwarf import read_go_types

    dump, binary = argv
    ld = load_dump(dump, cache=False)
    t0 = time.perf_counter()
    types = read_go_types(binary)
    t1 = time.perf_counter()
    typed = type_objects(ld.heap, types)  # compiles (or loads) the kernels
    t2 = time.perf_counter()
    walls, cpus = [], []
    for _ in range(3):
        w, c = time.perf_counter(), time.thread_time()
        typed = type_objects(ld.heap, types)
        walls.append(time.perf_counter() - w)
        cpus.append(time.thread_time() - c)
    live = ~ld.heap.phantom
    known = live & (typed.type >= 0)
    print(RESULT_MARK + json.dumps({
        "dwarf_s": t1 - t0, "first_typing_s": t2 - t1, "typing_s": min(walls),
        "typing_cpu_s": min(cpus),
        "objects": int(ld.heap.n_objects),
        "typed_objects_pct": 100.0 * known.sum() / max(live.sum(), 1),
    }), flush=True)  # fmt: skip


def result_of(stdout: str) -> dict:
    line = next(x for x in stdout.splitlines() if x.startswith(RESULT_MARK))
    return json.loads(line[len(RESULT_MARK) :])


def cost(shape: str, n: int, repeat: int, python: str) -> dict:
    dump, info = make_dumps.make_dump(shape, n)
    gen, _ = make_dumps.build_gen()
    cli = [python, "-m", "heapspurs.cli"]
    floor_cmd = [python, str(BENCH_DIR / "bench.py"), "_worker", "floor", str(dump)]
    cold_cmd = [*cli, str(dump), "--program", str(gen), "--histogram", "--json", "--no-cache"]
    floors, colds, rss = [], [], []
    run_child(cold_cmd, 900)  # warm-up: page cache, compiled kernels
    for _ in range(repeat):
        _, _, rc, out, err = run_child(floor_cmd, 900)
        floors.append(result_of(out)["seconds"])
        wall, peak, rc, out, err = run_child(cold_cmd, 900)
        if rc != 0:
            raise RuntimeError(f"{' '.join(cold_cmd)} failed: {err[-2000:]}")
        colds.append(wall)
        rss.append(peak)
    answer = json.loads(out)
    # reopen: the index (and types) saved by one call, then used by the next
    reopen_hist = [*cli, str(dump), "--program", str(gen), "--histogram", "--json"]
    reopen_look = [*cli, str(dump), "--address", info["farthest"], "--hexdump"]
    run_child(reopen_hist, 900)
    hist_runs, look_runs = [], []
    for _ in range(repeat):
        look_runs.append(run_child(reopen_look, 900)[0])
        hist_runs.append(run_child(reopen_hist, 900)[0])
    typing = result_of(run_child([python, __file__, "--worker", str(dump), str(gen)], 900)[3])
    return {
        "load": os.getloadavg()[0],
        "case": f"{shape}:{n}", "dump_mb": Path(dump).stat().st_size / MB,
        "floor_s": statistics.median(floors), "floor_min": min(floors), "floor_max": max(floors),
        "cold_s": statistics.median(colds), "cold_min": min(colds), "cold_max": max(colds),
        "rss_mb": max(rss),
        "typed_bytes_pct": 100.0 * answer["typed_bytes"] / answer["total_bytes"],
        "reopen_hist_s": statistics.median(hist_runs),
        "reopen_look_s": statistics.median(look_runs),
        **typing,
    }  # fmt: skip


def markdown(shares: list[dict], costs: list[dict]) -> str:
    out = ["# Types: benchmark results", "", "Machine: this project's 2-core VM, shared "
           "(load: the 1-minute load average at the end of a case; other work skews wall "
           "times). Medians; floor and cold CLI taken in turns.", "",
           "## Typed share of live heap (goal >= 95 % of bytes, >= 90 % of objects)", "",
           "| dump | Go | objects | bytes | typed objects | typed bytes |",
           "|---|---|---:|---:|---:|---:|"]  # fmt: skip
    for s in shares:
        ok = s["typed_bytes_pct"] >= GOAL_BYTES and s["typed_objects_pct"] >= GOAL_OBJECTS
        out.append(f"| {s['dir']} | {s['go']} | {s['objects']} | {s['bytes']} | "
                   f"{s['typed_objects_pct']:.1f} % | {s['typed_bytes_pct']:.1f} % "
                   f"{'✓' if ok else '✗'} |")  # fmt: skip
    out += ["", "## Cost", "",
            "| case | dump MB | numpy floor s (min–max) | cold `--histogram --json --no-cache` s "
            "(min–max) | ratio (goal ≤ 15) | peak RSS MB (≤ 1300) | DWARF s | typing pass CPU s "
            "(≤ 1 per 5M; wall s) | reopen `--histogram` s | reopen look-up s | typed bytes | "
            "load |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for c in costs:
        ratio = c["cold_s"] / c["floor_s"]
        # CPU: the machine is shared, and waiting for a core is not the pass's cost
        per5m = c["typing_cpu_s"] * 5e6 / max(c["objects"], 1)
        out.append(
            f"| {c['case']} | {c['dump_mb']:.0f} | {c['floor_s']:.2f} ({c['floor_min']:.2f}–"
            f"{c['floor_max']:.2f}) | {c['cold_s']:.2f} ({c['cold_min']:.2f}–{c['cold_max']:.2f})"
            f" | {ratio:.1f} {'✓' if ratio <= GOAL_COLD_RATIO else '✗'} | {c['rss_mb']:.0f} "
            f"{'✓' if c['rss_mb'] <= GOAL_RSS_MB else '✗'} | {c['dwarf_s']:.2f} | "
            f"{c['typing_cpu_s']:.2f} ({per5m:.2f} per 5M; wall {c['typing_s']:.2f}) "
            f"{'✓' if per5m <= GOAL_TYPING_S_PER_5M else '✗'} | {c['reopen_hist_s']:.2f} | "
            f"{c['reopen_look_s']:.2f} | {c['typed_bytes_pct']:.1f} % | {c['load']:.1f} |"
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        worker(argv[1:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", action="append", help="shape:n of a generated dump")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--versions", nargs="*", default=[], help="also build fixtures with these Go")
    ap.add_argument("--quick", action="store_true", help="random:1e5, one run (CI smoke)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    cases = args.case or (["random:100000"] if args.quick else ["random:5000000"])
    repeat = 1 if args.quick else args.repeat
    shares = []
    for d in fixture_dirs(args.versions):
        shares.append({"dir": d.name, **typed_share(d / "heap.dump", d / "scenarios")})
        print(json.dumps(shares[-1]), flush=True)
    costs = []
    for case in cases:
        shape, n = case.split(":")
        costs.append(cost(shape, int(float(n)), repeat, sys.executable))
        print(json.dumps(costs[-1]), flush=True)
    args.out.write_text(markdown(shares, costs))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

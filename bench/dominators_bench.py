#!/usr/bin/env python3
"""Retained sizes: what the dominator tree costs, alone and end to end.

    .venv/bin/python bench/dominators_bench.py                 # random:5e6, repeat 5
    .venv/bin/python bench/dominators_bench.py --quick         # random:1e5, one run (CI smoke)
    .venv/bin/python bench/dominators_bench.py --case random:5e6 --case tree:5e6

On generated dumps (bench/make_dumps.py; random:5e6 is ~5M objects, ~20M pointers):

1. a cold ``heapspurs DUMP --top 10 --json --no-cache`` (read, index, tree, answer) against
   the numpy floor process of bench.py, taken in turns, medians; its peak RSS; its cost in
   µs per object beside Eclipse MAT's (~3.2) and hprof-analyzer's (~1.6), whole tools;
2. the tree and retained sizes alone, in process (:func:`dominators.of_heap`), first call
   and best of the repeats;
3. a reopen: ``--top 10 --json`` once the index holds the tree (the CLI's wall, and the work
   after start-up in process: load the index, read the tree, answer).

Goals: cold <= 20x floor, RSS <= 1.5 GB, the tree <= 2 s, a reopen's work <= 0.5 s.
Saved indexes go to a temporary cache folder, removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

import make_dumps  # noqa: E402
from bench import MB, RESULT_MARK, run_child  # noqa: E402

GOAL_COLD_RATIO, GOAL_RSS_MB, GOAL_TREE_S, GOAL_REOPEN_S = 20.0, 1500.0, 2.0, 0.5
MAT_US, HPROF_ANALYZER_US = 3.2, 1.6  # µs per object, whole tools (DESIGN.md §7)
DEFAULT_OUT = BENCH_DIR / "dominators-results.md"


def worker(argv: list[str]) -> None:
    """In a child: the tree alone (first call, then the best of ``repeat``), and a reopen's
    work (load the saved index, read the tree from it, answer --top 10)."""
    import numpy as np

    from heapspurs.analysis import dominators
    from heapspurs.loaded import load_dump

    dump, repeat = argv[0], int(argv[1])
    ld = load_dump(dump, cache=False)
    times, cpu = [], []
    for _ in range(repeat + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        tree = dominators.of_heap(ld.heap)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    pointers = int(np.count_nonzero(ld.heap.field_target >= 0))
    print(RESULT_MARK + json.dumps({
        "objects": ld.heap.n_objects, "pointers": pointers, "live_objects": tree.live_objects,
        "tree_first_s": times[0], "tree_s": min(times[1:]), "tree_cpu_s": min(cpu[1:]),
    }), flush=True)  # fmt: skip


def reopen_worker(dump: str) -> None:
    """In a fresh child: a reopen's work after start-up (the index the CLI saved, with the
    tree: load it, read the tree, answer --top 10), and the load alone."""
    from heapspurs.analysis import dominators
    from heapspurs.analysis.suspects import top_answer
    from heapspurs.loaded import load_dump

    t0 = time.perf_counter()
    again = load_dump(dump, many_lookups=False)  # as the CLI opens it: one query
    t1 = time.perf_counter()
    saved = dominators.tree_at_hand(again.heap)
    answer = top_answer(again.heap, again.names, saved or dominators.dominators(again.heap), 10)
    t2 = time.perf_counter()
    print(RESULT_MARK + json.dumps({
        "reopen_work_s": t2 - t0, "reopen_load_s": t1 - t0, "reopen_tree_and_top_s": t2 - t1,
        "reopen_from_index": saved is not None, "top_retained": answer["objects"][0]["retained"],
    }), flush=True)  # fmt: skip


def result_of(stdout: str) -> dict:
    line = next(x for x in stdout.splitlines() if x.startswith(RESULT_MARK))
    return json.loads(line[len(RESULT_MARK) :])


def checked(cmd: list[str]) -> tuple[float, float, str]:
    wall, peak, rc, out, err = run_child(cmd, 900)
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err[-2000:]}")
    return wall, peak, out


def cpu_of_children() -> float:
    """User + system CPU seconds of the children that ended so far (their difference
    around one call is its CPU time: less skewed than wall time by other work)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cost(shape: str, n: int, repeat: int, python: str) -> dict:
    dump, _ = make_dumps.make_dump(shape, n)
    cli = [python, "-m", "heapspurs.cli", str(dump)]
    floor_cmd = [python, str(BENCH_DIR / "bench.py"), "_worker", "floor", str(dump)]
    cold_cmd = [*cli, "--top", "10", "--json", "--no-cache"]
    checked(cold_cmd)  # warm-up: page cache, compiled kernels
    floors, colds, cold_cpu, rss = [], [], [], []
    for _ in range(repeat):
        floors.append(result_of(checked(floor_cmd)[2])["seconds"])
        before = cpu_of_children()
        wall, peak, out = checked(cold_cmd)
        cold_cpu.append(cpu_of_children() - before)
        colds.append(wall)
        rss.append(peak)
    cold_top = json.loads(out)["objects"]
    reopen_cmd = [*cli, "--top", "10", "--json"]
    checked(reopen_cmd)  # saves the index and the tree
    reopens, reopen_rss = [], []
    for _ in range(repeat):
        wall, peak, out = checked(reopen_cmd)
        reopens.append(wall)
        reopen_rss.append(peak)
    if json.loads(out)["objects"] != cold_top:
        raise RuntimeError("the reopened --top differs from the cold one")
    startup = statistics.median(checked([*cli[:3], "--version"])[0] for _ in range(repeat))
    inproc = result_of(checked([python, __file__, "--worker", str(dump), str(repeat)])[2])
    reopen = [result_of(checked([python, __file__, "--reopen", str(dump)])[2])
              for _ in range(repeat)]  # fmt: skip
    inproc |= min(reopen, key=lambda r: r["reopen_work_s"])
    return {
        "case": f"{shape}:{n}", "dump_mb": Path(dump).stat().st_size / MB,
        "floor_s": statistics.median(floors), "floor_min": min(floors), "floor_max": max(floors),
        "cold_s": statistics.median(colds), "cold_min": min(colds), "cold_max": max(colds),
        "cold_cpu_s": statistics.median(cold_cpu),
        "rss_mb": max(rss), "reopen_s": statistics.median(reopens),
        "reopen_rss_mb": max(reopen_rss), "startup_s": startup, "load": os.getloadavg()[0],
        **inproc,
    }  # fmt: skip


def mark(ok: bool) -> str:
    return "✓" if ok else "✗"


def markdown(costs: list[dict]) -> str:
    out = ["# Retained sizes: benchmark results", "",
           "Machine: this project's 2-core VM, shared (the 1-minute load average at the end of "
           "each case is given: other work skews the times). Medians; floor and cold CLI taken "
           "in turns.", "",
           "| case | objects / pointers | numpy floor s (min–max) | cold `--top 10 --json "
           "--no-cache` s (min–max; CPU s) | ratio (≤ 20) | µs/object (MAT ≈ 3.2, "
           "hprof-analyzer ≈ 1.6) | peak RSS MB (≤ 1500) | tree + retained s, first / best "
           "(≤ 2; CPU s) | µs/object, tree | reopen `--top 10` s (start-up) | reopen work s "
           "(≤ 0.5) | load |",
           "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for c in costs:
        ratio = c["cold_s"] / c["floor_s"]
        per_object = 1e6 * c["cold_s"] / c["objects"]
        out.append(
            f"| {c['case']} | {c['objects']:,} / {c['pointers']:,} | {c['floor_s']:.2f} "
            f"({c['floor_min']:.2f}–{c['floor_max']:.2f}) | {c['cold_s']:.2f} ({c['cold_min']:.2f}"
            f"–{c['cold_max']:.2f}; {c['cold_cpu_s']:.2f}) | {ratio:.1f} "
            f"{mark(ratio <= GOAL_COLD_RATIO)} | "
            f"{per_object:.2f} (MAT {MAT_US}, hprof-analyzer {HPROF_ANALYZER_US}) | "
            f"{c['rss_mb']:.0f} {mark(c['rss_mb'] <= GOAL_RSS_MB)} | {c['tree_first_s']:.2f} / "
            f"{c['tree_s']:.2f} {mark(c['tree_s'] <= GOAL_TREE_S)} ({c['tree_cpu_s']:.2f}) | "
            f"{1e6 * c['tree_s'] / c['objects']:.2f} | {c['reopen_s']:.2f} ({c['startup_s']:.2f})"
            f" | {c['reopen_work_s']:.2f} {mark(c['reopen_work_s'] <= GOAL_REOPEN_S)} (index "
            f"{c['reopen_load_s']:.2f}, tree + answer {c['reopen_tree_and_top_s']:.2f}) | "
            f"{c['load']:.1f} |"
        )
    out += ["", "µs/object: the cold CLI's wall time (read, index, tree, answer) per object of "
            "the dump; MAT's and hprof-analyzer's figures are for their whole runs on Java heap "
            "dumps (DESIGN.md §7), not measured here. The reopen's work is measured after "
            "start-up in a fresh process, the best of the repeats: load the saved index, read "
            "the tree from it, answer --top 10. CPU s: user + system time (of every thread: "
            "the gathers run on two), less skewed by other work than wall time."]  # fmt: skip
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        worker(argv[1:])
        return 0
    if argv[:1] == ["--reopen"]:
        reopen_worker(argv[1])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", action="append", help="shape:n of a generated dump")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="random:1e5, one run (CI smoke)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    cases = args.case or (["random:100000"] if args.quick else ["random:5000000"])
    repeat = 1 if args.quick else args.repeat
    cache = tempfile.mkdtemp(prefix="heapspurs-dominators-bench-")
    os.environ["XDG_CACHE_HOME"] = cache  # the children's saved indexes, not the user's
    costs = []
    try:
        for case in cases:
            shape, n = case.split(":")
            costs.append(cost(shape, int(float(n)), repeat, sys.executable))
            print(json.dumps(costs[-1]), flush=True)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    args.out.write_text(markdown(costs))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

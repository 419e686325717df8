#!/usr/bin/env python3
"""What grew: the cost of comparing two dumps of one process (``--baseline``).

    .venv/bin/python bench/compare_bench.py              # random:1e6, 3 runs
    .venv/bin/python bench/compare_bench.py --quick      # random:1e5, 1 run, goals not enforced

The pair of dumps comes from bench/make_dumps.py (``make_dump_pair``): the generator's
graph, dumped, then 10 % new nodes put in random pointer slots (the targets they replace,
when held nowhere else, are freed) and dumped again by the same process. Measured, each in
a fresh process, in turns with the numpy floor of bench.py over both dumps:

1. cold, nothing saved: ``heapspurs MUTATED --program GEN --histogram --baseline FIRST
   --json --no-cache`` (read and index both dumps, type them, compare);
2. first comparison with the dumps' indexes built (each dump opened once before, untyped):
   the same without ``--no-cache`` — the types are worked out and saved. Goal <= 5 s;
3. second comparison, from the saved indexes and types. Goal <= 1 s;
4. ``--top 10 --baseline`` (the growth groups, and the dominator tree for --top) once the
   tree is saved; for scale, one dump's ``--histogram --json`` from its saved index;
5. in process, the comparison alone (match by address, per-type counts, growth groups) on
   dumps already loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

GOAL_FIRST_S, GOAL_SECOND_S = 5.0, 1.0
DEFAULT_OUT = BENCH_DIR / "compare-results.md"
MUTATE = 0.1


def result_of(stdout: str) -> dict:
    line = next(x for x in stdout.splitlines() if x.startswith(RESULT_MARK))
    return json.loads(line[len(RESULT_MARK) :])


def worker(argv: list[str]) -> None:
    """In a child: the comparison alone on loaded dumps (the second of two runs: the first
    compiles or loads the kernels and works out the BFS links)."""
    from heapspurs.analysis import compare as C
    from heapspurs.loaded import load_dump

    first, second, gen = argv
    old, new = (load_dump(p, program=gen, many_lookups=False) for p in (first, second))
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        c = C.compare(new, [old])
        answer = C.histogram_answer(c)
        groups = C.growth_groups(c, 10)
        times.append(time.perf_counter() - t0)
    print(RESULT_MARK + json.dumps({"compare_s": times[-1], "first_compare_s": times[0],
                                    "new_objects": answer["new_objects"],
                                    "freed_objects": answer["freed_objects"],
                                    "groups": len(groups)}), flush=True)  # fmt: skip


CPU: dict[str, list[float]] = {}  # CPU seconds (user + system) of each step's children


def timed(cmd: list[str], step: str = "") -> tuple[float, float, str]:
    """Wall seconds, peak RSS and output of ``cmd``; its CPU seconds go to ``CPU[step]``
    (less skewed by the other work of a shared machine than wall time)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, peak, rc, out, err = run_child(cmd, 900)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err[-2000:]}")
    if step:
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        CPU.setdefault(step, []).append(cpu)
    return wall, peak, out


def measure(n: int, repeat: int, python: str) -> dict:
    first, second, info = make_dumps.make_dump_pair("random", n, MUTATE)
    gen, _ = make_dumps.build_gen()
    cli = [python, "-m", "heapspurs.cli"]
    compare = [*cli, str(second), "--program", str(gen), "--histogram", "--baseline",
               str(first), "--json"]  # fmt: skip
    floors = [[python, str(BENCH_DIR / "bench.py"), "_worker", "floor", str(d)]
              for d in (first, second)]  # fmt: skip
    one = [*cli, str(second), "--program", str(gen), "--histogram", "--json"]
    out: dict[str, list] = {k: [] for k in ("floor", "cold", "first", "second", "top", "one",
                                            "rss")}  # fmt: skip
    timed([*compare, "--no-cache"])  # warm-up: page cache, compiled kernels
    for warm_up in [True] + [False] * repeat:  # a saved index's arrays compile kernels too
        if not warm_up:
            out["floor"].append(sum(result_of(timed(f)[2])["seconds"] for f in floors))
            wall, peak, _ = timed([*compare, "--no-cache"], "cold")
            out["cold"].append(wall)
            out["rss"].append(peak)
        with tempfile.TemporaryDirectory(prefix="compare-bench-cache-") as cache:
            os.environ["XDG_CACHE_HOME"] = cache  # the children's saved indexes
            for d in (first, second):  # the indexes, untyped
                timed([*cli, str(d), "--address", info["root"], "--hexdump"])
            out["first"].append(timed(compare, "first")[0])
            wall, _, answer = timed(compare, "second")
            out["second"].append(wall)
            top = [*cli, str(second), "--program", str(gen), "--top", "10", "--baseline",
                   str(first), "--json"]  # fmt: skip
            timed(top)  # the dominator tree, saved
            out["top"].append(timed(top, "top")[0])
            out["one"].append(timed(one, "one")[0])
            if warm_up:
                out = {k: [] for k in out}
                CPU.clear()
    inproc = result_of(timed([python, __file__, "--worker", str(first), str(second), str(gen)])[2])
    result = json.loads(answer)
    med = {k: statistics.median(v) for k, v in out.items() if k != "rss"}
    return {"case": f"random:{n}", "objects": result["total_objects"],
            "baseline_objects": result["baseline_objects"],
            "dumps_mb": (first.stat().st_size + second.stat().st_size) / MB,
            "new_objects": result["new_objects"], "freed_objects": result["freed_objects"],
            "same_process": result["same_process"], "rss_mb": max(out["rss"]),
            "load": os.getloadavg()[0],
            **{f"{k}_s": v for k, v in med.items()},
            **{f"{k}_cpu_s": statistics.median(v) for k, v in CPU.items()}, **inproc}  # fmt: skip


def markdown(r: dict, repeat: int) -> str:
    floor = r["floor_s"]

    def row(what: str, seconds: float, goal: str = "", step: str = "") -> str:
        cpu = f"{r[f'{step}_cpu_s']:.2f} s" if f"{step}_cpu_s" in r else ""
        return f"| {what} | {seconds:.2f} s | {cpu} | {seconds / floor:.1f}x | {goal} |"

    first_ok = "met" if r["first_s"] <= GOAL_FIRST_S else "MISSED"
    second_ok = "met" if r["second_s"] <= GOAL_SECOND_S else "MISSED"
    return "\n".join([
        "# What grew: comparison benchmark", "",
        f"Machine: this project's 2-core VM (shared). Medians of {repeat} run(s), each step "
        "a fresh process; the floor (bench.py's numpy pass over both dumps) taken in turns.",
        "",
        f"Case {r['case']}: {r['baseline_objects']} objects, then {r['objects']} after "
        f"{MUTATE:.0%} new nodes ({r['dumps_mb']:.0f} MB of dumps); same process: "
        f"{r['same_process']}; {r['new_objects']} new and {r['freed_objects']} freed objects.",
        "",
        "| step | wall | CPU | / floor | goal |", "| --- | ---: | ---: | ---: | --- |",
        f"| numpy floor, both dumps | {floor:.2f} s | | 1.0x | |",
        row("cold, nothing saved (`--no-cache`)", r["cold_s"], step="cold"),
        row("first comparison, indexes built", r["first_s"], f"<= {GOAL_FIRST_S:g} s: {first_ok}",
            "first"),
        row("second comparison, saved indexes", r["second_s"],
            f"<= {GOAL_SECOND_S:g} s: {second_ok}", "second"),
        row("`--top 10 --baseline`, tree saved", r["top_s"], step="top"),
        row("for scale: one dump's `--histogram`, saved index", r["one_s"], step="one"),
        row("in process: the comparison alone", r["compare_s"]), "",
        "CPU: user + system seconds of the step's process (all its threads), median; a wall "
        "time on the shared machine is stretched by the other work, its CPU time far less.",
        "",
        f"Load average (1 min) at the end: {r['load']:.1f} on 2 cores. "
        f"Peak RSS of the cold call: {r['rss_mb']:.0f} MB. In process, the first comparison "
        f"(BFS links to group the new objects by anchor) took {r['first_compare_s']:.2f} s.",
        "",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        worker(argv[1:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="random:1e5, one run, goals not enforced")
    ap.add_argument("--n", type=float, default=1e6)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--python", default=str(REPO / ".venv" / "bin" / "python"))
    args = ap.parse_args(argv)
    n, repeat = (100_000, 1) if args.quick else (int(args.n), args.repeat)
    result = measure(n, repeat, args.python)
    text = markdown(result, repeat)
    args.out.write_text(text)
    print(text)
    missed = result["first_s"] > GOAL_FIRST_S or result["second_s"] > GOAL_SECOND_S
    return 1 if missed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())

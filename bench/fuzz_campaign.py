#!/usr/bin/env python3
"""A long fuzzing campaign over every fixture dump (issue 16): seeded structure-aware mutants
(tests/hostile.py: bit flips, byte runs, 10-byte varints, values near 2^64, duplicated,
deleted and moved records, splices, unknown tags, truncations, bytes after the end), each
loaded and, when it loads, asked the queries that read the heap's arrays (anchors, owners,
hover, nearest anchor, the graph's DOT) and, for one mutant in ten, everything (print,
find, histogram, hexdump).

    python bench/fuzz_campaign.py --mutants 100000 [--workers 2] [--batch 2000]
    python bench/fuzz_campaign.py --minutes 60          # as many as fit

Batches run in child processes, each with its own seed: a crash (a signal), a hang, or any
exception but the one-line errors ends its batch and is reported with the seed that
reproduces it (``python tests/hostile.py mutants DUMP SEED COUNT OUT``). Prints a Markdown
summary (mutants run, refused and answered per kind, failures, mutants per second).
Exit status 1 when any batch failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOSTILE = REPO / "tests" / "hostile.py"
DATA = REPO / "tests" / "fixtures" / "data"


def fixtures() -> list[Path]:
    return sorted(p / "heap.dump" for p in DATA.iterdir() if (p / "heap.dump").exists())


def run_batch(dump: Path, seed: int, count: int, timeout: float) -> dict:
    """One child process: its tally, or what went wrong."""
    with tempfile.TemporaryDirectory(prefix="heapspurs-fuzz-") as tmp:
        env = {**os.environ, "XDG_CACHE_HOME": tmp, "HEAPSPURS_FUZZ_LIGHT": "1"}
        cmd = [sys.executable, str(HOSTILE), "mutants", str(dump), str(seed), str(count),
               str(Path(tmp) / "m.dump")]  # fmt: skip
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return {"failure": f"hung (over {timeout:.0f} s)", "dump": str(dump), "seed": seed}
    if run.returncode < 0:
        what = f"killed by {signal.Signals(-run.returncode).name}"
        return {"failure": what, "dump": str(dump), "seed": seed, "stderr": run.stderr[-2000:]}
    if run.returncode != 0:
        last = run.stderr.strip().splitlines()[-1:] or ["?"]
        return {"failure": last[0], "dump": str(dump), "seed": seed, "stderr": run.stderr[-2000:]}
    return {"tally": json.loads(run.stdout), "dump": str(dump), "seed": seed}


def summary(results: list[dict], seconds: float, batch: int) -> str:
    kinds: dict[str, dict[str, int]] = {}
    total = 0
    for r in results:
        for key, n in r.get("tally", {}).items():
            kind, outcome = key.rsplit(" ", 1)
            kinds.setdefault(kind, {"refused": 0, "answered": 0})[outcome] += n
            total += n
    failures = [r for r in results if "failure" in r]
    lines = [
        "# heapspurs fuzz campaign",
        "",
        f"- mutants run to the end: {total:,} in {seconds / 60:.1f} min "
        f"({total / max(seconds, 1e-9):.1f} per second), over {len(fixtures())} fixture dumps",
        f"- batches: {len(results)} of {batch} mutants; failed batches: {len(failures)}",
        "",
        "| mutation | refused (DumpFormatError) | loaded and answered |",
        "|---|---:|---:|",
    ]
    for kind, n in sorted(kinds.items()):
        lines.append(f"| {kind} | {n['refused']:,} | {n['answered']:,} |")
    for f in failures:
        lines.append("")
        lines.append(f"**failure**: {f['failure']} — `python tests/hostile.py mutants "
                     f"{f['dump']} {f['seed']} {batch} /tmp/m.dump`")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mutants", type=int, default=100_000, help="stop after this many")
    ap.add_argument("--minutes", type=float, default=None, help="or after this long")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch", type=int, default=2000, help="mutants per child process")
    ap.add_argument("--seed", type=int, default=1000, help="the first batch's seed")
    ap.add_argument("--timeout", type=float, default=3600, help="per batch, seconds")
    ap.add_argument("--out", help="also write the summary here (Markdown)")
    ap.add_argument("--json", help="and every batch's result here")
    args = ap.parse_args(argv)
    dumps = fixtures()
    n_batches = -(-args.mutants // args.batch)
    plan = [(dumps[i % len(dumps)], args.seed + i) for i in range(n_batches)]
    start = time.perf_counter()
    deadline = start + args.minutes * 60 if args.minutes else None
    results: list[dict] = []

    def one(job: tuple[Path, int]) -> dict | None:
        if deadline and time.perf_counter() > deadline:
            return None
        result = run_batch(*job, args.batch, args.timeout)
        done = sum(sum(r.get("tally", {}).values()) for r in [*results, result])
        print(f"batch seed {job[1]} {job[0].parent.name}: "
              f"{result.get('failure') or 'ok'} ({done:,} mutants so far)",
              file=sys.stderr, flush=True)  # fmt: skip
        return result

    with ThreadPoolExecutor(args.workers) as pool:
        for result in pool.map(one, plan):
            if result is not None:
                results.append(result)
    text = summary(results, time.perf_counter() - start, args.batch)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 1 if any("failure" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())

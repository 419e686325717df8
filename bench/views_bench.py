#!/usr/bin/env python3
"""The heap explorer's views: how fast each view's page answers on a big dump.

    .venv/bin/python bench/views_bench.py              # random:5e6, typed with bench/gen
    .venv/bin/python bench/views_bench.py --quick      # random:1e5 (CI smoke, not timed)

The dump is indexed (with its types and dominator tree) and saved once; then, as a language
server does after a reopen, it is loaded from the saved index and every view's first page is
asked in process, at once (each page working its part out) and after the warm-up the
server runs once a big dump is loaded: the Types view's top
and a type's objects, the Retainers view's top and the largest retainer's children, the
Goroutines view's top, one object's owners. Goal: each first page <= 100 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

import make_dumps  # noqa: E402

GOAL_MS = 100.0
DEFAULT_OUT = BENCH_DIR / "views-results.md"


def entry_of(dump: str, program: str):
    """A ready language-server entry of ``dump`` read from its saved index."""
    from heapspurs.loaded import load_dump
    from heapspurs.lsp.store import DumpEntry

    loaded = load_dump(dump, program=program)
    return DumpEntry(dump, Path(dump).as_uri(), state="ready", loaded=loaded, program=program)


def timed(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - t0) * 1000, out


def measure(dump: str, program: str, repeat: int):
    """Per view page: (name, cold ms, warmed ms, request); the warm-up's ms; the largest
    first-level retainer's address (a hover target)."""
    from heapspurs.analysis.dominators import dominators
    from heapspurs.lsp import answers
    from heapspurs.lsp.goroutine_features import goroutines_page
    from heapspurs.lsp.view_features import retainers_page, types_page, warm_up

    warm = entry_of(dump, program)  # builds and saves the index, the types and the tree
    dominators(warm.loaded.heap)
    entry = entry_of(dump, program)  # a reopen: everything from the saved index
    top = types_page(entry, None, 0)["items"]
    largest_type = str(top[0]["type"])
    first_level = retainers_page(entry, None, 0)["items"]
    biggest = int(first_level[0]["address"], 16)
    obj = entry.loaded.heap.find(biggest)
    at = f"{biggest:#x}"
    cases = [
        ("Types: top page", lambda e: types_page(e, None, 0), ("heapspurs/types", {"page": 0})),
        ("Types: next page", lambda e: types_page(e, None, 1), ("heapspurs/types", {"page": 1})),
        (f"Types: objects of {largest_type}", lambda e: types_page(e, largest_type, 0),
         ("heapspurs/types", {"parent": largest_type})),
        ("Retainers: top page", lambda e: retainers_page(e, None, 0),
         ("heapspurs/retainers", {})),
        ("Retainers: largest's children", lambda e: retainers_page(e, biggest, 0),
         ("heapspurs/retainers", {"parent": at})),
        ("Goroutines: top page", lambda e: goroutines_page(e, 0, []),
         ("heapspurs/goroutines", {"page": 0})),
        ("Owners of the largest", lambda e: answers.direct_owners_answer(e, biggest, obj),
         ("heapspurs/directOwners", {"address": at})),
    ]  # fmt: skip
    cold = entry_of(dump, program)  # a reopen asked at once: each page works its part out
    firsts = [timed(fn, cold)[0] for _, fn, _ in cases]
    warmed = entry_of(dump, program)  # a reopen the server warmed up, as it does in the back
    warm_ms, _ = timed(warm_up, warmed)
    rows = []
    for (name, fn, request), first in zip(cases, firsts, strict=True):
        after = [timed(fn, warmed)[0] for _ in range(repeat)]
        rows.append((name, first, statistics.median(after), request))
    return rows, warm_ms, at


def through_server(dump: str, program: str, rows, hover_at: str, repeat: int):
    """The same pages asked of a real ``heapspurs-lsp`` over stdio, after its warm-up (ms,
    medians), and a hover's time while the Goroutines view's first page is worked out on a
    dump just loaded (the views must not hold hovers up)."""
    sys.path.insert(0, str(BENCH_DIR.parent / "tests"))
    from lsp_client import RawClient

    with tempfile.TemporaryDirectory() as folder:
        ws = Path(folder)
        _place(Path(dump), ws / "service.heapdump")
        _place(Path(program), ws / "service")
        client = RawClient({})
        try:
            client.start(ws)
            log = client.open(ws / "memory.log", f"cache at {hover_at}\n")
            first_page = ("heapspurs/goroutines", {"page": 0})
            pending = threading.Thread(target=client.request, args=first_page, daemon=True)
            pending.start()
            time.sleep(0.2)
            hover_ms, _ = timed(client.hover, log, 0, len("cache at ") + 3)
            pending.join()
            _wait_for_warm_up(client)
            served = []
            for _, _, _, (method, params) in rows:
                times = [timed(client.request, method, params)[0] for _ in range(repeat)]
                served.append(statistics.median(times))
        finally:
            client.close()
    return served, hover_ms


def _place(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # a 339 MB dump is not copied when the folders share a disk
    except OSError:
        shutil.copy(source, target)


def _wait_for_warm_up(client) -> None:
    """Until the goroutines' and the types' first pages answer at once (the warm-up done)."""
    for _ in range(600):
        fast = all(timed(client.request, m, {"page": 0})[0] < 50
                   for m in ("heapspurs/goroutines", "heapspurs/types"))  # fmt: skip
        if fast:
            return
        time.sleep(0.1)


def markdown(case: str, objects: int, rows, served, hover_ms: float, warm_ms: float,
             load: float) -> str:  # fmt: skip
    out = [
        "# Heap views: page times",
        "",
        f"Case {case} ({objects:,} objects), reopened from its saved index (types and tree",
        "saved). In process: *cold*, each page asked at once after the reopen, working out its",
        "part (the histogram, the order of a type's objects, the goroutines' analysis);",
        "*warmed*, after the warm-up the server runs on a thread once a dump of more than",
        f"200,000 objects is loaded (here {warm_ms / 1000:.1f} s). *Through the server*: the same",
        "requests to a real heapspurs-lsp over stdio once its warm-up is done (JSON included).",
        "Medians of the repeats. While a just-loaded dump's Goroutines view worked its first",
        f"page out, a hover on the largest retainer's address answered in {hover_ms:.0f} ms.",
        f"1-minute load average {load:.1f} on this 2-core machine shared with other work.",
        "Goal: a view's first page <= 100 ms.",
        "",
        "| view page | cold, ms | warmed, ms | through the server, ms | goal |",
        "|---|---:|---:|---:|---|",
    ]
    for (name, first, warmed, _), server in zip(rows, served, strict=True):
        mark = "✓" if server <= GOAL_MS else "✗"
        out.append(f"| {name} | {first:.0f} | {warmed:.0f} | {server:.0f} | {mark} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="random:1e5, one repeat")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    n = 100_000 if args.quick else 5_000_000
    dump, _info = make_dumps.make_dump("random", n)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XDG_CACHE_HOME"] = cache  # the saved indexes go away with it
        repeat = 1 if args.quick else args.repeat
        rows, warm_ms, hover_at = measure(str(dump), str(make_dumps.GEN_BIN), repeat)
        served, hover_ms = through_server(str(dump), str(make_dumps.GEN_BIN), rows, hover_at,
                                          repeat)  # fmt: skip
        from heapspurs.loaded import load_dump

        objects = load_dump(str(dump)).heap.n_objects
    text = markdown(f"random:{n:g}", objects, rows, served, hover_ms, warm_ms, os.getloadavg()[0])
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

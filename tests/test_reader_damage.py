"""Damaged dumps raise one DumpFormatError naming the byte offset; nothing else escapes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heapspurs.analysis.typing import type_histogram, type_objects
from heapspurs.dumpfile.columns import DumpFile, read_columns
from heapspurs.dumpfile.errors import DumpFormatError
from heapspurs.dumpfile.layout import HEADER, TAG_OBJECT
from heapspurs.dumpfile.records import decode_at, iter_records
from heapspurs.loaded import load_dump
from heapspurs.program.dwarf import read_go_types
from heapspurs.program.gotypes import GoTypes

from conftest import ROOT, VERSIONS, fixture

DUMP = fixture("go1.27").dump


def test_truncated_at_every_byte_offset() -> None:
    """Every prefix of a real dump's first 64 KiB (every record kind starts there), and every
    31st after it, is refused with an offset inside the prefix (every prefix of the whole
    dump is quadratic: minutes)."""
    size = DUMP.stat().st_size
    for length in [*range(1, min(size, 1 << 16)), *range(1 << 16, size, 31)]:
        try:
            dump = DumpFile(DUMP, length)
            read_columns(dump)
        except DumpFormatError as err:
            assert 0 <= err.offset <= length, (length, err)
        else:
            pytest.fail(f"a dump cut at {length} of {size} bytes was accepted")


def test_truncated_dump_streams_until_the_cut(tmp_path: Path) -> None:
    cut = tmp_path / "cut.dump"
    cut.write_bytes(DUMP.read_bytes()[:200_000])
    streamed = []
    with pytest.raises(DumpFormatError, match=r"past the end|ends inside") as err:
        for rec in iter_records(DumpFile(cut)):
            streamed.append(rec.offset)
    assert streamed[-1] < err.value.offset <= 200_000  # records before the cut were printed


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "empty file"), (b"hello, world\n" * 3, "not a Go heap dump"), (HEADER, "End Of File")],
)
def test_not_a_dump(tmp_path: Path, content: bytes, words: str) -> None:
    p = tmp_path / "x.dump"
    p.write_bytes(content)
    with pytest.raises(DumpFormatError, match=words):
        load_dump(p, cache=False)


def _first_small_object_with_a_field(dump: DumpFile) -> tuple[int, int]:
    """(file offset of the first pointer-field offset varint, object size) of a small object."""
    for rec in iter_records(dump):
        if rec.tag == TAG_OBJECT and rec["fields"] and rec.contents_len < 100:
            pos = rec.contents_pos + rec.contents_len  # field list: kind, offset, ...
            assert dump.bytes_at(pos, 1) == b"\x01"
            return pos + 1, rec.contents_len
    raise AssertionError("no small object with a pointer")


def test_pointer_field_outside_its_object(tmp_path: Path) -> None:
    data = bytearray(DUMP.read_bytes())
    pos, _ = _first_small_object_with_a_field(DumpFile(DUMP))
    data[pos] = 120  # a pointer at offset 120 of an object of < 100 bytes
    bad = tmp_path / "bad.dump"
    bad.write_bytes(bytes(data))
    with pytest.raises(DumpFormatError, match="outside its record") as err:
        load_dump(bad, cache=False)
    assert err.value.offset == pos


def test_unknown_tag(tmp_path: Path) -> None:
    data = bytearray(DUMP.read_bytes())
    _, after_params = decode_at(DumpFile(DUMP), len(HEADER))
    data[after_params] = 99
    bad = tmp_path / "bad.dump"
    bad.write_bytes(bytes(data))
    with pytest.raises(DumpFormatError, match="unknown record tag 99") as err:
        load_dump(bad, cache=False)
    assert err.value.offset == after_params


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(0, 2**31), st.binary(min_size=1, max_size=12)), min_size=1,
                max_size=6))  # fmt: skip
def test_random_corruption_only_raises_dump_format_error(tmp_path_factory, patches) -> None:  # type: ignore[no-untyped-def]
    data = bytearray(DUMP.read_bytes())
    for where, junk in patches:
        at = where % len(data)
        data[at : at + len(junk)] = junk
    path = tmp_path_factory.mktemp("corrupt") / "c.dump"
    path.write_bytes(bytes(data))
    try:
        loaded = load_dump(path, cache=False)
    except DumpFormatError as err:
        assert 0 <= err.offset <= len(data)
        return
    heap = loaded.heap  # damage that kept the format valid: the answers still work
    for obj in range(min(heap.n_objects, 50)):
        assert heap.find(int(heap.addr[obj])) >= 0
    # and typing the damaged heap with the real binary never crashes nor hangs
    typed = type_objects(heap, program_types())
    answer = type_histogram(heap, typed)
    assert sum(int(r["bytes"]) for r in answer["types"]) == answer["total_bytes"]


@cache
def program_types() -> GoTypes:
    return read_go_types(fixture("go1.27").binary)


def test_cli_reports_a_truncated_dump_in_one_line(tmp_path: Path) -> None:
    cut = tmp_path / "cut.dump"
    cut.write_bytes(DUMP.read_bytes()[:123_457])
    run = subprocess.run(
        [sys.executable, "-m", "heapspurs.cli", str(cut), "--address", "0x1", "--anchors"],
        capture_output=True, text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )  # fmt: skip
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "byte offset" in lines[0] and str(cut) in lines[0]


# --- seeded fuzzing of every fixture, each batch in a child process ----------------------
HOSTILE = ROOT / "tests" / "hostile.py"
MUTANTS_PER_FIXTURE = 40
BOUNDSCHECK_MUTANTS = 25
BOUNDSCHECK_CACHE = ROOT / ".cache" / "numba-boundscheck"  # its compiled code, kept
# saved-index arrays compiled kernels index other arrays with
KERNEL_ARRAYS = ("col_obj_first", "order", "field_target", "in_first", "in_src",
                 "root_target", "page_table", "page_shift")  # fmt: skip


def _child(*args: str | Path, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    """Run tests/hostile.py: any exception but the one-line errors fails it (exit status
    1 with the traceback), a signal (SIGSEGV in compiled code) or a hang fails the test."""
    try:
        run = subprocess.run([sys.executable, str(HOSTILE), *map(str, args)],
                             capture_output=True, text=True, timeout=timeout,
                             env={**os.environ, **(env or {})})  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"hostile.py {args} hung (over {timeout} s)")
    if run.returncode < 0:
        pytest.fail(f"killed by {signal.Signals(-run.returncode).name}:\n{run.stderr[-3000:]}")
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout


@pytest.mark.parametrize("version", VERSIONS)
def test_seeded_mutants_go_through_every_query(tmp_path: Path, version: str) -> None:
    """Bit flips, byte runs, 10-byte varints, values near 2^64, duplicated/deleted/moved
    records, splices, unknown tags, truncations, bytes after the end: each mutant is
    refused with a DumpFormatError naming a byte inside it, or loads and answers every
    query (print, find, histogram, anchors, owners, hexdump, hover, nearest anchor, the
    graph, drawn by dot for this test's mutants), its objects named by the fixture's OID
    file and its globals by the fixture's binary where the segments still match."""
    seed = VERSIONS.index(version)
    out = _child("mutants", fixture(version).dump, seed, MUTANTS_PER_FIXTURE,
                 tmp_path / "m.dump", "graph")  # fmt: skip
    tally = json.loads(out)
    assert sum(tally.values()) == MUTANTS_PER_FIXTURE, tally


@pytest.mark.parametrize("version", VERSIONS)
def test_cut_at_every_record_start(version: str) -> None:
    cuts = json.loads(_child("truncations", fixture(version).dump))["cuts"]
    assert cuts > 100


def test_mutants_under_numba_bounds_checking(tmp_path: Path) -> None:
    """The same in a build with numba's bounds checks on: a compiled kernel reading out of
    bounds raises IndexError there (which fails this test) instead of reading past an array."""
    env = {"NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(BOUNDSCHECK_CACHE)}
    for version in ("go1.27", "go1.27-386"):
        if version in VERSIONS:
            seed = 100 + VERSIONS.index(version)
            out = _child("mutants", fixture(version).dump, seed, BOUNDSCHECK_MUTANTS,
                         tmp_path / "m.dump", env=env, timeout=900)  # fmt: skip
            assert sum(json.loads(out).values()) == BOUNDSCHECK_MUTANTS
    dump = tmp_path / "heap.dump"
    dump.write_bytes(DUMP.read_bytes())
    report = json.loads(_child("tamper", dump, *KERNEL_ARRAYS, env=env, timeout=900))
    assert not report["wrong"], report

"""One query from a saved index (the CLI) reads only the arrays it uses, each checked when
first used: damage found then still gives one warning and the answer of a rebuilt index,
or, when arrays already in use were forged, one clear error; never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

from heapspurs import commands
from heapspurs.cli import build_parser, check_args
from heapspurs.heap.index import SCHEMA, checksum, index_places
from heapspurs.loaded import LoadedDump, load_dump

from conftest import fixture

F = fixture("go1.27")


def _copy(tmp_path: Path) -> Path:
    dump = tmp_path / "heap.dump"
    shutil.copy(F.dump, dump)
    return dump


def _cli(dump: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "heapspurs.cli", str(dump), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=600)


def _flip_a_byte(place: Path, name: str) -> None:
    """One byte of the array's data changed: its checksum no longer matches."""
    path = place / f"{name}.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))


def _forge(place: Path, name: str, values: np.ndarray) -> None:
    """The array replaced, with dtype, shape and checksum to match (past the checksums)."""
    values = np.ascontiguousarray(values)
    np.save(place / f"{name}.npy", values)
    meta = json.loads((place / "meta.json").read_text())
    meta["arrays"][name] = {"dtype": values.dtype.str, "shape": list(values.shape),
                            "checksum": checksum(values)}  # fmt: skip
    (place / "meta.json").write_text(json.dumps(meta))


def test_one_query_reads_only_the_arrays_it_uses(tmp_path: Path) -> None:
    dump = _copy(tmp_path)
    fresh = load_dump(dump)
    one = load_dump(dump, many_lookups=False)
    saved = one.heap._saved
    assert saved is not None and "col_field_val" not in saved._ready, "read before any use"
    address = int(F.scenario("leak")["address"], 16)
    assert one.heap.find(address) == fresh.heap.find(address) >= 0
    assert "sorted_addr" in saved._ready and "col_field_val" not in saved._ready
    assert np.array_equal(one.heap.cols.field_val, fresh.heap.cols.field_val)
    assert np.array_equal(one.heap.in_src, fresh.heap.in_src)
    assert one.heap.n_objects == fresh.heap.n_objects and not one.warnings


def test_damage_found_when_first_used_is_rebuilt_with_one_warning(tmp_path: Path) -> None:
    """A --top answer reads the owners CSR: its damage is noticed then, the answer is the
    rebuilt index's, and the rebuilt index is saved over the damaged one."""
    dump = _copy(tmp_path)
    want = _cli(dump, "--top", "5", "--json")
    assert want.returncode == 0 and want.stderr == "", want.stderr
    place = index_places(str(dump))[0]
    _flip_a_byte(place, "in_src")
    run = _cli(dump, "--top", "5", "--json")
    assert run.returncode == 0 and run.stdout == want.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "in_src: checksum mismatch" in lines[0], lines
    assert lines[0].startswith(f"heapspurs: warning: saved index {place} is damaged")
    again = _cli(dump, "--top", "5", "--json")
    assert again.stdout == want.stdout and again.stderr == "", "the rebuilt index was saved"


def test_damage_in_an_array_a_query_does_not_use_goes_unread(tmp_path: Path) -> None:
    dump = _copy(tmp_path)
    want = _cli(dump, "--histogram", "--json")
    _flip_a_byte(index_places(str(dump))[0], "col_field_val")
    run = _cli(dump, "--histogram", "--json")
    assert run.returncode == 0 and run.stdout == want.stdout and run.stderr == ""
    address = F.scenario("leak")["address"]
    hexdump = _cli(dump, "--address", address, "--hexdump", "--json")  # reads the record
    assert hexdump.returncode == 0 and hexdump.stderr == ""
    svg = tmp_path / "owners.svg"
    graph = _cli(dump, "--address", address, "--output", str(svg))  # edges' pointer values
    assert graph.returncode == 0 and "col_field_val: checksum mismatch" in graph.stderr
    assert svg.stat().st_size > 0


def test_out_of_range_values_found_when_first_used_are_rebuilt(tmp_path: Path) -> None:
    """Forged past the checksum with object numbers past the heap: refused by the range
    check of the array's first use, never handed to compiled code."""
    dump = _copy(tmp_path)
    want = _cli(dump, "--top", "5", "--json")
    place = index_places(str(dump))[0]
    in_src = np.load(place / "in_src.npy")
    in_src[::3] = np.iinfo(np.int32).max
    _forge(place, "in_src", in_src)
    run = _cli(dump, "--top", "5", "--json")
    assert run.returncode == 0 and run.stdout == want.stdout
    assert "in_src holds values out of range" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_forged_arrays_in_use_then_damage_is_one_clear_error(tmp_path: Path) -> None:
    """Roots forged in range (read on opening, used) and then damage found in another
    array: the rebuilt index's roots differ from those in use, so the query stops with one
    line, and the next one answers from the rebuilt index."""
    dump = _copy(tmp_path)
    want = _cli(dump, "--top", "5", "--json")
    place = index_places(str(dump))[0]
    kind = np.load(place / "root_kind.npy")
    _forge(place, "root_kind", (kind + 1) % 10)
    _flip_a_byte(place, "in_src")
    run = _cli(dump, "--top", "5", "--json")
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("heapspurs: error: saved index"), lines
    assert "in_src: checksum mismatch" in lines[0] and "ask again" in lines[0]
    again = _cli(dump, "--top", "5", "--json")
    assert again.returncode == 0 and again.stdout == want.stdout and again.stderr == ""


def _answers(loaded: LoadedDump, address: str) -> list[list[str]]:
    """What the CLI answers to the queries that read a saved index, from a loaded dump."""
    out = []
    for argv in (["--top", "3", "--json"], ["--histogram", "--json"],
                 ["--address", address, "--anchors", "--json"],
                 ["--address", address, "--owners", "3"],
                 ["--address", address, "--hexdump", "--json"]):  # fmt: skip
        args = build_parser().parse_args([loaded.path, *argv])
        check_args(args)
        out.append(list(commands.run_on(loaded, args)))
    return out


def test_every_array_damaged_is_noticed_on_first_use_and_never_trusted(tmp_path: Path) -> None:
    """Each array of the index with one byte changed, opened for one query: the answers
    are those of a good index, and the damage gives one warning when a query read it."""
    dump = _copy(tmp_path)
    address = F.scenario("leak")["address"]
    want = _answers(load_dump(dump), address)
    place = index_places(str(dump))[0]
    good = tmp_path / "good-index"
    shutil.copytree(place, good)
    noticed = set()
    for name in SCHEMA:
        shutil.rmtree(place)
        shutil.copytree(good, place)
        _flip_a_byte(place, name)
        loaded = load_dump(dump, many_lookups=False)
        assert _answers(loaded, address) == want, name
        assert len(loaded.warnings) <= 1, loaded.warnings
        assert all(f"({name}: checksum mismatch)" in w for w in loaded.warnings), name
        noticed |= {name} if loaded.warnings else set()
    assert len(noticed) > len(SCHEMA) // 2

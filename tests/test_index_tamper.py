"""A saved index is a file anyone can damage: a tampered, half-written or rewritten one is
rebuilt from the dump with a one-line warning (or, forged past its checksum, answered
without a crash), never trusted into a crash."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from heapspurs.heap.index import SCHEMA, index_places
from heapspurs.loaded import load_dump

from conftest import ROOT, fixture

F = fixture("go1.27")
HOSTILE = ROOT / "tests" / "hostile.py"


def _copy(tmp_path: Path) -> Path:
    dump = tmp_path / "heap.dump"
    shutil.copy(F.dump, dump)
    return dump


def _child(*args: str | Path, timeout: int = 600) -> subprocess.CompletedProcess[str]:
    """Run in its own process: a crash in compiled code must fail the test, not end it."""
    run = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                         timeout=timeout)  # fmt: skip
    if run.returncode < 0:
        pytest.fail(f"killed by {signal.Signals(-run.returncode).name}:\n{run.stderr[-3000:]}")
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_every_tampered_array_is_rebuilt_or_answered_without_a_crash(tmp_path: Path) -> None:
    """Each array short, shuffled, zeroed, maxed, at its minimum, off by one, of another
    dtype: noticed (warning, rebuilt, same answers) whenever its checksum was left alone;
    forged past the checksum, the range checks stop what compiled code indexes with, and
    what they cannot see (values in range, but wrong) gives wrong answers, not crashes."""
    report = json.loads(_child(HOSTILE, "tamper", _copy(tmp_path)).stdout)
    assert report["loads"] > 2 * len(SCHEMA)
    assert not [u for u in report["unnoticed"] if "forged" not in u], report["unnoticed"]
    assert not report["wrong"], report["wrong"]
    forged = {u.split(" ")[0] for u in report["unnoticed"]}
    indexed_by_kernels = {"col_obj_first", "order", "sorted_addr", "sorted_end", "in_first",
                          "field_target", "root_target", "page_shift"}  # fmt: skip
    maxed = {u.split(" ")[0] for u in report["unnoticed"] if "maxed" in u}
    assert not maxed & indexed_by_kernels, maxed
    assert forged, "forged in-range values are not expected to be noticed"


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("missing meta", None),
        ("meta not json", "meta.json is not JSON"),
        ("meta huge", "too large"),
        ("array missing", "No such file"),
        ("array half written", "shorter than its header"),
        ("array header junk", "bad header"),
        ("array grown", "longer than its header"),
        ("other format", None),
    ],
)
def test_damaged_files_are_rebuilt_with_one_warning(
    tmp_path: Path, damage: str, words: str | None
) -> None:
    dump = _copy(tmp_path)
    fresh = load_dump(dump)
    place = index_places(str(dump))[0]
    meta, target = place / "meta.json", place / "field_target.npy"
    if damage == "missing meta":
        meta.unlink()
    elif damage == "meta not json":
        meta.write_text("{'key':")
    elif damage == "meta huge":
        meta.write_text(" " * (2 << 20))
    elif damage == "array missing":
        target.unlink()
    elif damage == "array half written":
        os.truncate(target, target.stat().st_size // 2)
    elif damage == "array header junk":
        target.write_bytes(b"\x93NUMPY\x01\x00\x10\x00{'descr': <x\n" + target.read_bytes()[64:])
    elif damage == "array grown":
        with open(target, "ab") as f:
            f.write(b"\0" * 8)
    else:
        data = json.loads(meta.read_text())
        data["key"]["format"] -= 1
        meta.write_text(json.dumps(data))
    again = load_dump(dump)
    if words is None:  # no index, or an older one: rebuilt silently
        assert again.warnings == []
    else:
        assert len(again.warnings) == 1 and words in again.warnings[0], again.warnings
        assert str(place) in again.warnings[0] and "\n" not in again.warnings[0]
    assert np.array_equal(again.heap.field_target, fresh.heap.field_target)
    assert load_dump(dump).warnings == [], "the rebuilt index is good"


def test_cli_warns_in_one_line_and_answers(tmp_path: Path) -> None:
    dump = _copy(tmp_path)
    address = F.scenario("leak")["address"]
    argv = [sys.executable, "-m", "heapspurs.cli", str(dump), "--address", address, "--anchors"]
    first = subprocess.run(argv, capture_output=True, text=True, check=True)
    order = index_places(str(dump))[0] / "order.npy"
    np.save(order, np.load(order)[::-1].copy())
    run = subprocess.run(argv, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == first.stdout
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("heapspurs: warning: saved index"), lines


def test_index_rewritten_in_place_while_loaded_does_not_kill(tmp_path: Path) -> None:
    """``cp`` over the saved index of a loaded dump (truncating each file, then writing
    other bytes): the arrays were read, not mapped, so answers go on (no SIGBUS)."""
    dump = _copy(tmp_path)
    load_dump(dump)
    place = index_places(str(dump))[0]
    code = (
        "import sys, numpy as np\n"
        f"sys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "from hostile import addresses_of, exercise\n"
        "from heapspurs.loaded import load_dump\n"
        f"loaded = load_dump({str(dump)!r})\n"
        "assert not loaded.warnings\n"
        f"for p in __import__('pathlib').Path({str(place)!r}).glob('*.npy'):\n"
        "    p.write_bytes(b'\\x93NUMPY')\n"
        "exercise(loaded, addresses_of(loaded))\n"
        "print('answered')\n"
    )
    assert _child("-c", code).stdout.strip() == "answered"
    assert "damaged" in load_dump(dump).warnings[0]


def test_symlinked_dump_keeps_its_index_out_of_the_target_folder(tmp_path: Path) -> None:
    outside, workspace = tmp_path / "outside", tmp_path / "workspace"
    outside.mkdir()
    workspace.mkdir()
    dump = _copy(outside)
    (workspace / "heap.dump").symlink_to(dump)
    load_dump(workspace / "heap.dump")
    load_dump(workspace / "heap.dump", index_beside=True)  # the cache one is found first
    assert sorted(p.name for p in outside.iterdir()) == ["heap.dump"]
    assert index_places(str(workspace / "heap.dump"), True)[0].parent == workspace

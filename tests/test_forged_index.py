"""A saved index forged past its checksums (tests/forged.py): in-range but wrong values in
every array compiled code indexes with, and the saved dominator tree, answer every query
of tests/hostile.py without a signal, a hang or a traceback. With validation bypassed
(values out of range, as if a check were missed), the kernels' own guards keep every
access inside its array: no signal in a normal build, no IndexError from compiled code in
a build with numba's bounds checks."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, fixture

FORGED = ROOT / "tests" / "forged.py"
LEAKCACHE = ROOT / "tests" / "fixtures" / "leakcache" / "go1.27" / "heap.dump"
BOUNDSCHECK = {"NUMBA_BOUNDSCHECK": "1",
               "NUMBA_CACHE_DIR": str(ROOT / ".cache" / "numba-boundscheck")}  # fmt: skip
# the forgeries that reach compiled code, for the build with bounds checks
KERNEL_KINDS = ("field_target_random", "field_target_chain", "in_src_random",
                "in_first_random", "obj_first_shuffled", "root_target_random",
                "addresses_shared", "order_among_equals", "page_table_random",
                "page_shift_coarse", "idom_cycles", "idom_random")  # fmt: skip


def _forged(dump: Path, seed: int, *args: str, env: dict[str, str] | None = None) -> dict:
    """tests/forged.py in a child: a signal or a hang fails the test naming the kind and
    query it was at (its last line of progress), an escaped exception with its traceback."""
    try:
        run = subprocess.run([sys.executable, str(FORGED), str(dump), str(seed), *args],
                             capture_output=True, text=True, timeout=600,
                             env={**os.environ, **(env or {})})  # fmt: skip
    except subprocess.TimeoutExpired as err:
        last = (err.stderr or b"").decode(errors="replace").strip().splitlines()[-1:]
        pytest.fail(f"hung (over 600 s) at {last}")
    if run.returncode < 0:
        last = run.stderr.strip().splitlines()[-1:]
        pytest.fail(f"killed by {signal.Signals(-run.returncode).name} at {last}")
    if run.returncode != 0 and not run.stdout.strip():
        pytest.fail(run.stderr[-3000:])
    report = json.loads(run.stdout)
    assert not report["errors"], "\n".join(f"{k}:\n{v}" for k, v in report["errors"].items())
    return report


def _copy(dump: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "heap.dump"
    shutil.copy(dump, copy)
    return copy


def _dumps() -> list[Path]:
    return [fixture("go1.27").dump] + ([LEAKCACHE] if LEAKCACHE.exists() else [])


@pytest.mark.parametrize("dump", _dumps(), ids=lambda d: d.parent.name)
def test_in_range_forgeries_answer_every_query(tmp_path: Path, dump: Path) -> None:
    """Every forgery gets past validation (or the test would prove nothing) and every query
    answers it: wrong answers, one-line errors, never a crash."""
    report = _forged(_copy(dump, tmp_path), 7)
    assert report["noticed"] == [], "validation now refuses these: forge them in range"
    assert len(report["answered"]) > 20


def test_in_range_forgeries_answer_every_query_of_one_query_loads(tmp_path: Path) -> None:
    """As the CLI opens an index (each array read and checked when first used): the same
    forgeries get past the checks of first use too, and every query answers them."""
    report = _forged(_copy(fixture("go1.27").dump, tmp_path), 7, "lazy")
    assert report["noticed"] == [], "validation now refuses these: forge them in range"
    assert len(report["answered"]) > 20


def test_in_range_forgeries_under_numba_bounds_checks(tmp_path: Path) -> None:
    report = _forged(_copy(fixture("go1.27").dump, tmp_path), 8, *KERNEL_KINDS, env=BOUNDSCHECK)
    assert sorted(report["answered"]) == sorted(KERNEL_KINDS)


@pytest.mark.parametrize("env", [None, BOUNDSCHECK], ids=["build", "boundscheck"])
def test_kernels_guard_what_validation_would_refuse(tmp_path: Path, env: dict | None) -> None:
    """Validation bypassed: object numbers past the heap (to 2^31 - 1, negative), CSR
    offsets past their arrays and descending, page tables and shifts out of range, the
    address order unsorted, dominators out of range. Python code may raise on them (the
    validation it relies on was bypassed); compiled code must not read outside an array:
    before its guards, field_target, root_target, col_obj_first and dom_idom out of range
    each ended the process with SIGSEGV."""
    report = _forged(_copy(fixture("go1.27").dump, tmp_path), 9, "wild", env=env)
    assert len(report["answered"]) == 11


def test_kernels_guard_what_validation_would_refuse_in_one_query_loads(tmp_path: Path) -> None:
    """The same, the index opened as the CLI opens it (mapped, each array on first use)."""
    report = _forged(_copy(fixture("go1.27").dump, tmp_path), 9, "lazy", "wild")
    assert len(report["answered"]) == 11

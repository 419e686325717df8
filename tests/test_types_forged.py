"""The typing pass on forged columns (as a damaged saved index that slipped past its checks
would give it): object numbers past the heap, an object's fields shuffled, pointer values
and offsets at random. It answers (some objects unknown) and never reads or writes outside
an array: run in a child built with numba's bounds checks, where any such access is an
IndexError, and a signal or a hang fails the test."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT, fixture

BOUNDSCHECK = {"NUMBA_BOUNDSCHECK": "1",
               "NUMBA_CACHE_DIR": str(ROOT / ".cache" / "numba-boundscheck")}  # fmt: skip

CHILD = r"""
import sys
import numpy as np
from heapspurs.analysis.typing import type_histogram, type_objects
from heapspurs.loaded import load_dump
from heapspurs.program.dwarf import read_go_types

dump, program = sys.argv[1:3]
types = read_go_types(program)
rng = np.random.default_rng(7)
for forgery in ("targets_in_range", "targets_wild", "fields_shuffled", "values_random",
                "offsets_random", "headers_random"):
    heap = load_dump(dump, cache=False).heap
    cols, n, nf = heap.cols, heap.n_objects, len(heap.field_target)
    if forgery == "targets_in_range":
        heap.field_target[:] = rng.integers(-1, n, nf)
    elif forgery == "targets_wild":
        heap.field_target[:] = rng.choice(np.array([n, n + 7, 2**31 - 1, -2, -2**31]), nf)
    elif forgery == "fields_shuffled":
        cols.obj_first[1:-1] = rng.integers(0, nf + 1, n - 1)
    elif forgery == "values_random":
        cols.field_val[:] = rng.integers(0, 2**63, nf, dtype=np.uint64)
    elif forgery == "offsets_random":
        cols.field_off[:] = rng.integers(0, 2**32, nf, dtype=np.uint64).astype(np.uint32)
    else:
        heap.has_header[:] = rng.integers(0, 2, n).astype(bool)
    typed = type_objects(heap, types)
    answer = type_histogram(heap, typed)
    assert answer["total_objects"] > 0, forgery
    print(forgery, answer["typed_objects"], "of", answer["total_objects"], flush=True)
"""


def test_forged_columns_keep_typing_in_bounds() -> None:
    fx = fixture("go1.27")
    run = subprocess.run([sys.executable, "-c", CHILD, str(fx.dump), str(fx.binary)],
                         capture_output=True, text=True, timeout=900,
                         env={**os.environ, **BOUNDSCHECK})  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert len(run.stdout.splitlines()) == 6, run.stdout

"""The walk split across two threads (dumpfile.ahead) reads exactly what one walk reads,
and says the same about damage. On a dump from the benchmark's Go generator: the fixture
programs are too small to have object records in the middle of their dumps."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from heapspurs.dumpfile import ahead as A
from heapspurs.dumpfile import columns as C
from heapspurs.dumpfile.columns import DumpFile, LoadCancelled, read_columns
from heapspurs.dumpfile.errors import DumpFormatError

ROOT = Path(__file__).resolve().parent.parent
ONE_THREAD = 1 << 62  # split_min_bytes no dump reaches


@pytest.fixture(scope="module")
def dump() -> Path:
    """The benchmark's 100,000-object random graph (the CI's benchmark run makes the same)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from make_dumps import make_dump
    finally:
        sys.path.pop(0)
    path, _ = make_dump("random", 100_000)
    return path


def _same_columns(a, b) -> None:
    for name, array in a.arrays().items():
        assert np.array_equal(array, b.arrays()[name]), name


def _helper_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "heapspurs-walk-ahead"]


def test_two_threads_read_the_same_columns_as_one(dump: Path) -> None:
    one = read_columns(DumpFile(dump), split_min_bytes=ONE_THREAD)
    d = DumpFile(dump)
    found = A.ObjectsAhead.find_start(d, one.recs)  # the split does happen on this dump
    assert found and d.size // 2 <= found[0] < d.size // 2 + A.SEARCH_BYTES
    for window in (64 << 20, 65536):  # one window; windows sliding on in both walks
        _same_columns(one, read_columns(DumpFile(dump), window_bytes=window, split_min_bytes=0))


def test_a_wrong_guess_is_never_trusted(dump: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A helper started where no record starts (inside an object's bytes) is dropped: the
    main walk passes that offset without landing on it."""
    one = read_columns(DumpFile(dump), split_min_bytes=ONE_THREAD)
    middle = int(one.obj_data[len(one.obj_data) // 2])  # an object's bytes, not a record
    guesses: list[int] = []

    def misplaced(d: DumpFile, recs: np.ndarray) -> tuple[int, tuple[int, int]]:
        guesses.append(middle + 1)
        return middle + 1, (8, 0)

    monkeypatch.setattr(A.ObjectsAhead, "find_start", misplaced)
    _same_columns(one, read_columns(DumpFile(dump), split_min_bytes=0))
    assert guesses and not _helper_threads()


@pytest.mark.parametrize("margin", [0.5, 1.03, 3.0])
def test_the_helpers_objects_land_right_whatever_room_was_guessed(
    dump: Path, margin: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The helper writes where its objects are expected to end up in the columns. Too
    little room: a walk outgrows its share and the objects are copied; enough: they are
    moved down in place, closing the gap left."""
    one = read_columns(DumpFile(dump), split_min_bytes=ONE_THREAD)
    monkeypatch.setattr(C, "LEND_MARGIN", margin)
    _same_columns(one, read_columns(DumpFile(dump), split_min_bytes=0))


def test_damage_past_the_split_is_reported_as_by_one_walk(dump: Path, tmp_path: Path) -> None:
    one = read_columns(DumpFile(dump), split_min_bytes=ONE_THREAD)
    data = bytearray(dump.read_bytes())
    n = len(one.obj_data)
    for i in range(n // 2 + 100, n, n // 40):  # objects past the middle of the file
        fields = int(one.obj_data[i] + one.obj_size[i])  # the record's pointer-field list
        damaged = bytearray(data)
        damaged[fields : fields + 12] = b"\xff" * 12  # a field kind that never ends
        broken = tmp_path / "broken.dump"
        broken.write_bytes(damaged)
        errors = []
        for split in (ONE_THREAD, 0):
            with pytest.raises(DumpFormatError) as err:
                read_columns(DumpFile(broken), split_min_bytes=split)
            errors.append((err.value.offset, err.value.what))
        too_long = "a number (uvarint) runs over 10 bytes or past 64 bits"
        assert errors[0] == errors[1] == (fields, too_long)
        assert not _helper_threads()


def test_truncated_past_the_split_is_reported_as_by_one_walk(dump: Path) -> None:
    size = dump.stat().st_size
    for length in range(size // 2 + 1000, size, size // 50):
        errors = []
        for split in (ONE_THREAD, 0):
            with pytest.raises(DumpFormatError) as err:
                read_columns(DumpFile(dump, length), split_min_bytes=split)
            errors.append(str(err.value))
        assert errors[0] == errors[1], length


def test_progress_counts_both_threads_and_cancel_stops_the_helper(dump: Path) -> None:
    seen: list[float] = []
    read_columns(DumpFile(dump), progress=seen.append, window_bytes=65536, split_min_bytes=0)
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == 1.0
    with pytest.raises(LoadCancelled):
        read_columns(DumpFile(dump), cancel=lambda: True, window_bytes=65536, split_min_bytes=0)
    assert not _helper_threads()

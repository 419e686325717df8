"""Loading: the windowed walk, progress and cancellation, and the saved index."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from heapspurs.dumpfile.columns import DumpFile, LoadCancelled, read_columns
from heapspurs.heap.index import index_places
from heapspurs.loaded import load_dump

from conftest import fixture

F = fixture("go1.27")


def test_small_windows_read_the_same_columns_as_one_big_window() -> None:
    """Records cut by a window's end (and records larger than a window) are read whole."""
    whole = read_columns(DumpFile(F.dump))
    for window in (1, 4096, 65536):  # the bss segment record alone is ~140 KB
        pieces = read_columns(DumpFile(F.dump), window_bytes=window)
        for name, array in whole.arrays().items():
            assert np.array_equal(array, pieces.arrays()[name]), (window, name)


def test_progress_rises_to_one_and_cancel_stops() -> None:
    seen: list[float] = []
    read_columns(DumpFile(F.dump), progress=seen.append, window_bytes=32768)
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] == 1.0
    with pytest.raises(LoadCancelled):
        read_columns(DumpFile(F.dump), cancel=lambda: True, window_bytes=32768)


def _copy(tmp_path: Path) -> Path:
    dump = tmp_path / "heap.dump"
    shutil.copy(F.dump, dump)
    return dump


def test_saved_index_is_reused_and_answers_the_same(tmp_path: Path) -> None:
    """Saved in the cache folder (not beside the dump), and read back unchanged."""
    dump = _copy(tmp_path)
    fresh = load_dump(dump)
    place = index_places(str(dump))[0]
    assert fresh.heap.index_place == place and (place / "meta.json").exists()
    assert place.is_relative_to(os.environ["XDG_CACHE_HOME"])
    assert not (tmp_path / "heap.dump.heapspurs-index").exists()
    written = (place / "meta.json").stat().st_mtime_ns
    again = load_dump(dump)
    assert again.heap.index_place == place and not again.warnings
    assert (place / "meta.json").stat().st_mtime_ns == written, "reopen does not rewrite"
    address = int(F.scenario("leak")["address"], 16)
    assert again.heap.find(address) == fresh.heap.find(address) >= 0
    for name, array in fresh.heap.derived().items():
        assert np.array_equal(array, again.heap.derived()[name]), name


def test_index_beside_the_dump_when_asked(tmp_path: Path) -> None:
    dump = _copy(tmp_path)
    load_dump(dump, index_beside=True)
    assert (tmp_path / "heap.dump.heapspurs-index" / "meta.json").exists()
    assert load_dump(dump, index_beside=True).heap.index_place == index_places(str(dump), True)[0]


def test_changed_dump_is_never_served_a_stale_index(tmp_path: Path) -> None:
    dump = _copy(tmp_path)
    load_dump(dump)
    meta = index_places(str(dump))[0] / "meta.json"
    written = meta.stat().st_mtime_ns
    other = fixture("go1.25").dump
    shutil.copy(other, dump)  # same name, other content
    reopened = load_dump(dump)
    assert meta.stat().st_mtime_ns != written, "the index was built again"
    assert reopened.heap.params.go_version.startswith("go1.25")
    assert not reopened.warnings  # an index of an earlier dump is no damage


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_not_an_error(tmp_path: Path) -> None:
    dump = _copy(tmp_path)
    tmp_path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert load_dump(dump).heap.n_objects > 0
    finally:
        tmp_path.chmod(stat.S_IRWXU)


def test_unwritable_places_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where neither beside the dump nor the cache folder can be written, loading still works
    (files stand in for the folders: creating a folder under a file fails even for root)."""
    dump = _copy(tmp_path)
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker / "cache"))
    beside = index_places(str(dump), beside=True)[0]
    beside.write_text("not a folder")
    assert load_dump(dump).heap.n_objects > 0
    assert beside.read_text() == "not a folder"


def _in_a_child(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in its own Python: a regression to a memory-mapped read would end it
    with SIGBUS, which must not take the test run down with it."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_a_dump_written_over_after_loading_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """Go's ``os.Create`` truncates the old dump in place before writing the new one; a
    server that still holds the old one must answer with an error, and stay up."""
    dump = _copy(tmp_path)
    done = _in_a_child(
        "import os\n"
        "from heapspurs.loaded import load_dump\n"
        "from heapspurs.dumpfile.errors import DumpFormatError\n"
        f"loaded = load_dump({str(dump)!r}, cache=False)\n"
        f"os.truncate({str(dump)!r}, 100)\n"
        "try:\n"
        "    loaded.heap.contents(loaded.heap.n_objects - 1)\n"
        "except DumpFormatError as err:\n"
        "    print(err)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "shorter than when it was opened" in done.stdout


def test_a_dump_shrinking_while_it_is_read_is_an_error_not_a_crash(tmp_path: Path) -> None:
    dump = _copy(tmp_path)
    done = _in_a_child(
        "import os\n"
        "from heapspurs.dumpfile.columns import DumpFile, read_columns\n"
        "from heapspurs.dumpfile.errors import DumpFormatError\n"
        f"d = DumpFile({str(dump)!r})\n"
        f"os.truncate({str(dump)!r}, d.size // 2)\n"
        "try:\n"
        "    read_columns(d, window_bytes=4096, split_min_bytes=0)\n"
        "except DumpFormatError as err:\n"
        "    print(err)\n"
    )
    assert done.returncode == 0, done.stderr
    assert "byte offset" in done.stdout

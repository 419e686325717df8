"""The typing pass reads the dump a chunk at a time, when a kernel first asks for a word of
it (DumpPages, typing_kernels.read_word): words equal the file's bytes across a chunk's
edge, chunks nobody asked for are never read, and a file cut shorter after it was opened
reads as zeros, never past the buffer."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from heapspurs.analysis import typing_kernels as K
from heapspurs.analysis.typing import DumpPages
from heapspurs.dumpfile.columns import DumpFile
from heapspurs.dumpfile.layout import HEADER

CHUNK = 1 << K.CHUNK_SHIFT


def a_dump(tmp_path: Path, size: int) -> tuple[Path, bytes]:
    """A file of ``size`` bytes that starts as a heap dump does (random bytes after)."""
    body = (
        HEADER + np.random.default_rng(3).integers(0, 256, size - len(HEADER), np.uint8).tobytes()
    )
    path = tmp_path / "heap.dump"
    path.write_bytes(body)
    return path, body


def word(body: bytes, pos: int, width: int) -> int:
    return int.from_bytes(body[pos : pos + width], "little")


def test_words_across_chunks_and_only_the_chunks_asked_for(tmp_path: Path) -> None:
    size = 2 * CHUNK + 100
    path, body = a_dump(tmp_path, size)
    with DumpPages(DumpFile(path)) as pages:
        mem = pages.kernel_view()
        assert K.read_word(mem, 0, 8) == word(body, 0, 8)
        assert mem[1].tolist() == [1, 0, 0]  # the first chunk only
        for pos, width in ((CHUNK - 3, 8), (CHUNK - 4, 4), (size - 8, 8), (size - 1, 1)):
            assert K.read_word(mem, pos, width) == word(body, pos, width), (pos, width)
        assert mem[1].tolist() == [1, 1, 1]
        # outside the dump: nothing read, zero
        assert K.read_word(mem, size - 4, 8) == 0
        assert K.read_word(mem, -1, 8) == 0


def test_a_file_cut_shorter_reads_zeros(tmp_path: Path) -> None:
    path, body = a_dump(tmp_path, CHUNK + CHUNK // 2)
    with DumpPages(DumpFile(path)) as pages:
        os.truncate(path, CHUNK + 16)
        mem = pages.kernel_view()
        assert K.read_word(mem, CHUNK + 8, 8) == word(body, CHUNK + 8, 8)
        assert K.read_word(mem, CHUNK + 1000, 8) == 0


def test_the_answer_read_out_a_piece_at_a_time_is_the_same(monkeypatch) -> None:
    """The pass's table is read out and handed back to the system a piece at a time
    (typing.settle_releasing): on a real dump, pieces of 128 rows (4 KiB pages) give every
    object the type, length and reason one piece gives."""
    from heapspurs.analysis import typing as T

    from conftest import VERSIONS, loaded

    heap, typed = loaded(VERSIONS[-1]).heap, loaded(VERSIONS[-1]).names.typed
    assert heap.n_objects > 1000  # several pieces
    monkeypatch.setattr(T, "SETTLE_ROWS", 128)
    pieces = T.type_objects(heap, typed.types)
    assert np.array_equal(pieces.type, typed.type)
    assert np.array_equal(pieces.count, typed.count)
    assert np.array_equal(pieces.why, typed.why)
    assert (typed.type >= 0).mean() > 0.8  # the dump is typed, not all unknown alike

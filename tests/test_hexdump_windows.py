"""A hexdump never holds a huge record whole (issue 16.9): the CLI's text reads the record a
window at a time (the same lines whatever the window), the language server's answer shows
its first HEXDUMP_BYTES and says there is more."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from heapspurs.heap import model
from heapspurs.lsp import answers
from heapspurs.lsp.protocol import STATE_READY
from heapspurs.lsp.store import DumpEntry
from heapspurs.render import text

from conftest import loaded


def _largest(version: str) -> tuple:
    ld = loaded(version)
    return ld, int(np.argmax(ld.heap.size))


def test_cli_hexdump_read_in_windows_is_the_whole_record(monkeypatch: pytest.MonkeyPatch) -> None:
    ld, big = _largest("go1.27")
    heap = ld.heap
    offsets = (int(heap.cols.field_off[k]) for k in heap.fields_of(big))
    whole = list(text.hexdump_lines(heap.contents(big), offsets))
    monkeypatch.setattr(text, "HEXDUMP_WINDOW", 4096)
    assert int(heap.size[big]) > 3 * 4096
    assert list(text.record_hexdump_lines(heap, big)) == whole


def test_server_hexdump_stops_at_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    ld, big = _largest("go1.27")
    heap = ld.heap
    entry = DumpEntry(ld.path, Path(ld.path).as_uri(), state=STATE_READY, loaded=ld)
    monkeypatch.setattr(answers, "HEXDUMP_BYTES", 4096)
    out = answers.hexdump_answer(entry, int(heap.addr[big]), big)
    assert out["truncated"] is True
    assert bytes.fromhex(out["bytes"]) == heap.contents(big)[:4096]
    assert all(p["offset"] < 4096 for p in out["pointers"])
    assert f"(the first 4096 of {int(heap.size[big])} bytes)" in out["markdown"]
    small = int(np.argmin(heap.size))
    whole = answers.hexdump_answer(entry, int(heap.addr[small]), small)
    assert whole["truncated"] is False
    assert bytes.fromhex(whole["bytes"]) == heap.contents(small)


@pytest.mark.parametrize("version", ["go1.27", "go1.27-386", "go1.21"])
def test_pointers_read_from_the_record_are_the_columns(
    version: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A look-up reads an object's pointers from its record in the dump: the same offsets
    and values as the heap's columns, on every object (interface fields, 32-bit words),
    however many pointers it has."""
    monkeypatch.setattr(model, "FEW_POINTERS", 1 << 62)
    heap = loaded(version).heap
    off, val = heap.cols.field_off, heap.cols.field_val
    for obj in range(heap.n_objects):
        fields = heap.fields_of(obj)
        want = list(zip(off[fields].tolist(), val[fields].tolist(), strict=True))
        assert heap.pointers_of(obj) == want, hex(int(heap.addr[obj]))

"""The fast reader of Go's debugging entries (program/dies.py) against pyelftools, which it
stands in for: the same entries with the same attributes and values in the fixtures'
binaries (DWARF 4 and 5, 64- and 32-bit), pyelftools' own reading of a unit whose forms it
does not know, and damaged DWARF that raises only what the caller turns into a warning."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from heapspurs.program import dies as D
from heapspurs.program.dwarf import _walk, reading_errors

from conftest import VERSIONS, fixture


def dwarf_of(binary: Path):
    return ELFFile(io.BytesIO(binary.read_bytes())).get_dwarf_info()


def assert_same_tree(ours, theirs) -> int:
    """Both trees hold the same entries, attributes, forms and values; how many entries."""
    assert (ours.offset, ours.tag, ours.has_children) == (
        theirs.offset, theirs.tag, theirs.has_children)  # fmt: skip
    assert list(ours.attributes) == list(theirs.attributes), hex(ours.offset)
    for name, attr in ours.attributes.items():
        want = theirs.attributes[name]
        assert (attr.form, attr.value) == (want.form, want.value), (hex(ours.offset), name)
    kids, their_kids = list(ours.iter_children()), list(theirs.iter_children())
    assert len(kids) == len(their_kids), hex(ours.offset)
    return 1 + sum(assert_same_tree(a, b) for a, b in zip(kids, their_kids, strict=True))


@pytest.mark.parametrize("version", VERSIONS)
def test_entries_are_pyelftools_entries(version: str) -> None:
    binary = fixture(version).binary
    ours = list(D.top_dies(dwarf_of(binary)))
    theirs = [cu.get_top_DIE() for cu in dwarf_of(binary).iter_CUs()]
    assert all(isinstance(top, D.Die) for top in ours)  # every unit read by us
    assert len(ours) == len(theirs)
    assert sum(assert_same_tree(a, b) for a, b in zip(ours, theirs, strict=True)) > 10_000


def test_a_unit_with_a_form_we_do_not_read_is_read_by_pyelftools(monkeypatch) -> None:
    binary = fixture(VERSIONS[-1]).binary
    layouts = dict(D.LAYOUTS)
    del layouts["DW_FORM_udata"]  # as if Go's linker wrote a form we do not know
    monkeypatch.setattr(D, "LAYOUTS", layouts)
    tops = list(D.top_dies(dwarf_of(binary)))
    assert tops and not any(isinstance(top, D.Die) for top in tops)


@pytest.mark.parametrize("section", ["debug_info_sec", "debug_abbrev_sec"])
def test_damaged_entries_raise_only_what_becomes_a_warning(section: str) -> None:
    """Bytes changed, cut or run over: each reading ends, with an answer or one of the
    errors read_dies turns into 'cannot read its DWARF' (never another exception)."""
    binary = fixture(VERSIONS[-1]).binary
    good = getattr(dwarf_of(binary), section).stream.getvalue()
    rng = random.Random(section)
    for trial in range(12):
        bad = bytearray(good)
        at = rng.randrange(len(bad))
        if trial % 3 == 0:
            bad = bad[:at]
        elif trial % 3 == 1:
            bad[at : at + 16] = bytes(rng.randrange(256) for _ in range(16))
        else:
            bad[at] ^= 1 << rng.randrange(8)
        dwarf = dwarf_of(binary)
        descriptor = getattr(dwarf, section)
        setattr(dwarf, section, descriptor._replace(stream=io.BytesIO(bytes(bad)), size=len(bad)))
        try:
            _walk(dwarf, 8, None)
        except reading_errors():
            pass


def test_an_entry_with_an_undefined_abbreviation_is_named_by_its_offset() -> None:
    binary = fixture(VERSIONS[-1]).binary
    dwarf = dwarf_of(binary)
    top = next(D.top_dies(dwarf))
    entry = next(top.iter_children()).offset
    info = bytearray(dwarf.debug_info_sec.stream.getvalue())
    assert info[entry] < 0x80  # a one-byte code: replaced by one no table defines
    info[entry] = 0x7F
    dwarf = dwarf_of(binary)
    dwarf.debug_info_sec = dwarf.debug_info_sec._replace(stream=io.BytesIO(bytes(info)))
    with pytest.raises(
        ValueError, match=f"entry at .debug_info offset {entry:#x} has abbreviation 127"
    ):
        list(D.top_dies(dwarf))

"""Crafted values in real dumps: addresses and offsets near 2^64, over-long numbers, records
out of order, bytes after the end; and binaries and OID files that do not belong. The loader
and the streaming --print refuse the same inputs at the same byte, with one line and exit
status 1; what loads answers every query."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from heapspurs.dumpfile.columns import DumpFile, read_columns
from heapspurs.dumpfile.errors import DumpFormatError
from heapspurs.dumpfile.layout import TAG_BSS, TAG_DATA, TAG_OBJECT, TAG_PARAMS, TAG_STACK_FRAME
from heapspurs.dumpfile.records import iter_records
from heapspurs.loaded import load_dump
from heapspurs.names.oid import OidFileError, parse_oid_text, read_oid_file
from hostile import addresses_of, exercise

from conftest import fixture

F = fixture("go1.27")
NEAR_TOP = 2**64 - 8


def uvarint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def varint_end(data: bytes, pos: int) -> int:
    while data[pos] & 0x80:
        pos += 1
    return pos + 1


def first_record(tag: int, with_fields: bool = False):
    for rec in iter_records(DumpFile(F.dump)):
        if rec.tag == tag and (not with_fields or rec.values.get("fields")):
            return rec
    raise AssertionError(f"no record with tag {tag}")


def with_first_value(tag: int, value: int | bytes) -> tuple[bytes, int]:
    """The dump with the first value of the first ``tag`` record replaced; (bytes, the
    record's offset)."""
    data = F.dump.read_bytes()
    at = first_record(tag).offset + 1  # after the one-byte tag
    new = value if isinstance(value, bytes) else uvarint(value)
    return data[:at] + new + data[varint_end(data, at) :], at - 1


def refusals(path: Path) -> tuple[DumpFormatError, DumpFormatError]:
    """How the loader and the streaming decoder refuse ``path`` (each must)."""
    with pytest.raises(DumpFormatError) as loaded:
        read_columns(DumpFile(path))
    with pytest.raises(DumpFormatError) as streamed:
        for _ in iter_records(DumpFile(path)):
            pass
    return loaded.value, streamed.value


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "heapspurs.cli", *map(str, args)],
                          capture_output=True, text=True)  # fmt: skip


def assert_one_line_error(run: subprocess.CompletedProcess[str], words: str) -> None:
    assert run.returncode == 1, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0] and "Traceback" not in run.stderr, run.stderr


@pytest.mark.parametrize(
    ("tag", "value", "words"),
    [
        (TAG_DATA, NEAR_TOP, "past the end of the address space"),
        (TAG_BSS, NEAR_TOP, "past the end of the address space"),
        (TAG_STACK_FRAME, 2**64 - 1, "past the end of the address space"),
        (TAG_OBJECT, NEAR_TOP, "past the end of the address space"),
        (TAG_DATA, b"\xff" * 9 + b"\x7f", "past 64 bits"),
        (TAG_OBJECT, b"\xff" * 11, "runs over 10 bytes"),
    ],
    ids=["data", "bss", "frame", "object", "varint-overflow", "varint-long"],
)
def test_addresses_past_the_address_space_are_refused_where_read(
    tmp_path: Path, tag: int, value: int | bytes, words: str
) -> None:
    data, offset = with_first_value(tag, value)
    bad = tmp_path / "bad.dump"
    bad.write_bytes(data)
    loaded, streamed = refusals(bad)
    assert words in loaded.what and words in streamed.what
    assert loaded.offset == streamed.offset and offset <= loaded.offset <= offset + 12
    assert_one_line_error(cli(bad, "--print"), f"byte offset {loaded.offset}")
    assert_one_line_error(cli(bad, "--find", "."), f"byte offset {loaded.offset}")


@pytest.mark.parametrize("kind", [1, 2])
def test_field_offset_near_two_to_the_64_is_outside_its_record(tmp_path: Path, kind: int) -> None:
    """An iface field at 2^64 - 1 must not wrap round to offset 7 when its data word is
    taken (offset + pointer size)."""
    data = F.dump.read_bytes()
    rec = first_record(TAG_OBJECT, with_fields=True)
    kind_at = rec.contents_pos + rec.contents_len  # the field list: kind, offset, ...
    off_end = varint_end(data, kind_at + 1)
    crafted = data[:kind_at] + bytes([kind]) + uvarint(2**64 - 1) + data[off_end:]
    bad = tmp_path / "bad.dump"
    bad.write_bytes(crafted)
    loaded, streamed = refusals(bad)
    assert "outside its record" in loaded.what and "outside its record" in streamed.what
    assert loaded.offset == streamed.offset == kind_at + 1


def test_streaming_print_refuses_what_the_loader_refuses(tmp_path: Path) -> None:
    """Unknown field kind, bytes after the End Of File record, a record needing the pointer
    size before DumpParams: the same error at the same byte, exit status 1."""
    data = F.dump.read_bytes()
    rec = first_record(TAG_OBJECT, with_fields=True)
    kind_at = rec.contents_pos + rec.contents_len
    params = first_record(TAG_PARAMS)
    params_end = first_record_after(params.offset)
    first_object = first_record(TAG_OBJECT)
    after_object = first_record_after(first_object.offset)
    cases = {
        "field kind": data[:kind_at] + b"\x07" + data[kind_at + 1 :],
        "after EOF": data + b"\x00junk",
        "before params": data[: params.offset] + data[params_end:after_object]
        + data[params.offset : params_end] + data[after_object:],
    }  # fmt: skip
    words = {"field kind": "unknown field kind 7", "after EOF": "bytes follow the End Of File",
             "before params": "comes before DumpParams"}  # fmt: skip
    for name, crafted in cases.items():
        bad = tmp_path / f"{name.replace(' ', '-')}.dump"
        bad.write_bytes(crafted)
        loaded, streamed = refusals(bad)
        assert words[name] in loaded.what and words[name] in streamed.what, name
        assert loaded.offset == streamed.offset, (name, loaded, streamed)
        run = cli(bad, "--print")
        assert_one_line_error(run, words[name])


def first_record_after(offset: int) -> int:
    for rec in iter_records(DumpFile(F.dump)):
        if rec.offset > offset:
            return rec.offset
    raise AssertionError("no record after")


@pytest.mark.parametrize("tag", [4, 7, 9])  # goroutine, finalizer, OS thread: plain values
def test_values_near_two_to_the_64_answer_every_query(tmp_path: Path, tag: int) -> None:
    """A value is not an address of the dump's own: 2^64 - 1 anywhere a pointer may be loads,
    and every query (symbols from the real binary included) answers."""
    data, _ = with_first_value(tag, 2**64 - 1)
    crafted = tmp_path / "crafted.dump"
    crafted.write_bytes(data)
    loaded = load_dump(crafted, program=str(F.binary), oid_path=str(F.oid), cache=False)
    exercise(loaded, [*addresses_of(loaded), 2**64 - 1, 2**64 - 8], graph=True)


def test_print_with_another_programs_binary_names_nothing() -> None:
    """Every path that names with symbols checks the binary first: --print with another
    program's binary warns once and prints what it prints without a binary."""
    other = fixture("go1.25").binary
    run = cli(F.dump, "--print", "--program", other)
    assert run.returncode == 0 and run.stderr.count("\n") == 1
    assert "does not match the dump" in run.stderr
    assert run.stdout == cli(F.dump, "--print").stdout
    ok = cli(F.dump, "--print", "--program", F.binary)
    assert ok.returncode == 0 and "main.g" in ok.stdout


# --- OID files ---------------------------------------------------------------------------
def test_oid_lines_end_at_newline_only() -> None:
    """\\v, \\f, \\x1c-\\x1e, U+0085, U+2028, U+2029 belong to a name; CRLF and a BOM are fine."""
    odd = "\v\f\x1c\x1d\x1e\x85\u2028\u2029"
    table = parse_oid_text(f"\ufeff0x1 a{odd}b\r\n0x2 two\n")
    assert table.names == {1: f"a{odd}b", 2: "two"} and not table.problems
    bad = parse_oid_text(f"0x1 a{odd}\nnot an id\n")
    assert [p.line for p in bad.problems] == [2]


def test_oid_error_cuts_a_long_line_and_escapes_it(tmp_path: Path) -> None:
    oid = tmp_path / "oid.txt"
    oid.write_text("0x1 ok\n" + "\x1b[2J" + "x" * (8 << 20) + "\n")
    with pytest.raises(OidFileError) as err:
        read_oid_file(oid)
    assert err.value.line == 2 and len(str(err.value)) < 300
    assert "\x1b" not in str(err.value)


def test_ansi_escapes_in_names_reach_the_terminal_escaped(tmp_path: Path) -> None:
    oid = tmp_path / "oid.txt"
    text = F.oid.read_text()
    first = next(line for line in text.splitlines() if line.startswith("0x"))
    oid.write_text(text.replace(first, first + "\x1b[31mRED\x07", 1))
    run = cli("--oid", oid, F.dump, "--find", "RED")
    assert run.returncode == 0 and "RED" in run.stdout, run.stderr
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout
    assert "\\x1b[31mRED\\x07" in run.stdout


def test_one_line_oid_file_with_a_vertical_tab_is_one_line(tmp_path: Path) -> None:
    oid = tmp_path / "oid.txt"
    oid.write_text("0x1 a\vb")
    assert read_oid_file(oid) == {1: "a\vb"}


# --- names that are DOT, HTML or Markdown syntax ---------------------------------------
DOT_HOSTILE = ("nul\x00byte", "ends in a backslash\\", 'a "quote"', "ctl\x01\x1b[0m",
               "<b>html</b>", "<lt", "back\\lslash\\N")  # fmt: skip


def with_frame_names(data: bytes, prefix: str) -> bytes:
    """The dump with every stack frame's function name given ``prefix``."""
    out, last = bytearray(), 0
    for rec in iter_records(DumpFile(F.dump)):
        if rec.tag != TAG_STACK_FRAME:
            continue
        at = rec.contents_pos + rec.contents_len
        for _ in range(3):  # entry_pc, pc, continue_pc
            at = varint_end(data, at)
        name_start = varint_end(data, at)
        old = len(rec["name"].encode())  # the fixtures' names are ASCII
        name = prefix.encode() + data[name_start : name_start + old]
        out += data[last:at] + uvarint(len(name)) + name
        last = name_start + old
    return bytes(out + data[last:])


def test_graph_of_hostile_names_renders_with_dot(tmp_path: Path) -> None:
    """Function names and OID names holding NUL, a final backslash, quotes, control
    characters and HTML: `dot` draws every graph, and the names are there, as text."""
    import xml.etree.ElementTree as ET

    crafted = tmp_path / "names.dump"
    crafted.write_bytes(with_frame_names(F.dump.read_bytes(), DOT_HOSTILE[0] + DOT_HOSTILE[1]))
    oid = tmp_path / "oid.txt"
    lines = [ln for ln in F.oid.read_text().splitlines() if ln.startswith("0x")]
    oid.write_text("\n".join(f"{ln.split()[0]} {DOT_HOSTILE[i % len(DOT_HOSTILE)]}{i}"
                             for i, ln in enumerate(lines)) + "\n")  # fmt: skip
    for scenario in ("leak", "chan_blocked", "field_interior"):
        if scenario not in F.truth["scenarios"]:
            continue
        svg = tmp_path / f"{scenario}.svg"
        run = cli("--oid", oid, "--program", F.binary, crafted, "--address",
                  F.scenario(scenario)["address"], "--output", svg)  # fmt: skip
        assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
        text = "".join(ET.parse(svg).getroot().itertext())
        assert "\x00" not in text and "\x1b" not in text
        assert "\\x00" in text or "\\x01" in text or "quote" in text, text[:500]


# --- records larger than any window --------------------------------------------------------
def test_big_records_read_in_pieces_give_the_same_columns(monkeypatch) -> None:
    """With the window capped at 4 KB, every larger object record is read in pieces (field
    list, then the words it names) rather than held: the columns are the same."""
    import numpy as np

    from heapspurs.dumpfile import columns

    whole = read_columns(DumpFile(F.dump))
    monkeypatch.setattr(columns, "BIG_RECORD_BYTES", 4096)
    for version in ("go1.27", "go1.27-386"):
        dump = DumpFile(fixture(version).dump)
        pieces = read_columns(dump, window_bytes=1024)
        reference = whole if version == "go1.27" else read_columns(dump)
        for name, array in reference.arrays().items():
            assert np.array_equal(array, pieces.arrays()[name]), (version, name)


def write_sparse_dump(big: Path, size: int = 10 << 30) -> None:
    """A dump whose one object record (two pointers) spans ``size`` sparse bytes."""
    data = F.dump.read_bytes()
    params = first_record(TAG_PARAMS)
    head = data[: first_record_after(params.offset)] + b"\x01" + uvarint(0xC000000000)
    head += uvarint(size)
    with open(big, "wb") as f:
        f.write(head)
        f.seek(len(head) + size)
        f.write(b"\x01\x00\x01\x08\x00\x00")  # fields at 0 and 8, end; EOF record


def test_a_10_gb_sparse_record_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """One object record spanning a 10 GB sparse file: loaded without the process growing
    past a few hundred MB."""
    big = tmp_path / "big.heapdump"
    write_sparse_dump(big)
    # a fixture dump first: numba compiles the kernels (uncached on a fresh clone, which
    # takes hundreds of MB for a while); then the peak is reset and only the big load counts
    code = (
        "import re\n"
        "from heapspurs.loaded import load_dump\n"
        f"load_dump({str(F.dump)!r}, cache=False)\n"
        "open('/proc/self/clear_refs', 'w').write('5')\n"
        f"loaded = load_dump({str(big)!r}, cache=False)\n"
        "peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
        "print(loaded.heap.n_objects, loaded.heap.n_pointers(0), int(peak) // 1024)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    objects, pointers, rss_mb = map(int, run.stdout.split())
    assert (objects, pointers) == (1, 2)
    assert rss_mb < 700, rss_mb  # 415 MB measured: the window grows to 128 MB first


def test_a_frame_before_any_goroutine_answers(tmp_path: Path) -> None:
    """A stack frame record moved before every goroutine belongs to none (goroutine -1):
    the objects it holds answer every query (--anchors --json asked whether goroutine -1
    leaked: an OverflowError, found by bench/fuzz_campaign.py)."""
    from heapspurs.dumpfile.layout import TAG_GOROUTINE
    from heapspurs.heap import roots as R

    data = F.dump.read_bytes()
    frames = [r for r in iter_records(DumpFile(F.dump)) if r.tag == TAG_STACK_FRAME]
    goroutine = first_record(TAG_GOROUTINE)
    frame = next(f for f in frames if f.values["fields"])
    end = first_record_after(frame.offset)
    moved = data[: goroutine.offset] + data[frame.offset : end]
    moved += data[goroutine.offset : frame.offset] + data[end:]
    crafted = tmp_path / "frame-first.dump"
    crafted.write_bytes(moved)
    loaded = load_dump(crafted, program=str(F.binary), oid_path=str(F.oid), cache=False)
    heap = loaded.heap
    held = [int(heap.addr[t]) for k, t in zip(heap.roots.kind, heap.roots.target, strict=True)
            if k == R.FRAME and t >= 0]  # fmt: skip
    assert held
    exercise(loaded, held[:5])

"""Read a Go binary's DWARF (pyelftools, and :mod:`.dies` for its entries) into
:class:`GoTypes`: every type with its layout, the runtime type address of each, and the
globals with their types.

Go's linker writes the facts this needs (``cmd/link/internal/ld/dwarf.go``): attribute
0x2900 is the reflect kind, 0x2902 the element type, 0x2904 the type's runtime type
descriptor as an offset from the symbol ``runtime.types``. Maps, channels and interfaces
are typedefs with a kind over the runtime's own structs; the linker synthesises each map's
internal structs (``map<K,V>``/``table<K,V>``/``group`` for Swiss maps of Go >= 1.24,
``hash<K,V>``/``bucket<K,V>`` before) and each channel's ``hchan<T>``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..names.elf import ProgramError, read_symbols
from . import gotypes as G
from .dies import top_dies
from .frames import closure_captures, frame_variables, pc_span, runs_at
from .gotypes import GoTypes

AT_GO_KIND, AT_GO_ELEM, AT_GO_RUNTIME_TYPE = 0x2900, 0x2902, 0x2904
DW_OP_ADDR = 0x03
FramePcs = Callable[[], np.ndarray]  # the pcs of a dump's stack frames, when known
RECURSION_LIMIT = 20000
# reflect.Kind values the linker writes
R_CHAN, R_FUNC, R_INTERFACE, R_MAP = 18, 19, 20, 21
R_SLICE, R_STRING, R_UNSAFE_POINTER = 23, 24, 26
TYPE_TAGS = frozenset({
    "DW_TAG_base_type", "DW_TAG_pointer_type", "DW_TAG_structure_type", "DW_TAG_array_type",
    "DW_TAG_typedef", "DW_TAG_subroutine_type", "DW_TAG_unspecified_type",
})  # fmt: skip
REF_FORMS = frozenset({"DW_FORM_ref1", "DW_FORM_ref2", "DW_FORM_ref4", "DW_FORM_ref8",
                       "DW_FORM_ref_udata"})  # fmt: skip


class NoDwarf(Exception):
    """The binary has no usable DWARF (stripped, built with -ldflags=-w, damaged)."""


@dataclass
class _Die:
    tag: str
    name: str
    attrs: dict
    children: list[tuple[str, dict]] = field(default_factory=list)


def _ref(die, attr) -> int:
    """Absolute offset of the DIE an attribute refers to."""
    a = die.attributes[attr]
    return a.value + die.cu.cu_offset if a.form in REF_FORMS else a.value


def _plain(die) -> dict:
    out = {}
    for k, a in die.attributes.items():
        out[k] = _ref(die, k) if k == "DW_AT_type" or k == AT_GO_ELEM else a.value
    return out


def read_dies(path: str, frame_pcs: FramePcs | None = None) -> tuple:
    """The type DIEs (by offset), the globals (name, address, type DIE), the functions'
    stack variables (see :func:`frames.frame_variables`; with ``frame_pcs``, only of the
    functions running at one of the pcs it gives), the closures' contexts (function name,
    entry pc, captures: see :func:`frames.closure_captures`), the address of
    ``runtime.types``, the pointer size, and the code spans of the functions whose
    variables were read (None: all)."""
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            ptr_size = 8 if elf.elfclass == 64 else 4
            if not elf.has_dwarf_info() or elf.get_section_by_name(".debug_info") is None:
                raise NoDwarf(f"{path}: has no DWARF (built with -ldflags=-w or stripped)")
            types_base = _types_base(path)
            with _collector_held_off():
                walked = _walk(elf.get_dwarf_info(), ptr_size, frame_pcs)
    except reading_errors() as err:
        raise NoDwarf(f"{path}: cannot read its DWARF ({err})") from None
    except OSError as err:
        raise NoDwarf(f"{path}: cannot read: {err.strerror}") from None
    dies, globals_, functions, closures, spans = walked
    return dies, globals_, functions, closures, types_base, ptr_size, spans


def reading_errors() -> tuple[type[Exception], ...]:
    """What reading damaged DWARF raises (pyelftools' errors and ours): a warning, then
    untyped answers."""
    from elftools.common.exceptions import DWARFError, ELFError
    from elftools.construct import ConstructError

    # (pyelftools checks some of what it reads with assert)
    return (ELFError, DWARFError, ConstructError, zlib.error, ValueError, KeyError,
            IndexError, AttributeError, AssertionError)  # fmt: skip


def _types_base(path: str) -> int:
    """The address of ``runtime.types`` (the runtime type offsets' base)."""
    try:
        base = read_symbols(path).address_of("runtime.types")
    except ProgramError:
        base = None
    if base is None:
        raise NoDwarf(f"{path}: no symbol runtime.types (not a Go program, or stripped)")
    return base


@contextlib.contextmanager
def _collector_held_off() -> Iterator[None]:
    """Python's cycle collector paused: reading makes some 10^5 objects, and each young
    collection on the way scanned them all again (half the reading's time)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _walk(dwarf, ptr_size: int, frame_pcs: FramePcs | None) -> tuple:
    damaged = reading_errors()
    dies: dict[int, _Die] = {}
    globals_: list[tuple[str, int, int]] = []
    functions: list = []
    closures: list = []
    subprograms = []
    loclists = dwarf.location_lists()
    for top in top_dies(dwarf):
        for die in top.iter_children():
            name_attr = die.attributes.get("DW_AT_name")
            name = name_attr.value.decode("utf-8", "replace") if name_attr else ""
            if die.tag in TYPE_TAGS:
                d = _Die(die.tag, name, _plain(die))
                if die.has_children:
                    d.children = [(c.tag, _plain(c)) for c in die.iter_children()]
                dies[die.offset] = d
            elif die.tag == "DW_TAG_variable" and "DW_AT_type" in die.attributes:
                loc = die.attributes.get("DW_AT_location")
                expr = loc.value if loc is not None else None
                if isinstance(expr, list) and len(expr) == 1 + ptr_size and expr[0] == DW_OP_ADDR:
                    address = int.from_bytes(bytes(expr[1:]), "little")
                    globals_.append((name, address, _ref(die, "DW_AT_type")))
            elif die.tag == "DW_TAG_subprogram" and die.has_children and loclists is not None:
                subprograms.append(die)
                with contextlib.suppress(*damaged):
                    captures = closure_captures(die)
                    if captures:
                        closures.append((name, *captures))
    # the stack variables of the functions the dump's frames run (read meanwhile): their
    # location lists were 40 % of reading a binary
    pcs = np.sort(frame_pcs()) if frame_pcs is not None else None
    spans = []
    for die in subprograms:
        # one function's damaged location list leaves only its frames untyped
        with contextlib.suppress(*damaged):
            span = pc_span(die)
            if span is not None and (pcs is None or runs_at(span, pcs)):
                functions.extend(frame_variables(loclists, die))
                spans.append(span)
    read = None if pcs is None else np.array(sorted(spans), dtype=np.uint64).reshape(-1, 2)
    return dies, globals_, functions, closures, read


def _split_args(inner: str) -> tuple[str, str]:
    """``string,*main.T`` → (``string``, ``*main.T``): the comma outside brackets."""
    depth = 0
    for i, ch in enumerate(inner):
        if ch in "[(<{":
            depth += 1
        elif ch in "])>}":
            depth -= 1
        elif ch == "," and depth == 0:
            return inner[:i], inner[i + 1 :]
    return inner, ""


def readable_name(name: str) -> str:
    """The linker's names for runtime-internal structs, as a Go user reads them."""
    stars = len(name) - len(name.lstrip("*"))
    if stars:
        return "*" * stars + readable_name(name[stars:])
    if name.startswith("noalg."):
        name = name[len("noalg.") :]
    for prefix, shown in (
        ("map<", "map.hdr"),
        ("hash<", "map.hdr"),
        ("table<", "map.table"),
        ("bucket<", "map.bucket"),
        ("groupReference<", "map.groupReference"),
    ):
        if name.startswith(prefix) and name.endswith(">"):
            k, v = _split_args(name[len(prefix) : -1])
            return f"{shown}[{k}]{v}"
    for prefix in ("hchan<", "sudog<", "waitq<"):
        if name.startswith(prefix) and name.endswith(">"):
            return f"runtime.{prefix[:-1]}[{name[len(prefix) : -1]}]"
    return name


class _Builder:
    """Turns DIEs into the flat tables, one type id per distinct DIE (typedefs of structs,
    arrays and base types share their target's id)."""

    def __init__(self, dies: dict[int, _Die], ptr_size: int):
        self.dies = dies
        self.ptr = ptr_size
        self.ids: dict[int, int] = {}
        self.rows: list[dict] = []
        self.fields: list[list[tuple[str, int, int]]] = []

    def new(self, kind: int, name: str, size: int, **extra) -> int:
        row = {"kind": kind, "name": name, "size": size, "elem": -1, "length": 0, "aux": -1,
               "count_delta": 0, "count_width": 0, "count_how": 0, "slot_key": -1}  # fmt: skip
        row.update(extra)
        self.rows.append(row)
        self.fields.append([])
        return len(self.rows) - 1

    def type_of(self, offset: int) -> int:
        if offset in self.ids:
            return self.ids[offset]
        d = self.dies.get(offset)
        if d is None:
            t = self.new(G.NOPTR, "?", 0)
            self.ids[offset] = t
            return t
        if d.tag == "DW_TAG_typedef" and AT_GO_KIND not in d.attrs:
            t = self.type_of(d.attrs["DW_AT_type"]) if "DW_AT_type" in d.attrs else -1
            if t < 0:
                t = self.new(G.NOPTR, d.name, 0)
            self.ids[offset] = t
            return t
        t = self.new(G.NOPTR, readable_name(d.name), int(d.attrs.get("DW_AT_byte_size", 0)))
        self.ids[offset] = t  # before the parts: pointers may lead back here
        self._fill(t, d)
        return t

    def _fill(self, t: int, d: _Die) -> None:
        row, kind = self.rows[t], d.attrs.get(AT_GO_KIND, 0)
        target = d.attrs.get("DW_AT_type")
        if d.tag == "DW_TAG_typedef":  # map, chan, interface, func: a kind over runtime structs
            row["size"] = self.ptr if kind in (R_MAP, R_CHAN, R_FUNC) else 2 * self.ptr
            if kind == R_INTERFACE:
                under = self.dies.get(self._untypedef(target)) if target else None
                row["kind"] = G.EFACE if under and under.name == "runtime.eface" else G.IFACE
            elif kind in (R_MAP, R_CHAN):
                row["kind"] = G.MAP if kind == R_MAP else G.CHAN
                hdr = self.rows[self.type_of(target)]["elem"] if target else -1
                row["elem"] = hdr
                if kind == R_CHAN and hdr >= 0 and AT_GO_ELEM in d.attrs:
                    self._count_field(hdr, "buf", self.type_of(d.attrs[AT_GO_ELEM]), "dataqsiz")
            else:
                row["kind"] = G.FUNC
            return
        if d.tag == "DW_TAG_pointer_type":
            row["size"] = self.ptr
            if kind == R_UNSAFE_POINTER or target is None:
                row["kind"] = G.UNSAFE
            else:
                row["kind"], row["elem"] = G.PTR, self.type_of(target)
        elif d.tag == "DW_TAG_subroutine_type":
            row["kind"], row["size"] = G.FUNC, self.ptr
        elif d.tag == "DW_TAG_array_type":
            row["kind"], row["elem"] = G.ARRAY, self.type_of(target) if target else -1
            for tag, attrs in d.children:
                if tag == "DW_TAG_subrange_type":
                    upper = attrs.get("DW_AT_upper_bound", -1)
                    row["length"] = int(attrs.get("DW_AT_count", upper + 1))
        elif d.tag == "DW_TAG_structure_type":
            self._struct(t, d, kind)

    def _untypedef(self, offset: int) -> int:
        seen = 0
        while (d := self.dies.get(offset)) is not None and d.tag == "DW_TAG_typedef" and seen < 16:
            offset, seen = d.attrs.get("DW_AT_type", -1), seen + 1
        return offset

    def _struct(self, t: int, d: _Die, kind: int) -> None:
        row = self.rows[t]
        members = [
            (a.get("DW_AT_name", b"").decode("utf-8", "replace"),
             int(a.get("DW_AT_data_member_location", 0)), a["DW_AT_type"])
            for tag, a in d.children
            if tag == "DW_TAG_member" and "DW_AT_type" in a
        ]  # fmt: skip
        self.fields[t] = [(n, off, self.type_of(ref)) for n, off, ref in members]
        names = {n: (off, ft) for n, off, ft in self.fields[t]}
        if kind == R_SLICE:
            row["kind"], row["elem"] = G.SLICE, self.type_of(d.attrs[AT_GO_ELEM])
        elif kind == R_STRING:
            row["kind"] = G.STRING
        elif d.name == "runtime.eface":
            row["kind"] = G.EFACE
        elif d.name == "runtime.iface":
            row["kind"] = G.IFACE
        else:
            row["kind"] = G.STRUCT
            self._runtime_pointers(t, d.name, names)

    def _runtime_pointers(self, t: int, name: str, names: dict[str, tuple[int, int]]) -> None:
        """Pointers whose target's length or type sits in a word beside them."""
        if name.startswith("map<") and "dirPtr" in names:  # Swiss map header
            table_pp = names["dirPtr"][1]
            table_p = self.rows[table_pp]["elem"]
            table = self.rows[table_p]["elem"] if table_p >= 0 else -1
            group = self._group_of_table(table)
            off, _ = names["dirPtr"]
            dir_len_off, dir_len_t = names.get("dirLen", (off + self.ptr, -1))
            directory = self.new(G.DIRECTORY, "map.directory", self.ptr, elem=table_p,
                                 count_delta=dir_len_off - off,
                                 count_width=self._int_width(dir_len_t), aux=group)  # fmt: skip
            self._replace_field(t, "dirPtr", directory)
        elif name.startswith("groupReference<"):
            group_p = names.get("data", (0, -1))[1]
            if group_p >= 0 and self.rows[group_p]["kind"] == G.PTR:
                self._count_field(t, "data", self.rows[group_p]["elem"], "lengthMask",
                                  G.COUNT_PLUS_ONE)  # fmt: skip
        elif name.startswith("hash<"):
            for f in ("buckets", "oldbuckets"):
                bucket_p = names.get(f, (0, -1))[1]
                if bucket_p >= 0 and self.rows[bucket_p]["kind"] == G.PTR:
                    how = G.COUNT_POWER_OF_TWO
                    self._count_field(t, f, self.rows[bucket_p]["elem"], "B", how)
        elif (name.startswith("map.group[") or name.startswith("noalg.map.group[")
              or name.startswith("bucket<")):  # fmt: skip
            self.rows[t]["slot_key"] = self._slot_key(t)
        self._atomic_pointer(t, names)

    def _slot_key(self, group: int) -> int:
        """The key type of a map group's/bucket's slots (for ``["key"]`` in paths)."""
        for n, _, ft in self.fields[group]:
            if n == "keys":  # bucket<K,V>: keys [8]K
                return self.rows[ft]["elem"]
            if n == "slots":  # group: slots [8]struct{key K; elem V}
                slot = self.rows[ft]["elem"]
                return next((kt for kn, _, kt in self.fields[slot] if kn == "key"), -1)
        return -1

    def _atomic_pointer(self, t: int, names: dict[str, tuple[int, int]]) -> None:
        """``atomic.Pointer[T]`` keeps ``v unsafe.Pointer`` beside ``_ [0]*T``: a *T."""
        v = names.get("v")
        if not v or self.rows[v[1]]["kind"] != G.UNSAFE:
            return
        for n, _, ft in self.fields[t]:  # several fields are called _ (also _ noCopy)
            arr = self.rows[ft]
            zero = n == "_" and arr["kind"] == G.ARRAY and arr["length"] == 0 and arr["elem"] >= 0
            if zero and self.rows[arr["elem"]]["kind"] == G.PTR:
                self._replace_field(t, "v", arr["elem"])
                return

    def _group_of_table(self, table: int) -> int:
        for n, _, ft in self.fields[table] if table >= 0 else ():
            if n == "groups":
                for gn, _, gt in self.fields[ft]:
                    if gn == "data" and self.rows[gt]["kind"] in (G.PTR, G.COUNTED):
                        return self.rows[gt]["elem"]
        return -1

    def _int_width(self, t: int) -> int:
        return int(self.rows[t]["size"]) if t >= 0 else self.ptr

    def _count_field(self, t: int, ptr_field: str, elem: int, count_field: str,
                     how: int = G.COUNT_VALUE) -> None:  # fmt: skip
        by_name = {n: (off, ft) for n, off, ft in self.fields[t]}
        if ptr_field not in by_name or count_field not in by_name:
            return
        (poff, _), (coff, ct) = by_name[ptr_field], by_name[count_field]
        counted = self.new(G.COUNTED, f"*[]{self.rows[elem]['name']}", self.ptr, elem=elem,
                           count_delta=coff - poff, count_width=self._int_width(ct),
                           count_how=how)  # fmt: skip
        self._replace_field(t, ptr_field, counted)

    def closure_context(self, captures: list[tuple[str, int, int]]) -> int:
        """A closure's context as a struct: the code pointer ``F``, then each captured
        variable at its offset, named as reflect would print the struct."""
        fields = [("F", 0, self.new(G.NOPTR, "uintptr", self.ptr))]
        fields += sorted(((name, off, self.type_of(ref)) for name, ref, off in captures),
                         key=lambda f: f[1])  # fmt: skip
        end = max(off + int(self.rows[t]["size"]) for _, off, t in fields)
        shown = "; ".join(f"{n} {self.rows[t]['name']}" for n, _, t in fields)
        t = self.new(G.STRUCT, f"struct {{ {shown} }}", -(-end // self.ptr) * self.ptr)
        self.fields[t] = fields
        return t

    def traceable_channels(self) -> None:
        """Go >= 1.26 keeps a sudog's channel as ``maybeTraceableChan`` (an unsafe.Pointer
        and a uintptr): it is a ``*hchan``, which types what a parked goroutine waits on."""
        by_name = {r["name"]: t for t, r in enumerate(self.rows)}
        wrapper, hchan_p = by_name.get(TRACEABLE_CHAN, -1), by_name.get("*runtime.hchan", -1)
        if wrapper < 0 or hchan_p < 0:
            return
        for t, fields in enumerate(self.fields):
            for name, _, ft in fields:
                if ft == wrapper:
                    self._replace_field(t, name, hchan_p)

    def trie_nodes(self) -> None:
        """sync.Map (Go >= 1.24: ``internal/sync.HashTrieMap``) points at ``*node[K,V]``,
        which is the first field of either an ``entry[K,V]`` or an ``indirect[K,V]``: such
        pointers become TRIE_NODE. The compiler may describe the two only by their shape
        (``entry[go.shape.interface {},...]``), which has the same layout."""
        by_name = {r["name"]: t for t, r in enumerate(self.rows)}
        for row in self.rows:
            node = row["elem"] if row["kind"] == G.PTR else -1
            name = self.rows[node]["name"] if node >= 0 else ""
            if not name.startswith(TRIE_NODE_PREFIX):
                continue
            args = name[len(TRIE_NODE_PREFIX) :]
            entry, indirect = (self._instance(by_name, base, args) for base in TRIE_UNION)
            if entry >= 0 and indirect >= 0:
                row.update(kind=G.TRIE_NODE, elem=entry, aux=indirect)

    def _instance(self, by_name: dict[str, int], base: str, args: str) -> int:
        """Type ``base[args]``, else its shape instance (renamed as the user wrote it)."""
        if base + args in by_name:
            return by_name[base + args]
        shape = ",".join(f"go.shape.{a}" for a in _split_args(args[1:-1]) if a)
        t = by_name.get(f"{base}[{shape}]", -1)
        if t >= 0:
            self.rows[t]["name"] = base + args
        return t

    def _replace_field(self, t: int, name: str, new_type: int) -> None:
        self.fields[t] = [(n, off, new_type if n == name else ft) for n, off, ft in self.fields[t]]


TRACEABLE_CHAN = "runtime.maybeTraceableChan"
TRIE_NODE_PREFIX = "internal/sync.node"
TRIE_UNION = ("internal/sync.entry", "internal/sync.indirect")


def read_go_types(path: str | os.PathLike[str], frame_pcs: FramePcs | None = None) -> GoTypes:
    """Every type and global of the Go program at ``path``; :class:`NoDwarf` if it has none.
    ``frame_pcs``: gives the pcs of the dump's stack frames (it may wait for the dump to be
    read): only the stack variables of their functions are read (``GoTypes.frames_read``)."""
    dies, globals_, functions, closures, types_base, ptr, spans = read_dies(
        os.fspath(path), frame_pcs
    )
    # types are built depth first: a big program's chains of not-yet-seen types run deep
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, RECURSION_LIMIT))
    try:
        types = _read(_Builder(dies, ptr), dies, globals_, functions, closures, types_base, ptr)
    except RecursionError:
        raise NoDwarf(f"{os.fspath(path)}: its DWARF types nest too deeply to read") from None
    finally:
        sys.setrecursionlimit(limit)
    types.frames_read = spans
    return types


def _read(
    b: _Builder,
    dies: dict,
    globals_: list,
    functions: list,
    closures: list,
    types_base: int,
    ptr: int,
) -> GoTypes:
    rtypes: dict[int, int] = {}
    for offset, d in dies.items():
        rt = d.attrs.get(AT_GO_RUNTIME_TYPE, 0)
        t = b.type_of(offset)
        if rt and rt not in rtypes:
            rtypes[rt] = t
    b.trie_nodes()
    b.traceable_channels()
    glob = sorted((addr, b.type_of(ref), name) for name, addr, ref in globals_)
    variables = sorted((lo, hi, off, b.type_of(ref), name) for name, ref, lo, hi, off in functions)
    contexts = sorted((pc, b.closure_context(captures)) for _, pc, captures in closures)
    return _tables(b, rtypes, glob, variables, contexts, types_base, ptr)


def _tables(
    b: _Builder,
    rtypes: dict[int, int],
    glob: list,
    variables: list,
    contexts: list,
    types_base: int,
    ptr: int,
) -> GoTypes:
    rows = b.rows
    n = len(rows)

    def col(key: str, dtype) -> np.ndarray:
        return np.array([r[key] for r in rows], dtype=dtype)

    kind, size = col("kind", np.int8), col("size", np.int64)
    elem, length = col("elem", np.int32), col("length", np.int64)
    has_ptr = _has_pointers(kind, size, elem, length, b.fields)
    direct = _direct(kind, size, elem, length, b.fields, ptr)
    # fields that can hold a pointer, by offset (zero-size ones like `_ [0]*T` never do)
    kept = [[f for f in fs if has_ptr[f[2]] and size[f[2]] > 0] for fs in b.fields]
    first = np.zeros(n + 1, dtype=np.int64)
    first[1:] = np.cumsum([len(fs) for fs in kept])
    flat = [f for fs in kept for f in sorted(fs, key=lambda f: f[1])]
    keys = sorted(rtypes)
    return GoTypes(
        kind=kind, size=size, elem=elem, length=length, has_ptr=has_ptr, direct=direct,
        count_delta=col("count_delta", np.int64), count_width=col("count_width", np.int8),
        count_how=col("count_how", np.int8), aux=col("aux", np.int32),
        field_first=first,
        field_off=np.array([f[1] for f in flat], dtype=np.int64),
        field_type=np.array([f[2] for f in flat], dtype=np.int32),
        rtype_off=np.array(keys, dtype=np.uint64),
        rtype_type=np.array([rtypes[k] for k in keys], dtype=np.int32),
        global_addr=np.array([g[0] for g in glob], dtype=np.uint64),
        global_type=np.array([g[1] for g in glob], dtype=np.int32),
        names=[r["name"] for r in rows], field_names=[f[0] for f in flat],
        global_names=[g[2] for g in glob], types_base=types_base,
        map_slot_key=col("slot_key", np.int32),
        var_lo=np.array([v[0] for v in variables], dtype=np.uint64),
        var_hi=np.array([v[1] for v in variables], dtype=np.uint64),
        var_off=np.array([v[2] for v in variables], dtype=np.int64),
        var_type=np.array([v[3] for v in variables], dtype=np.int32),
        var_names=[v[4] for v in variables],
        closure_pc=np.array([c[0] for c in contexts], dtype=np.uint64),
        closure_type=np.array([c[1] for c in contexts], dtype=np.int32),
    )  # fmt: skip


def _has_pointers(kind, size, elem, length, fields) -> np.ndarray:
    """Whether a value of each type holds a pointer. Values nest only finitely (a struct
    cannot contain itself by value), so the recursion is as deep as the nesting."""
    known: dict[int, bool] = {}

    def holds(t: int) -> bool:
        if t not in known:
            known[t] = False  # a malformed cycle ends here instead of looping
            k = int(kind[t])
            if k == G.STRUCT:
                known[t] = any(holds(ft) for _, _, ft in fields[t])
            elif k == G.ARRAY:
                known[t] = bool(length[t] > 0 and elem[t] >= 0 and holds(int(elem[t])))
            else:
                known[t] = k != G.NOPTR
        return known[t]

    return np.array([holds(t) for t in range(len(kind))], dtype=np.bool_)


def _direct(kind, size, elem, length, fields, ptr: int) -> np.ndarray:
    """Types an interface holds in its data word itself (pointer-shaped), not boxed."""
    out = np.isin(kind, G.POINTER_SHAPED)
    for _ in range(4):  # struct{p *T} / [1]*T nest shallowly
        for t in np.flatnonzero((size == ptr) & ~out):
            k = int(kind[t])
            if k == G.STRUCT and len(fields[t]) == 1:
                out[t] = out[fields[t][0][2]]
            elif k == G.ARRAY and length[t] == 1 and elem[t] >= 0:
                out[t] = out[elem[t]]
    return out

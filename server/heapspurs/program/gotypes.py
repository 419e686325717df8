"""The Go types of one program, as flat tables the typing pass walks (plain data: no heap).

Type ``t`` has a kind, a size and a name written as Go's reflect prints it. Structs list
their fields (CSR ``field_first``); arrays, pointers, slices, channels and maps name their
element in ``elem``. A few kinds are not Go's own but say how to follow a pointer the
runtime hides behind an integer: ``COUNTED`` (a pointer to ``[count]elem`` whose count is
a word next to the pointer: a channel's buffer, a map's buckets or groups), ``DIRECTORY``
(a Swiss map's ``dirPtr``: one group when ``dirLen`` is 0, else ``[dirLen]*table``) and
``TRIE_NODE`` (sync.Map's ``*node[K,V]``: an ``entry[K,V]`` or an ``indirect[K,V]``, as the
node's first byte, ``isEntry``, says).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# kinds
NOPTR, PTR, UNSAFE, STRUCT, ARRAY, SLICE, STRING, EFACE, IFACE = 0, 1, 2, 3, 4, 5, 6, 7, 8
MAP, CHAN, FUNC, COUNTED, DIRECTORY, TRIE_NODE = 9, 10, 11, 12, 13, 14
# how a COUNTED pointer's count word becomes a count (``count_how``)
COUNT_VALUE, COUNT_PLUS_ONE, COUNT_POWER_OF_TWO = 0, 1, 2
# kinds whose value is one pointer word (stored directly in an interface's data word)
POINTER_SHAPED = (PTR, UNSAFE, MAP, CHAN, FUNC, TRIE_NODE)

UNKNOWN = -1
MAX_VARIABLE_SCAN = 4096  # variable ranges starting at or before a pc, looked at from the last


@dataclass
class GoTypes:
    """Every type of a program, plus its globals and its runtime type addresses."""

    kind: np.ndarray  # int8
    size: np.ndarray  # int64, bytes
    elem: np.ndarray  # int32: pointee, element, map header, COUNTED/DIRECTORY target; -1
    length: np.ndarray  # int64: array length
    has_ptr: np.ndarray  # bool: a value of this type holds a pointer
    direct: np.ndarray  # bool: stored directly in an interface's data word
    count_delta: np.ndarray  # int64: COUNTED/DIRECTORY: count word's offset from the pointer
    count_width: np.ndarray  # int8: its size in bytes
    count_how: np.ndarray  # int8: COUNT_*
    aux: np.ndarray  # int32: DIRECTORY: the group type (dirLen == 0); TRIE_NODE: indirect
    field_first: np.ndarray  # int64 [n_types + 1]: a struct's fields
    field_off: np.ndarray  # int64
    field_type: np.ndarray  # int32
    rtype_off: np.ndarray  # uint64, sorted: runtime type address - runtime.types
    rtype_type: np.ndarray  # int32: the type with that runtime type
    global_addr: np.ndarray  # uint64, sorted
    global_type: np.ndarray  # int32
    names: list[str]
    field_names: list[str]
    global_names: list[str]
    types_base: int  # address of runtime.types in this binary
    map_slot_key: np.ndarray  # int32 per type: a map group/bucket's key type, else -1
    # stack variables: on the stack at CFA + var_off while var_lo <= pc < var_hi (sorted)
    var_lo: np.ndarray  # uint64
    var_hi: np.ndarray  # uint64
    var_off: np.ndarray  # int64
    var_type: np.ndarray  # int32
    var_names: list[str]
    # closures: a context whose code pointer is closure_pc (sorted) is a closure_type
    closure_pc: np.ndarray  # uint64
    closure_type: np.ndarray  # int32
    # the code spans [low, high] (uint64 [k, 2], sorted) of the functions whose stack
    # variables were read: those a dump's frames run; None: every function
    frames_read: np.ndarray | None = None

    ARRAYS = (
        "kind", "size", "elem", "length", "has_ptr", "direct", "count_delta", "count_width",
        "count_how", "aux", "field_first", "field_off", "field_type", "rtype_off",
        "rtype_type", "global_addr", "global_type", "map_slot_key", "var_lo", "var_hi",
        "var_off", "var_type", "closure_pc", "closure_type",
    )  # fmt: skip

    def problem(self) -> str | None:
        """What makes these tables unsafe for the compiled typing pass (they index arrays
        with each other's values), or None: for tables read back from a file."""
        n, n_fields = self.n_types, len(self.field_off)
        per_type = ("size", "elem", "length", "has_ptr", "direct", "count_delta",
                    "count_width", "count_how", "aux", "map_slot_key")  # fmt: skip
        if any(len(getattr(self, a)) != n for a in per_type) or len(self.names) != n:
            return "a per-type table's length is not the number of types"
        first = self.field_first
        ends_right = len(first) == n + 1 and first[0] == 0 and first[-1] == n_fields
        if not ends_right or (np.diff(first) < 0).any():
            return "the struct field index is not ascending over every field"
        if len(self.field_type) != n_fields or len(self.field_names) < n_fields:
            return "the field tables' lengths differ"
        refs = (self.elem, self.aux, self.map_slot_key, self.field_type, self.rtype_type,
                self.global_type, self.var_type, self.closure_type)  # fmt: skip
        if any(len(r) and (r.min() < -1 or r.max() >= n) for r in refs):
            return "a type reference is outside the type table"
        if (self.size < 0).any() or (self.length < 0).any() or (self.field_off < 0).any():
            return "a size, length or field offset is negative"
        if (self.rtype_off[1:] < self.rtype_off[:-1]).any():
            return "runtime type offsets are not sorted"
        pairs = ((self.closure_pc, self.closure_type), (self.rtype_off, self.rtype_type),
                 (self.global_addr, self.global_type), (self.var_lo, self.var_type),
                 (self.var_hi, self.var_type), (self.var_off, self.var_type))  # fmt: skip
        if any(len(keys) != len(values) for keys, values in pairs):
            return "a look-up table's keys and values differ in length"
        return None

    @property
    def n_types(self) -> int:
        return len(self.kind)

    def fields_of(self, t: int) -> range:
        return range(int(self.field_first[t]), int(self.field_first[t + 1]))

    def by_runtime_type(self, address: int) -> int:
        """The type whose runtime type descriptor sits at ``address``; -1 if none."""
        off = np.uint64((address - self.types_base) % (1 << 64))
        i = int(np.searchsorted(self.rtype_off, off))
        if i < len(self.rtype_off) and self.rtype_off[i] == off:
            return int(self.rtype_type[i])
        return UNKNOWN

    def global_at(self, address: int) -> tuple[int, int, int]:
        """(global index, its type, offset inside it) of a data/bss address; index -1."""
        i = int(np.searchsorted(self.global_addr, np.uint64(address), side="right")) - 1
        if i >= 0:
            t = int(self.global_type[i])
            off = address - int(self.global_addr[i])
            if off < int(self.size[t]):
                return i, t, off
        return UNKNOWN, UNKNOWN, 0

    def frame_variable(self, pc: int, cfa: int, slot: int) -> tuple[int, int]:
        """(variable index, offset inside it) of the variable holding stack address ``slot``
        in a frame at ``pc`` whose CFA is ``cfa``; (-1, 0) when none is known there."""
        hi = int(np.searchsorted(self.var_lo, np.uint64(pc), side="right"))
        for v in range(hi - 1, max(hi - MAX_VARIABLE_SCAN, 0) - 1, -1):
            if pc >= int(self.var_hi[v]):
                continue
            start = cfa + int(self.var_off[v])
            if start <= slot < start + int(self.size[self.var_type[v]]):
                return v, slot - start
        return UNKNOWN, 0

    def tables(self) -> tuple[np.ndarray, ...]:
        """What the compiled typing kernels take, in their argument order."""
        return (self.kind, self.size, self.elem, self.length, self.has_ptr, self.direct,
                self.count_delta, self.count_width, self.count_how, self.aux,
                self.field_first, self.field_off, self.field_type)  # fmt: skip

    # --- saving beside the heap index -------------------------------------------------
    def save(self, folder: Path) -> None:
        for name in self.ARRAYS:
            np.save(folder / f"types_{name}.npy", getattr(self, name))
        text = {"names": self.names, "field_names": self.field_names,
                "global_names": self.global_names, "types_base": self.types_base,
                "var_names": self.var_names}  # fmt: skip
        (folder / "types.json").write_text(json.dumps(text))
        if self.frames_read is not None:
            np.save(folder / "types_frames_read.npy", self.frames_read)

    @classmethod
    def load(cls, folder: Path) -> GoTypes:
        arrays = {name: np.load(folder / f"types_{name}.npy") for name in cls.ARRAYS}
        text = json.loads((folder / "types.json").read_text())
        spans = folder / "types_frames_read.npy"
        frames_read = np.load(spans).reshape(-1, 2) if spans.exists() else None
        return cls(**arrays, **text, frames_read=frames_read)

    def covers(self, pcs: np.ndarray) -> bool:
        """Whether the stack variables of the functions running at ``pcs`` were read."""
        if self.frames_read is None or not len(pcs):
            return True
        lo, hi = self.frames_read[:, 0], self.frames_read[:, 1]
        i = np.searchsorted(lo, pcs.astype(np.uint64), side="right") - 1
        inside = (i >= 0) & (pcs <= hi[np.maximum(i, 0)])
        return bool(inside.all())

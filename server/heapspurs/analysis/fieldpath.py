"""Field paths: which field of each object on an anchor chain leads to the next, written as
Go reads (``.Next``, ``.Ptrs[4999]``, ``[0]``, ``["alpha"]``), so a chain reads like the
expression that reaches the object: ``main.gSessions["42"].reqs[3]``."""

from __future__ import annotations

import json
import re
from typing import Literal

import numba
import numpy as np
from numba import types
from numba.typed import Dict

from ..dumpfile import layout as L
from ..heap import graph
from ..heap import roots as R
from ..heap.model import MALLOC_HEADER_BYTES, Heap
from ..names.naming import Names
from ..program import gotypes as G
from ..program.gotypes import GoTypes
from ..program.static import static_bytes
from .describe import RootInfo
from .typing import frame_slot_position, frame_slot_variable

# the runtime's parts of a map: a path goes through them without a word
MAP_INTERNAL = re.compile(r"^(\[\d+\])?\*?(map\.hdr|map\.table|map\.groupReference)\[")
MAX_KEY_BYTES = 256  # longer string keys are shown by position, not spelled out
INTEGER_NAMES = frozenset({"int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16",
                           "uint32", "uint64", "uintptr"})  # fmt: skip


def chain_fields(heap: Heap, names: Names, root: int, path: np.ndarray) -> list[str]:
    """``fields[0]``: the selector inside root ``root`` that points at ``path[0]``;
    ``fields[i]``: the selector inside ``path[i-1]`` that points at ``path[i]``. A value
    reached through an interface is entered with its type assertion: ``.(main.Point).Label``."""
    paths = _Paths(heap, names)
    text, assertion = paths.root_selector(root)
    fields, assertions = [text], {0: assertion} if assertion else {}
    if len(path) > 1:
        nodes, down = path[:-1], path[1:]
        ks = graph.pointing_fields(nodes, down, heap.cols.obj_first, heap.field_target)
        links, entered = _link_selectors(heap, names, paths, nodes, ks)
        fields += links
        assertions |= {i + 1: a for i, a in entered.items()}
    for i, entered_type in assertions.items():  # the next selector is inside that type
        if i + 1 < len(fields):
            fields[i + 1] = f".({entered_type})" + fields[i + 1]
    return fields


def _link_selectors(
    heap: Heap, names: Names, paths: _Paths, nodes: np.ndarray, ks: np.ndarray
) -> tuple[list[str], dict[int, str]]:
    """object_selector of each (node, pointer field): the selectors, and the type
    assertions by position. The untyped owners' (``+0x18``) come in bulk, each distinct
    offset formatted once: a chain of a million untyped links (a long list) costs a few
    numpy passes, not a million calls."""
    untyped = ks >= 0
    if names.typed.types is not None:
        untyped &= names.typed.type[nodes] < 0
    at = np.flatnonzero(untyped)
    rel = heap.cols.field_off[ks[at]].astype(np.int64)
    rel -= np.where(heap.has_header[nodes[at]], MALLOC_HEADER_BYTES, 0)
    distinct, inverse = np.unique(rel, return_inverse=True)
    texts = [f"+{r:#x}" for r in distinct.tolist()]
    if len(at) == len(nodes):  # every link untyped: the common case of a long chain
        return [texts[j] for j in inverse.reshape(-1).tolist()], {}
    out = [""] * len(nodes)
    for i, j in zip(at.tolist(), inverse.reshape(-1).tolist(), strict=True):
        out[i] = texts[j]
    assertions = {}
    for i in np.flatnonzero((ks >= 0) & ~untyped).tolist():
        out[i], assertion = paths.object_selector(int(nodes[i]), int(ks[i]))
        if assertion:
            assertions[i] = assertion
    return out, assertions


def edge_selectors(heap: Heap, names: Names, edges: list[tuple[int, int]]) -> list[str]:
    """The selector inside ``src`` of the first pointer to ``dst``, for each edge (``""``
    when untyped or when none)."""
    if names.typed.types is None or not edges:
        return ["" for _ in edges]
    src = np.array([e[0] for e in edges], dtype=np.int32)
    dst = np.array([e[1] for e in edges], dtype=np.int32)
    ks = graph.pointing_fields(src, dst, heap.cols.obj_first, heap.field_target)
    paths = _Paths(heap, names)
    return [paths.object_selector(o, k)[0] for o, k in zip(src.tolist(), ks.tolist(), strict=True)]


def owner_fields(
    heap: Heap, names: Names, nodes: np.ndarray, down: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """For owner-tree lines: the selector inside ``nodes[i]`` of its first pointer to
    ``down[i]``, as an index into a list of distinct selectors (-1: none, untyped, or the
    tree's own object). A selector depends only on the owner's type and the slot's offset,
    except inside map groups and buckets (it names the key), so a tree of millions of
    lines works out each (type, offset) once."""
    ids = np.full(len(nodes), -1, dtype=np.int32)
    types, typed = names.typed.types, names.typed
    if types is None or not len(nodes):
        return ids, []
    ks = graph.pointing_fields(nodes, down, heap.cols.obj_first, heap.field_target)
    has = np.flatnonzero((ks >= 0) & (typed.type[nodes] >= 0))
    owners, slots = nodes[has], ks[has]
    t = typed.type[owners].astype(np.int64)
    rel = heap.cols.field_off[slots].astype(np.int64)
    rel -= np.where(heap.has_header[owners], MALLOC_HEADER_BYTES, 0)
    keys = np.stack([t, (typed.count[owners] >= 0).astype(np.int64), rel], axis=1)
    keyed = types.map_slot_key[t] < 0  # inside map groups and buckets: one by one
    paths, texts = _Paths(heap, names), list[str]()
    seen: dict[str, int] = {}
    uniq, first, inverse = np.unique(keys[keyed], axis=0, return_index=True, return_inverse=True)
    at = np.flatnonzero(keyed)
    ids_of_key = [_text_id(paths.object_selector(int(owners[at[i]]), int(slots[at[i]]))[0],
                           seen, texts) for i in first.tolist()]  # fmt: skip
    ids[has[at]] = np.asarray(ids_of_key, dtype=np.int32)[inverse.reshape(-1)] if len(uniq) else -1
    for i in np.flatnonzero(~keyed).tolist():
        text = paths.object_selector(int(owners[i]), int(slots[i]))[0]
        ids[has[i]] = _text_id(text, seen, texts)
    return ids, texts


def _text_id(text: str, seen: dict[str, int], texts: list[str]) -> int:
    if not text:
        return -1
    if text not in seen:
        seen[text] = len(texts)
        texts.append(text)
    return seen[text]


class _Paths:
    """Selectors of one dump's objects and roots."""

    def __init__(self, heap: Heap, names: Names):
        self.heap, self.names = heap, names
        self.types = names.typed.types
        self.binary = names.symbols.path if names.symbols else None
        self.ptr = heap.params.ptr_size
        self.order: Literal["big", "little"] = "big" if heap.params.big_endian else "little"

    def root_selector(self, root: int) -> tuple[str, str | None]:
        heap, types = self.heap, self.types
        kind = int(heap.roots.kind[root])
        if types is not None and kind == R.FRAME:
            return self._frame_selector(root)
        if types is None or kind not in (R.DATA, R.BSS):
            return "", None
        slot = int(heap.roots.slot[root])
        _, t, rel = types.global_at(slot)
        if t < 0:
            return "", None
        row = heap.rec(int(heap.roots.rec[root]))
        at = row[R.COL_CONTENTS] + slot - row[R.COL_ADDR]  # the slot's offset in the file
        return self.selector(t, -1, rel, lambda off: heap.dump.bytes_at(at + off, self.ptr))

    def _frame_selector(self, root: int) -> tuple[str, str | None]:
        """The stack variable's name and the selector inside it: ``held``, ``req.Body``."""
        heap, types = self.heap, self.types
        assert types is not None
        row, slot = int(heap.roots.rec[root]), int(heap.roots.slot[root])
        v, rel = frame_slot_variable(heap, types, row, slot)
        if v < 0:
            return "", None
        at = frame_slot_position(heap, row, slot)
        text, assertion = self.selector(
            int(types.var_type[v]), -1, rel, lambda off: heap.dump.bytes_at(at + off, self.ptr)
        )
        return types.var_names[v] + text, assertion

    def object_selector(self, obj: int, field: int) -> tuple[str, str | None]:
        """The selector of pointer field ``field`` inside ``obj`` (``+0x18`` when untyped)."""
        heap, typed = self.heap, self.names.typed
        if field < 0:
            return "", None
        rel = int(heap.cols.field_off[field]) - heap.value_offset(obj)
        t = int(typed.type[obj])
        if t < 0 or self.types is None:
            return f"+{rel:#x}", None
        if MAP_INTERNAL.match(self.names.type_name(obj)):
            return "", None
        at = int(heap.cols.field_off[field])
        data = heap.contents(obj)
        count = int(typed.count[obj])
        return self.selector(t, count, rel, lambda off: data[at + off : at + off + self.ptr], obj)

    def selector(
        self, t: int, count: int, rel: int, word_beside, obj: int = -1
    ) -> tuple[str, str | None]:
        """``.A.B[3]`` for byte ``rel`` of a value of type ``t`` (``[count]t`` when count >= 0);
        inside a map's group or bucket, the entry's key: ``["alpha"]``. Also the dynamic
        type when the pointer is an interface's data word (``word_beside(-ptr)`` reads its
        type word)."""
        types = self.types
        assert types is not None
        parts: list[str] = []
        if count >= 0:
            es = max(int(types.size[t]), 1)
            parts.append(f"[{rel // es}]")
            rel %= es
        group, group_rel = t, rel
        while True:
            k = int(types.kind[t])
            if k == G.STRUCT:
                f = _field_at(types, t, rel)
                if f < 0:
                    break
                parts.append("." + types.field_names[f])
                rel -= int(types.field_off[f])
                t = int(types.field_type[f])
            elif k == G.ARRAY and types.elem[t] >= 0:
                es = max(int(types.size[types.elem[t]]), 1)
                parts.append(f"[{rel // es}]")
                rel %= es
                t = int(types.elem[t])
            else:
                break
        assertion = None
        if int(types.kind[t]) in (G.EFACE, G.IFACE) and rel == self.ptr:
            assertion = self._dynamic_type(int(types.kind[t]), word_beside(-self.ptr))
        key_type = int(types.map_slot_key[group])
        if key_type >= 0 and obj >= 0:
            key = self._map_key(group, group_rel, parts, key_type, obj, count)
            if key is not None:
                return key, assertion
        return "".join(parts), assertion

    def _dynamic_type(self, kind: int, word: bytes) -> str | None:
        assert self.types is not None
        address = int.from_bytes(word, self.order)
        if kind == G.IFACE:
            address = self._itabs().get(address, 0)
        t = self.types.by_runtime_type(address) if address else -1
        return self.types.names[t] if t >= 0 else None

    def _itabs(self) -> dict[int, int]:
        recs = self.heap.cols.recs[self.heap.rows(L.TAG_ITAB)]
        return dict(zip(recs[:, 2].tolist(), recs[:, 3].tolist(), strict=True))

    def _map_key(self, group, rel, parts, key_type, obj, count) -> str | None:
        """``["alpha"]`` for a pointer in an entry's value of a map group (Swiss) or bucket."""
        types = self.types
        assert types is not None
        head = 1 if count >= 0 else 0  # the group's index in an array of groups
        names = parts[head:]
        if len(names) < 2:
            return None
        base = int(parts[0][1:-1]) * int(types.size[group]) if head else 0
        slot = int(names[1][1:-1])
        if names[0] == ".slots" and names[2:3] == [".elem"]:  # Swiss: slots[i].{key, elem}
            slots_f = _field_named(types, group, "slots")
            slot_t = int(types.elem[types.field_type[slots_f]])
            key_f = _field_named(types, slot_t, "key")
            key_off = (int(types.field_off[slots_f]) + slot * int(types.size[slot_t])
                       + (int(types.field_off[key_f]) if key_f >= 0 else 0))  # fmt: skip
            rest = names[3:]
        elif names[0] == ".values":  # buckets: keys [8]K before values [8]V
            keys_f = _field_named(types, group, "keys")
            keys_off = int(types.field_off[keys_f]) if keys_f >= 0 else 8  # after tophash
            key_off = keys_off + slot * int(types.size[key_type])
            rest = names[2:]
        else:
            return None
        text = self._key_text(key_type, obj, base + key_off)
        return None if text is None else f"[{text}]" + "".join(rest)

    def _key_text(self, key_type: int, obj: int, off: int) -> str | None:
        types, heap = self.types, self.heap
        assert types is not None
        data = heap.contents(obj)
        at, ptr = heap.value_offset(obj) + off, self.ptr
        kind, name = int(types.kind[key_type]), types.names[key_type]
        if kind == G.STRING:
            p = int.from_bytes(data[at : at + ptr], self.order)
            n = int.from_bytes(data[at + ptr : at + 2 * ptr], self.order)
            s = _string_at(heap, self.binary, p, n)
            return None if s is None else json.dumps(s, ensure_ascii=False)
        if name in INTEGER_NAMES:
            size = int(types.size[key_type])
            raw = data[at : at + size]
            return str(int.from_bytes(raw, self.order, signed=not name.startswith("u")))
        return None


def _field_at(types: GoTypes, t: int, rel: int) -> int:
    fields = types.fields_of(t)
    offs = types.field_off[fields.start : fields.stop]
    i = int(np.searchsorted(offs, rel, side="right")) - 1
    if i < 0:
        return -1
    f = fields.start + i
    return f if rel < int(types.field_off[f]) + int(types.size[types.field_type[f]]) else -1


def _field_named(types: GoTypes, t: int, name: str) -> int:
    """A field by name; only pointer-holding fields are kept, so a key without pointers is
    not found (it is the first field of its slot, at offset 0)."""
    return next((f for f in types.fields_of(t) if types.field_names[f] == name), -1)


def _string_at(heap: Heap, binary: str | None, address: int, length: int) -> str | None:
    """A string's bytes: in the heap, or a literal in the binary's read-only data."""
    if length > MAX_KEY_BYTES:
        return None
    o = heap.find(address)
    if o >= 0:
        start = address - int(heap.addr[o])
        raw: bytes | None = heap.contents(o)[start : start + length]
    else:
        raw = static_bytes(binary, address, length) if binary else None
    return raw.decode("utf-8", "replace") if raw is not None and len(raw) == length else None


def path_text(root: RootInfo, fields: list[str]) -> str:
    """The chain as one Go expression: ``main.gSessions["42"].reqs[3]``; from a stack frame
    it starts at the variable (``held.Child``)."""
    if root.kind == "goroutine" and fields and fields[0]:
        return "".join(fields)
    return root.name + "".join(fields)


def value_type_at(heap: Heap, names: Names, obj: int, address: int) -> str:
    """The type of the value at ``address`` inside ``obj``: the element of an array, the
    object's type otherwise."""
    typed = names.typed
    t, count = int(typed.type[obj]), int(typed.count[obj])
    if t < 0 or typed.types is None or count < 0:
        return names.type_name(obj)
    return typed.types.names[t]


def slot_selectors(
    heap: Heap, names: Names, owners: np.ndarray, fields: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """The selector of pointer field ``fields[i]`` inside ``owners[i]``, from the owner's
    type and the slot's offset alone (``.Next``, ``[3].Body``; no map keys and no type
    assertions, which need each object's bytes), as an index into a list of distinct
    selectors (-1: untyped, a map's internals, or no field). Each (type, offset) is worked
    out once: millions of pointers cost one compiled pass."""
    ids = np.full(len(owners), -1, dtype=np.int32)
    typed = names.typed
    if typed.types is None or not len(owners):
        return ids, []
    label, labels = typed.name_index(heap)
    first = np.empty(len(owners), np.int64)
    count = _slot_keys(owners, fields, typed.type, label, heap.cols.field_off, heap.has_header,
                       MALLOC_HEADER_BYTES, ids, first)  # fmt: skip
    paths, texts, seen = _Paths(heap, names), list[str](), dict[str, int]()
    blank = bytes(paths.ptr)
    key_ids = np.empty(count, dtype=np.int32)
    for j, i in enumerate(first[:count].tolist()):
        o, k = int(owners[i]), int(fields[i])
        if MAP_INTERNAL.match(labels[int(label[o])]):
            key_ids[j] = -1
            continue
        rel = int(heap.cols.field_off[k]) - heap.value_offset(o)
        text, _ = paths.selector(int(typed.type[o]), int(typed.count[o]), rel, lambda off: blank)
        key_ids[j] = _text_id(text, seen, texts)
    _renumber(ids, key_ids)
    return ids, texts


@numba.njit(cache=True, nogil=True)
def _slot_keys(owners, fields, type_, label, field_off, has_header, header, ids, first):
    """Number the distinct (owner's type label, offset in its value) of each pointer in the
    order met, into ``ids`` (-1: an untyped owner); ``first[j]``: where number ``j`` was
    first met. Returns how many. A hash table over one pass, no temporary arrays (on this
    kind of machine every fresh 100 MB costs a quarter of a second in page faults)."""
    numbers = Dict.empty(key_type=types.int64, value_type=types.int64)
    count = 0
    for i in range(owners.shape[0]):
        o = owners[i]
        if type_[o] < 0:
            continue
        rel = np.int64(field_off[fields[i]]) - (header if has_header[o] else 0)
        key = (np.int64(label[o]) << 32) + rel
        j = numbers.get(key, -1)
        if j < 0:
            j = count
            numbers[key] = j
            first[j] = i
            count += 1
        ids[i] = j
    return count


@numba.njit(cache=True, nogil=True)
def _renumber(ids, new):
    """``ids[i] = new[ids[i]]`` where ``ids[i] >= 0``, in place."""
    for i in range(ids.shape[0]):
        if ids[i] >= 0:
            ids[i] = new[ids[i]]

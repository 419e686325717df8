"""Names for objects and addresses: OIDs for heap objects, ELF symbols for globals."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np

from ..analysis.typing import ObjectTypes, untyped
from ..heap.model import MALLOC_HEADER_BYTES, TINY_BLOCK, Heap
from .elf import Symbols


class Names:
    """What to call an object or an address of one dump."""

    def __init__(
        self,
        heap: Heap,
        oids: dict[int, str] | None = None,
        symbols: Symbols | None = None,
        typed: ObjectTypes | None = None,
    ):
        self.heap = heap
        self.symbols = symbols
        self.typed = typed if typed is not None else untyped(heap)
        self.oid_names: list[str] = []
        # -1 (unnamed) for every object, without writing an array until OIDs are given
        unnamed = np.broadcast_to(np.int32(-1), (heap.n_objects,))
        self.name_index = self.second_index = unnamed
        self.oid_value = np.zeros(heap.n_objects, dtype=np.uint64)
        self.second_value = np.zeros(heap.n_objects, dtype=np.uint64)
        self._words_read = False
        self._tables: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
        self._label_index: np.ndarray | None = None  # built once per OID table and typing
        if oids:
            self.set_oids(oids)

    @cached_property
    def tiny(self) -> np.ndarray:
        """Tiny blocks (16 pointer-free bytes): they can hold a second object at +8."""
        first = self.heap.cols.obj_first
        return (self.heap.size == TINY_BLOCK) & (first[1:] == first[:-1])

    def is_tiny(self, obj: int) -> bool:
        """``tiny[obj]`` without the mask of every object (one answer needs one check)."""
        first = self.heap.cols.obj_first
        return int(self.heap.size[obj]) == TINY_BLOCK and bool(first[obj] == first[obj + 1])

    def _read_first_words(self) -> None:
        """The first word of every object's value: where an OID sits (record +8 when the
        object has a malloc header). Read once, when OIDs are first given: it touches every
        page of the dump."""
        if self._words_read or not self.heap.n_objects:
            return
        self._words_read = True
        h = self.heap
        start = np.where(h.has_header, MALLOC_HEADER_BYTES, 0)
        pos = np.where(h.size >= start + 8, h.cols.obj_data + start, -1)
        self.oid_value = h.dump.words_at(pos, h.params.big_endian)
        second = np.where(self.tiny, h.cols.obj_data + 8, -1)
        self.second_value = h.dump.words_at(second, h.params.big_endian)

    def set_oids(self, oids: dict[int, str]) -> None:
        """(Re)name objects from an OID table; cheap enough to redo as a user edits it."""
        self._read_first_words()
        keys = np.array(sorted(oids), dtype=np.uint64)
        self.oid_names = [oids[int(k)] for k in keys]
        self._tables.clear()
        self._label_index = None
        self.name_index = _lookup(keys, self.oid_value)
        self.second_index = np.where(self.tiny, _lookup(keys, self.second_value), -1)

    def count_with_oid(self, value: int) -> int:
        self._read_first_words()
        v = np.uint64(value)
        return int(np.count_nonzero(self.oid_value == v) + np.count_nonzero(self.second_value == v))

    def object_name(self, obj: int, address: int | None = None) -> str | None:
        """The OID name of a record; for a tiny block, of the object ``address`` falls in."""
        if obj < 0:
            return None
        i = int(self.name_index[obj])
        if address is not None and self.is_tiny(obj) and address - int(self.heap.addr[obj]) >= 8:
            i = int(self.second_index[obj])
        return self.oid_names[i] if i >= 0 else None

    # --- types ---------------------------------------------------------------------------
    def set_types(self, typed: ObjectTypes) -> None:
        self.typed = typed
        self._tables.clear()
        self._label_index = None

    def type_name(self, obj: int) -> str:
        """The object's Go type as reflect writes it, or ``unknown (N bytes, P pointers)``."""
        return self.typed.name(self.heap, obj)

    def known_type(self, obj: int) -> str | None:
        return self.type_name(obj) if obj >= 0 and self.typed.type[obj] >= 0 else None

    def label(self, obj: int, address: int | None = None) -> str | None:
        """What a line calls an object: its OID name, else its type when known."""
        return self.object_name(obj, address) or self.known_type(obj)

    @property
    def _type_labels(self) -> tuple[np.ndarray, list[str]]:
        return self.typed.name_index(self.heap)

    @property
    def label_index(self) -> np.ndarray:
        """Per object, its entry in :meth:`label_table` minus one (-1: neither OID nor type)."""
        if self.typed.types is None:
            return self.name_index
        if self._label_index is None:  # an owner tree asks once per chunk of lines
            types, _ = self._type_labels
            typed = np.where(self.typed.type >= 0, types + len(self.oid_names), -1)
            self._label_index = np.where(self.name_index >= 0, self.name_index, typed).astype(
                np.int32
            )
        return self._label_index

    def type_index(self) -> np.ndarray:
        """Per object, its entry in :meth:`type_table` minus one."""
        return self._type_labels[0]

    def label_table(self, unnamed: str, encode: Callable[[str], bytes]):
        return self._table(("label", unnamed, encode), unnamed, encode,
                           [*self.oid_names, *self._type_labels[1]])  # fmt: skip

    def type_table(self, unnamed: str, encode: Callable[[str], bytes]):
        return self._table(("type", unnamed, encode), unnamed, encode, self._type_labels[1])

    def name_table(
        self, unnamed: str, encode: Callable[[str], bytes]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Every OID name encoded, after ``unnamed``, for compiled formatting: object ``o``'s
        name is entry ``name_index[o] + 1`` (0: unnamed). Returns (the bytes, the start of
        each entry plus the end); built once per encoding."""
        return self._table((unnamed, encode), unnamed, encode, self.oid_names)

    def _table(self, key: tuple, unnamed: str, encode: Callable[[str], bytes], entries: list[str]):
        if key not in self._tables:
            self._tables[key] = string_table([unnamed.encode(), *map(encode, entries)])
        return self._tables[key]

    def symbol(self, address: int) -> str | None:
        return self.symbols.lookup(address) if self.symbols else None

    def value_name(self, value: int) -> str | None:
        """Name of what a pointer value points at: a named object or a global."""
        obj = self.heap.find(value)
        if obj >= 0:
            return self.object_name(obj)
        return self.symbol(value)

    def find(self, pattern) -> np.ndarray:
        """Objects whose OID name or Go type matches a compiled regex, in file order."""
        found = np.zeros(self.heap.n_objects, dtype=np.bool_)
        hits = [i for i, n in enumerate(self.oid_names) if pattern.search(n)]
        if hits:
            wanted = np.array(hits, dtype=np.int32)
            found |= np.isin(self.name_index, wanted) | np.isin(self.second_index, wanted)
        index, labels = self._type_labels
        typed = [i for i, n in enumerate(labels) if pattern.search(n)]
        if typed:
            found |= np.isin(index, np.array(typed, dtype=np.int32))
        return np.flatnonzero(found)


def _lookup(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index in sorted ``keys`` of each value, -1 where absent."""
    if not len(keys):
        return np.full(len(values), -1, dtype=np.int32)
    j = np.minimum(np.searchsorted(keys, values), len(keys) - 1)
    return np.where(keys[j] == values, j, -1).astype(np.int32)


def string_table(encoded: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Strings for compiled formatting: (their bytes one after another, where each starts
    plus the end)."""
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)
    starts[1:] = np.cumsum([len(e) for e in encoded])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), starts

"""Open a dump with its names: the one entry point the CLI and the language server share."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .analysis.dominators import tree_soon
from .analysis.typing import ObjectTypes, type_objects, untyped
from .dumpfile.columns import Cancelled, DumpColumns, DumpFile, Progress, read_columns
from .dumpfile.layout import TAG_STACK_FRAME
from .heap.index import load_index, save_index
from .heap.model import Heap
from .heap.roots import COL_FRAME_PC, segments_of
from .names.elf import Symbols, UnusableProgram, check_matches, read_symbols
from .names.naming import Names
from .names.oid import read_oid_file
from .program.dwarf import NoDwarf, read_go_types
from .program.saved import load_typed, save_typed


@dataclass
class LoadedDump:
    path: str
    heap: Heap
    names: Names
    warnings: list[str]

    def segments(self) -> dict[str, tuple[int, int]]:
        return segments(self.heap)


def segments(heap: Heap) -> dict[str, tuple[int, int]]:
    """The dump's data and bss segments: name -> (start, end)."""
    return segments_of(heap.cols.recs)


def load_dump(
    path: str | os.PathLike[str],
    *,
    oid_path: str | None = None,
    program: str | None = None,
    progress: Progress | None = None,
    cancel: Cancelled | None = None,
    cache: bool = True,
    many_lookups: bool = True,
    index_beside: bool = False,
    tree_wanted: bool = False,
) -> LoadedDump:
    """Read ``path`` into a :class:`Heap`, name it from an OID file and the program's
    symbols (a program that did not write this dump is left out, with a warning). With
    ``cache``, reuse the index saved by an earlier load of the same dump (a damaged one is
    rebuilt, with a warning), or save one: in the cache folder, or beside the dump with
    ``index_beside`` (see :mod:`.heap.index`). ``many_lookups`` (a long-lived process: a
    server) reads the index whole into memory, where rewriting its files cannot harm it;
    else (one query) they are memory-mapped, which costs less."""
    dump = DumpFile(path)
    warnings: list[str] = []
    heap = load_index(dump, index_beside, warnings, mapped=not many_lookups) if cache else None
    types = None
    if heap is None:
        # no saved types either: the binary's DWARF is read while the dump is, and waits
        # for the dump's frames to read only their functions' stack variables
        pcs = _Handoff()
        types = _Background(read_go_types, program, pcs.get) if program else None
        cols = None
        try:
            cols = read_columns(dump, progress, cancel)
        finally:  # (a dump that fails to load lets the reader finish)
            pcs.put(frame_pcs(cols) if cols is not None else np.zeros(0, np.uint64))
        heap = Heap(dump, cols)
        if cache:
            save_index(heap, index_beside)
        if tree_wanted:
            tree_soon(heap)
    elif progress:
        progress(1.0)
    symbols = usable_program(heap, program, warnings) if program else None
    if symbols is None:
        program = None
    oids = read_oid_file(oid_path) if oid_path else None
    typed = load_types(heap, program, cache, warnings, types) if program else untyped(heap)
    return LoadedDump(dump.path, heap, Names(heap, oids, symbols, typed), warnings)


def add_types(loaded: LoadedDump, program: str, cache: bool = True) -> None:
    """Type a loaded dump's objects with a binary matched after loading (the server's)."""
    loaded.names.set_types(load_types(loaded.heap, program, cache, loaded.warnings))


def load_types(
    heap: Heap, program: str, cache: bool, warnings: list[str], reading: _Background | None = None
) -> ObjectTypes:
    """The Go type of every object, from the saved index or from the binary's DWARF (read
    by ``reading`` when given). A binary without usable DWARF gives untyped answers and a
    warning, never an error."""
    typed = load_typed(heap.index_place, program, heap.n_objects) if cache else None
    if typed is not None:
        return typed
    try:
        types = reading.result() if reading else None
        if types is None or not types.covers(frame_pcs(heap.cols)):
            # (another dump's types lack the stack variables of this one's functions)
            types = read_go_types(program, lambda: frame_pcs(heap.cols))
    except NoDwarf as err:
        warnings.append(f"{err}; answers are untyped")
        return untyped(heap)
    typed = type_objects(heap, types)
    if cache:
        typed.name_index(heap)  # saved too: every answer names objects by it
        save_typed(heap.index_place, program, typed)
    return typed


def frame_pcs(cols: DumpColumns) -> np.ndarray:
    """The pc of every stack frame of the dump."""
    recs = cols.recs
    return recs[recs[:, 0] == TAG_STACK_FRAME, COL_FRAME_PC]


class _Handoff:
    """One value handed from one thread to another: ``get()`` waits for ``put(value)``."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._value: Any = None

    def put(self, value: Any) -> None:
        self._value = value
        self._ready.set()

    def get(self) -> Any:
        self._ready.wait()
        return self._value


class _Background:
    """``work(*args)`` on a daemon thread (pure Python: it runs while compiled code that
    has let go of the GIL reads the dump); ``result()`` waits, and raises what it raised.
    A daemon, so a process that ends early never waits for it."""

    def __init__(self, work: Callable[..., Any], *args: Any):
        self._out: list[Any] = []
        self._thread = threading.Thread(target=self._run, args=(work, args), daemon=True)
        self._thread.start()

    def _run(self, work: Callable[..., Any], args: tuple) -> None:
        try:
            self._out.append((work(*args), None))
        except BaseException as err:  # handed to result()'s caller
            self._out.append((None, err))

    def result(self) -> Any:
        self._thread.join()
        value, err = self._out[0]
        if err is not None:
            raise err
        return value


def load_program(heap: Heap, program: str) -> Symbols:
    symbols = read_symbols(program)
    check_matches(symbols, segments(heap))
    return symbols


def usable_program(heap: Heap, program: str, warnings: list[str]) -> Symbols | None:
    """The binary's symbols, or None and a warning when it cannot name this dump (another
    program's, not ELF, truncated): its names would be wrong, the answers are still
    right without them. A binary that cannot be read at all (a typo) stays an error."""
    try:
        return load_program(heap, program)
    except UnusableProgram as err:
        warnings.append(f"{err}; answers have no global names and no types")
        return None

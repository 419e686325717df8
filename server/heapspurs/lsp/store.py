"""The workspace store: which dumps the workspace holds, their loading state, the binaries
matched to them, and the OID tables (live text of open OID documents over the files)."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import stat
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..analysis.anchors import AnchorReport, find_anchors, nearest_anchor
from ..dumpfile.columns import LoadCancelled
from ..dumpfile.errors import DumpFormatError
from ..dumpfile.layout import HEADER
from ..loaded import LoadedDump, add_types, load_dump, segments
from ..names.elf import ProgramError, Symbols, check_matches, read_symbols
from ..names.oid import OidTable, parse_oid_text
from .protocol import STATE_ERROR, STATE_LOADING, STATE_READY, dump_info
from .settings import Settings

ELF_MAGIC = b"\x7fELF"
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".cache"}
# Above this size a hover shows only the nearest anchor (a walk up a BFS tree built once);
# listing every anchor is a search over all owners, left to the Anchors command.
FULL_ANCHORS_MAX_OBJECTS = 200_000
# a dump this big has the views' first pages worked out on a thread once loaded
WARM_UP_MIN_OBJECTS = 200_000
MAX_SCANNED_FILES = 20000  # a workspace walk looking for Go binaries stops after this many
MAX_TEXT_BYTES = 64 << 20  # a larger OID file is not read


def path_to_uri(path: str) -> str:
    return Path(path).resolve().as_uri()


def uri_to_path(uri: str) -> str:
    from pygls.uris import to_fs_path

    path = to_fs_path(uri) if uri.startswith("file:") else uri
    if path is None:
        raise ValueError(f"{uri!r} is not a file URI")
    return os.path.realpath(path)


def is_dump_file(path: str) -> bool:
    return read_head(path, len(HEADER)) == HEADER


def open_regular(path: str) -> BinaryIO | None:
    """``path`` opened for reading if it is a regular file, else None: a FIFO or a device
    found in the workspace must never block the server (opening a FIFO waits for a writer;
    the open does not wait here, and the file is then refused)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return os.fdopen(fd, "rb")
    except OSError:
        pass
    os.close(fd)
    return None


def read_head(path: str, n: int) -> bytes:
    """The first ``n`` bytes of a regular file (b"" for anything else)."""
    f = open_regular(path)
    if f is None:
        return b""
    with f:
        try:
            return f.read(n)
        except OSError:
            return b""


def read_text(path: str, limit: int = MAX_TEXT_BYTES) -> str | None:
    """A regular file's text (UTF-8, bad bytes replaced); None if it is not one, cannot be
    read, or is larger than ``limit`` (an OID file is a few thousand lines)."""
    f = open_regular(path)
    if f is None:
        return None
    with f:
        try:
            data = f.read(limit + 1)
        except OSError:
            return None
    return None if len(data) > limit else data.decode("utf-8", "replace")


def release_memory() -> None:
    """Give the memory of dropped dumps back to the system: glibc keeps freed arenas (80 of
    a 175 MB dump's MB stayed after it was unloaded) unless asked to trim them."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


@dataclass
class DumpEntry:
    """One dump of the workspace and where its loading stands."""

    path: str
    uri: str
    state: str = STATE_LOADING
    progress: float = 0.0
    loaded: LoadedDump | None = None
    program: str | None = None  # path of the matched binary
    error: str | None = None
    warning: str | None = None  # loaded, but e.g. the configured binary does not match
    generation: int = 0
    cancel: threading.Event = field(default_factory=threading.Event)
    lock: threading.RLock = field(default_factory=threading.RLock)  # held while analysing
    _finalizers: np.ndarray | None = None
    anchor_cache: dict[int, AnchorReport] = field(default_factory=dict)  # hovers, by object
    # the histogram's rows and the CodeLens's table per base type, for the typing they
    # were worked out from
    type_rows: tuple[object, list, dict | None] | None = None
    # the Types view's objects per type, largest retained first (view_features)
    type_objects: tuple[object, list[str], np.ndarray, np.ndarray] | None = None
    # the Retainers view's long children lists in order, per parent, for the tree they are of
    sorted_children: tuple[object, dict[int, np.ndarray]] | None = None
    # the Types view against a baseline: (typing, baseline, rows, comparison line)
    growth_rows: tuple[object, object, list, str] | None = None

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    def info(self) -> dict[str, object]:
        objects = self.loaded.heap.n_objects if self.loaded else 0
        program = path_to_uri(self.program) if self.program else None
        info = dump_info(self.uri, self.state, self.progress, objects, program, self.error)
        info["warning"] = self.warning
        info["go_version"] = self.loaded.heap.params.go_version if self.loaded else None
        return info

    def anchors(self, obj: int) -> AnchorReport:
        """The anchor report of ``obj``, kept for repeated hovers (up to 256 objects)."""
        assert self.loaded is not None
        report = self.anchor_cache.get(obj)
        if report is None:
            if len(self.anchor_cache) >= 256:
                self.anchor_cache.pop(next(iter(self.anchor_cache)))
            heap, names = self.loaded.heap, self.loaded.names
            search = find_anchors if heap.n_objects <= FULL_ANCHORS_MAX_OBJECTS else nearest_anchor
            report = search(heap, names, obj)
            self.anchor_cache[obj] = report
        return report

    def finalizers(self) -> np.ndarray:
        assert self.loaded is not None
        if self._finalizers is None:
            self._finalizers = self.loaded.heap.finalizer_objects()
        return self._finalizers

    def drop(self) -> None:
        """Forget the loaded heap (its memory goes with the last reference)."""
        with self.lock:
            loaded, self.loaded, self._finalizers = self.loaded, None, None
            self.anchor_cache = {}
        if loaded is not None:
            # numpy views still alive: the mapping goes when they do
            with contextlib.suppress(BufferError, OSError, AttributeError):
                loaded.heap.dump.close()


class Store:
    def __init__(self) -> None:
        self.settings = Settings()
        self.folders: list[str] = []
        self.entries: dict[str, DumpEntry] = {}  # by real path
        self.oid_docs: dict[str, str] = {}  # real path -> live text of an open OID document
        self.oid_tables: dict[str, OidTable] = {}  # real path -> parsed table
        self._symbols: dict[tuple[str, float], Symbols | None] = {}
        self.pinned: set[str] = set()  # loaded by heapspurs.loadDump: kept when globs change
        self._lock = threading.RLock()

    # --- paths ---------------------------------------------------------------------------
    def _glob(self, patterns: Iterable[str]) -> list[str]:
        out: dict[str, None] = {}
        for pattern in patterns:
            if os.path.isabs(pattern):
                if os.path.isfile(pattern):
                    out[os.path.realpath(pattern)] = None
                continue
            for folder in self.folders:
                for p in sorted(Path(folder).glob(pattern)):
                    if p.is_file() and not any(part in SKIP_DIRS for part in p.parts):
                        out[os.path.realpath(p)] = None
        return list(out)

    def find_dumps(self) -> list[str]:
        return [p for p in self._glob(self.settings.dumps) if is_dump_file(p)]

    def oid_paths(self) -> list[str]:
        return self._glob(self.settings.oid_files)

    def is_oid_path(self, path: str) -> bool:
        if path in self.oid_docs:
            return True
        for pattern in self.settings.oid_files:
            if os.path.isabs(pattern):
                if os.path.realpath(pattern) == path:
                    return True
                continue
            for folder in self.folders:
                try:
                    rel = Path(path).relative_to(os.path.realpath(folder))
                except ValueError:
                    continue
                if rel.match(pattern) or (pattern.startswith("**/") and rel.match(pattern[3:])):
                    return True
        return False

    def is_dump_path(self, path: str) -> bool:
        for folder in self.folders:
            try:
                rel = Path(path).relative_to(os.path.realpath(folder))
            except ValueError:
                continue
            for pattern in self.settings.dumps:
                if rel.match(pattern) or (pattern.startswith("**/") and rel.match(pattern[3:])):
                    return True
        return False

    def in_workspace(self, path: str) -> bool:
        """Whether ``path`` (a real path) lies inside a workspace folder."""
        for folder in self.folders:
            real = os.path.realpath(folder)
            if os.path.commonpath([real, path]) == real:
                return True
        return False

    def program_path(self) -> str | None:
        p = self.settings.program
        if not p:
            return None
        if not os.path.isabs(p) and self.folders:
            p = os.path.join(self.folders[0], p)
        return os.path.realpath(p)

    # --- entries -------------------------------------------------------------------------
    def entry(self, uri_or_path: str) -> DumpEntry | None:
        try:
            path = uri_to_path(uri_or_path)
        except ValueError:
            return None
        return self.entries.get(path)

    def add(self, path: str) -> DumpEntry:
        """A new or restarted entry for ``path`` (cancelling a load under way)."""
        with self._lock:
            old = self.entries.get(path)
            generation = 0
            if old is not None:
                old.cancel.set()
                old.drop()
                generation = old.generation + 1
            entry = DumpEntry(path, path_to_uri(path), generation=generation)
            self.entries[path] = entry
            return entry

    def remove(self, path: str) -> DumpEntry | None:
        with self._lock:
            entry = self.entries.pop(path, None)
        if entry is not None:
            entry.cancel.set()
            entry.drop()
        return entry

    def dumps(self) -> list[DumpEntry]:
        with self._lock:
            return list(self.entries.values())

    def ready(self) -> list[DumpEntry]:
        return [e for e in self.dumps() if e.state == STATE_READY and e.loaded is not None]

    def is_current(self, entry: DumpEntry) -> bool:
        return self.entries.get(entry.path) is entry

    # --- loading (runs in a worker thread) -------------------------------------------------
    def load(
        self,
        entry: DumpEntry,
        progress: Callable[[float], None],
        cancelled: Callable[[], bool],
    ) -> None:
        """Read ``entry``'s dump, match a binary, apply the OID tables; the entry's state says
        how it went (``LoadCancelled`` propagates)."""

        def on_progress(fraction: float) -> None:
            entry.progress = fraction
            progress(fraction)

        def cancel() -> bool:
            return entry.cancel.is_set() or cancelled()

        beside = self.settings.index_beside_dump and self.in_workspace(entry.path)
        try:
            loaded = load_dump(entry.path, progress=on_progress, cancel=cancel,
                               index_beside=beside)  # fmt: skip
        except DumpFormatError as err:
            entry.state, entry.error = STATE_ERROR, str(err)
            return
        except OSError as err:
            entry.state, entry.error = STATE_ERROR, f"{entry.path}: {err.strerror or err}"
            return
        if cancel():
            raise LoadCancelled(entry.path)
        if loaded.warnings:  # a damaged saved index, rebuilt
            entry.warning = "; ".join(loaded.warnings)
        if loaded.heap.n_objects > FULL_ANCHORS_MAX_OBJECTS:
            loaded.heap.nearest_roots()  # hovers will walk it: build it here, off the loop
        self._match_program(entry, loaded)
        oids = self.oid_names()
        if oids:
            loaded.names.set_oids(oids)
        with entry.lock:
            entry.loaded = loaded
            entry.progress = 1.0
            entry.state = STATE_READY
        if loaded.heap.n_objects > WARM_UP_MIN_OBJECTS:
            from .view_features import warm_up  # imports this module

            threading.Thread(target=warm_up, args=(entry,), daemon=True).start()

    def _symbols_of(self, path: str) -> Symbols | None:
        try:
            key = (path, os.stat(path).st_mtime)
        except OSError:
            return None
        if key not in self._symbols:
            try:
                self._symbols[key] = read_symbols(path)
            except (ProgramError, OSError):
                self._symbols[key] = None
        return self._symbols[key]

    def _match_program(self, entry: DumpEntry, loaded: LoadedDump) -> None:
        configured = self.program_path()
        segs = segments(loaded.heap)
        if configured:
            try:
                mine = read_symbols(configured)
                check_matches(mine, segs)
            except (ProgramError, OSError) as err:
                entry.warning = f"heapspurs.program: {err}"
                return
            loaded.names.symbols, entry.program = mine, configured
            self._type(entry, loaded)
            return
        for candidate in self.go_binaries():
            symbols = self._symbols_of(candidate)
            if symbols is None:
                continue
            try:
                check_matches(symbols, segs)
            except ProgramError:
                continue
            loaded.names.symbols, entry.program = symbols, candidate
            self._type(entry, loaded)
            return

    def _type(self, entry: DumpEntry, loaded: LoadedDump) -> None:
        """Go types for every object, from the matched binary (or the saved index)."""
        assert entry.program is not None
        add_types(loaded, entry.program)
        if loaded.warnings:
            entry.warning = "; ".join(loaded.warnings)

    def go_binaries(self) -> list[str]:
        """ELF executables in the workspace folders (candidates for program matching)."""
        found: list[str] = []
        scanned = 0
        for folder in self.folders:
            for dirpath, dirnames, filenames in os.walk(folder):
                dirnames[:] = [
                    d for d in dirnames if d not in SKIP_DIRS and not d.endswith("-index")
                ]
                for name in filenames:
                    scanned += 1
                    if scanned > MAX_SCANNED_FILES:
                        return found
                    path = os.path.join(dirpath, name)
                    if read_head(path, len(ELF_MAGIC)) == ELF_MAGIC:
                        found.append(os.path.realpath(path))
        return found

    # --- OID tables ------------------------------------------------------------------------
    def read_oid_tables(self) -> None:
        """(Re)read every OID file of the settings (open documents keep their live text)."""
        tables: dict[str, OidTable] = {}
        for path in self.oid_paths():
            live = self.oid_docs.get(path)
            if live is not None:
                tables[path] = parse_oid_text(live)
                continue
            text = read_text(path)
            if text is None:
                continue  # vanished between the glob and the read, or not a regular file
            tables[path] = parse_oid_text(text)
        for path, text in list(self.oid_docs.items()):
            if path not in tables:
                tables[path] = parse_oid_text(text)
        with self._lock:
            self.oid_tables = tables

    def set_oid_text(self, path: str, text: str | None) -> OidTable | None:
        """An OID document opened or edited (``text``) or closed (``None``)."""
        if text is None:
            with self._lock:
                self.oid_docs.pop(path, None)
            text = read_text(path)
            if text is None:
                with self._lock:
                    self.oid_tables = {p: t for p, t in self.oid_tables.items() if p != path}
                return None
        else:
            with self._lock:
                self.oid_docs[path] = text
        table = parse_oid_text(text)
        with self._lock:
            self.oid_tables = {**self.oid_tables, path: table}
        return table

    def oid_names(self) -> dict[int, str]:
        """Every OID file's names merged (the first file naming an id wins)."""
        merged: dict[int, str] = {}
        with self._lock:
            tables = list(self.oid_tables.values())
        for table in tables:
            for value, name in table.names.items():
                merged.setdefault(value, name)
        return merged

    def apply_oids(self) -> None:
        """Rename the objects of every loaded dump from the current OID tables."""
        oids = self.oid_names()
        for entry in self.ready():
            with entry.lock:
                if entry.loaded is not None:
                    entry.loaded.names.set_oids(oids)
                    entry.anchor_cache = {}  # root labels carry object names

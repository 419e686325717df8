"""What the loaded dumps hold of the types a Go source file declares: a CodeLens above each
``type X …`` ("1,204 live · 77 KB · retains 3.1 MB", one per dump whose program has the
type), the same in a hover on the declared name, and ``heapspurs/instances`` (command
``heapspurs.instances``): ``{"dump"?, "type", "limit"?}`` → the type's objects, largest
retained first.

A declared type is named as the dump names it: ``main.X`` in package main, else the
package's import path (the module path of the nearest go.mod plus the folder) and the name.
Instances of a generic type's every instantiation (``main.Box[int]``) count for ``Box``."""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from lsprotocol import types as T
from pygls.uris import from_fs_path

from ..analysis.dominators import dominators, retained_per_type
from ..analysis.typing import type_histogram
from ..render import jsonout
from ..render.safe import markdown_text
from .hover import code_block, dump_heading, inline_code
from .protocol import CMD_INSTANCES, REQ_INSTANCES, ArgumentError, _int
from .store import DumpEntry
from .types_features import dump_argument, object_argument, offer

if TYPE_CHECKING:
    from .server import HeapspursServer

PACKAGE = re.compile(r"^package\s+([A-Za-z_]\w*)")
TYPE_KEYWORD = re.compile(r"^type\b\s*")
NAME = re.compile(r"[A-Za-z_]\w*")
GO_MOD_MAX = 1 << 20  # a go.mod larger than this is not read
INSTANCES_LIMIT = 200


@dataclass(frozen=True)
class Declared:
    """A type declared in a Go file: its name where it is written, and as dumps name it."""

    line: int
    column: int
    name: str
    qualified: str


@dataclass(frozen=True)
class Live:
    """What one dump holds of one type."""

    count: int
    bytes: int
    retained: int


# --- the source side ------------------------------------------------------------------------
def declared_types(lines: Sequence[str], qualifier: str) -> list[Declared]:
    """Every ``type X …`` at the top level and in ``type ( … )`` groups; aliases
    (``type A = B``) have no objects of their own and are left out."""
    out: list[Declared] = []
    in_group = False
    for n, line in enumerate(lines):
        if in_group:
            if line.startswith(")"):
                in_group = False
            elif line[:1] in ("\t", " "):
                _add_spec(out, n, line, len(line) - len(line.lstrip()), qualifier)
            continue
        keyword = TYPE_KEYWORD.match(line)
        if keyword is None:
            continue
        rest = line[keyword.end() :]
        if rest.startswith("("):
            in_group = not rest.rstrip().endswith(")")
            continue
        _add_spec(out, n, line, keyword.end(), qualifier)
    return out


def _add_spec(out: list[Declared], n: int, line: str, start: int, qualifier: str) -> None:
    name = NAME.match(line, start)
    if name is None:
        return
    after = _skip_type_parameters(line, name.end()).lstrip()
    if not after or after.startswith(("=", "//")):
        return  # an alias, or not a declaration
    out.append(Declared(n, name.start(), name.group(), f"{qualifier}.{name.group()}"))


def _skip_type_parameters(line: str, at: int) -> str:
    """The rest of ``line`` after a type parameter list ``[K comparable, V any]`` at
    ``at`` (brackets nest: ``[S ~[]E, E any]``), or from ``at`` when there is none."""
    if not line[at:].startswith("["):
        return line[at:]
    depth = 0
    for i in range(at, len(line)):
        depth += {"[": 1, "]": -1}.get(line[i], 0)
        if depth == 0:
            return line[i + 1 :]
    return ""


def qualifier_of(path: str, lines: Sequence[str]) -> str | None:
    """How dumps qualify this file's types: ``main``, or the package's import path."""
    package = next((m.group(1) for m in map(PACKAGE.match, lines) if m), None)
    if package is None or package == "main":
        return package
    vendored = vendored_import_path(os.path.dirname(path))
    if vendored:
        return vendored
    found = module_of(os.path.dirname(path))
    if found is None:
        return package
    module, root = found
    folder = os.path.relpath(os.path.dirname(path), root)
    return module if folder == "." else f"{module}/{folder.replace(os.sep, '/')}"


def vendored_import_path(folder: str) -> str | None:
    """A vendored package's import path (what follows the folder's last ``vendor``
    component: ``…/vendor/github.com/a/b`` is ``github.com/a/b``), or None."""
    parts = Path(folder).parts
    if "vendor" not in parts:
        return None
    rest = parts[len(parts) - parts[::-1].index("vendor") :]
    return "/".join(rest) or None


def module_of(folder: str) -> tuple[str, str] | None:
    """(module path, its folder) from the nearest go.mod at or above ``folder``."""
    for _ in range(64):
        go_mod = os.path.join(folder, "go.mod")
        module = _module_line(go_mod)
        if module is not None:
            return module, folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent
    return None


def _module_line(go_mod: str) -> str | None:
    try:
        if not os.path.isfile(go_mod) or os.path.getsize(go_mod) > GO_MOD_MAX:
            return None
        with open(go_mod, encoding="utf-8", errors="replace") as f:
            for line in f:
                words = line.split("//")[0].split()
                if len(words) == 2 and words[0] == "module":
                    return words[1].strip('"')
    except OSError:
        return None
    return None


def declarations_of(path: str, lines: Sequence[str]) -> list[Declared]:
    qualifier = qualifier_of(path, lines)
    return declared_types(lines, qualifier) if qualifier else []


SKIPPED_FOLDERS = ("node_modules", "testdata")
MAX_GO_FILES = 5000
MAX_GO_FILE_BYTES = 1 << 20
DECLARATIONS_FRESH_S = 10.0
_declarations: dict[tuple[str, ...], tuple[float, dict[str, str]]] = {}


def declarations_in(folders: list[str]) -> dict[str, str]:
    """Where the workspace's Go files declare their types: qualified name → the file's URI
    at the line (``file:///…/main.go#L34``). Hidden folders, node_modules and testdata are
    skipped, vendor folders read after the rest, at most 5,000 files of at most 1 MB are
    read; kept 10 seconds."""
    key = tuple(folders)
    now = time.monotonic()
    cached = _declarations.get(key)
    if cached is not None and now - cached[0] < DECLARATIONS_FRESH_S:
        return cached[1]
    found: dict[str, str] = {}
    for path in _go_files(folders):
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read(MAX_GO_FILE_BYTES).splitlines()
        except OSError:
            continue
        for d in declarations_of(path, lines):
            found.setdefault(d.qualified, f"{from_fs_path(path)}#L{d.line + 1}")
    _declarations[key] = (now, found)
    return found


def _go_files(folders: list[str]) -> Iterator[str]:
    """The Go files below ``folders``, the workspace's own before vendored ones (a large
    vendor folder must not use up the files read), at most MAX_GO_FILES."""
    vendor: list[str] = []
    own = (path for folder in folders for path in _go_files_below(folder, vendor))
    vendored = (path for folder in vendor for path in _go_files_below(folder, None))
    for count, path in enumerate(itertools.chain(own, vendored), 1):
        yield path
        if count >= MAX_GO_FILES:
            return


def _go_files_below(folder: str, vendor: list[str] | None) -> Iterator[str]:
    """Go files of at most MAX_GO_FILE_BYTES below ``folder``; vendor folders are added to
    ``vendor`` rather than walked (walked when ``vendor`` is None)."""
    for root, dirs, files in os.walk(folder):
        if vendor is not None and "vendor" in dirs:
            vendor.append(os.path.join(root, "vendor"))
            dirs.remove("vendor")
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIPPED_FOLDERS]
        for name in files:
            path = os.path.join(root, name)
            if (
                name.endswith(".go")
                and os.path.isfile(path)
                and (os.path.getsize(path) <= MAX_GO_FILE_BYTES)
            ):
                yield path


def with_sources(rows: list[dict[str, Any]], folders: list[str]) -> list[dict[str, Any]]:
    """``rows`` (histogram rows) with ``source``: where the workspace declares the type."""
    if not rows:
        return rows
    declared = declarations_in(folders)
    return [{**row, "source": declared.get(_base(str(row["type"])))} for row in rows]


# --- the dump side --------------------------------------------------------------------------
def type_rows(entry: DumpEntry) -> list[dict[str, Any]]:
    """The histogram's rows ``{type, count, bytes, retained}``, largest bytes first;
    worked out once per typing of the dump (the dominator tree too, once)."""
    assert entry.loaded is not None
    heap, typed = entry.loaded.heap, entry.loaded.names.typed
    cached = entry.type_rows
    if cached is None or cached[0] is not typed:
        answer = type_histogram(heap, typed, retained_per_type(heap, typed))
        cached = entry.type_rows = (typed, cast(list[dict[str, Any]], answer["types"]), None)
    return cached[1]


def live_by_type(entry: DumpEntry) -> dict[str, Live] | None:
    """Per base type name (instantiations folded), what the dump holds, every type of the
    program included (0 live); None when the dump has no types."""
    assert entry.loaded is not None
    typed = entry.loaded.names.typed
    if typed.types is None:
        return None
    rows = type_rows(entry)
    cached = entry.type_rows
    assert cached is not None
    if cached[2] is not None:
        return cached[2]
    out = {_base(name): Live(0, 0, 0) for name in typed.types.names}
    for row in rows:
        base = _base(str(row["type"]))
        have = out.get(base, Live(0, 0, 0))
        out[base] = Live(have.count + int(row["count"]), have.bytes + int(row["bytes"]),
                         have.retained + int(row.get("retained", 0)))  # fmt: skip
    entry.type_rows = (cached[0], rows, out)
    return out


def _base(name: str) -> str:
    """``main.Box`` of ``main.Box[int]``; arrays and pointers stay as they are."""
    cut = name.find("[")
    return name[:cut] if cut > 0 else name


def summary(live: Live) -> str:
    text = f"{live.count:,} live · {_bytes(live.bytes)}"
    return text + (f" · retains {_bytes(live.retained)}" if live.retained else "")


def _bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def knowing(entries: list[DumpEntry], names: list[str]) -> list[tuple[DumpEntry, dict]]:
    """The ready dumps whose program has at least one of ``names``, with their tables."""
    out = []
    for entry in entries:
        with entry.lock:
            if entry.loaded is None:
                continue
            table = live_by_type(entry)
        if table is not None and any(n in table for n in names):
            out.append((entry, table))
    return out


def code_lenses(entries: list[DumpEntry], declared: list[Declared]) -> list[T.CodeLens]:
    holders = knowing(entries, [d.qualified for d in declared])
    lenses = []
    for d in declared:
        for entry, table in holders:
            live = table.get(d.qualified)
            if live is None:
                continue
            title = summary(live) if len(holders) == 1 else f"{entry.name}: {summary(live)}"
            end = d.column + len(d.name)
            where = T.Range(T.Position(d.line, d.column), T.Position(d.line, end))
            args = {"dump": entry.uri, "type": d.qualified}
            command = T.Command(title=title, command=CMD_INSTANCES, arguments=[args])
            lenses.append(T.CodeLens(range=where, command=command))
    return lenses


def type_hover(
    entries: list[DumpEntry], declared: list[Declared], line: int, column: int
) -> str | None:
    """The hover on a declared type's name: what each dump holds of it."""
    at = [d for d in declared if d.line == line and d.column <= column <= d.column + len(d.name)]
    if not at:
        return None
    d = at[0]
    parts = [
        f"{inline_code(d.qualified)} in {inline_code(entry.name)}: {summary(table[d.qualified])}"
        for entry, table in knowing(entries, [d.qualified])
    ]
    return "\n\n".join(parts) or None


# --- instances ------------------------------------------------------------------------------
def instances_answer(entry: DumpEntry, type_name: str, limit: int) -> dict[str, Any]:
    """The objects of ``type_name`` (every instantiation of a generic one), largest
    retained first, at most ``limit``."""
    assert entry.loaded is not None
    heap, names = entry.loaded.heap, entry.loaded.names
    index, labels = names.typed.name_index(heap)
    wanted = np.array([_base(label) == type_name for label in labels], dtype=bool)
    objs = np.flatnonzero(wanted[index] & ~heap.phantom)
    tree = dominators(heap)
    shown = tree.largest(objs, min(limit, len(objs))) if len(objs) else objs
    rows = []
    for o in shown.tolist():
        row = dict(jsonout.object_json(heap, names, o))
        row["retained"] = int(tree.retained[o])
        rows.append(row)
    lines = [f"{len(objs):,} objects of {type_name}, largest retained first"
             + (f" (the first {len(shown)})" if len(shown) < len(objs) else "")]  # fmt: skip
    lines += [f"{r['address']}  {r['size']:>8} bytes  retains {r['retained']:>10}  {r['type']}"
              for r in rows]  # fmt: skip
    heading = f"**Instances of** {markdown_text(type_name)}"
    return {"dump": entry.uri, "type": type_name, "count": len(objs), "objects": rows,
            "markdown": f"{dump_heading(entry)}\n\n{heading}\n\n{code_block(lines)}"}  # fmt: skip


def register(server: HeapspursServer, answers_errors) -> None:
    """Add the CodeLens provider and the instances request and command to ``server``."""

    async def instances(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        args = object_argument(params, REQ_INSTANCES)
        entry = dump_argument(ls, args, REQ_INSTANCES)
        type_name = args.get("type")
        if not isinstance(type_name, str) or not type_name:
            raise ArgumentError(f"{REQ_INSTANCES}: 'type' must be a Go type name like main.Session")
        limit = _int(args, "limit", INSTANCES_LIMIT, 1)
        return await ls.analyse(entry, instances_answer, type_name, limit)

    offer(server, answers_errors, instances, REQ_INSTANCES, CMD_INSTANCES)

"""The ``--json`` answers. Their shapes are a contract with users' scripts (README)."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Iterator
from typing import cast

import numpy as np

from ..analysis.anchors import UNSEEN_ROOTS, AnchorReport
from ..analysis.fieldpath import chain_fields, owner_fields, value_type_at
from ..analysis.goroutines import anchor_facts
from ..analysis.owners import OwnerRoot, OwnerTree
from ..heap import graph
from ..heap.model import MALLOC_HEADER_BYTES, Heap
from ..names.naming import Names, string_table
from . import linebuf

LIST_ITEMS = ",\n        "  # between a path's or fields' entries in the indented answer


def hexaddr(value: int) -> str:
    return f"{value:#x}"


def object_json(
    heap: Heap, names: Names, obj: int, address: int | None = None
) -> dict[str, object]:
    return {
        "address": hexaddr(int(heap.addr[obj])),
        "size": int(heap.size[obj]),
        "name": names.object_name(obj, address),
        "type": names.type_name(obj),
        "pointers": heap.n_pointers(obj),
        "value_offset": heap.value_offset(obj),
    }


def anchors_json(
    heap: Heap,
    names: Names,
    address: int,
    report: AnchorReport,
    retained: tuple[int, int, int] | None = None,
    *,
    paths: bool = True,
) -> dict[str, object]:
    """The ``--anchors --json`` answer. ``retained``: (bytes, objects) the object retains
    (and the live heap's bytes),
    as ``object.retained``/``object.retained_objects`` (null when no root reaches it).
    Without ``paths`` each path is left empty, for :func:`anchors_json_text` to format."""
    obj = report.target
    anchors = []
    for a in report.anchors:
        entry = a.root.as_json()
        if paths:
            entry["path"] = [hexaddr(address) for address in heap.addr[a.path].tolist()]
        else:
            entry["path"] = []
        entry["fields"] = chain_fields(heap, names, a.root_index, a.path)
        entry["finalizer_cycle"] = a.cycle
        variable, leaked = anchor_facts(heap, names, a.root_index, a.root.goroutine)
        if variable:
            entry["variable"] = variable
        if leaked is not None:
            entry["leaked_goroutine"] = leaked
        anchors.append(entry)
    out: dict[str, object] = {
        "address": hexaddr(address),
        "type": value_type_at(heap, names, obj, address),
        "object": object_json(heap, names, obj, address) | retained_json(retained),
        "offset": address - int(heap.addr[obj]),
        "anchors": anchors,
        "phantom": report.phantom,
        "only_finalizer_cycles": report.only_finalizer_cycles,
    }
    if not anchors:
        out["unseen_roots"] = list(UNSEEN_ROOTS)
    return out


def retained_json(retained: tuple[int, int, int] | None) -> dict[str, int | None]:
    """``{"retained", "retained_objects"}``: null when no root reaches the object."""
    nbytes, count = retained[:2] if retained is not None else (None, None)
    return {"retained": nbytes, "retained_objects": count}


def anchors_json_text(
    heap: Heap,
    names: Names,
    address: int,
    report: AnchorReport,
    retained: tuple[int, int, int] | None = None,
) -> str:
    """:func:`anchors_json` indented as the CLI prints it; the chains and their fields are
    formatted in bulk and spliced in, so a million-object chain costs little more than its
    bytes."""
    answer = anchors_json(heap, names, address, report, retained, paths=False)
    mark = f"\0{secrets.token_hex(8)} "  # no string of the dump's can pass for it
    lists: list[str] = []  # each list's entries, one per line (8 spaces deep), by mark

    def marked(items: str) -> list[str]:
        lists.append(items)
        return [f"{mark}{len(lists) - 1}"]

    for entry, a in zip(cast(list[dict], answer["anchors"]), report.anchors, strict=True):
        if len(a.path):
            entry["path"] = marked(linebuf.quoted_hex_text(heap.addr[a.path], LIST_ITEMS))
        if entry["fields"]:  # (no indent: json's C encoder, which takes any separator)
            fields = json.dumps(entry["fields"], separators=(LIST_ITEMS, ": "))
            entry["fields"] = marked(fields[1:-1])
    text = json.dumps(answer, indent=2)
    return re.sub(re.escape(json.dumps(mark)[:-1]) + r'(\d+)"', lambda m: lists[int(m[1])], text)


def owner_entries(
    heap: Heap, names: Names, pieces: Iterable[OwnerTree | OwnerRoot]
) -> Iterator[str]:
    """The owner tree's entries (``{"object": ...}`` or ``{"root": ...}``), one per line,
    each after ``, ``, in chunks of lines joined by newlines."""
    for piece, made in linebuf.prepared_ahead(pieces, lambda b: _object_entries(heap, names, b),
                                              OwnerTree):  # fmt: skip
        if isinstance(piece, OwnerRoot):
            entry = piece.root.as_json()
            entry.update(depth=piece.level, points_to=hexaddr(int(heap.addr[piece.points_to])))
            yield ", " + json.dumps({"root": entry})
        elif made is not None:
            columns, tables = made
            yield from linebuf.chunks(linebuf.owner_json, columns, *tables)


def owner_entry_list(heap: Heap, names: Names, pieces: Iterable[OwnerTree | OwnerRoot]) -> list:
    """The entries as Python objects (an answer that is not streamed)."""
    return json.loads("[" + "\n".join(owner_entries(heap, names, pieces))[2:] + "]")


def _json_name(name: str) -> bytes:
    return json.dumps(name).encode()


def _object_entries(heap: Heap, names: Names, batch: OwnerTree) -> tuple[tuple, tuple]:
    """The columns and tables of linebuf.owner_json's entries for ``batch``."""
    nodes, first = batch.nodes, heap.cols.obj_first
    down = batch.points_to
    fields = graph.pointing_fields(nodes, down, first, heap.field_target)
    selector_ids, selectors = owner_fields(heap, names, nodes, down)
    columns = (batch.levels,
               *linebuf.object_columns(nodes, heap.addr, first, heap.size, names.name_index),
               np.where(heap.has_header[nodes], MALLOC_HEADER_BYTES, 0), heap.addr[down],
               np.where(fields >= 0, heap.cols.field_off[fields].astype(np.int64), -1),
               names.type_index()[nodes] + 1, selector_ids + 1)  # fmt: skip
    return columns, (
        *names.name_table("null", _json_name),
        *names.type_table("null", _json_name),
        *string_table([b"", *map(_json_name, selectors)]),
    )


def hexdump_json(
    heap: Heap, names: Names, address: int, obj: int, limit: int | None = None
) -> dict[str, object]:
    """The record's bytes and pointers; ``limit``: only its first ``limit`` bytes and the
    pointers among them, and ``"truncated"`` says whether that cut anything."""
    size = int(heap.size[obj])
    shown = size if limit is None else min(size, limit)
    out: dict[str, object] = {
        "address": hexaddr(address),
        "object": object_json(heap, names, obj, address),
        "offset": address - int(heap.addr[obj]),
        "bytes": heap.dump.bytes_at(int(heap.cols.obj_data[obj]), shown).hex(),
        "pointers": [
            {"offset": off, "value": hexaddr(val)}
            for off, val in heap.pointers_of(obj)
            if off < shown
        ],
    }
    if limit is not None:
        out["truncated"] = shown < size
    return out

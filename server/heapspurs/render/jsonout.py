"""The ``--json`` answers. Their shapes are a contract with users' scripts (README)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator

import numpy as np

from ..analysis.anchors import UNSEEN_ROOTS, AnchorReport
from ..analysis.fieldpath import chain_fields, owner_fields, value_type_at
from ..analysis.goroutines import anchor_facts
from ..analysis.owners import OwnerRoot, OwnerTree
from ..heap import graph
from ..heap.model import MALLOC_HEADER_BYTES, Heap
from ..names.naming import Names, string_table
from . import linebuf

PATH_MARK = "\0path "  # never in an address: stands for a chain until it is spliced in


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
    path_marks: bool = False,
) -> dict[str, object]:
    """The ``--anchors --json`` answer. ``retained``: (bytes, objects) the object retains
    (and the live heap's bytes),
    as ``object.retained``/``object.retained_objects`` (null when no root reaches it). With
    ``path_marks`` each path is a placeholder that :func:`anchors_json_text` replaces with
    the formatted chain."""
    obj = report.target
    anchors = []
    for i, a in enumerate(report.anchors):
        entry = a.root.as_json()
        if path_marks and len(a.path):
            entry["path"] = [f"{PATH_MARK}{i}"]
        else:
            entry["path"] = [hexaddr(address) for address in heap.addr[a.path].tolist()]
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
    """:func:`anchors_json` indented as the CLI prints it; the chains are formatted in bulk
    and spliced in, so a million-object chain costs little more than its bytes."""
    answer = anchors_json(heap, names, address, report, retained, path_marks=True)
    text = json.dumps(answer, indent=2)
    # a path list holds only its mark, 8 spaces deep: the chain goes there, one per line
    paths = [linebuf.quoted_hex_text(heap.addr[a.path], ",\n        ") for a in report.anchors]
    mark = re.escape(json.dumps(PATH_MARK)[:-1]) + r'(\d+)"'
    return re.sub(mark, lambda m: paths[int(m[1])], text)


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
            {"offset": int(heap.cols.field_off[k]), "value": hexaddr(int(heap.cols.field_val[k]))}
            for k in heap.fields_of(obj)
            if int(heap.cols.field_off[k]) < shown
        ],
    }
    if limit is not None:
        out["truncated"] = shown < size
    return out

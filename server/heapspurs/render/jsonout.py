"""The ``--json`` answers. Their shapes are a contract with users' scripts (README)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from ..analysis.anchors import UNSEEN_ROOTS, AnchorReport
from ..analysis.owners import OwnerLine
from ..heap.model import Heap
from ..names.naming import Names


def hexaddr(value: int) -> str:
    return f"{value:#x}"


def object_json(
    heap: Heap, names: Names, obj: int, address: int | None = None
) -> dict[str, object]:
    return {
        "address": hexaddr(int(heap.addr[obj])),
        "size": int(heap.size[obj]),
        "name": names.object_name(obj, address),
        "pointers": heap.n_pointers(obj),
        "value_offset": heap.value_offset(obj),
    }


def anchors_json(heap: Heap, names: Names, address: int, report: AnchorReport) -> dict[str, object]:
    obj = report.target
    anchors = []
    for a in report.anchors:
        entry = a.root.as_json()
        entry["path"] = [hexaddr(address) for address in heap.addr[a.path].tolist()]
        entry["finalizer_cycle"] = a.cycle
        anchors.append(entry)
    out: dict[str, object] = {
        "address": hexaddr(address),
        "object": object_json(heap, names, obj, address),
        "offset": address - int(heap.addr[obj]),
        "anchors": anchors,
        "phantom": report.phantom,
        "only_finalizer_cycles": report.only_finalizer_cycles,
    }
    if not anchors:
        out["unseen_roots"] = list(UNSEEN_ROOTS)
    return out


def owner_entries(
    heap: Heap, names: Names, lines: Iterable[OwnerLine]
) -> Iterator[dict[str, object]]:
    """One JSON object per owner-tree line (objects and the roots that hold them)."""
    for line in lines:
        if line.root is not None:
            entry = line.root.as_json()
            entry.update(depth=line.level, points_to=hexaddr(int(heap.addr[line.points_to])))
            yield {"root": entry}
            continue
        entry = {"address": hexaddr(line.address), "size": line.size, "name": line.name,
                 "pointers": line.pointers, "value_offset": heap.value_offset(line.obj),
                 "depth": line.level}  # fmt: skip
        if line.field >= 0:
            entry["points_to"] = hexaddr(int(heap.addr[line.points_to]))
            entry["offset"] = int(heap.cols.field_off[line.field])
        yield {"object": entry}


def hexdump_json(heap: Heap, names: Names, address: int, obj: int) -> dict[str, object]:
    return {
        "address": hexaddr(address),
        "object": object_json(heap, names, obj, address),
        "offset": address - int(heap.addr[obj]),
        "bytes": heap.contents(obj).hex(),
        "pointers": [
            {"offset": int(heap.cols.field_off[k]), "value": hexaddr(int(heap.cols.field_val[k]))}
            for k in heap.fields_of(obj)
        ],
    }

"""The owner tree formatted one Python line at a time: the reference the compiled chunked
output (heapspurs.render.text.owner_text, jsonout.owner_entries) must equal byte for byte."""

from __future__ import annotations

import json
from collections.abc import Iterator

from heapspurs.analysis.fieldpath import edge_selectors
from heapspurs.analysis.owners import distinct_roots
from heapspurs.heap.model import Heap
from heapspurs.names.naming import Names

MAX_INDENT = 32


def object_text(
    level: int, name: str | None, address: int, pointers: int, size: int, field: str = ""
) -> str:
    what = f"{name or 'Object'} @ {address:#x} with {pointers} pointers in {size} bytes"
    return indent(level) + what + (f" via {field}" if field else "")


def indent(level: int) -> str:
    return "  " * level if level <= MAX_INDENT else f"{'  ' * MAX_INDENT}[{level}] "


def owner_text_lines(heap: Heap, names: Names, obj: int, depth: int) -> Iterator[str]:
    for kind, level, o, down, info in _walk(heap, names, obj, depth):
        if kind == "root":
            yield f"{indent(level)}<- {info.label}"
        else:
            yield object_text(level, names.label(o), int(heap.addr[o]), heap.n_pointers(o),
                              int(heap.size[o]), _field(heap, names, o, down))  # fmt: skip


def owner_json_lines(heap: Heap, names: Names, obj: int, depth: int) -> Iterator[str]:
    """Each entry as ``, {json}`` (the CLI drops the first separator)."""
    for kind, level, o, down, info in _walk(heap, names, obj, depth):
        if kind == "root":
            entry = info.as_json()
            entry.update(depth=level, points_to=f"{int(heap.addr[o]):#x}")
            yield ", " + json.dumps({"root": entry})
            continue
        fields = [k for k in heap.fields_of(o) if int(heap.field_target[k]) == down]
        field = fields[0] if down >= 0 else -1
        obj_entry = {"address": f"{int(heap.addr[o]):#x}", "size": int(heap.size[o]),
                     "name": names.object_name(o), "type": names.type_name(o),
                     "pointers": heap.n_pointers(o),
                     "value_offset": heap.value_offset(o), "depth": level}  # fmt: skip
        if field >= 0:
            obj_entry["points_to"] = f"{int(heap.addr[down]):#x}"
            obj_entry["offset"] = int(heap.cols.field_off[field])
            if _field(heap, names, o, down):
                obj_entry["field"] = _field(heap, names, o, down)
        yield ", " + json.dumps({"object": obj_entry})


def _field(heap: Heap, names: Names, owner: int, down: int) -> str:
    """The selector of the owner's pointer to ``down``, one edge at a time (untyped: none)."""
    if down < 0 or names.typed.type[owner] < 0:
        return ""
    return edge_selectors(heap, names, [(owner, down)])[0]


def _walk(heap, names, obj, depth):
    rooted = set(heap.roots.target.tolist())
    for o, level, down in _preorder(heap, obj, depth):
        yield "object", level, o, down, None
        if o in rooted and (level < depth or depth < 0):
            for info in distinct_roots(heap, names, o):
                yield "root", level + 1, o, down, info


def _preorder(heap: Heap, obj: int, depth: int) -> list[tuple[int, int, int]]:
    """(object, level, the object it points to) depth-first over the breadth-first tree,
    children in the order the search found them."""
    order, first_child, _ = heap.owners_bfs(obj, max_depth=depth)
    out, stack = [], [(0, 0, -1)]
    while stack:
        i, level, down = stack.pop()
        out.append((int(order[i]), level, down))
        children = range(int(first_child[i]), int(first_child[i + 1]))
        stack.extend((c, level + 1, int(order[i])) for c in reversed(children))
    return out

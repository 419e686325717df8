"""Goroutines in the language server: the request ``heapspurs/goroutines`` and the command
``heapspurs.goroutines`` (``{"dump"?: uri, "id"?: N}`` → the CLI's ``--goroutines --json``
answer, or one goroutine's, plus ``dump`` and ``markdown``), and the hover on
``goroutine N`` in any document (a log, a panic trace): that goroutine's stack, wait,
verdict and retained size in each loaded dump, frames linked to the workspace's files."""

from __future__ import annotations

import os
import re
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
from pygls.uris import from_fs_path

from ..analysis import goroutines as GR
from ..render.goroutines import (
    GoroutineView,
    goroutine_text,
    goroutine_view,
    goroutines_json,
    goroutines_json_summary,
    group_lines,
)
from ..render.safe import markdown_text
from .hover import code_block, dump_heading, inline_code
from .protocol import CMD_GOROUTINES, REQ_GOROUTINES, VIEW_PAGE, ArgumentError, _int, plain
from .store import DumpEntry
from .types_features import dump_argument, offer

if TYPE_CHECKING:
    from .server import HeapspursServer

GOROUTINE_RE = re.compile(r"\bgoroutine (\d{1,19})\b")
MAX_HOVER_FRAMES = 32
# per loaded dump: its view and the types it was named with (a binary matched later
# types the dump again)
_views: weakref.WeakKeyDictionary[Any, tuple[GoroutineView, Any]] = weakref.WeakKeyDictionary()


def view_of(entry: DumpEntry) -> GoroutineView:
    """The dump's goroutines, analysed once per loaded dump (the caller holds its lock)."""
    loaded = entry.loaded
    assert loaded is not None
    cached = _views.get(loaded.heap)
    if cached is not None and cached[1] is loaded.names.typed:
        return cached[0]
    view = goroutine_view(loaded.heap, loaded.names, entry.program)
    _views[loaded.heap] = (view, loaded.names.typed)
    return view


def goroutines_answer(
    entry: DumpEntry, goid: int | None = None, limit: int | None = None
) -> dict[str, Any]:
    view = view_of(entry)
    if goid is None and limit is not None:
        answer: dict[str, Any] = first_goroutines(view, limit)
        text = "\n".join(goroutine_text(view))
    elif goid is None:
        answer = goroutines_json(view)
        text = "\n".join(goroutine_text(view))
    else:
        i = view.gor.index_of(goid)
        if i < 0:
            raise ArgumentError(f"{entry.name} has no goroutine {goid}")
        answer = view.goroutine_json(i)
        text = "\n".join(goroutine_markdown_lines(view, i))
    answer["dump"] = entry.uri
    answer["markdown"] = (
        f"{dump_heading(entry)}\n\n**Goroutines**\n\n{code_block(text.splitlines())}"
    )
    return answer


def first_goroutines(view: GoroutineView, limit: int) -> dict[str, Any]:
    """At most ``limit`` goroutines, the leaked first (most retained first), then the
    undecided, then the rest by id; ``omitted`` says how many more there are."""
    gor = view.gor
    rank = np.where(gor.verdict == GR.LEAKED, 0, np.where(gor.verdict == GR.UNKNOWN, 1, 2))
    order = np.lexsort((gor.ids, -gor.retained_bytes, rank))[:limit]
    answer = goroutines_json_summary(view)
    answer["goroutines"] = [view.goroutine_json(int(i)) for i in order]
    answer["omitted"] = len(gor) - len(order)
    return answer


def goroutines_page(
    entry: DumpEntry, page: int, folders: list[str], group: int | None = None
) -> dict[str, Any]:
    """The Goroutines view's page, 200 a page. Without ``group``: the groups (same verdict,
    wait, stack and creator; leaked groups first, then larger), each with its count,
    retained bytes and first goroutine; with it: that group's goroutines. Every frame and
    ``created_by`` carries ``uri`` (``file://…#L<line>``) when a workspace folder has its
    file."""
    view = view_of(entry)
    groups = groups_of(view)
    start, end = page * VIEW_PAGE, (page + 1) * VIEW_PAGE
    if group is None:
        items = [_group_json(view, k, members, folders) for k, members in
                 enumerate(groups[start:end], start)]  # fmt: skip
        total = len(groups)
    else:
        if not 0 <= group < len(groups):
            raise ArgumentError(f"{entry.name} has no goroutine group {group}")
        members = groups[group]
        items = [_linked(view.goroutine_json(i), folders) for i in members[start:end]]
        total = len(members)
    return {"dump": entry.uri, "parent": group, "page": page, "items": items,
            "more": total > end, "total": total}  # fmt: skip


# per loaded dump: its goroutine view's groups, worked out once per view
_groups: weakref.WeakKeyDictionary[Any, tuple[GoroutineView, list[list[int]]]] = (
    weakref.WeakKeyDictionary()
)


def groups_of(view: GoroutineView) -> list[list[int]]:
    cached = _groups.get(view.heap)
    if cached is None or cached[0] is not view:
        cached = _groups[view.heap] = (view, view.groups())
    return cached[1]


def _group_json(view: GoroutineView, k: int, members: list[int], folders: list[str]):
    gor = view.gor
    return {
        "group": k,
        "count": len(members),
        "retained": int(gor.retained_bytes[members].sum()),
        "first": _linked(view.goroutine_json(members[0], variables=False), folders),
    }


def _linked(goroutine: dict[str, Any], folders: list[str]) -> dict[str, Any]:
    """``goroutine`` with each frame's (and its creator's) ``uri`` in the workspace."""
    for frame in [*goroutine["frames"], goroutine["created_by"]]:
        path = source_file(frame["file"], folders) if frame.get("file") else None
        frame["uri"] = f"{from_fs_path(path)}#L{frame['line']}" if path else None
    return goroutine


def goroutine_at(line: str, character: int) -> int | None:
    """N of the ``goroutine N`` under ``character``, if any."""
    for m in GOROUTINE_RE.finditer(line):
        if m.start() <= character <= m.end():
            return int(m.group(1))
    return None


def hover_markdown(entries: list[DumpEntry], goid: int, folders: list[str]) -> str | None:
    """Goroutine ``goid`` in each ready dump that has it; None when none does."""
    sections = []
    for entry in entries:
        with entry.lock:
            if entry.loaded is None:
                continue
            view = view_of(entry)
            i = view.gor.index_of(goid)
            if i >= 0:
                sections.append(dump_heading(entry) + "\n\n" + goroutine_hover(view, i, folders))
    return "\n\n---\n\n".join(sections) if sections else None


def goroutine_hover(view: GoroutineView, i: int, folders: list[str]) -> str:
    gor = view.gor
    answer: dict[str, Any] = view.goroutine_json(i, variables=False)
    verdict = {True: "**leaked**", False: "not leaked", None: "leak unknown"}[answer["leaked"]]
    minutes = answer["wait_minutes"]
    wait = markdown_text(gor.wait_reason[i] or gor.status_name(i))  # names come from dumps
    head = f"**goroutine {answer['id']}** [{wait}" + (f", {minutes} minutes" if minutes else "")
    retained = answer["retained"]
    out = [
        f"{head}] · {verdict} · retains {retained['bytes']} bytes ({retained['objects']} objects)"
    ]
    if answer["why"]:
        out += ["", markdown_text(str(answer["why"]))]
    out.append("")
    frames = answer["frames"]
    for f in frames[:MAX_HOVER_FRAMES]:
        out.append(f"- {inline_code(f['function'])} {_where(f, folders)}")
    if len(frames) > MAX_HOVER_FRAMES:
        out.append(f"- … {len(frames) - MAX_HOVER_FRAMES} more frames")
    created = answer["created_by"]
    if created.get("function"):
        out.append(f"- created by {inline_code(created['function'])} {_where(created, folders)}")
    return "\n".join(out)


def _where(frame: dict, folders: list[str]) -> str:
    """``file:line``, a link when a workspace folder has the file."""
    file, line = frame.get("file"), frame.get("line")
    if not file:
        return inline_code(str(frame.get("pc")))
    path = source_file(file, folders)
    text = f"{file}:{line}"
    if not path:
        return inline_code(text)
    return f"[{markdown_text(text)}]({from_fs_path(path)}#L{line})"  # the URI is quoted


def source_file(file: str, folders: list[str]) -> str | None:
    """The workspace file a binary's path names. ``-trimpath`` paths start with the module
    path (``heapspurs.test/goleaks/main.go``): a folder whose go.mod declares the module
    has the rest; else the path itself, or its longest tail of two or more parts, under a
    folder (one part alone, ``proc.go``, would name any file of that name)."""
    for folder in folders:
        module = _module_path(folder)
        if module and file.startswith(module + "/"):
            candidate = os.path.join(folder, file[len(module) + 1 :])
            if os.path.isfile(candidate):
                return candidate
    if os.path.isabs(file) and os.path.isfile(file):
        return file
    parts = file.split("/")
    for k in range(max(len(parts) - 1, 0)):
        tail = os.path.join(*parts[k:])
        for folder in folders:
            candidate = os.path.join(folder, tail)
            if os.path.isfile(candidate):
                return candidate
    return None


def _module_path(folder: str) -> str | None:
    try:
        with open(os.path.join(folder, "go.mod"), encoding="utf-8", errors="replace") as f:
            for line in f:
                words = line.split()
                if len(words) >= 2 and words[0] == "module":
                    return words[1].strip('"')
    except OSError:
        return None
    return None


def goroutine_markdown_lines(view: GoroutineView, i: int) -> Iterator[str]:
    """One goroutine as its group's text (the CLI's lines)."""
    yield from group_lines(view, [i])


def goroutine_arguments(params: Any) -> tuple[int | None, int | None]:
    """``id`` and ``limit`` of the request's object (either may be left out)."""
    args = plain(params)
    if isinstance(args, list):
        args = args[0] if args else {}
    args = args if isinstance(args, dict) else {}
    goid, limit = args.get("id"), args.get("limit")
    if goid is not None and (not isinstance(goid, int) or isinstance(goid, bool) or goid < 0):
        raise ArgumentError(f"'id' must be a goroutine id (a number), not {goid!r}")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise ArgumentError(f"'limit' must be a count of goroutines (>= 0), not {limit!r}")
    return goid, limit


def page_argument(params: Any) -> int | None:
    """``page`` of the request's object: the Goroutines view pages (None: the whole answer)."""
    args = plain(params)
    if isinstance(args, list):
        args = args[0] if args else {}
    if not isinstance(args, dict) or args.get("page") is None:
        return None
    return _int(args, "page", 0, 0)


def group_argument(params: Any) -> int | None:
    """``group`` of a paged request: one group's goroutines (None: the groups)."""
    args = plain(params)
    if isinstance(args, list):
        args = args[0] if args else {}
    if not isinstance(args, dict) or args.get("group") is None:
        return None
    return _int(args, "group", 0, 0)


def register(server: HeapspursServer, answers_errors) -> None:
    """Add the goroutines request and command to ``server``."""
    from .view_features import prepared  # imports this module

    async def goroutines(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        entry = dump_argument(ls, params, REQ_GOROUTINES)
        page = page_argument(params)
        if page is not None:
            group = group_argument(params)
            await prepared(entry, lambda e: groups_of(view_of(e)))  # not under the lock
            return await ls.analyse(entry, goroutines_page, page, ls.folders(), group)
        return await ls.analyse(entry, goroutines_answer, *goroutine_arguments(params))

    offer(server, answers_errors, goroutines, REQ_GOROUTINES, CMD_GOROUTINES)


__all__ = ["goroutine_at", "goroutines_answer", "hover_markdown", "register"]

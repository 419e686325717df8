"""What grew between dumps in the language server: ``heapspurs/compare`` (command
``heapspurs.compare``).

``{"dump"?: uri, "baselineUris": [uri, ...], "top"?: N}``: the dump (or the only ready
one) against older loaded dumps, oldest first → the CLI's ``--histogram --baseline --json``
answer (``comparison``, ``same_process``, ``types``, totals, ``series``) with ``growth``
as in ``--top N --baseline --json`` (the ``top`` largest groups of new objects, default
20); ``dump`` and ``baselines`` are URIs; ``markdown`` holds the text the CLI prints."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..analysis import compare as C
from ..render.compare import comparison_lines, group_lines
from .hover import code_block, dump_heading, inline_code
from .protocol import CMD_COMPARE, DEFAULT_TOP, REQ_COMPARE, ArgumentError, _int
from .store import DumpEntry
from .types_features import dump_argument, object_argument, offer

if TYPE_CHECKING:
    from .server import HeapspursServer


def compare_of(entry: DumpEntry, baselines: list[DumpEntry], top: int) -> dict[str, Any]:
    assert entry.loaded is not None
    olds = [b.loaded for b in baselines if b.loaded is not None]
    try:
        comparison = C.compare(entry.loaded, olds)
    except C.NotComparable as err:
        raise ArgumentError(str(err)) from None
    answer: dict[str, Any] = C.histogram_answer(comparison)
    answer["growth"] = C.growth_groups(comparison, top)
    lines = [*comparison_lines(answer), "", *group_lines(answer)]  # with the files' paths
    answer["dump"], answer["baselines"] = entry.uri, [b.uri for b in baselines]
    if answer["series"]:
        answer["series"]["dumps"] = [*answer["baselines"], entry.uri]
    since = ", ".join(inline_code(b.name) for b in baselines)
    answer["markdown"] = f"{dump_heading(entry)}\n\n**What grew since {since}**\n\n" + code_block(
        lines
    )
    return answer


def baseline_arguments(ls: HeapspursServer, args: dict[str, Any], entry: DumpEntry) -> list:
    """``baselineUris``: loaded dumps of the dump's program, oldest first."""
    uris = args.get("baselineUris")
    if not isinstance(uris, list) or not uris or not all(isinstance(u, str) for u in uris):
        raise ArgumentError(f"{REQ_COMPARE}: 'baselineUris' must be a list of dump URIs, "
                            "oldest first")  # fmt: skip
    out = []
    for uri in uris:
        baseline = ls.store.entry(uri)
        if baseline is None or baseline.loaded is None:
            raise ArgumentError(f"{uri} is not a loaded heap dump")
        if baseline.program != entry.program:
            raise ArgumentError(
                f"{baseline.name} is typed by {baseline.program or 'no program'}, "
                f"{entry.name} by {entry.program or 'none'}: compare dumps of one program"
            )
        out.append(baseline)
    return out


async def locked(entries: list[DumpEntry], fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` on a worker thread holding every entry's lock, taken in one order
    (by path) so two comparisons of the same dumps never wait on each other."""

    def run() -> Any:
        with contextlib.ExitStack() as held:
            for e in sorted({e.path: e for e in entries}.values(), key=lambda e: e.path):
                held.enter_context(e.lock)
            for e in entries:
                if e.loaded is None:
                    raise ArgumentError(f"{e.name} was unloaded")
            return fn(*args)

    return await asyncio.to_thread(run)


def register(server: HeapspursServer, answers_errors) -> None:
    """Add the comparison request and command to ``server``."""

    async def compare(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        args = object_argument(params, REQ_COMPARE)
        entry = dump_argument(ls, args, REQ_COMPARE)
        baselines = baseline_arguments(ls, args, entry)
        top = _int(args, "top", DEFAULT_TOP, 1)
        return await locked([entry, *baselines], compare_of, entry, baselines, top)

    offer(server, answers_errors, compare, REQ_COMPARE, CMD_COMPARE)

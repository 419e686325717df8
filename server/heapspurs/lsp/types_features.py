"""The type histogram as an LSP custom request (``heapspurs/histogram``) and command
(``heapspurs.histogram``): ``{"dump"?: uri}`` → the CLI's ``--histogram --json`` answer
plus ``dump`` and ``markdown``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..analysis.dominators import retained_per_type
from ..analysis.typing import type_histogram
from ..render import text
from .hover import code_block, dump_heading
from .protocol import CMD_HISTOGRAM, REQ_HISTOGRAM, ArgumentError, plain
from .store import DumpEntry

if TYPE_CHECKING:
    from .server import HeapspursServer


def histogram_answer(entry: DumpEntry) -> dict[str, Any]:
    assert entry.loaded is not None
    heap, typed = entry.loaded.heap, entry.loaded.names.typed
    answer: dict[str, Any] = type_histogram(heap, typed, retained_per_type(heap, typed))
    lines = list(text.histogram_lines(answer))
    answer["dump"] = entry.uri
    answer["markdown"] = f"{dump_heading(entry)}\n\n**Types**\n\n{code_block(lines)}"
    return answer


def dump_argument(ls: HeapspursServer, params: Any, what: str = REQ_HISTOGRAM) -> DumpEntry:
    """The dump a histogram (or request ``what``) is asked of: ``{"dump": uri}``, or the
    only ready one."""
    args = object_argument(params, what)
    dump = args.get("dump")
    if dump is not None:
        if not isinstance(dump, str):
            raise ArgumentError(f"'dump' must be a URI string, not {dump!r}")
        entry = ls.store.entry(dump)
        if entry is None or entry.loaded is None:
            raise ArgumentError(f"{dump} is not a loaded heap dump")
        return entry
    ready = ls.store.ready()
    if len(ready) != 1:
        which = ", ".join(e.uri for e in ready) or "none is loaded"
        raise ArgumentError(
            f"{what}: say which dump ('dump'): {which}",
            {"dumps": [e.uri for e in ready]},
        )
    return ready[0]


def object_argument(params: Any, what: str) -> dict[str, Any]:
    """A request's params, or a command's first argument, as an object (``{}`` if none)."""
    args = plain(params)
    if isinstance(args, list):
        args = args[0] if args else {}
    if args is None:
        args = {}
    if not isinstance(args, dict):
        raise ArgumentError(f'{what} takes an object like {{"dump": "file:///…"}}')
    return args


Handler = Callable[[Any, Any], Awaitable[dict[str, Any]]]


def offer(
    server: HeapspursServer, answers_errors, handler: Handler, request: str = "", command: str = ""
) -> None:
    """Serve ``handler(ls, params)`` as the custom ``request`` and as the ``command`` (whose
    arguments arrive as a list, the first being what a request's params would be)."""
    # pygls reads the handlers' annotations at run time, where HeapspursServer (which
    # imports this module) is not importable: the server arrives as Any
    if request:

        @server.feature(request)
        @answers_errors
        async def on_request(ls: Any, params: Any = None) -> dict[str, Any]:
            return await handler(ls, params)

    if command:

        @server.command(command)
        @answers_errors
        async def on_command(ls: Any, *args: Any) -> dict[str, Any]:
            return await handler(ls, list(args))


def register(server: HeapspursServer, answers_errors) -> None:
    """Add the histogram request and command to ``server``."""

    async def histogram(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        entry = dump_argument(ls, params)
        return await ls.analyse(entry, histogram_answer)

    offer(server, answers_errors, histogram, REQ_HISTOGRAM, CMD_HISTOGRAM)

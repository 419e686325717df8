"""Parquet export in the language server: the request ``heapspurs/export`` and the command
``heapspurs.export``, params ``{"uri"?, "directory", "bytes"?: "none"|"all", "force"?}``
(``uri``: the loaded dump, or the only one; ``directory``: an absolute path or a file URI)
→ ``{"dump", "directory", "bytes", "tables": [{table, path, rows, bytes}], "markdown"}``;
the CLI's ``--export DIR [--export-bytes B] [--force]`` (README, "Export for DuckDB /
Spark"). An existing directory without ``force``, or one that cannot be written, is an
InvalidParams error saying so."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..export.errors import ExportError
from .hover import code_block, dump_heading, inline_code
from .protocol import CMD_EXPORT, REQ_EXPORT, ArgumentError
from .store import DumpEntry, uri_to_path
from .types_features import dump_argument, object_argument, offer

if TYPE_CHECKING:
    from .server import HeapspursServer

BYTES_CHOICES = ("none", "all")


def export_answer(entry: DumpEntry, directory: str, contents: str, force: bool) -> dict[str, Any]:
    from ..export.parquet import export  # pyarrow: only for an export

    assert entry.loaded is not None
    try:
        written = export(entry.loaded, directory, contents, force)
    except ExportError as err:
        raise ArgumentError(str(err)) from None
    lines = [f"{w.path}  {w.rows} rows, {w.bytes} bytes" for w in written]
    with_bytes = " (with object contents)" if contents == "all" else ""
    title = f"**Exported to** {inline_code(directory)}{with_bytes}"
    return {
        "dump": entry.uri,
        "directory": directory,
        "bytes": contents,
        "tables": [w.as_json() for w in written],
        "markdown": f"{dump_heading(entry)}\n\n{title}\n\n{code_block(lines)}",
    }


def export_arguments(args: dict[str, Any]) -> tuple[str, str, bool]:
    """(directory, bytes, force) from the params, checked."""
    directory = args.get("directory")
    if not isinstance(directory, str) or not directory:
        raise ArgumentError(f"{REQ_EXPORT}: 'directory' must be an absolute path or a file URI")
    if directory.startswith("file:"):
        try:
            directory = uri_to_path(directory)
        except ValueError as err:
            raise ArgumentError(f"'directory': {err}") from None
    if not os.path.isabs(directory):
        raise ArgumentError(f"'directory' must be absolute, not {directory!r}")
    contents = args.get("bytes", "none")
    if contents not in BYTES_CHOICES:
        raise ArgumentError(f'\'bytes\' must be "none" or "all", not {contents!r}')
    force = args.get("force", False)
    if not isinstance(force, bool):
        raise ArgumentError(f"'force' must be true or false, not {force!r}")
    return directory, contents, force


def register(server: HeapspursServer, answers_errors) -> None:
    """Add the export request and command to ``server``."""

    async def export(ls: HeapspursServer, params: Any) -> dict[str, Any]:
        args = object_argument(params, REQ_EXPORT)
        if "uri" in args:  # the dump is named "uri" here, "dump" elsewhere: both work
            args = {**args, "dump": args["uri"]}
        entry = dump_argument(ls, args, REQ_EXPORT)
        directory, contents, force = export_arguments(args)
        return await ls.analyse(entry, export_answer, directory, contents, force)

    offer(server, answers_errors, export, REQ_EXPORT, CMD_EXPORT)

"""heapspurs/export over stdio with a real LSP client: the tables written are the CLI's
(the same rows as --histogram of the same dump), an existing directory is refused unless
"force", bad params are InvalidParams, and the server answers on afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from test_lsp import client, command, make_workspace, request, start

__all__ = ["client"]  # the fixture, shared with test_lsp
pytestmark = pytest.mark.asyncio
TABLES = ["objects", "references", "roots", "goroutines", "types", "dumps"]


def cli_histogram(ws: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "heapspurs.cli", str(ws / "service.heapdump"), "--program",
         str(ws / "scenarios"), "--histogram", "--json", "--no-cache"],
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    return json.loads(proc.stdout)


async def test_export_request_writes_the_tables(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws)
    dump = (ws / "service.heapdump").resolve().as_uri()
    out = tmp_path / "export"
    answer = await request(client, "heapspurs/export", {"uri": dump, "directory": str(out)})
    assert answer["dump"] == dump and answer["bytes"] == "none"
    assert [t["table"] for t in answer["tables"]] == TABLES
    for t in answer["tables"]:
        assert Path(t["path"]) == out / f"{t['table']}.parquet"
        assert pq.read_metadata(t["path"]).num_rows == t["rows"]
        assert Path(t["path"]).stat().st_size == t["bytes"]
    types = pq.read_table(out / "types.parquet").to_pylist()
    hist = cli_histogram(ws)["types"]
    assert [{k: r[k] for k in ("type", "count", "bytes", "retained")} for r in types] == hist
    assert "Exported to" in answer["markdown"]

    with pytest.raises(JsonRpcInvalidParams, match="exists: give --force"):
        await request(client, "heapspurs/export", {"uri": dump, "directory": str(out)})
    params = {"uri": dump, "directory": out.as_uri(), "bytes": "all", "force": True}
    again = await command(client, "heapspurs.export", params)
    assert [t["table"] for t in again["tables"]] == [*TABLES, "contents"]
    assert (out / "contents.parquet").exists()


async def test_export_bad_params(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws)
    dump = (ws / "service.heapdump").resolve().as_uri()
    bad = [
        ({"uri": dump}, "'directory'"),
        ({"uri": dump, "directory": "relative/dir"}, "absolute"),
        ({"uri": dump, "directory": str(tmp_path / "a"), "bytes": "some"}, "'bytes'"),
        ({"uri": dump, "directory": str(tmp_path / "a"), "force": "yes"}, "'force'"),
        ({"uri": (ws / "none.dump").as_uri(), "directory": str(tmp_path / "a")}, "not a loaded"),
        ({"uri": dump, "directory": str(ws / "service.heapdump")}, "not a directory"),
    ]
    for params, words in bad:
        with pytest.raises(JsonRpcInvalidParams, match=words):
            await request(client, "heapspurs/export", params)
    assert not (tmp_path / "a").exists()
    # the dump left out: the only one loaded
    answer = await request(client, "heapspurs/export", {"directory": str(tmp_path / "b")})
    assert answer["dump"] == dump

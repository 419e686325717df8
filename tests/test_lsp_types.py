"""Types in the editor, over stdio with a real LSP client: the auto-matched binary types the
dump; hovers say the type and the anchor's Go path; heapspurs/histogram answers the CLI's
histogram; the graph labels nodes with types."""

from __future__ import annotations

from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from test_lsp import LATEST, client, command, hover_address, make_workspace, request, start

from conftest import fixture

__all__ = ["client"]  # the fixture, shared with test_lsp
pytestmark = pytest.mark.asyncio


def entry(name: str) -> dict:
    return next(e for e in fixture(LATEST).truth["types"] if e["name"] == name)


async def test_hover_says_type_and_path(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws)
    req = entry("sessions_req")
    text = await hover_address(client, ws, req["address"])
    assert text is not None
    assert f"type: `{req['type']}`" in text
    assert f"`{req['path']}`" in text
    interior = entry("array_interior_int64")
    text = await hover_address(client, ws, interior["address"])
    assert text is not None and "type: `int64` (element of `[1024]int64`)" in text


async def test_histogram_request_and_command(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws)
    answer = await request(client, "heapspurs/histogram", {})
    assert answer["dump"] == (ws / "service.heapdump").resolve().as_uri()
    assert answer["typed_bytes"] >= 0.95 * answer["total_bytes"]
    by_type = {r["type"]: r for r in answer["types"]}
    assert by_type[entry("large_struct")["type"]]["count"] == 1
    assert "**Types**" in answer["markdown"] and "total" in answer["markdown"]
    same = await command(client, "heapspurs.histogram", {"dump": answer["dump"]})
    assert same["types"] == answer["types"]
    with pytest.raises(JsonRpcInvalidParams, match="not a loaded heap dump"):
        await request(client, "heapspurs/histogram", {"dump": (ws / "nothing").as_uri()})


async def test_graph_nodes_and_anchors_say_types(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws)
    req = entry("sessions_req")
    graph = await request(client, "heapspurs/graph", {"address": req["address"]})
    assert "main.Session" in graph["dot"] and "main.Request" in graph["dot"]
    assert "label=.Requests" in graph["dot"] or 'label=".Requests"' in graph["dot"]  # edge
    anchors = await command(client, "heapspurs.anchors", {"address": req["address"]})
    assert anchors["type"] == req["type"]
    assert any(a["name"] + "".join(a["fields"]) == req["path"] for a in anchors["anchors"])

"""What a results view asks over stdio with a real LSP client: heapspurs/directOwners gives
one level of owners at a time (with the field that points and the holding roots), so that
walking it level by level from the leaked object meets its anchor chain; the anchors answer
says the type and size of each link of a chain."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as T
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from test_lsp import LATEST, client, command, hover, make_workspace, open_doc, request, start

from conftest import fixture

__all__ = ["client"]  # the fixture, shared with test_lsp
pytestmark = pytest.mark.asyncio


def open_uri(c: LanguageClient, uri: str, text: str) -> str:
    c.text_document_did_open(
        T.DidOpenTextDocumentParams(T.TextDocumentItem(uri, "heapspurs-result", 1, text))
    )
    return uri


async def test_direct_owners_walk_up_the_anchor_chain(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws)
    leak = fixture(LATEST).truth["scenarios"]["leak"]
    anchors = await command(client, "heapspurs.anchors", {"address": leak["address"]})
    chain = next(a for a in anchors["anchors"] if a["name"] == leak["anchor"]["name"])
    # from the object up: each link's owner is among the direct owners, through that field
    for below, above, field in zip(
        chain["path"][::-1], chain["path"][-2::-1], chain["fields"][::-1], strict=False
    ):
        level = await request(client, "heapspurs/directOwners", {"address": below})
        assert level["object"]["address"] == below
        owner = next(o for o in level["owners"] if o["address"] == above)
        assert owner["field"] == field
        assert owner["owned"], "an owner on the chain is held in turn"
        assert level["total_owners"] >= len(level["owners"])
    top = await request(client, "heapspurs/directOwners", {"address": chain["path"][0]})
    assert any(r["kind"] == "global" and r["name"] == leak["anchor"]["name"] for r in top["roots"])
    # the anchors answer describes each link of the chain
    for address in chain["path"]:
        assert anchors["objects"][address]["address"] == address
        assert anchors["objects"][address]["size"] > 0
    assert anchors["objects"][leak["object"]]["type"] == anchors["type"]


async def test_direct_owners_name_the_holding_frame_and_variable(
    client: LanguageClient, tmp_path: Path
):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws)
    held = next(e for e in fixture(LATEST).truth["types"] if e["name"] == "stack_held")
    level = await request(client, "heapspurs/directOwners", {"address": held["address"]})
    frames = [r for r in level["roots"] if r["kind"] == "goroutine"]
    assert frames, level["roots"]
    assert frames[0]["function"] == held["root"]["function"]
    assert frames[0]["goroutine"] == held["root"]["goroutine"]
    assert isinstance(frames[0]["frame"], int)
    assert frames[0]["field"] == held["path"]
    assert level["object"]["type"] == held["type"]


async def test_direct_owners_bad_input(client: LanguageClient, tmp_path: Path):
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws)
    with pytest.raises(JsonRpcInvalidParams, match="missing 'address'"):
        await request(client, "heapspurs/directOwners", {})
    with pytest.raises(JsonRpcInvalidParams, match="not an address"):
        await request(client, "heapspurs/directOwners", {"address": "0xzz"})
    with pytest.raises(JsonRpcInvalidParams, match="0x10"):
        await request(client, "heapspurs/directOwners", {"address": "0x10"})
    assert (await request(client, "heapspurs/dumps", {}))["dumps"]  # still answering


async def test_hover_in_documents_whose_uri_has_escapes(client: LanguageClient, tmp_path: Path):
    """A log in a folder with a space, and a result document titled "Hexdump of 0x…": their
    URIs arrive percent-encoded, and they hover like any other document."""
    ws = make_workspace(tmp_path / "ws")
    await start(client, ws)
    leak = fixture(LATEST).truth["scenarios"]["leak"]
    (ws / "my logs").mkdir()
    text = f"request {leak['address']} still referenced"
    column = len("request ") + 3
    spaced = open_doc(client, ws / "my logs" / "leak.log", text)
    assert "%20" in spaced
    result = open_uri(client, f"heapspurs:/Hexdump%20of%20{leak['address']}", text)
    for uri in (spaced, result):
        answer = await hover(client, uri, 0, column)
        assert answer is not None and leak["anchor"]["name"] in answer, uri

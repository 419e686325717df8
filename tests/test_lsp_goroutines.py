"""Goroutines in the editor, over stdio with a real LSP client: heapspurs/goroutines (request
and command) answers what --goroutines --json does; a hover on "goroutine N" in a log shows
that goroutine's stack, verdict and retained size, frames linked to the workspace's source."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from test_lsp import client, command, hover, open_doc, request, start

__all__ = ["client"]  # the fixture, shared with test_lsp
pytestmark = pytest.mark.asyncio

GOLEAKS = Path(__file__).resolve().parent / "fixtures" / "goleaks" / "go1.27"
SOURCE = Path(__file__).resolve().parent / "fixtures" / "src" / "goleaks" / "main.go"


def workspace(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copy(GOLEAKS / "heap.dump", root / "service.heapdump")
    shutil.copy(GOLEAKS / "goleaks", root / "goleaks")
    for name in ("main.go", "go.mod"):  # the module's checkout
        shutil.copy(SOURCE.parent / name, root / name)
    return root


def truth() -> dict:
    return json.loads((GOLEAKS / "truth.json").read_text())


async def test_goroutines_request_and_command(client: LanguageClient, tmp_path: Path):
    ws = workspace(tmp_path / "ws")
    await start(client, ws)
    answer = await request(client, "heapspurs/goroutines", {})
    assert answer["dump"] == (ws / "service.heapdump").resolve().as_uri()
    want = {c["id"] for c in truth()["goroutines"] if c["leaked"]}
    assert {g["id"] for g in answer["goroutines"] if g["leaked"]} == want
    assert "**Goroutines**" in answer["markdown"] and "leaked" in answer["markdown"]
    case = next(c for c in truth()["goroutines"] if c["case"] == "chain_a")
    one = await command(client, "heapspurs.goroutines", {"id": case["id"]})
    assert one["id"] == case["id"] and one["leaked"] is True
    assert any(f["function"] == "main.chainA" and f["line"] for f in one["frames"])
    first = await request(client, "heapspurs/goroutines", {"limit": 3})
    assert [g["leaked"] for g in first["goroutines"]] == [True] * 3
    assert first["omitted"] == first["total"] - 3 == len(answer["goroutines"]) - 3
    retained = [g["retained"]["bytes"] for g in first["goroutines"]]
    assert retained == sorted(retained, reverse=True)
    with pytest.raises(JsonRpcInvalidParams, match="'limit' must be"):
        await request(client, "heapspurs/goroutines", {"limit": -1})
    with pytest.raises(JsonRpcInvalidParams, match="no goroutine 999999"):
        await request(client, "heapspurs/goroutines", {"id": 999999})
    with pytest.raises(JsonRpcInvalidParams, match="goroutine id"):
        await request(client, "heapspurs/goroutines", {"id": "seven"})


async def test_hover_on_goroutine_in_a_log(client: LanguageClient, tmp_path: Path):
    ws = workspace(tmp_path / "ws")
    await start(client, ws)
    leaked = next(c for c in truth()["goroutines"] if c["case"] == "own_chan_recv")
    parked = next(c for c in truth()["goroutines"] if c["case"] == "parked_on_global")
    text = f"panic: boom\n\ngoroutine {leaked['id']} [chan receive]:\ngoroutine {parked['id']} x\n"
    uri = open_doc(client, ws / "panic.log", text)
    shown = await hover(client, uri, 2, len("goroutine 1"))
    assert shown is not None
    assert f"goroutine {leaked['id']}" in shown and "**leaked**" in shown
    assert "retains" in shown and "`main.ownChanRecv`" in shown
    source = (ws / "main.go").resolve().as_uri()
    assert f"]({source}#L" in shown  # the frame links to the workspace's file
    other = await hover(client, uri, 3, 3)
    assert other is not None and "not leaked" in other
    assert await hover(client, uri, 0, 3) is None  # no goroutine, no address


async def test_goroutines_view_pages_groups_with_source_links(client: LanguageClient, tmp_path):
    """The Goroutines view: groups of goroutines with one stack, the leaked first, each
    group's goroutines a page at a time, every frame in the workspace's main.go linked to
    its line."""
    ws = workspace(tmp_path / "ws")
    await start(client, ws)
    groups = await request(client, "heapspurs/goroutines", {"page": 0})
    assert groups["more"] is False and groups["total"] == len(groups["items"])
    every = await request(client, "heapspurs/goroutines", {})
    assert sum(g["count"] for g in groups["items"]) == every["total"]
    leaked = [g["first"]["leaked"] for g in groups["items"]]
    assert leaked == sorted(leaked, key=lambda v: {True: 0, None: 1, False: 2}[v])
    members: dict[int, int] = {}
    for g in groups["items"]:
        inside = await request(client, "heapspurs/goroutines", {"page": 0, "group": g["group"]})
        assert inside["total"] == g["count"] and inside["items"][0]["id"] == g["first"]["id"]
        members.update({m["id"]: g["group"] for m in inside["items"]})
        assert sum(m["retained"]["bytes"] for m in inside["items"]) == g["retained"]
    assert set(members) == {g["id"] for g in every["goroutines"]}
    case = next(c for c in truth()["goroutines"] if c["case"] == "chain_a")
    group = members[case["id"]]
    inside = await request(client, "heapspurs/goroutines", {"page": 0, "group": group})
    frame = next(
        f for g in inside["items"] if g["id"] == case["id"] for f in g["frames"]
        if f["function"] == "main.chainA"
    )  # fmt: skip
    assert frame["uri"] == f"{(ws / 'main.go').resolve().as_uri()}#L{frame['line']}"
    lines = SOURCE.read_text().splitlines()
    first = next(n for n, text in enumerate(lines, 1) if text.startswith("func chainA("))
    end = next(n for n, text in enumerate(lines, 1) if n > first and text == "}")
    assert first < frame["line"] < end, "the link opens a line of chainA's body"
    frames = [f for g in inside["items"] for f in g["frames"]]
    runtime = next(f for f in frames if f["file"].startswith("runtime/"))
    assert runtime["uri"] is None, "runtime's files are not in the workspace"
    with pytest.raises(JsonRpcInvalidParams, match="'page' must be"):
        await request(client, "heapspurs/goroutines", {"page": -1})
    with pytest.raises(JsonRpcInvalidParams, match="no goroutine group 9999"):
        await request(client, "heapspurs/goroutines", {"page": 0, "group": 9999})

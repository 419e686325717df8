"""Retained sizes in the editor, over stdio with a real LSP client: heapspurs/top and
heapspurs/suspects (requests and commands) answer as the CLI's --top/--suspects --json on
the planted-leak fixture, drill down under an address, refuse bad arguments in one line;
the hover says what an object retains."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from test_dominators import LEAK_DIR, leak_cli, leak_truth
from test_lsp import client, command, hover_address, request, start

__all__ = ["client"]  # the fixture, shared with test_lsp
pytestmark = pytest.mark.asyncio


def leak_workspace(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(LEAK_DIR / "heap.dump", root / "service.heapdump")
    shutil.copy(LEAK_DIR / "leakcache", root / "leakcache")
    return root


def cli_answer(*argv: str) -> dict:
    status, out, _ = leak_cli(*argv, "--json")
    assert status == 0
    return json.loads(out)


async def test_top_request_and_command(client: LanguageClient, tmp_path: Path):
    ws = leak_workspace(tmp_path / "ws")
    await start(client, ws)
    answer = await request(client, "heapspurs/top", {"count": 5})
    assert answer["dump"] == (ws / "service.heapdump").resolve().as_uri()
    assert answer["objects"] == cli_answer("--top", "5")["objects"]
    assert "**Top retainers**" in answer["markdown"]
    assert leak_truth()["leak"]["global"] in answer["markdown"]
    first = answer["objects"][0]
    under = await command(client, "heapspurs.top", {"address": first["address"], "count": 3})
    assert under["parent"]["address"] == first["address"]
    assert under["objects"] == cli_answer("--top", "3", "--address", first["address"])["objects"]


async def test_suspects_request_and_command(client: LanguageClient, tmp_path: Path):
    ws = leak_workspace(tmp_path / "ws")
    await start(client, ws)
    answer = await request(client, "heapspurs/suspects", {})
    assert answer["suspects"] == cli_answer("--suspects")["suspects"]
    assert answer["suspects"][0]["anchor"]["name"] == leak_truth()["leak"]["global"]
    assert "**Leak suspects**" in answer["markdown"]
    assert "accumulation point" in answer["markdown"]
    strict = await command(client, "heapspurs.suspects", {"threshold": 50})
    assert len(strict["suspects"]) == 1


async def test_bad_arguments_are_explained(client: LanguageClient, tmp_path: Path):
    ws = leak_workspace(tmp_path / "ws")
    await start(client, ws)
    with pytest.raises(JsonRpcInvalidParams, match="is not in any object"):
        await request(client, "heapspurs/top", {"address": "0x1"})
    with pytest.raises(JsonRpcInvalidParams, match="'count' must be an integer"):
        await request(client, "heapspurs/top", {"count": 0})
    with pytest.raises(JsonRpcInvalidParams, match="'threshold' must be a percentage"):
        await request(client, "heapspurs/suspects", {"threshold": "lots"})
    with pytest.raises(JsonRpcInvalidParams, match="not a loaded heap dump"):
        await request(client, "heapspurs/top", {"dump": (ws / "nothing").as_uri()})
    answer = await request(client, "heapspurs/top", {"count": 1})  # the server lives on
    assert len(answer["objects"]) == 1


async def test_hover_says_what_the_object_retains(client: LanguageClient, tmp_path: Path):
    ws = leak_workspace(tmp_path / "ws")
    await start(client, ws)
    top = cli_answer("--top", "1")["objects"][0]
    text = None
    for _ in range(100):  # the first hover starts the tree; it never waits for it
        text = await hover_address(client, ws, top["address"])
        assert text is not None
        if "being computed" not in text:
            break
        await asyncio.sleep(0.2)
    assert text is not None
    assert f"retains: {top['retained']} bytes (" in text and "% of the heap)" in text

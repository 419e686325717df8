"""The heap explorer's views over stdio with a real LSP client, on the growth fixture:
heapspurs/types pages the histogram and a type's objects, heapspurs/retainers pages the
dominator tree from the top and under an object; every page agrees with the CLI (a type
row also says where the workspace declares the type)
(--histogram, --find, --top, --top --address), pages never overlap and together are whole."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient

from heapspurs.lsp.view_features import PAGE
from test_lsp import client, request, start
from test_lsp_gosource import cli_json, growth_workspace

__all__ = ["client"]  # the fixture, shared with test_lsp


async def all_pages(c: LanguageClient, method: str, params: dict) -> list[dict]:
    items: list[dict] = []
    for page in range(100):
        answer = await request(c, method, {**params, "page": page})
        assert answer["page"] == page and len(answer["items"]) <= PAGE
        items += answer["items"]
        if not answer["more"]:
            assert len(items) == answer["total"]
            return items
        assert len(answer["items"]) == PAGE
    raise AssertionError("more pages than objects")


@pytest.mark.asyncio
async def test_types_view_pages_the_histogram_and_a_types_objects(client: LanguageClient, tmp_path):
    ws = growth_workspace(tmp_path / "ws")
    await start(client, ws)
    rows = await all_pages(client, "heapspurs/types", {})
    sources = {row["type"]: row.pop("source") for row in rows}
    assert rows == cli_json("--histogram")["types"]
    text = (ws / "main.go").read_text().splitlines()
    line = next(n for n, t in enumerate(text, 1) if t.startswith("type Session struct"))
    assert sources["main.Session"] == f"{(ws / 'main.go').resolve().as_uri()}#L{line}"
    assert sources["runtime.g"] is None, "the workspace does not declare it"
    sessions = await all_pages(client, "heapspurs/types", {"parent": "main.Session"})
    assert len(sessions) == 290 > PAGE, "two pages"
    found = {o["address"] for o in cli_json("--find", r"^main\.Session$")["objects"]}
    assert [o["address"] for o in sessions if o["address"] in found] == [
        o["address"] for o in sessions
    ]
    assert len({o["address"] for o in sessions}) == len(found)
    retained = [o["retained"] for o in sessions]
    assert retained == sorted(retained, reverse=True)
    with pytest.raises(JsonRpcInvalidParams, match="no object of type"):
        await request(client, "heapspurs/types", {"parent": "main.Nothing"})


@pytest.mark.asyncio
async def test_retainers_view_is_the_dominator_tree_a_page_at_a_time(
    client: LanguageClient, tmp_path
):
    ws = growth_workspace(tmp_path / "ws")
    await start(client, ws)
    first = await request(client, "heapspurs/retainers", {})
    top = cli_json("--top", str(PAGE))["objects"]
    assert [o["address"] for o in first["items"]] == [o["address"] for o in top]
    biggest = first["items"][0]
    assert biggest["type"] == "map.hdr[string]*main.Session"
    under = await all_pages(client, "heapspurs/retainers", {"parent": biggest["address"]})
    assert len(under) == biggest["children"]
    drill = cli_json("--top", "5", "--address", biggest["address"])["objects"]
    assert [o["address"] for o in under[:5]] == [o["address"] for o in drill]
    assert sum(o["retained"] for o in under) + biggest["size"] == biggest["retained"]
    with pytest.raises(JsonRpcInvalidParams, match="no object a root reaches"):
        await request(client, "heapspurs/retainers", {"parent": "0x1"})


def test_kept_orders_page_as_a_fresh_pick_does(monkeypatch):
    """The orders the warm-up keeps (a type's objects, a long children list) give the pages
    a fresh pick of the largest gives: the same objects in the same order."""
    from heapspurs.loaded import load_dump
    from heapspurs.lsp import view_features as V
    from heapspurs.lsp.store import DumpEntry
    from test_lsp_gosource import GROWTH

    dump = GROWTH / "heap2.dump"

    def entry() -> DumpEntry:
        loaded = load_dump(dump, program=str(GROWTH / "growth"), cache=False)
        return DumpEntry(str(dump), dump.as_uri(), state="ready", loaded=loaded)

    fresh, kept = entry(), entry()
    monkeypatch.setattr(V, "PAGE", 7)  # several pages of a small dump
    monkeypatch.setattr(V, "SORTED_CHILDREN_MIN", 0)  # every list kept in order
    V.warm_up(kept)
    assert kept.sorted_children is not None and kept.sorted_children[1]
    biggest = V.retainers_page(fresh, None, 0)["items"][0]["address"]
    heap, tree = fresh.loaded.heap, V.dominators(fresh.loaded.heap)
    index, labels = fresh.loaded.names.typed.name_index(heap)
    objs = np.flatnonzero((index == labels.index("main.Request")) & ~heap.phantom)
    in_order = objs[np.lexsort((objs, -tree.retained[objs]))]  # largest first, then address
    requests = [f"{int(heap.addr[o]):#x}" for o in in_order]
    for page in range(3):
        assert V.retainers_page(kept, None, page) == V.retainers_page(fresh, None, page)
        under = int(biggest, 16)
        assert V.retainers_page(kept, under, page) == V.retainers_page(fresh, under, page)
        mine = V.types_page(kept, "main.Request", page)["items"]
        assert [o["address"] for o in mine] == requests[page * 7 : (page + 1) * 7]


@pytest.mark.asyncio
async def test_types_view_against_a_baseline_shows_growth(client: LanguageClient, tmp_path):
    """With a baseline the Types view's rows are the CLI's --histogram --baseline rows (the
    most growth first), each with what the type retains."""
    from test_lsp_gosource import GROWTH

    ws = growth_workspace(tmp_path / "ws")
    shutil.copy(GROWTH / "heap1.dump", ws / "before.heapdump")
    await start(client, ws)
    after, before = ((ws / n).resolve().as_uri() for n in ("service.heapdump", "before.heapdump"))
    rows = await all_pages(client, "heapspurs/types", {"dump": after, "baseline": before})
    first = await request(client, "heapspurs/types", {"dump": after, "baseline": before})
    assert first["comparison"].startswith("same process as")
    cli = cli_json("--histogram", "--baseline", str(GROWTH / "heap1.dump"))["types"]
    plain = [{k: v for k, v in r.items() if k not in ("source", "retained")} for r in rows]
    assert plain == cli
    assert rows[0]["type"] == "main.Blob" and rows[0]["new"] == 800
    retained = {r["type"]: r["retained"] for r in cli_json("--histogram")["types"]}
    assert all(r["retained"] == retained.get(r["type"], 0) for r in rows)
    with pytest.raises(JsonRpcInvalidParams, match="'baseline' must be a loaded dump"):
        await request(client, "heapspurs/types", {"dump": after, "baseline": "file:///nope"})

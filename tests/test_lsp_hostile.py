"""The language server under hostile input, driven over stdio by a plain JSON-RPC client
(written here, so that it can send what no well-behaved client would): a damaged dump, a
tampered saved index, a FIFO and hostile names in the workspace; malformed requests; an
absurd Content-Length. The server answers every request, stays up, and the other dumps
keep answering; names from dumps and OID files arrive escaped."""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
from html import escape
from pathlib import Path

import numpy as np
import pytest
from markdown_it import MarkdownIt

from heapspurs.heap.index import index_places
from heapspurs.loaded import load_dump
from heapspurs.render.safe import visible
from hostile import record_starts
from lsp_client import RawClient
from test_hostile_dumps import write_sparse_dump

from conftest import ROOT, fixture

F = fixture("go1.27")
HOSTILE_NAMES = (
    "<img src=x onerror=alert(8)>",
    "[x](command:workbench.action.terminal.new)",
    "![](https://example.com/p.png)",
    'NUL\x00quote"back\\slash\\',
    "\x1b[31mred\x1b[0m <b>bold</b> &amp; |cell| ~~gone~~",
)
INVALID_PARAMS = -32602


@pytest.fixture
def hostile_workspace(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A good dump whose saved index was tampered with, a damaged dump, a FIFO, and an OID
    file naming the scenario objects with hostile names; returns (folder, address -> name)."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(F.dump, ws / "good.heapdump")
    load_dump(ws / "good.heapdump")  # the server's cache folder is this test run's
    target = index_places(str(ws / "good.heapdump"))[0] / "field_target.npy"
    np.save(target, np.full(len(np.load(target)), 2**31 - 1, dtype=np.int32))
    damaged = bytearray(F.dump.read_bytes())
    damaged[record_starts(F.dump)[1]] = 99  # an unknown tag after DumpParams
    (ws / "bad.heapdump").write_bytes(bytes(damaged))
    write_sparse_dump(ws / "huge.heapdump")  # one 10 GB object record, sparse
    os.mkfifo(ws / "stuck-fifo")  # the binary search opens every file of the workspace
    os.mkfifo(ws / "fifo.heapdump")
    lines = F.oid.read_text().splitlines()
    scenarios = [s for s in F.truth["scenarios"].values() if s.get("oid_name")]
    oid_names = list(dict.fromkeys(s["oid_name"] for s in scenarios))
    hostile = dict(zip(oid_names, HOSTILE_NAMES, strict=False))
    lines = [" ".join(hostile.get(w, w) for w in ln.split(" ", 1)) for ln in lines]
    named = {s["address"]: hostile[s["oid_name"]] for s in scenarios if s["oid_name"] in hostile}
    (ws / "oid.txt").write_text("\n".join(lines) + "\n")
    shutil.copy(F.binary, ws / "scenarios")
    return ws, named


def rendered(markdown: str) -> str:
    """The HTML an editor makes of a hover (VS Code renders Markdown with markdown-it,
    HTML allowed when a client says so)."""
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def test_hostile_workspace_and_requests_leave_the_server_answering(hostile_workspace):
    ws, named = hostile_workspace
    client = RawClient({"oidFiles": ["oid.txt"]})
    try:
        dumps = {Path(d["uri"]).name: d for d in client.start(ws)}
        assert dumps["good.heapdump"]["state"] == "ready", dumps
        assert "damaged" in (dumps["good.heapdump"]["warning"] or "")
        bad = dumps["bad.heapdump"]
        assert bad["state"] == "error" and "unknown record tag 99" in bad["error"], bad
        assert "fifo.heapdump" not in dumps
        assert dumps["huge.heapdump"]["state"] == "ready" and dumps["huge.heapdump"]["objects"] == 1
        assert _rss_mb(client.proc.pid) < 1000
        log = client.open(ws / "log.txt", "\n".join(f"held={a}" for a in named))
        for i, name in enumerate(named.values()):
            answer = client.hover(log, i, len("held=") + 3)
            html = rendered(answer["result"]["contents"]["value"])
            assert "<img" not in html and "<b>" not in html and "\x00" not in html, html
            assert escape(visible(name)) in html, (name, html)  # shown, as text
            links = re.findall(r'href="([^"]*)"', html)
            assert links and all(h.startswith("command:heapspurs.") for h in links), links
        _malformed_requests_are_answered(client, log)
        _malformed_view_requests_are_answered(client, dumps["good.heapdump"]["uri"])
        _never_opened_documents_get_no_hover(client, ws)
        still = client.hover(log, 0, len("held=") + 3)
        assert "Object" in still["result"]["contents"]["value"]
    finally:
        status = client.close()
    assert status == 0, b"".join(client.stderr)[-3000:]
    assert len(b"".join(client.stderr)) < 100_000, "no flood on stderr"


def _malformed_requests_are_answered(client: RawClient, log: str) -> None:
    """Each answered with InvalidParams (the client would otherwise wait forever)."""
    good = {"textDocument": {"uri": log}, "position": {"line": 0, "character": 8}}
    bad_hovers = [
        {"textDocument": 5, "position": good["position"]},
        {"textDocument": good["textDocument"], "position": "x"},
        {"textDocument": good["textDocument"], "position": {"line": -1, "character": 0}},
        {"textDocument": good["textDocument"], "position": {"line": 2**40, "character": 0}},
    ]
    for params in bad_hovers:
        answer = client.request("textDocument/hover", params)
        assert answer.get("error", {}).get("code") == INVALID_PARAMS, (params, answer)
    answer = client.request("textDocument/hover", omit=True)
    assert answer.get("error", {}).get("code") == INVALID_PARAMS, answer
    address = {"address": "0x1", "depth": 10**30}
    answer = client.request("workspace/executeCommand",
                            {"command": "heapspurs.owners", "arguments": [address]})  # fmt: skip
    assert answer.get("error", {}).get("code") == INVALID_PARAMS, answer


def _malformed_view_requests_are_answered(client: RawClient, dump: str) -> None:
    """The Heap views' requests, Go instances and CodeLens: bad params are InvalidParams."""
    bad = [
        ("heapspurs/types", {"dump": dump, "page": -1}),
        ("heapspurs/types", {"dump": dump, "page": "x"}),
        ("heapspurs/types", {"dump": dump, "parent": 5}),
        ("heapspurs/types", {"dump": dump, "parent": "no.Such"}),
        ("heapspurs/retainers", {"dump": dump, "parent": "zz"}),
        ("heapspurs/retainers", {"dump": dump, "parent": "0x1"}),
        ("heapspurs/retainers", {"dump": dump, "page": 2**70}),
        ("heapspurs/instances", {"dump": dump, "type": 5}),
        ("heapspurs/goroutines", {"dump": dump, "page": -1}),
        ("heapspurs/goroutines", {"dump": dump, "page": 0, "group": "x"}),
        ("heapspurs/goroutines", {"dump": dump, "page": 0, "group": 10**9}),
        ("textDocument/codeLens", {"textDocument": 5}),
    ]
    for method, params in bad:
        answer = client.request(method, params)
        assert answer.get("error", {}).get("code") == INVALID_PARAMS, (method, params, answer)
    answer = client.request("heapspurs/types", {"dump": dump, "page": 0})
    assert answer["result"]["items"], "the views still answer"


def _never_opened_documents_get_no_hover(client: RawClient, ws: Path) -> None:
    """Not read from disk: a missing file is no InternalError, an existing one no answer."""
    (ws / "on-disk.txt").write_text("held=0xc000010000\n")
    for name in ("on-disk.txt", "missing.txt"):
        answer = client.hover((ws / name).as_uri(), 0, 8)
        assert "error" not in answer and answer["result"] is None, answer


def test_absurd_content_length_is_refused_without_dying(tmp_path: Path) -> None:
    """pygls would allocate 10^12 bytes (MemoryError); the message is read through and
    dropped in bounded pieces instead, and the server goes on."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(F.dump, ws / "one.heapdump")
    client = RawClient({})
    try:
        client.start(ws)
        body = b"x" * (200 << 20)  # over the limit, sent for real: dropped, not kept
        client.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        dumps = client.request("heapspurs/dumps", {})["result"]["dumps"]
        assert [d["state"] for d in dumps] == ["ready"]
        client.send_raw(b"Content-Length: 1000000000000\r\n\r\n{}")
        time.sleep(1)
        assert client.proc.poll() is None, b"".join(client.stderr)[-2000:]
        client.proc.stdin.close()  # the client goes away mid-message: a normal end
        assert client.proc.wait(timeout=30) == 0, b"".join(client.stderr)[-2000:]
    finally:
        if client.proc.poll() is None:
            client.proc.send_signal(signal.SIGKILL)
    assert b"MemoryError" not in b"".join(client.stderr)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _changed(client: RawClient, paths: list[Path], kind: int) -> None:
    changes = [{"uri": p.as_uri(), "type": kind} for p in paths]  # 1 created, 3 deleted
    client.notify("workspace/didChangeWatchedFiles", {"changes": changes})


BENCH_DUMP = ROOT / ".cache" / "bench" / "dumps" / "random-100000.heapdump"  # bench --quick's


@pytest.mark.skipif(not BENCH_DUMP.exists(), reason="run bench/bench.py --quick first (CI does)")
def test_memory_of_deleted_dumps_is_given_back(tmp_path: Path) -> None:
    """Load three 100k-object dumps, delete them, five times over: the server's resident
    memory after each deletion returns near where the first one left it."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copy(F.dump, ws / "first.heapdump")
    client = RawClient({})
    try:
        client.start(ws)
        (ws / "first.heapdump").unlink()
        _changed(client, [ws / "first.heapdump"], 3)
        after_delete, loaded = [], []
        for cycle in range(5):
            copies = [ws / f"{i}-{cycle}.heapdump" for i in range(3)]
            for copy in copies:
                shutil.copy(BENCH_DUMP, copy)
            _changed(client, copies, 1)
            dumps = client.settled()
            assert len(dumps) == len(copies) and {d["state"] for d in dumps} == {"ready"}
            loaded.append(_rss_mb(client.proc.pid))
            for copy in copies:
                copy.unlink()
            _changed(client, copies, 3)
            time.sleep(1.5)  # the release runs on a worker thread
            after_delete.append(_rss_mb(client.proc.pid))
        held = loaded[0] - after_delete[0]  # what a load takes and a deletion gives back
        assert held > 20, (loaded, after_delete)
        # five cycles never keep a quarter of that (Python's own heap drifts by a few MB
        # from run to run, so a tighter bound fails by chance)
        assert max(after_delete) - after_delete[0] < held / 4, (loaded, after_delete)
    finally:
        client.close()

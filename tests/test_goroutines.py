"""Goroutines and leaks against what the goleaks program says of itself (truth.json: each
case goroutine's id and whether Go 1.26's goroutineleak calls it leaked), on every Go
version built; the scenarios dumps' goroutines; missing and mismatched binaries."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest

from heapspurs import cli
from heapspurs.loaded import load_dump
from heapspurs.render.goroutines import goroutine_view

from conftest import fixture

GOLEAKS = Path(__file__).resolve().parent / "fixtures" / "goleaks"
LEAK_VERSIONS = sorted(p.name for p in GOLEAKS.iterdir() if (p / "truth.json").exists())


def truth(version: str) -> dict:
    return json.loads((GOLEAKS / version / "truth.json").read_text())


def run(*argv: str) -> str:
    out = io.StringIO()
    assert cli.main([*argv], out=out) == 0
    return out.getvalue()


def answer(version: str, program: bool = True) -> dict:
    d = GOLEAKS / version
    extra = ["--program", str(d / "goleaks")] if program else []
    return json.loads(run(str(d / "heap.dump"), *extra, "--goroutines", "--json"))


def by_id(ans: dict) -> dict[int, dict]:
    return {g["id"]: g for g in ans["goroutines"]}


@pytest.mark.parametrize("version", LEAK_VERSIONS)
def test_leaked_exactly_as_the_program_says(version):
    t, ans = truth(version), answer(version)
    want = {c["id"] for c in t["goroutines"] if c["leaked"]}
    got = {g["id"] for g in ans["goroutines"] if g["leaked"]}
    assert got == want  # no runtime goroutine, no look-alike is called leaked
    goroutines = by_id(ans)
    for case in t["goroutines"]:
        g = goroutines[case["id"]]
        assert g["leaked"] is case["leaked"], case["case"]
        assert g["why"] if case["leaked"] else g["why"] is None


@pytest.mark.parametrize("version", LEAK_VERSIONS)
def test_frames_creator_and_wait(version):
    goroutines = by_id(answer(version))
    for case in truth(version)["goroutines"]:
        g = goroutines[case["id"]]
        status = case["status"]
        if status not in ("syscall", "sleep"):
            assert g["wait_reason"] == status.split(",")[0], case["case"]
        mine = [f for f in g["frames"] if f["function"] == case["function"]]
        assert mine, (case["case"], [f["function"] for f in g["frames"]])
        assert mine[0]["file"].endswith("goleaks/main.go") and mine[0]["line"] > 0
        assert g["created_by"]["function"] == "main.start"
        assert g["created_by"]["file"].endswith("goleaks/main.go")
        assert g["frames"][-1]["function"] == "runtime.goexit"


@pytest.mark.parametrize("version", LEAK_VERSIONS)
def test_blocked_on_names_the_primitive(version):
    goroutines = by_id(answer(version))
    kinds = {"own_chan_recv": "channel", "locked_mutex": "sync.Mutex",
             "locked_rwmutex": "sync.RWMutex", "unfinished_waitgroup": "sync.WaitGroup",
             "unsignalled_cond": "sync.Cond"}  # fmt: skip
    cases = {c["case"]: c for c in truth(version)["goroutines"]}
    for name, kind in kinds.items():
        blocked = goroutines[cases[name]["id"]]["blocked_on"]
        assert blocked and all(b["kind"] == kind and "object" in b for b in blocked), name
    assert len(goroutines[cases["select_unreachable"]["id"]]["blocked_on"]) == 2
    assert goroutines[cases["select_nil"]["id"]]["blocked_on"] == []
    global_mutex = goroutines[cases["parked_on_global_mutex"]["id"]]["blocked_on"]
    assert "object" not in global_mutex[0]  # a global: outside the heap, never leaked


@pytest.mark.parametrize("version", LEAK_VERSIONS)
def test_channels_waited_on_have_their_type(version):
    """A channel of pointer-free elements is one pointer-free allocation, and Go >= 1.26
    keeps a sudog's channel behind an unsafe.Pointer: both are typed hchans still."""
    channels = [b for g in answer(version)["goroutines"] for b in g["blocked_on"]
                if b["kind"] == "channel" and "object" in b]  # fmt: skip
    assert len(channels) >= 4
    assert all(b["type"].startswith("runtime.hchan") for b in channels), channels


@pytest.mark.parametrize("version", LEAK_VERSIONS)
def test_retained_is_what_only_its_stack_holds(version):
    goroutines = by_id(answer(version))
    cases = {c["case"]: c for c in truth(version)["goroutines"]}
    own = goroutines[cases["own_chan_recv"]["id"]]
    # its channel is reachable only from it (its frames or its sudog), so it is its own
    heap = load_dump(GOLEAKS / version / "heap.dump").heap
    channel = heap.find(int(own["blocked_on"][0]["object"], 16))
    assert own["retained"]["objects"] >= 1 and own["retained"]["bytes"] >= heap.size[channel]
    parked = goroutines[cases["parked_on_global"]["id"]]
    assert parked["retained"]["objects"] == 0  # the channel is the global's


@pytest.mark.parametrize("version", LEAK_VERSIONS)
def test_search_near_the_goroutines_decides_as_the_whole_heap(version, monkeypatch):
    """The leak search stays among the objects that lead to the goroutines' own (found
    backwards) while they are few; forced over the whole heap, it answers the same."""
    from heapspurs.analysis import goroutines as GR

    d = GOLEAKS / version
    loaded = load_dump(d / "heap.dump", program=str(d / "goleaks"))
    near = GR.goroutines(loaded.heap, loaded.names)
    monkeypatch.setattr(GR, "SCOPE_SHARE", 1 << 62)  # no scope: every search is whole
    whole = GR.goroutines(loaded.heap, loaded.names)
    assert near.leaked.sum() == sum(c["leaked"] for c in truth(version)["goroutines"])
    for column in ("verdict", "retained_bytes", "retained_objects", "prim_obj"):
        assert np.array_equal(getattr(near, column), getattr(whole, column)), column


def test_text_groups_leaked_first():
    lines = run(str(GOLEAKS / "go1.27" / "heap.dump"), "--program",
                str(GOLEAKS / "go1.27" / "goleaks"), "--goroutines").splitlines()  # fmt: skip
    t = truth("go1.27")
    header = [line for line in lines if " @ 0x" in line]
    counts = [int(h.split(" @ ")[0]) for h in header]
    assert lines[0].startswith("goroutine profile: total ")
    assert sum(counts) == int(lines[0].split("total ")[1].split(",")[0])
    verdicts = [lines[lines.index(h) + 1] for h in header]
    n_leaked = sum(c["leaked"] for c in t["goroutines"])
    assert all(v.endswith("leaked") for v in verdicts[:n_leaked])
    assert not any(v.endswith("leaked") for v in verdicts[n_leaked:])
    assert any("main.ownChanRecv+0x" in line and "main.go:" in line for line in lines)


def test_without_program_frames_are_pcs_with_a_reason():
    ans = answer("go1.27", program=False)
    t = truth("go1.27")
    goroutines = by_id(ans)
    for case in t["goroutines"]:
        g = goroutines[case["id"]]
        assert all(f["file"] is None and f["reason"] and f["pc"].startswith("0x")
                   for f in g["frames"])  # fmt: skip
        assert g["created_by"]["function"] is None and g["created_by"]["reason"]
        # only what can never wake is decided without the runtime's layout
        if case["case"] in ("recv_nil", "select_nil") or not case["leaked"]:
            continue
        assert g["leaked"] is None and "DWARF" in g["why"]
    never = next(c for c in t["goroutines"] if c["case"] == "recv_nil")
    assert goroutines[never["id"]]["leaked"] is True


def test_a_binary_that_did_not_write_the_dump_names_no_lines():
    d, other = GOLEAKS / "go1.27", GOLEAKS / "go1.25" / "goleaks"
    loaded = load_dump(d / "heap.dump")
    view = goroutine_view(loaded.heap, loaded.names, str(other))
    assert view.lines is None and "not the binary that wrote the dump" in view.why_no_lines
    frame = view.frame_json(int(view.gor.frames(0)[0]))
    assert frame["file"] is None and frame["reason"] == view.why_no_lines


@pytest.mark.parametrize("version", ["go1.21", "go1.27"])
def test_scenarios_dump_goroutines(version):
    """The scenarios program's parked goroutines: only the empty select leaks."""
    fx = fixture(version)
    ans = json.loads(run(str(fx.dump), "--program", str(fx.binary), "--goroutines", "--json"))
    leaked = {g["id"] for g in ans["goroutines"] if g["leaked"]}
    heap_defer = fx.scenario("heap_defer")["anchor"]["goroutine"]
    assert leaked == {heap_defer}


@pytest.mark.parametrize("version", ["go1.21", "go1.27"])
def test_anchors_name_the_variable_and_the_leaked_goroutine(version):
    fx = fixture(version)
    held = fx.scenario("chan_blocked")
    base = [str(fx.dump), "--program", str(fx.binary), "--address", held["address"], "--anchors"]
    ans = json.loads(run(*base, "--json"))
    frame = next(a for a in ans["anchors"] if a["kind"] == "goroutine")
    assert frame["variable"] == "t" and frame["leaked_goroutine"] is False
    text = run(*base)
    label = f"goroutine {held['anchor']['goroutine']} main.chanBlockedWorker frame "
    assert any(line.startswith(label) and " var t: chain of" in line for line in text.splitlines())
    deferred = fx.scenario("heap_defer")  # its goroutine parks in select {}: leaked
    base[4] = deferred["address"]
    ans = json.loads(run(*base, "--json"))
    assert next(a for a in ans["anchors"] if a["kind"] == "defer")["leaked_goroutine"] is True
    assert "[leaked goroutine: parked forever" in run(*base)


def test_damaged_wait_lists_are_answered(tmp_path):
    """A sudog whose waitlink points at itself, a g.waiting pointing outside the heap: the
    goroutines are still listed, with a verdict, and the command ends."""
    from heapspurs.analysis.goroutines import _Reader, runtime_layout

    src = GOLEAKS / "go1.27"
    loaded = load_dump(src / "heap.dump", program=str(src / "goleaks"))
    heap, layout = loaded.heap, runtime_layout(loaded.names)
    assert layout is not None
    cases = {c["case"]: c["id"] for c in truth("go1.27")["goroutines"]}
    view = goroutine_view(heap, loaded.names, None)
    reader = _Reader(heap)

    def file_offset(address: int) -> int:
        obj = heap.find(address)
        return int(heap.cols.obj_data[obj]) + address - int(heap.addr[obj])

    cyclic = view.gor.address[view.gor.index_of(cases["select_unreachable"])]
    sudog = int(reader.words(np.array([int(cyclic) + layout.g_waiting]))[0])
    wild = view.gor.address[view.gor.index_of(cases["own_chan_send"])]
    data = bytearray((src / "heap.dump").read_bytes())
    for at, value in ((file_offset(sudog + layout.sudog_waitlink), sudog),
                      (file_offset(int(wild) + layout.g_waiting), 0xDEADBEEF)):  # fmt: skip
        data[at : at + 8] = value.to_bytes(8, "little")
    (tmp_path / "heap.dump").write_bytes(bytes(data))
    ans = json.loads(run(str(tmp_path / "heap.dump"), "--program", str(src / "goleaks"),
                         "--goroutines", "--json"))  # fmt: skip
    goroutines = by_id(ans)
    assert goroutines[cases["select_unreachable"]]["leaked"] is True
    broken = goroutines[cases["own_chan_send"]]
    assert broken["leaked"] is None and "names no channel" in broken["why"]
    assert len(goroutines) == len(view.gor)


def test_binary_without_dwarf_keeps_lines_and_decides_only_what_never_wakes(tmp_path):
    from test_types import without_dwarf

    src = GOLEAKS / "go1.27"
    binary = without_dwarf(src / "goleaks", tmp_path / "goleaks")
    ans = json.loads(run(str(src / "heap.dump"), "--program", str(binary), "--goroutines",
                         "--json"))  # fmt: skip
    goroutines = by_id(ans)
    for case in truth("go1.27")["goroutines"]:
        g = goroutines[case["id"]]
        own = next(f for f in g["frames"] if f["function"] == case["function"])
        assert own["file"].endswith("goleaks/main.go")  # the line table needs no DWARF
        if case["case"] == "recv_nil":
            assert g["leaked"] is True
        elif case["leaked"]:
            assert g["leaked"] is None and "DWARF" in g["why"]
        else:
            assert g["leaked"] is not True

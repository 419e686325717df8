"""The whole pipeline stays real: build the fixture program with Go 1.27 now, let it write a
dump, and check every scenario against what the program reports."""

from __future__ import annotations

import json
from pathlib import Path

from heapspurs.analysis.anchors import find_anchors
from heapspurs.loaded import load_dump
from heapspurs.render.jsonout import anchors_json

from expectations import check_scenario
from make_fixtures import build_fixture


def test_fresh_go_1_27_dump_anchors_every_scenario(tmp_path: Path) -> None:
    out = build_fixture("1.27.3", tmp_path / "go1.27")
    truth = json.loads((out / "truth.json").read_text())
    dump = load_dump(out / "heap.dump", oid_path=str(out / "oid.txt"),
                     program=str(out / "scenarios"))  # fmt: skip
    assert dump.heap.params.go_version == truth["go_version"]
    for name, scenario in truth["scenarios"].items():
        address = int(scenario["address"], 16)
        obj = dump.heap.find(address)
        assert obj >= 0, name
        report = find_anchors(dump.heap, dump.names, obj)
        check_scenario(anchors_json(dump.heap, dump.names, address, report), scenario, 27)

"""The whole pipeline stays real: build the fixture program with Go 1.27 now, let it write a
dump, and check every scenario and every typed value against what the program reports
(also the values the committed fixtures were made before)."""

from __future__ import annotations

import json

import pytest

from heapspurs.analysis.anchors import find_anchors
from heapspurs.loaded import LoadedDump, load_dump
from heapspurs.render.jsonout import anchors_json

from expectations import check_scenario
from make_fixtures import build_fixture


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> tuple[LoadedDump, dict]:
    out = build_fixture("1.27.3", tmp_path_factory.mktemp("fresh") / "go1.27")
    truth = json.loads((out / "truth.json").read_text())
    dump = load_dump(out / "heap.dump", oid_path=str(out / "oid.txt"),
                     program=str(out / "scenarios"))  # fmt: skip
    return dump, truth


def test_fresh_go_1_27_dump_anchors_every_scenario(fresh: tuple[LoadedDump, dict]) -> None:
    dump, truth = fresh
    assert dump.heap.params.go_version == truth["go_version"]
    for name, scenario in truth["scenarios"].items():
        address = int(scenario["address"], 16)
        obj = dump.heap.find(address)
        assert obj >= 0, name
        report = find_anchors(dump.heap, dump.names, obj)
        check_scenario(anchors_json(dump.heap, dump.names, address, report), scenario, 27)


def test_fresh_go_1_27_dump_types_every_value(fresh: tuple[LoadedDump, dict]) -> None:
    dump, truth = fresh
    wrong = {}
    for entry in truth["types"]:
        obj = dump.heap.find(int(entry["address"], 16))
        if obj < 0 or dump.names.type_name(obj) != entry["type"]:
            wrong[entry["name"]] = (entry["type"], dump.names.typed.reason(obj))
    assert not wrong
    assert any(e["name"] == "static_registry_item" for e in truth["types"])

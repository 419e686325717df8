"""Shared fixtures: the committed dumps written by real Go programs (tests/fixtures/data),
one per Go version, each with its binary, OID file and the program's own ground truth."""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from heapspurs.loaded import LoadedDump, load_dump

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "fixtures" / "data"
VERSIONS = sorted(p.name for p in DATA.iterdir() if (p / "truth.json").exists())
sys.path.insert(0, str(ROOT / "tests" / "fixtures"))

# Saved indexes go to the cache folder: one of the test run's own (also for the CLIs and
# servers the tests start), never the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="heapspurs-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], True)


@dataclass
class Fixture:
    version: str  # "go1.27"
    dir: Path
    truth: dict

    @property
    def dump(self) -> Path:
        return self.dir / self.truth["dump"]

    @property
    def binary(self) -> Path:
        return self.dir / self.truth["binary"]

    @property
    def oid(self) -> Path:
        return self.dir / self.truth["oid_file"]

    @property
    def minor(self) -> int:
        return int(re.match(r"go1\.(\d+)", self.version).group(1))  # type: ignore[union-attr]

    @property
    def ptr_size(self) -> int:
        return int(self.truth.get("ptr_size", 8))

    def scenario(self, name: str) -> dict:
        return self.truth["scenarios"][name]


@cache
def fixture(version: str) -> Fixture:
    d = DATA / version
    return Fixture(version, d, json.loads((d / "truth.json").read_text()))


@cache
def loaded(version: str) -> LoadedDump:
    """The fixture's dump read once per test session, named by its OID file and binary."""
    f = fixture(version)
    return load_dump(f.dump, oid_path=str(f.oid), program=str(f.binary), cache=False)


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return request.param


def scenario_cases() -> list[tuple[str, str]]:
    return [(v, s) for v in VERSIONS for s in sorted(fixture(v).truth["scenarios"])]


def type_cases() -> list[tuple[str, dict]]:
    """(version, entry) for every truth.json "types" entry of every fixture (see
    tests/fixtures/README.md), for parametrizing; ids read like "go1.27-sessions_req"."""
    return [(v, e) for v in VERSIONS for e in fixture(v).truth.get("types", [])]


def type_case_ids() -> list[str]:
    return [f"{v}-{e['name']}" for v, e in type_cases()]

"""The binary's symbol table read as Go writes it: a global whose name is not ASCII keeps
its name (UTF-8), on a program built here with Go 1.27."""

from __future__ import annotations

import subprocess
from pathlib import Path

from heapspurs.names.elf import read_symbols

from make_fixtures import ensure_go, go_env

PROGRAM = """package main

type Größe struct{ N [4]int }

var gGröße = &Größe{}

func main() { gGröße.N[0]++ }
"""


def test_a_non_ascii_global_keeps_its_name(tmp_path: Path) -> None:
    (tmp_path / "go.mod").write_text("module example.com/sizes\n\ngo 1.21\n")
    (tmp_path / "main.go").write_text(PROGRAM)
    binary = tmp_path / "sizes"
    subprocess.run([str(ensure_go("1.27.3")), "build", "-o", str(binary), "."], cwd=tmp_path,
                   env=go_env(), check=True, capture_output=True)  # fmt: skip
    symbols = read_symbols(binary)
    address = symbols.address_of("main.gGröße")
    assert address is not None, sorted(n for n in symbols.markers if n.startswith("main.g"))
    assert symbols.lookup(address) == "main.gGröße"  # how anchors name the global

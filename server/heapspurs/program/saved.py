"""A program's types and a dump's object types, kept in the dump's saved index (a folder
``types/`` inside it), so a reopen reads no DWARF and types nothing again. The key is the
binary's path, size and modification time."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from ..analysis.typing import ObjectTypes
from .gotypes import GoTypes

FOLDER = "types"
FORMAT = 1


def program_key(program: str) -> dict[str, object]:
    st = os.stat(program)
    return {"format": FORMAT, "path": os.path.realpath(program), "size": st.st_size,
            "mtime_ns": st.st_mtime_ns}  # fmt: skip


def load_typed(place: Path | None, program: str) -> ObjectTypes | None:
    if place is None:
        return None
    folder = place / FOLDER
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("key") != program_key(program):
            return None
        types = GoTypes.load(folder)
        arrays = {name: np.load(folder / f"objects_{name}.npy") for name in ObjectTypes.ARRAYS}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return ObjectTypes(types, **arrays)


def save_typed(place: Path | None, program: str, typed: ObjectTypes) -> None:
    """Best effort, like the index itself: a place that cannot be written keeps nothing."""
    if place is None or typed.types is None:
        return
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".types-", dir=place))
    except OSError:
        return
    try:
        typed.types.save(tmp)
        for name in ObjectTypes.ARRAYS:
            np.save(tmp / f"objects_{name}.npy", getattr(typed, name))
        (tmp / "meta.json").write_text(json.dumps({"key": program_key(program)}))
        shutil.rmtree(place / FOLDER, ignore_errors=True)
        os.replace(tmp, place / FOLDER)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)

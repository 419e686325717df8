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
FORMAT = 2  # 2: sync.Map's trie nodes (TRIE_NODE) and atomic.Pointer[T] with two _ fields


def program_key(program: str) -> dict[str, object]:
    st = os.stat(program)
    return {"format": FORMAT, "path": os.path.realpath(program), "size": st.st_size,
            "mtime_ns": st.st_mtime_ns}  # fmt: skip


def load_typed(place: Path | None, program: str, n_objects: int) -> ObjectTypes | None:
    """The saved types of the dump's ``n_objects`` objects, or None (none saved, for
    another binary, or damaged)."""
    if place is None:
        return None
    folder = place / FOLDER
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("key") != program_key(program):
            return None
        types = GoTypes.load(folder)
        arrays = {name: np.load(folder / f"objects_{name}.npy") for name in ObjectTypes.ARRAYS}
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return None
    typed = ObjectTypes(types, **arrays)
    if not _sound(typed, n_objects):
        return None
    _saved_names(folder, meta.get("names"), typed)
    return typed


def _saved_names(folder: Path, labels: object, typed: ObjectTypes) -> None:
    """The per-object name index saved with the types, when it is there and sound."""
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        return
    try:
        index = np.load(folder / "objects_name.npy")
    except (OSError, ValueError, EOFError):
        return
    sound = index.dtype == np.int32 and index.shape == typed.type.shape
    if sound and (not len(index) or (index.min() >= 0 and index.max() < len(labels))):
        typed.names_at_hand = (index, labels)


def _sound(typed: ObjectTypes, n_objects: int) -> bool:
    """Saved types are a file anyone could have changed: anything off and they are
    worked out again from the binary."""
    assert typed.types is not None
    if typed.types.problem() is not None:
        return False
    arrays = (typed.type, typed.count, typed.why)
    if any(a.shape != (n_objects,) for a in arrays):
        return False
    return bool(
        len(typed.type) == 0
        or (
            typed.type.min() >= -1
            and typed.type.max() < typed.types.n_types
            and typed.count.min() >= -1
        )
    )


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
        meta: dict[str, object] = {"key": program_key(program)}
        if typed.names_at_hand is not None:  # a reopen's histogram then skips its np.unique
            np.save(tmp / "objects_name.npy", typed.names_at_hand[0])
            meta["names"] = typed.names_at_hand[1]
        (tmp / "meta.json").write_text(json.dumps(meta))
        shutil.rmtree(place / FOLDER, ignore_errors=True)
        os.replace(tmp, place / FOLDER)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)

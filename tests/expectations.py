"""What a user checks about an object, derived from the fixture program's ground truth."""

from __future__ import annotations

MALLOC_HEADER_FIRST_MINOR = 22


def expected_record(truth: dict, minor: int, ptr_size: int = 8) -> int:
    """Start of the dump record that holds a scenario's object.

    Go >= 1.22 dumps a pointer-holding object too big for in-span pointer bits (more than
    ptr_size * ptr_size * 8 bytes: 512 on 64-bit, 128 on 32-bit) and up to 32760 bytes from
    its slot, 8 bytes (its malloc header) before the pointer the program sees; tiny
    pointer-free objects share 16-byte blocks.
    """
    obj = int(truth["object"], 16)
    if truth["tiny"]:
        return obj & ~15
    small_max = ptr_size * ptr_size * 8
    header = (
        minor >= MALLOC_HEADER_FIRST_MINOR
        and truth["has_pointers"]
        and small_max < truth["size"] <= 32760
    )
    return obj - 8 if header else obj


def matching_anchor(anchors: list[dict], expected: dict) -> dict | None:
    """The anchor (from the --json answer) that the ground truth describes, or None."""
    for a in anchors:
        if a["kind"] != expected["kind"]:
            continue
        if "name" in expected and a.get("name") != expected["name"]:
            continue
        if "segment" in expected and a.get("segment") != expected["segment"]:
            continue
        if "function" in expected and a.get("function") != expected["function"]:
            continue
        if "goroutine" in expected and a.get("goroutine") != expected["goroutine"]:
            continue
        if "of" in expected and a.get("finalizer_of") != expected["of"]:
            continue
        if "cycle" in expected and a.get("finalizer_cycle") != expected["cycle"]:
            continue
        return a
    return None


def check_scenario(answer: dict, truth: dict, minor: int, ptr_size: int = 8) -> None:
    """Assert an --anchors --json answer against one scenario's truth."""
    record = expected_record(truth, minor, ptr_size)
    assert int(answer["object"]["address"], 16) == record, "wrong containing record"
    assert answer["offset"] == int(truth["address"], 16) - record
    if truth.get("oid_name"):
        assert answer["object"]["name"] == truth["oid_name"]
    expected = truth["anchor"]
    if expected["kind"] == "none":
        assert answer["anchors"] == [], "expected no anchor in the dump"
        assert any("AddCleanup" in r for r in answer["unseen_roots"])
        return
    found = matching_anchor(answer["anchors"], expected)
    assert found is not None, f"no anchor like {expected} in {answer['anchors']}"
    assert found["path"][-1] == answer["object"]["address"]

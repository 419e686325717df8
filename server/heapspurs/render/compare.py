"""Plain-text answers of ``--baseline`` (see :mod:`..analysis.compare`)."""

from __future__ import annotations

from collections.abc import Iterator

from .text import top_lines


def signed(value: int) -> str:
    return f"{value:+d}" if value else "0"


def comparison_lines(answer: dict) -> Iterator[str]:
    """``--histogram --baseline``: the comparison's line, then a table with +/− columns,
    the most growth first; within one process also the new and freed objects; then the
    series over several dumps."""
    yield answer["comparison"]
    by_address = answer["same_process"]
    extra = f" {'new':>8} {'freed':>8}" if by_address else ""
    yield f"{'bytes':>12} {'+/- bytes':>11} {'count':>9} {'+/- count':>9}{extra}  type"
    for r in answer["types"]:
        extra = f" {r['new']:>8} {r['freed']:>8}" if by_address else ""
        yield (f"{r['bytes']:>12} {signed(r['bytes'] - r['baseline_bytes']):>11} "
               f"{r['count']:>9} {signed(r['count'] - r['baseline_count']):>9}{extra}  "
               f"{r['type']}")  # fmt: skip
    total_b, total_n = answer["total_bytes"], answer["total_objects"]
    extra = f" {answer['new_objects']:>8} {answer['freed_objects']:>8}" if by_address else ""
    yield (f"{total_b:>12} {signed(total_b - answer['baseline_bytes']):>11} {total_n:>9} "
           f"{signed(total_n - answer['baseline_objects']):>9}{extra}  total")  # fmt: skip
    if answer.get("note"):
        yield answer["note"]
    if answer.get("series"):
        yield ""
        yield from series_lines(answer["series"])


def series_lines(series: dict) -> Iterator[str]:
    """Per type its bytes and counts in each dump, oldest first; then the types whose bytes
    grew in every interval."""
    yield f"series over {len(series['dumps'])} dumps, oldest first: " + ", ".join(series["dumps"])
    same = 0
    for r in series["types"]:
        if len(set(r["bytes"])) == 1:
            same += 1  # left out of the text (not of the JSON)
            continue
        mark = "  [grew in every interval]" if r["grew_every_interval"] else ""
        yield (f"  {r['type']}: bytes {' -> '.join(map(str, r['bytes']))}; "
               f"count {' -> '.join(map(str, r['counts']))}{mark}")  # fmt: skip
    if same:
        yield f"  ({same} types of unchanged bytes not shown)"
    grew = series["grew_every_interval"]
    yield "grew in every interval: " + (", ".join(grew) if grew else "no type")


def growth_lines(answer: dict) -> Iterator[str]:
    """``--top N --baseline``: the largest retainers, the comparison's line, then the new
    objects' groups (:func:`group_lines`)."""
    yield from top_lines(answer)
    yield ""
    yield answer["comparison"]
    yield from group_lines(answer)


def group_lines(answer: dict) -> Iterator[str]:
    """The new objects grouped by their nearest anchor and type, each with the anchor's
    chain (as Go, when typed) and a few addresses."""
    if not answer["same_process"]:
        yield "  (no new objects can be told apart: see the types with --histogram --baseline)"
        return
    yield (f"new since the baseline: {answer['new_objects']} objects, {answer['new_bytes']} "
           "bytes; the largest groups by nearest anchor and type:")  # fmt: skip
    yield f"{'new bytes':>12} {'objects':>9}  type  <- anchor"
    for g in answer["growth"]:
        anchor = g["anchor"]
        yield (f"{g['new_bytes']:>12} {g['new_objects']:>9}  {g['type']}  "
               f"<- {anchor['label'] if anchor else 'no root'}")  # fmt: skip
        if anchor is not None:
            chain = anchor["expression"] or " -> ".join(anchor["path"])
            yield f"    path: {chain} → {g['type']}"
        yield "    e.g. " + ", ".join(g["examples"])
    if not answer["growth"]:
        yield "  (no new object)"

"""Object-ID files: ``0xcaffe14e00000016 pkg.Type`` per line, naming the objects whose first
word holds that value. Blank lines and ``#`` comments are allowed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


class OidFileError(Exception):
    """A line of an OID file is malformed: ``line`` is 1-based."""

    def __init__(self, path: str, line: int, what: str):
        self.path, self.line, self.what = path, line, what
        super().__init__(f"{path}:{line}: {what}")


@dataclass
class OidProblem:
    line: int  # 1-based
    what: str
    column: int = 0
    end_column: int = 0


@dataclass
class OidTable:
    names: dict[int, str] = field(default_factory=dict)
    lines: dict[int, int] = field(default_factory=dict)  # id -> 1-based line
    problems: list[OidProblem] = field(default_factory=list)


def parse_oid_text(text: str) -> OidTable:
    """Parse an OID file's text, collecting every problem rather than stopping at the first."""
    table = OidTable()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split(None, 1)
        start = len(raw) - len(raw.lstrip())
        span = (start, start + len(parts[0]))
        if len(parts) != 2:
            table.problems.append(
                OidProblem(number, f"expected '0x<hex id> <name>', found {line!r}", *span)
            )
            continue
        word, name = parts[0], parts[1].strip()
        try:
            if not word.lower().startswith("0x"):
                raise ValueError
            value = int(word, 16)
            if value >= 1 << 64:
                raise ValueError
        except ValueError:
            table.problems.append(
                OidProblem(
                    number, f"{word!r} is not a 64-bit hex id like 0xcaffe14e00000016", *span
                )
            )
            continue
        if value in table.names:
            first = table.lines[value]
            table.problems.append(
                OidProblem(number, f"id {word} is already named on line {first}", *span)
            )
            continue
        table.names[value] = name
        table.lines[value] = number
    return table


def read_oid_file(path: str | os.PathLike[str]) -> dict[int, str]:
    """Read an OID file; raise :class:`OidFileError` naming the first bad line."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            table = parse_oid_text(f.read())
    except OSError as err:
        raise OidFileError(path, 0, f"cannot read: {err.strerror}") from None
    if table.problems:
        p = table.problems[0]
        raise OidFileError(path, p.line, p.what)
    return table.names

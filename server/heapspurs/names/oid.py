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


MAX_QUOTED = 80  # characters of a bad line quoted in its error


def parse_oid_text(text: str) -> OidTable:
    """Parse an OID file's text, collecting every problem rather than stopping at the first.

    Lines end at ``\n`` only (``\r\n`` too): other characters Python would break lines at
    (``\v``, ``\f``, U+2028...) may be part of a name. A UTF-8 byte order mark is skipped."""
    table = OidTable()
    for number, raw in enumerate(text.removeprefix("\ufeff").split("\n"), start=1):
        raw = raw.removesuffix("\r")
        line = raw.split("#", 1)[0].strip(" \t\r")
        if not line:
            continue
        parts = line.split(None, 1)
        start = len(raw) - len(raw.lstrip(" \t"))
        span = (start, start + len(parts[0]))
        if len(parts) != 2:
            table.problems.append(
                OidProblem(number, f"expected '0x<hex id> <name>', found {_quoted(line)}", *span)
            )
            continue
        word, name = parts[0], parts[1].strip(" \t")
        try:
            if not word.lower().startswith("0x"):
                raise ValueError
            value = int(word, 16)
            if value >= 1 << 64:
                raise ValueError
        except ValueError:
            table.problems.append(
                OidProblem(
                    number, f"{_quoted(word)} is not a 64-bit hex id like 0xcaffe14e00000016", *span
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


def _quoted(text: str) -> str:
    """``text`` for an error message: escaped (repr), and cut when long."""
    if len(text) > MAX_QUOTED:
        return f"{text[:MAX_QUOTED]!r}... ({len(text)} characters)"
    return repr(text)


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

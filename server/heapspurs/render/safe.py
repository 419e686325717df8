"""Names from dumps, binaries and OID files, made safe for where they are shown: a terminal
(no control characters), Markdown (no markup, HTML, links or images of their own) and DOT
(no quoting, escapes or HTML-like labels of their own). Anyone can write such a name."""

from __future__ import annotations

import re

# Every control character but newline and tab, shown as ``\x1b``; the Unicode line and
# paragraph separators as ``\u2028``.
CONTROLS = {c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (9, 10)}
CONTROLS |= {0x2028: "\\u2028", 0x2029: "\\u2029"}
# What can start markup inside a line of prose: emphasis, code, a link or image (no link
# without its brackets), HTML or an autolink, an entity, a table cell, strikethrough.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~])")


def visible(text: str) -> str:
    """``text`` with its control characters written out."""
    return text.translate(CONTROLS)


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown prose inside a line (not at its start): one line, every
    character that could begin markup, HTML, an entity, a link or an image
    backslash-escaped."""
    one_line = visible(text.replace("\r\n", " ").replace("\n", " ").replace("\t", " "))
    return MARKDOWN_SPECIAL.sub(r"\\\1", one_line)


def dot_text(text: str) -> str:
    """``text`` for a DOT label: control characters written out (dot stops at a NUL),
    backslashes doubled and an HTML-like ``<…>`` kept literal (``graphviz.escape``); the
    graphviz package quotes the rest (``"``)."""
    import graphviz

    return graphviz.escape(visible(text))

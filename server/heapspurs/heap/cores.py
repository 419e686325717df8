"""Two passes at once, one on each core: the compiled passes let go of the GIL."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")


def side_by_side(here: Callable[[], A], there: Callable[[], B]) -> tuple[A, B]:
    """``here()`` on this thread while ``there()`` runs on another; both results (an
    error of either is raised once both are done)."""
    with ThreadPoolExecutor(1) as helper:
        other = helper.submit(there)
        return here(), other.result()

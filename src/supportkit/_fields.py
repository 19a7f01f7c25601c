"""Typed attrs converters, so callers type-check when they pass lists, sets or tuples.

``converter=frozenset`` type-checks poorly (mypy sees ``Iterable[_T_co]``);
these named converters say exactly what a field accepts.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["str_set", "str_tuple"]


def str_set(value: Iterable[str]) -> frozenset[str]:
    """Any iterable of strings as a frozenset (a lone string is one element, not its letters)."""
    if isinstance(value, str):
        return frozenset((value,))
    return frozenset(value)


def str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    """Any iterable of strings as a tuple (a lone string is one element, not its letters)."""
    if isinstance(value, str):
        return (value,)
    return tuple(value)

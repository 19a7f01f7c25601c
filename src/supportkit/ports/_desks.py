"""Desk keys: many desks in one database, every stored row scoped to one of them."""

from __future__ import annotations

import copy
import re
from typing import TypeVar

from ..domain._errors import ConfigurationError

__all__ = ["DEFAULT_DESK", "check_desk_key", "desk_view"]

S = TypeVar("S")

#: the key of a storage built without one (a database serving one desk)
DEFAULT_DESK = "default"

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}")


def check_desk_key(key: object) -> str:
    """*key* if it is a valid desk key (1-64 of letters, digits, ``_ . : -``), else
    ConfigurationError saying what a key may be."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ConfigurationError(
            f"desk key {key!r} is not valid; use 1-64 letters, digits, '_', '.', ':' or '-', "
            "starting with a letter or digit (e.g. the host's organisation id)"
        )
    return key


def desk_view(storage: S, key: str) -> S:
    """*storage* seen as desk *key*: the same database and connections, another desk.

    A shallow copy with another ``desk``; backends implement
    :meth:`~supportkit.ports.Storage.for_desk` with it. Closing either closes
    the connections both use.
    """
    view = copy.copy(storage)
    view.desk = check_desk_key(key)  # type: ignore[attr-defined]
    return view

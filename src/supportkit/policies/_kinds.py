"""Kinds of support (seeds 000 and 002): technical, customer, training, ... configurable."""

from __future__ import annotations

from collections.abc import Iterable

from supportkit.domain._errors import ConfigurationError, ValidationError

__all__ = ["DEFAULT_KINDS", "check_kind", "kinds_of"]

#: the service description's kinds: technical support, customer support, user training
DEFAULT_KINDS: tuple[str, ...] = ("technical", "customer", "training")


def kinds_of(value: Iterable[str]) -> tuple[str, ...]:
    """A desk's kinds of support, checked: non-empty, unique names."""
    kinds = (value,) if isinstance(value, str) else tuple(value)
    if not kinds:
        raise ConfigurationError("a desk needs at least one kind of support, e.g. 'technical'")
    for k in kinds:
        if not isinstance(k, str) or not k.strip() or k != k.strip():
            raise ConfigurationError(f"kind of support {k!r} must be a non-blank name")
    dupes = sorted({k for k in kinds if kinds.count(k) > 1})
    if dupes:
        raise ConfigurationError(f"kinds of support are listed twice: {dupes}")
    return kinds


def check_kind(kind: str, kinds: Iterable[str]) -> None:
    """Refuse a kind the desk does not offer."""
    known = tuple(kinds)
    if kind not in known:
        raise ValidationError(
            f"unknown kind of support {kind!r}; this desk offers {list(known)} "
            "(configure them with SupportDesk(kinds=...))"
        )

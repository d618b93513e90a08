"""``evolve``: ``dataclasses.replace`` for the domain's frozen, slotted values, without its cost.

Folding an event into an incident's state makes a few changed copies of
frozen values; ``dataclasses.replace`` looks the class's fields up and runs
``__init__`` for each copy, which was a tenth of the worker's own time. These
classes have no ``__post_init__``, so copying the slots is the same thing.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

_SLOTS: dict[type, tuple[tuple[str, ...], frozenset[str]]] = {}


def evolve(value: T, **changes: Any) -> T:
    """A copy of ``value`` with ``changes`` (names of its fields) applied."""
    kind = type(value)
    known = _SLOTS.get(kind)
    if known is None:
        names = tuple(kind.__slots__)  # type: ignore[attr-defined]
        known = _SLOTS[kind] = (names, frozenset(names))
    names, name_set = known
    if not name_set.issuperset(changes):
        unknown = sorted(set(changes) - name_set)
        raise TypeError(f"{kind.__name__} has no field {unknown[0]!r}")
    copy = object.__new__(kind)
    for name in names:
        object.__setattr__(copy, name, changes[name] if name in changes else getattr(value, name))
    return copy

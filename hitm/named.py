"""Named items found by name in constant time: layers, demand vectors, components."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Generic, TypeVar

__all__ = ["Named"]

T = TypeVar("T")


class Named(tuple, Generic[T]):  # type: ignore[type-arg]
    """A tuple of items that each have a ``name``, with a lookup built on first use.

    It compares, hashes and pickles as the plain tuple it wraps.
    """

    @cached_property
    def _index(self) -> dict[str, Any]:
        return {item.name: item for item in self}

    def named(self, name: str) -> T:
        """The item called ``name``; ``KeyError(name)`` if there is none."""
        return self._index[name]

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._index
        return tuple.__contains__(self, item)

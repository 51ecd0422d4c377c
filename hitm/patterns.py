"""Per-layer values written with a default and glob patterns, as a copies file allows.

A mapping such as ``{default: 1, "encoder.layer4.*": 2, decoder.fc: 3}`` gives
every weight layer a value: its exact name first, else the first pattern (in
the mapping's order) that matches it (``fnmatch`` rules: ``*``, ``?``,
``[...]``), else ``default``. A key that names no layer and matches none is an
error naming the closest layer. A layer named ``default`` is matched by its
name like any other; then ``default`` is not a default.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from typing import Any

from hitm.errors import DescriptionError, suggest

__all__ = ["DEFAULT", "per_layer"]

DEFAULT = "default"

_GLOB = frozenset("*?[")


def per_layer(
    spec: Mapping[Any, Any],
    names: Sequence[str],
    what: str,
    problems: list[str] | None = None,
) -> dict[str, Any]:
    """Each of ``names`` with its value from ``spec`` (see the module docstring).

    Layers no key reaches are left out, for the caller to report as missing.
    A key that is not a string, or names no layer and matches none, is one
    problem (with the closest layer's name): appended to ``problems`` if given.

    Raises
    ------
    DescriptionError
        For such keys, when ``problems`` is None.
    """
    known = set(names)
    found: list[str] = []
    exact: dict[str, Any] = {}
    patterns: list[tuple[str, Any]] = []
    default = None
    for key, value in spec.items():
        if not isinstance(key, str):
            found.append(f"{what}: a key must be a layer name or pattern, got {key!r}")
        elif key in known:
            exact[key] = value
        elif key == DEFAULT:
            default = value
        elif _GLOB & set(key):
            if not any(fnmatch.fnmatchcase(name, key) for name in names):
                found.append(f"{what}.{key}: the pattern matches no weight layer")
            patterns.append((key, value))
        else:
            found.append(f"{what}.{key}: not a weight layer of this network{suggest(key, names)}")
    if found and problems is None:
        raise DescriptionError(found)
    if problems is not None:
        problems += found
    out: dict[str, Any] = {}
    for name in names:
        if name in exact:
            out[name] = exact[name]
            continue
        match = next((v for p, v in patterns if fnmatch.fnmatchcase(name, p)), None)
        if match is not None:
            out[name] = match
        elif default is not None:
            out[name] = default
    return out

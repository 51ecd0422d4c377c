"""Reading a YAML or JSON document safely and within stated bounds.

Every instance, copies file and sweep spec comes through :func:`read_document`.
YAML is loaded with a safe loader that also refuses duplicate keys (a silent
last-wins hides typos) and reads YAML 1.2 floats such as ``1e-3`` as numbers
(YAML 1.1 wants ``1.0e-3``). A document is refused, with one message and
before anything is built from it, when it is

- not a regular file (a FIFO would block the read forever);
- larger than :data:`MAX_BYTES`;
- nested deeper than :data:`MAX_DEPTH` levels;
- more than :data:`MAX_VALUES` values once YAML aliases are expanded (an alias
  "bomb" is a few lines that expand to billions).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from hitm.errors import DescriptionError

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_VALUES", "read_document"]

MAX_BYTES = 16 * 2**20
"""The largest document read, in bytes (16 MiB; the largest shipped instance is 4 kB)."""
MAX_DEPTH = 64
"""The deepest nesting of mappings and lists accepted (instances need 6)."""
MAX_VALUES = 1_000_000
"""The most values (mapping entries, list items, scalars) a document may expand to."""

SUFFIXES = (".yaml", ".yml", ".json")


# libyaml's parser when PyYAML was built with it (3.7× faster on a 20,000-layer
# instance; it also caps nesting at 1,000 levels itself), the pure-Python one otherwise.
_SafeBase = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):  # type: ignore[misc, valid-type]
    """A safe loader that refuses duplicate keys and reads ``1e-3`` as a float."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "found unhashable key", key_node.start_mark
                ) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)  # type: ignore[no-untyped-call]


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _within_bounds(doc: Any, where: str) -> Any:
    """``doc`` if it is at most :data:`MAX_DEPTH` deep and :data:`MAX_VALUES` large."""
    stack = [(doc, 1)]
    count = 0
    while stack:  # iterative: a deep document must not exhaust Python's stack here
        node, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise DescriptionError(
                f"{where}: more than {MAX_VALUES:,} values (YAML aliases expanded); refused"
            )
        if depth > MAX_DEPTH:
            raise DescriptionError(f"{where}: nested deeper than {MAX_DEPTH} levels; refused")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return doc


def read_document(path: str | Path) -> Any:
    """Parse a YAML (``.yaml``/``.yml``) or JSON (``.json``) file, safely and within bounds.

    Raises
    ------
    DescriptionError
        For a missing, unreadable, non-regular, oversized, malformed, too deeply
        nested or too large document, with the file (and line) in its one line.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DescriptionError(
            f"{path}: unsupported file type '{suffix}' (use .yaml, .yml or .json)"
        )
    try:
        if not path.exists():
            raise DescriptionError(f"{path}: no such file")
        if not path.is_file():
            raise DescriptionError(f"{path}: not a regular file")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise DescriptionError(
                f"{path}: {size:,} bytes, more than the {MAX_BYTES:,} a document may hold"
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DescriptionError(f"{path}: cannot read ({exc})") from None
    try:
        # _Loader is a SafeLoader: no Python objects are ever constructed.
        doc = json.loads(text) if suffix == ".json" else yaml.load(text, Loader=_Loader)
    except json.JSONDecodeError as exc:
        raise DescriptionError(
            f"{path}:{exc.lineno}:{exc.colno}: malformed JSON: {exc.msg}"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "maximum nesting depth" in problem:  # libyaml's own cap, far above ours
            raise DescriptionError(
                f"{path}: nested deeper than {MAX_DEPTH} levels; refused"
            ) from None
        raise DescriptionError(f"{where}: malformed YAML: {problem}") from None
    except RecursionError:
        raise DescriptionError(f"{path}: nested deeper than {MAX_DEPTH} levels; refused") from None
    return _within_bounds(doc, str(path))

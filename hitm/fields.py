"""The one declarative field checker: every section of an instance is a table of fields.

A :class:`Field` knows how to check one value (collecting a message per problem,
each starting with the field's path), how to normalise it (``1`` → ``(1, 1)``
for a pair), and how to describe itself as JSON Schema. The network's op
attributes (:mod:`hitm.description.ops`), the hardware, the budget and the
design space declare their fields with these classes, so one checker reports
every problem in one pass and one table exports ``docs/instance.schema.json``.

Why not pydantic: the messages users read (``network.layers[3] (conv1).kernel:
must be between 1 and 10,000,000, got 0``, the closest valid name for an
unknown key, a unit hint for ``power:``) are the interface, layers are
polymorphic on ``op`` with attribute tables that already exist, and importing
pydantic would add a fifth of a second to every command. These few classes
give the same schema → check → typed-object flow with the messages intact.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hitm.errors import suggest

__all__ = [
    "BAD",
    "AutoOr",
    "Bool",
    "Choice",
    "Field",
    "IntList",
    "IntPair",
    "IntSet",
    "Integer",
    "ListOf",
    "MappingOf",
    "Number",
    "Ref",
    "Section",
    "Text",
    "unknown_keys",
]

BAD: Any = object()
"""What :meth:`Field.check` returns for a value it rejected (its problem is recorded)."""

MAX_LIST = 4096  # longest list a field accepts: a longer one is a mistake, not a network


class Field:
    """One field's rule: check a value, normalise it, describe it as JSON Schema."""

    description: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        """The normalised value, or :data:`BAD` after appending a message to ``problems``."""
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        """This field as a JSON Schema fragment."""
        raise NotImplementedError

    def _described(self, doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "description": self.description} if self.description else doc


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fmt(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) else f"{x:,g}"


@dataclass(frozen=True)
class Integer(Field):
    """An integer in ``[minimum, maximum]`` (with ``power_of_two``, a power of two; with
    ``even``, even)."""

    minimum: int = 1
    maximum: int = 10_000_000
    description: str = ""
    power_of_two: bool = False
    even: bool = False

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if not _is_int(value):
            problems.append(f"{where}: expected an integer, got {value!r}")
            return BAD
        in_range = self.minimum <= value <= self.maximum
        if self.power_of_two and not (in_range and value & (value - 1) == 0):
            problems.append(
                f"{where}: must be a power of two from {_fmt(self.minimum)} to"
                f" {_fmt(self.maximum)}, got {value}"
            )
            return BAD
        if not in_range:
            problems.append(
                f"{where}: must be between {_fmt(self.minimum)} and {_fmt(self.maximum)},"
                f" got {value}"
            )
            return BAD
        if self.even and value % 2:
            problems.append(f"{where}: must be even, got {value}")
            return BAD
        return value

    def schema(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}
        if self.even:
            doc["multipleOf"] = 2
        if self.power_of_two:
            doc["enum"] = [
                1 << k for k in range(self.maximum.bit_length()) if self.minimum <= 1 << k
            ]
        return self._described(doc)


@dataclass(frozen=True)
class AutoOr(Field):
    """The word ``auto`` (the model works the value out), or a value of ``value``."""

    value: Field
    description: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if value == "auto":
            return value
        if isinstance(value, str):
            problems.append(f"{where}: expected auto or a number, got {value!r}")
            return BAD
        return self.value.check(value, where, problems)

    def schema(self) -> dict[str, Any]:
        return self._described({"oneOf": [{"const": "auto"}, self.value.schema()]})


@dataclass(frozen=True)
class Number(Field):
    """A finite number above ``minimum`` (or at least it, if ``closed_min``) and below ``maximum``.

    ``closed_max`` admits ``maximum`` itself. Integers are accepted and returned as floats.
    """

    minimum: float = 0.0
    maximum: float = 1e9
    closed_min: bool = False
    closed_max: bool = False
    description: str = ""
    unit: str = ""

    def _rule(self) -> str:
        low = (
            f"at least {_fmt(self.minimum)}"
            if self.closed_min
            else ("positive" if self.minimum == 0 else f"above {_fmt(self.minimum)}")
        )
        high = f"at most {_fmt(self.maximum)}" if self.closed_max else f"below {_fmt(self.maximum)}"
        return f"must be {low} and {high}"

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if not _is_number(value):
            of = f" of {self.unit}" if self.unit else ""
            hint = ""
            if self.unit and isinstance(value, str):
                key = where.rsplit(".", 1)[-1]
                hint = f" (the unit is in the field's name: give {key}: <number>)"
            problems.append(f"{where}: expected a number{of}, got {value!r}{hint}")
            return BAD
        low = value >= self.minimum if self.closed_min else value > self.minimum
        high = value <= self.maximum if self.closed_max else value < self.maximum
        if not (math.isfinite(value) and low and high):
            problems.append(f"{where}: {self._rule()}, got {value}")
            return BAD
        return float(value)

    def schema(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": "number"}
        doc["minimum" if self.closed_min else "exclusiveMinimum"] = self.minimum
        doc["maximum" if self.closed_max else "exclusiveMaximum"] = self.maximum
        return self._described(doc)


@dataclass(frozen=True)
class Bool(Field):
    """``true`` or ``false``."""

    description: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if isinstance(value, bool):
            return value
        problems.append(f"{where}: expected true or false, got {value!r}")
        return BAD

    def schema(self) -> dict[str, Any]:
        return self._described({"type": "boolean"})


@dataclass(frozen=True)
class Choice(Field):
    """One of fixed values. With ``noun``, an unknown value is an "unknown <noun>" with the closest."""

    choices: tuple[Any, ...]
    noun: str = ""
    description: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        try:
            known = value in self.choices
        except TypeError:  # unhashable or incomparable: not one of ours
            known = False
        if known and not isinstance(value, bool):
            return value
        listed = ", ".join(map(str, self.choices))
        if self.noun:
            names = [str(c) for c in self.choices]
            problems.append(
                f"{where}: unknown {self.noun} {value!r}{suggest(str(value), names)}; known: {listed}"
            )
        else:
            problems.append(f"{where}: must be one of {listed}, got {value!r}")
        return BAD

    def schema(self) -> dict[str, Any]:
        return self._described({"enum": list(self.choices)})


@dataclass(frozen=True)
class Text(Field):
    """A string: a name (not empty), or with ``ref`` another layer's or input's name.

    A reference is only checked to be a string here; the loader checks that it
    names something once the whole network is read.
    """

    description: str = ""
    ref: bool = False

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if isinstance(value, str) and (self.ref or value):
            return value
        expected = "a layer or input name" if self.ref else "a name"
        problems.append(f"{where}: expected {expected}, got {value!r}")
        return BAD

    def schema(self) -> dict[str, Any]:
        return self._described(
            {"type": "string"} if self.ref else {"type": "string", "minLength": 1}
        )


def Ref(description: str = "") -> Text:
    """A field naming another layer or network input."""
    return Text(description, ref=True)


@dataclass(frozen=True)
class IntPair(Field):
    """One integer for both spatial axes, or ``[h, w]``; normalised to a tuple of two."""

    item: Integer = Integer()
    description: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if not isinstance(value, list):  # one value for both dimensions: check it once
            single = self.item.check(value, where, problems)
            return BAD if single is BAD else (single, single)
        if len(value) != 2:
            problems.append(f"{where}: expected an integer or [h, w], got {value!r}")
            return BAD
        pair = tuple(self.item.check(v, where, problems) for v in value)
        return BAD if BAD in pair else pair

    def schema(self) -> dict[str, Any]:
        one = self.item.schema()
        return self._described(
            {"oneOf": [one, {"type": "array", "items": one, "minItems": 2, "maxItems": 2}]}
        )


@dataclass(frozen=True)
class IntList(Field):
    """A non-empty list of integers (each checked by ``item``), as a tuple."""

    item: Integer = Integer()
    max_items: int = MAX_LIST
    description: str = ""
    expected: str = "a list of integers"

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if not isinstance(value, list) or not value or len(value) > self.max_items:
            problems.append(f"{where}: expected {self.expected}, got {value!r}")
            return BAD
        items = tuple(self.item.check(v, where, problems) for v in value)
        return BAD if BAD in items else items

    def schema(self) -> dict[str, Any]:
        return self._described(
            {
                "type": "array",
                "minItems": 1,
                "maxItems": self.max_items,
                "items": self.item.schema(),
            }
        )


@dataclass(frozen=True)
class IntSet(Field):
    """A non-empty list of integers in ``item``'s range, as a sorted tuple without repeats."""

    item: Integer = Integer(1, 1024)
    description: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        low, high = self.item.minimum, self.item.maximum
        ok = (
            isinstance(value, list)
            and 0 < len(value) <= MAX_LIST
            and all(_is_int(v) and low <= v <= high for v in value)
        )
        if not ok:
            problems.append(
                f"{where}: expected a list of integers from {low} to {high}, got {value!r}"
            )
            return BAD
        return tuple(sorted(set(value)))

    def schema(self) -> dict[str, Any]:
        return self._described({"type": "array", "minItems": 1, "items": self.item.schema()})


def unknown_keys(
    keys: Any,
    known: Mapping[str, Any] | tuple[str, ...],
    where: str,
    problems: list[str],
    *,
    hints: Mapping[str, str] | None = None,
    what: str = "field",
    valid: Any = None,
    listing: bool = False,
) -> None:
    """Append "unknown field (did you mean ...?)" for every key not in ``known``.

    ``hints`` maps a likely mistake to the whole message after the path (e.g.
    a unit left out of the name); ``valid`` lists the names to suggest from
    when they are more than ``known``; ``listing`` appends "; use" and the known names.
    """
    for key in keys:
        if key in known:
            continue
        at = f"{where}.{key}" if where else str(key)
        if hints and key in hints:
            problems.append(f"{at}: {hints[key]}")
        else:
            tail = f"; use {', '.join(known)}" if listing else ""
            problems.append(f"{at}: unknown {what}{suggest(str(key), valid or known)}{tail}")


@dataclass(frozen=True)
class Section(Field):
    """A mapping with known keys, each a :class:`Field`.

    ``check`` returns the normalised values of the keys present (absent ones
    are left to the caller's defaults); unknown keys, missing required keys
    and bad values each add a problem. ``expected`` words the message for a
    value that is not a mapping at all. ``custom`` keys are allowed and left
    unchecked here (their owner checks them, e.g. a layer's ``op`` attributes).
    """

    fields: Mapping[str, Field]
    required: tuple[str, ...] = ()
    expected: str = "a mapping"
    hints: Mapping[str, str] = field(default_factory=dict)
    unknown: str = "field"
    listing: bool = False
    description: str = ""
    title: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if not isinstance(value, Mapping):
            got = f", got {value!r}" if "got" not in self.expected else ""
            problems.append(f"{where or 'instance'}: expected {self.expected}{got}")
            return BAD
        unknown_keys(
            value,
            self.fields,
            where,
            problems,
            hints=self.hints,
            what=self.unknown,
            listing=self.listing,
        )
        out: dict[str, Any] = {}
        for key, rule in self.fields.items():
            at = f"{where}.{key}" if where else key
            if key not in value:
                if key in self.required:
                    problems.append(f"{at}: missing")
                continue
            checked = rule.check(value[key], at, problems)
            if checked is not BAD:
                out[key] = checked
        return out

    def schema(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": "object",
            "properties": {k: f.schema() for k, f in self.fields.items()},
            "additionalProperties": False,
        }
        if self.required:
            doc["required"] = list(self.required)
        if self.title:
            doc["title"] = self.title
        return self._described(doc)


@dataclass(frozen=True)
class MappingOf(Field):
    """A mapping from names to values of one field (network inputs, component overrides).

    ``names`` restricts the keys (an unknown one gets the closest); ``noun`` words it.
    """

    value: Field
    names: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None
    noun: str = "name"
    expected: str = "a mapping"
    non_empty: bool = False
    description: str = ""

    def _names(self) -> tuple[str, ...] | None:
        return self.names() if callable(self.names) else self.names

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if not isinstance(value, Mapping) or (self.non_empty and not value):
            problems.append(f"{where}: expected {self.expected}, got {value!r}")
            return BAD
        names = self._names()
        out: dict[str, Any] = {}
        for key, item in value.items():
            at = f"{where}.{key}"
            if not isinstance(key, str):
                problems.append(f"{at}: expected a name, got {key!r}")
                continue
            if names is not None and key not in names:
                problems.append(
                    f"{at}: unknown {self.noun}{suggest(key, names)}; known: {', '.join(names)}"
                )
                continue
            checked = self.value.check(item, at, problems)
            if checked is not BAD:
                out[key] = checked
        return out

    def schema(self) -> dict[str, Any]:
        names = self._names()
        doc: dict[str, Any] = {"type": "object"}
        if names is None:
            doc["additionalProperties"] = self.value.schema()
        else:
            doc["properties"] = {n: self.value.schema() for n in names}
            doc["additionalProperties"] = False
        if self.non_empty:
            doc["minProperties"] = 1
        return self._described(doc)


@dataclass(frozen=True)
class ListOf(Field):
    """A list of values of one field (a feedback loop's edges); paths get ``[i]``.

    ``check`` keeps every position: a rejected item is :data:`BAD` in place.
    """

    value: Field
    expected: str = "a list"
    max_items: int = MAX_LIST
    description: str = ""

    def check(self, value: Any, where: str, problems: list[str]) -> Any:
        if not isinstance(value, list) or len(value) > self.max_items:
            problems.append(f"{where}: expected {self.expected}")
            return BAD
        return [self.value.check(item, f"{where}[{i}]", problems) for i, item in enumerate(value)]

    def schema(self) -> dict[str, Any]:
        return self._described(
            {"type": "array", "items": self.value.schema(), "maxItems": self.max_items}
        )

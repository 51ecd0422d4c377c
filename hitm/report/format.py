"""Numbers as users read them: times, energies, powers, rates, shares, resource amounts."""

from __future__ import annotations

from collections.abc import Mapping

from hitm.resources import RESOURCES, binding

__all__ = [
    "fmt_amount",
    "fmt_binding",
    "fmt_bits",
    "fmt_energy",
    "fmt_num",
    "fmt_pct",
    "fmt_power",
    "fmt_rate",
    "fmt_time",
    "fmt_years",
]


def fmt_time(ps: int | float) -> str:
    """Human-readable time from picoseconds (``80.28 ms``, ``1.60 µs``)."""
    for unit, scale in (("s", 1e12), ("ms", 1e9), ("µs", 1e6), ("ns", 1e3)):
        if ps >= scale:
            return f"{ps / scale:.2f} {unit}"
    return f"{ps:.0f} ps"


def fmt_bits(bits: int | float) -> str:
    """A data size from bits, in decimal bytes (``6.42 MB``, ``512 B``)."""
    size = bits / 8
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.2f} {unit}"
    return f"{size:g} B"


def fmt_amount(resource: str, value: int | float) -> str:
    """A resource amount (problem units) in its user-facing unit (power in W, area in mm²)."""
    spec = RESOURCES.get(resource)
    return f"{int(value):,} {resource}" if spec is None else spec.fmt(value)


def fmt_binding(usage: Mapping[str, int], capacity: Mapping[str, int]) -> str:
    """The binding resource and the share of it used (``power 98.20%``), or ``""``."""
    found = binding(usage, capacity)
    return "" if found is None else f"{RESOURCES[found[0]].name} {fmt_pct(found[1])}"


def fmt_pct(fraction: float) -> str:
    """A percentage with two decimals, or three significant digits below 1%."""
    pct = 100 * fraction
    return f"{pct:.2f}%" if pct >= 1 or pct == 0 else f"{pct:.3g}%"


def fmt_rate(per_s: float) -> str:
    return f"{per_s:,.2f}/s" if per_s < 1e6 else f"{per_s:.3e}/s"


def fmt_energy(pj: float) -> str:
    """Human-readable energy from picojoules (``3.70 mJ``, ``43.97 nJ``)."""
    for unit, scale in (("J", 1e12), ("mJ", 1e9), ("µJ", 1e6), ("nJ", 1e3)):
        if pj >= scale:
            return f"{pj / scale:.2f} {unit}"
    return f"{pj:.2f} pJ"


def fmt_power(w: float) -> str:
    """Human-readable power from watts (``65.81 W``, ``330.00 mW``)."""
    for unit, scale in (("kW", 1e3), ("W", 1.0), ("mW", 1e-3)):
        if w >= scale:
            return f"{w / scale:.2f} {unit}"
    return f"{w * 1e6:.2f} µW"


def fmt_num(x: float) -> str:
    """A count or cost with at most 4 significant digits, no trailing zeros."""
    return f"{x:,.4g}" if abs(x) < 1e4 else f"{x:,.0f}"


def fmt_years(years: float) -> str:
    """A lifetime: years above one, else days, hours or minutes."""
    for unit, per_year in (("years", 1), ("days", 365.25), ("hours", 8766)):
        if years * per_year >= 1:
            return f"{years * per_year:,.3g} {unit}"
    return f"{years * 525_960:,.3g} minutes"

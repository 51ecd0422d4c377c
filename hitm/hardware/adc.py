"""The ADC: the resolution an MVM needs, and its energy and area at any resolution.

Resolution (ISAAC, Shafiee et al., ISCA 2016, Section IV): a crossbar column
sums ``R`` products of a ``v``-bit input slice and a ``w``-bit cell, so its
result needs ``log2(R) + v + w`` bits, one fewer when ``v = 1`` or ``w = 1``
(the largest product, ``(2^v − 1)(2^w − 1)``, then has only ``v + w − 1``
bits), and one fewer again with ISAAC's flipped-weight encoding, which keeps
every column sum within half the range. 128 rows, 1-bit inputs and 2-bit
cells: 7 + 1 + 2 − 1 − 1 = 8 bits, ISAAC's ADC.

Energy and area (docs/energy.md): ISAAC's 32 nm SAR ADC at 4 to 10 bits, as the
Accelergy hwcomponents-library tabulates it (``hwcomponents_library/library/
isaac.py``, class ``IsaacADC``'s comments; the 8-bit point is Kull et al.,
ISSCC 2013, the others scaled from it after Saberi et al., 2011). hitm uses
the table's *ratios* to the preset's own ADC, so each preset's figures hold
exactly at its own resolution. Above 10 bits it extends the table by ISAAC's
own rule (Section VII: the vref buffer, memory and clock scale linearly with
resolution, the capacitive DAC exponentially): ``a·b + c·2^b``, fitted to the
table by least squares and joined to its 10-bit point. Against the thermal-
noise limit of Murmann's survey (energy ×4 per bit at high resolution) this
is optimistic, so high resolutions are if anything under-priced. Below 4 bits
no array hitm accepts needs one.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

__all__ = [
    "ADC_TABLE",
    "MAX_ADC_BITS",
    "MIN_ADC_BITS",
    "adc_area_um2",
    "adc_energy_pj",
    "required_adc_bits",
]

ADC_TABLE: dict[int, tuple[float, float]] = {
    4: (0.79, 361.04),
    5: (0.99, 476.91),
    6: (1.20, 626.91),
    7: (1.42, 845.18),
    8: (1.67, 1200.0),
    9: (1.969078145, 1827.911647),
    10: (2.379022742, 3002.008032),
}
"""Resolution → (energy per conversion in pJ, area in µm²) of ISAAC's 32 nm ADC at 1.2 GS/s."""

MIN_ADC_BITS = min(ADC_TABLE)
MAX_ADC_BITS = 16  # the Walden extrapolation is not trusted further


@cache
def _linear_plus_exponential() -> np.ndarray:
    """Least-squares ``(a, c)`` of ``a·b + c·2^b`` for energy and area: a 2 × 2 array."""
    bits = np.array(sorted(ADC_TABLE), dtype=float)
    basis = np.stack([bits, 2.0**bits], axis=1)
    values = np.array([ADC_TABLE[int(b)] for b in bits])
    return np.linalg.lstsq(basis, values, rcond=None)[0]


def _point(bits: int) -> tuple[float, float]:
    if not MIN_ADC_BITS <= bits <= MAX_ADC_BITS:
        raise ValueError(f"ADC resolution {bits} is outside {MIN_ADC_BITS}-{MAX_ADC_BITS} bits")
    top = max(ADC_TABLE)
    if bits <= top:
        return ADC_TABLE[bits]
    coef = _linear_plus_exponential()

    def fit(b: int) -> np.ndarray:
        return coef[0] * b + coef[1] * 2.0**b

    energy, area = np.array(ADC_TABLE[top]) * fit(bits) / fit(top)
    return float(energy), float(area)


def adc_energy_pj(bits: int) -> float:
    """Energy per conversion at ``bits`` (ISAAC's ADC, 32 nm), pJ."""
    return _point(bits)[0]


def adc_area_um2(bits: int) -> float:
    """Area of one ADC at ``bits`` (ISAAC's ADC, 32 nm), µm²."""
    return _point(bits)[1]


def required_adc_bits(rows: int, dac_bits: int, cell_bits: int, flipped: bool) -> int:
    """Bits an ADC needs to convert a column sum without loss (ISAAC's rule).

    Parameters
    ----------
    rows
        Rows summed on one column (a power of two).
    dac_bits, cell_bits
        Bits of an input slice and of a cell.
    flipped
        ISAAC's flipped-weight encoding (hitm's ``offset`` weight encoding).
    """
    bits = math.ceil(math.log2(rows)) + dac_bits + cell_bits
    if dac_bits == 1 or cell_bits == 1:
        bits -= 1
    if flipped:
        bits -= 1
    return bits

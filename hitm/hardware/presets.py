"""The published chips as data: ISAAC's and PUMA's component tables and parameters.

The ``isaac`` preset follows ISAAC (Shafiee et al., ISCA 2016): 128×128
crossbars of 2-bit cells, 16-bit weights and inputs, 1-bit DACs, one 8-bit
1.28 GS/s ADC per crossbar, 8 crossbars per IMA, 12 IMAs per tile, 168 tiles
per chip, and the power and area of every component from its Table I (the
:class:`~hitm.hardware.model.Hardware` defaults). The ``puma`` preset follows
PUMA (Ankit et al., ASPLOS 2019); see ``PUMA_COMPONENTS`` for which of its
figures are published and which are ours. Sources: docs/energy.md.
"""

from __future__ import annotations

from typing import Any

from hitm.hardware.component import Component

__all__ = ["ISAAC_COMPONENTS", "PRESET_FIELDS", "PUMA_COMPONENTS"]


def _row(
    name: str,
    level: str,
    charged_per: str,
    count: float,
    power_mw: float,
    area_mm2: float,
    note: str = "",
    geometry: bool = False,
    law: tuple[str, tuple[float, ...]] | None = None,
) -> Component:
    """A component from a published table row: row totals for ``count`` units.

    ``law`` is the scaling law the row follows and the quantities it holds at.
    """
    name_of_law, at = law if law is not None else (None, ())
    return Component(
        name,
        level,
        charged_per,
        power_mw / count,
        area_mm2 / count,
        None if geometry else count,
        note,
        name_of_law,
        at,
    )


# ISAAC Table I (32 nm): each row's count, total power (mW) and total area (mm²).
ISAAC_COMPONENTS: tuple[Component, ...] = (
    _row("adc", "ima", "conversion", 8, 16, 0.0096, "", True, ("adc", (8, 1.28))),
    _row("dac", "ima", "row_cycle", 8 * 128, 4, 0.00017, "", True, ("dac", (1,))),
    _row("sample_hold", "ima", "column_cycle", 8 * 128, 0.01, 0.00004, "", geometry=True),
    _row(
        "crossbar",
        "ima",
        "crossbar_cycle",
        8,
        2.4,
        0.0002,
        "",
        geometry=True,
        law=("cells", (128 * 128,)),
    ),
    _row("shift_add", "ima", "ima_cycle", 4, 0.2, 0.00024, "", law=("shift_add", (16,))),
    _row(
        "input_register",
        "ima",
        "ima_cycle",
        1,
        1.24,
        0.0021,
        "",
        law=("input_register", (2048,)),
    ),
    _row(
        "output_register",
        "ima",
        "ima_cycle",
        1,
        0.23,
        0.00077,
        "",
        law=("output_register", (256,)),
    ),
    _row("edram", "tile", "byte", 1, 20.7, 0.083, "", law=("edram", (64,))),
    _row("bus", "tile", "byte", 1, 7, 0.090, "", law=("bus", (384,))),
    _row(
        "router",
        "tile",
        "static",
        0.25,
        42 / 4,
        0.151 / 4,
        "ISAAC Table I",
        law=("router", (32, 8)),
    ),
    _row("sigmoid", "tile", "activation", 2, 0.52, 0.0006),
    _row("tile_shift_add", "tile", "output", 1, 0.05, 0.00006),
    _row("maxpool", "tile", "pool", 1, 0.4, 0.00024),
    _row(
        "tile_output_register",
        "tile",
        "output",
        1,
        1.68,
        0.0032,
        "",
        law=("tile_output_register", (3072,)),
    ),
    _row("hyper_transport", "chip", "static", 1, 10_400, 22.88, "off-chip links"),
)


# PUMA (Ankit et al., ASPLOS 2019), mapped onto this model: a core is an IMA and
# an MVMU a group of 8 crossbars (its 128×128 16-bit weights in 8 arrays of 2-bit
# cells, the ``split`` layout), so 2 MVMUs per core = 16 crossbars, 8 cores per
# tile, 138 tiles per node (17,664 crossbars).
# Published: 128×128 crossbars, 2-bit cells, 16-bit weights and inputs, 8 cores ×
# 2 MVMUs per tile, 138 tiles per node, 1 GHz; one MVMU MVM (16,384 16-bit MACs)
# takes 2,304 ns and 43.97 nJ; the node is 90.6 mm² and 62.5 W.
# Not in the public record as a per-component breakdown, so ours:
# - timing: one ADC per crossbar at 1 GS/s converts 128 columns in 128 ns per
#   bit-slice; 16 bit-slices plus 2 pipeline fill cycles give (16 + 2) × 128 ns =
#   2,304 ns, as the PUMA simulator's MVM latency (github.com/Aayush-Ankit/
#   puma-simulator, wiki "PUMA Core"). The 100 ns read is ISAAC's.
# - crossbar, DAC and sample-and-hold units: ISAAC's Table I values (the PUMA
#   simulator reuses them). The ADC's power is calibrated so that an MVMU (8
#   crossbars with their DACs, sample-and-holds and ADCs) draws 43.97 nJ /
#   2,304 ns = 19.08 mW: 1.584 mW, close to ISAAC's 2 mW ADC scaled to 1 GS/s
#   (1.56 mW); its area is ISAAC's.
# - VFU, register file and core control: the PUMA simulator's constants
#   (include/constants.py): ALU scaled 32/45, 1 KB data memory, control unit.
# - eDRAM (64 KB shared memory), its bus, and the router (4 ports, shared by 4
#   tiles): the PUMA simulator's constants, dynamic plus leakage.
# - HyperTransport: ISAAC's links, as the PUMA simulator uses; we assume the
#   published node totals include them.
# - tile_other (tile control, instruction and attribute memories, receive
#   buffer, the rest of the on-chip network): not broken down publicly; chosen
#   so that 138 tiles plus the links come to the published 62.5 W and 90.6 mm².
# - clock 1 GHz (published); 384-bit eDRAM bus (the simulator's, ISAAC's width);
#   8-bit ADCs and offset weight encoding as ISAAC; leakage 10% as ISAAC.
PUMA_COMPONENTS: tuple[Component, ...] = (
    Component(
        "adc",
        "ima",
        "conversion",
        1.5843,
        0.0096 / 8,
        None,
        "calibrated",
        "adc",
        (8, 1.0),
    ),
    Component("dac", "ima", "row_cycle", 4 / 1024, 0.00017 / 1024, None, "ISAAC's", "dac", (1,)),
    Component("sample_hold", "ima", "column_cycle", 0.01 / 1024, 0.00004 / 1024, None, "ISAAC's"),
    Component(
        "crossbar",
        "ima",
        "crossbar_cycle",
        0.3,
        0.0002 / 8,
        None,
        "ISAAC's",
        "cells",
        (128 * 128,),
    ),
    Component("vfu", "ima", "ima_cycle", 1.899, 0.00403, 1, "vector unit; PUMA simulator"),
    Component("register_file", "ima", "ima_cycle", 0.477, 0.00192, 1, "1 KB; PUMA simulator"),
    Component("core_control", "ima", "ima_cycle", 0.25, 0.00326, 1, "PUMA simulator"),
    Component(
        "edram",
        "tile",
        "byte",
        9.06,
        0.086,
        1,
        "shared memory; PUMA simulator",
        "edram",
        (64,),
    ),
    Component("bus", "tile", "byte", 3.5, 0.090, 1, "PUMA simulator", "bus", (384,)),
    Component("router", "tile", "static", 16.54, 0.047, 0.25, "shared by 4 tiles; PUMA simulator"),
    Component("tile_other", "tile", "static", 34.48, 0.0691, 1, "calibrated to the node totals"),
    Component("hyper_transport", "chip", "static", 10_400, 22.88, 1, "off-chip links; ISAAC's"),
)

PRESET_FIELDS: dict[str, dict[str, Any]] = {
    "isaac": {},
    "puma": dict(
        read_ns=100.0,
        adc_rate_gsps=1.0,
        crossbars_per_ima=16,
        imas_per_tile=8,
        tiles_per_chip=138,
        slice_layout="split",
        mvm_fill_cycles=2,
        clock_ghz=1.0,
        components=PUMA_COMPONENTS,
    ),
}
"""Each preset's fields where they differ from the ISAAC defaults of ``Hardware``."""

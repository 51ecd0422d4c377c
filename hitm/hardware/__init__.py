"""The ReRAM PIM chip: its model, the charge table, the presets' data, and the loader.

- :mod:`hitm.hardware.model`: :class:`Hardware` (geometry, precision, timing) and ``PRESETS``;
- :mod:`hitm.hardware.component`: one row of the component cost table;
- :mod:`hitm.hardware.charges`: what each component is charged for (:class:`Charge`);
- :mod:`hitm.hardware.presets`: ISAAC's and PUMA's published figures, as data;
- :mod:`hitm.hardware.load`: a ``hardware:`` mapping → :class:`Hardware`, every field checked.
"""

from hitm.hardware.charges import CHARGES, GROUPS, MOVEMENT_GROUPS, Charge, ChargeRule, groups_of
from hitm.hardware.component import COST_FIELDS, LEVELS, Component
from hitm.hardware.load import hardware_section, load_hardware
from hitm.hardware.model import PRESETS, Hardware
from hitm.hardware.presets import ISAAC_COMPONENTS, PUMA_COMPONENTS

__all__ = [
    "CHARGES",
    "COST_FIELDS",
    "GROUPS",
    "ISAAC_COMPONENTS",
    "LEVELS",
    "MOVEMENT_GROUPS",
    "PRESETS",
    "PUMA_COMPONENTS",
    "Charge",
    "ChargeRule",
    "Component",
    "Hardware",
    "groups_of",
    "hardware_section",
    "load_hardware",
]

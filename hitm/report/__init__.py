"""Everything hitm shows: tables, JSON documents, number formats, plots and whole-file writes.

- :mod:`hitm.report.format`: times, energies, powers, rates, shares and resource amounts;
- :mod:`hitm.report.tables`: ``rich`` tables of analyses, designs, results, frontiers;
- :mod:`hitm.report.documents`: the ``--json`` documents;
- :mod:`hitm.report.plots`: figures (matplotlib, imported only when plotting);
- :mod:`hitm.report.files`: writing a file whole.
"""

from hitm.report.documents import (
    analysis_json,
    compare_json,
    costs_json,
    design_json,
    evaluate_json,
    frontier_json,
    hardware_json,
    result_json,
    solve_json,
)
from hitm.report.files import write_whole
from hitm.report.format import (
    fmt_amount,
    fmt_binding,
    fmt_energy,
    fmt_num,
    fmt_pct,
    fmt_power,
    fmt_rate,
    fmt_time,
)
from hitm.report.tables import (
    FRONTIER_ROWS,
    analysis_table,
    baselines_table,
    compare_table,
    costs_table,
    design_table,
    frontier_notes,
    frontier_table,
    hardware_peak_table,
    hardware_table,
)

__all__ = [
    "FRONTIER_ROWS",
    "analysis_json",
    "analysis_table",
    "baselines_table",
    "compare_json",
    "compare_table",
    "costs_json",
    "costs_table",
    "design_json",
    "design_table",
    "evaluate_json",
    "fmt_amount",
    "fmt_binding",
    "fmt_energy",
    "fmt_num",
    "fmt_pct",
    "fmt_power",
    "fmt_rate",
    "fmt_time",
    "frontier_json",
    "frontier_notes",
    "frontier_table",
    "hardware_json",
    "hardware_peak_table",
    "hardware_table",
    "result_json",
    "solve_json",
    "write_whole",
]

"""Everything hitm shows: tables, JSON documents, number formats, plots and whole-file writes.

- :mod:`hitm.report.format`: times, energies, powers, rates, shares and resource amounts;
- :mod:`hitm.report.tables`: ``rich`` tables of analyses, designs, results, frontiers;
- :mod:`hitm.report.documents`: the ``--json`` documents;
- :mod:`hitm.report.plots`: figures (matplotlib, imported only when plotting);
- :mod:`hitm.report.sweep`: a sweep's non-dominated designs and their plots.

Files are written whole by :func:`hitm.files.write_whole`.

Import from the module that holds what you need; this package re-exports nothing,
so that reading a table does not load the plots.
"""

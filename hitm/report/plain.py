"""A ``rich`` table as plain text, in time linear in its cells.

``rich`` measures and wraps every cell through several layers of renderables:
1.2–1.5 ms a row; ``analyze --all`` on a 20,000-layer network took 61 s, most
of it in ``rich``, and takes 5.7 s drawn here. A table of plain one-line cells needs none of that. This
renders it with the same box characters, padding, justification, title and
section rules as ``rich`` (the test compares the two character for character),
with every column at its natural width and no styles.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.table import Table
from rich.text import Text

__all__ = ["plain_table"]


def _plain(cell: object) -> str | None:
    text = cell.plain if isinstance(cell, Text) else cell
    if not isinstance(text, str) or "\n" in text:
        return None
    return text


def _justify(text: str, width: int, how: str) -> str:
    gap = width - cell_len(text)
    if how == "right":
        return " " * gap + text
    if how == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def plain_table(table: Table) -> str | None:
    """The table's text as ``rich`` prints it without styles, or None if it cannot.

    None (print it with ``rich``) for tables this does not draw: cells that are not
    one line of text, no box, hidden header or edge, footers, row lines, or
    padding other than ``rich``'s default of one space either side.
    """
    box = table.box
    if (
        box is None
        or not table.show_header
        or not table.show_edge
        or table.show_footer
        or table.show_lines
        or table.padding != (0, 1, 0, 1)
        or table.caption
    ):
        return None
    columns = table.columns
    headers = [_plain(c.header) for c in columns]
    cells = [[_plain(c) for c in col._cells] for col in columns]
    if any(h is None for h in headers) or any(x is None for col in cells for x in col):
        return None
    widths = [
        max([cell_len(h)] + [cell_len(x) for x in col])  # type: ignore[arg-type]
        for h, col in zip(headers, cells, strict=True)
    ]
    padded = [w + 2 for w in widths]
    justify = [c.justify for c in columns]

    def line(values: list[str], left: str, mid: str, right: str) -> str:
        parts = [
            " " + _justify(v, w, j) + " " for v, w, j in zip(values, widths, justify, strict=True)
        ]
        return left + mid.join(parts) + right

    lines: list[str] = []
    total = sum(padded) + len(padded) + 1
    title = _plain(table.title) if table.title else None
    if table.title and (title is None or cell_len(title) > total):
        return None  # rich wraps a title wider than its table
    if title:
        lines.append(_justify(title, total, table.title_justify))
    lines.append(box.get_top(padded))
    lines.append(line(headers, box.head_left, box.head_vertical, box.head_right))  # type: ignore[arg-type]
    lines.append(box.get_row(padded, "head"))
    n_rows = len(table.rows)
    for i, row in enumerate(table.rows):
        values = [col[i] for col in cells]
        lines.append(line(values, box.mid_left, box.mid_vertical, box.mid_right))  # type: ignore[arg-type]
        if row.end_section and i < n_rows - 1:
            lines.append(box.get_row(padded, "row"))
    lines.append(box.get_bottom(padded))
    return "\n".join(lines) + "\n"

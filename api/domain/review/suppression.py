"""Small-cell suppression of a table of counts (pure).

Rows are units (villages), each a mapping of cell name to count; each name's column adds up to
a published total (`TOTAL`). Counts from 1 to `below - 1` are suppressed (zeros are shown).
Then, wherever a sum relation holds exactly one suppressed cell, it could be worked out from
the others, so another cell of that relation is suppressed too (the smallest count above zero,
a total only when nothing else is left), until no relation has exactly one. Relations are each
column with its total, and each row's `linked` groups (terms of an identity, such as end =
start - decreases + increases)."""

from collections.abc import Mapping, Sequence

TOTAL = ""  # the row key of the totals

Cell = tuple[str, str]


def protect(
    rows: Mapping[str, Mapping[str, int]],
    below: int,
    linked: Sequence[Sequence[str]] = (),
) -> set[Cell]:
    names = sorted({n for cells in rows.values() for n in cells})
    values: dict[Cell, int] = {(r, n): v for r, cells in rows.items() for n, v in cells.items()}
    for n in names:
        values[(TOTAL, n)] = sum(cells.get(n, 0) for cells in rows.values())
    groups = [[(r, n) for r in (*rows, TOTAL) if (r, n) in values] for n in names]
    groups += [[(r, n) for n in group if (r, n) in values] for r in rows for group in linked]
    hidden = {c for c, v in values.items() if c[0] != TOTAL and 1 <= v < below}
    changed = True
    while changed:
        changed = False
        for group in groups:
            if sum(c in hidden for c in group) == 1:
                hidden.add(
                    min((c for c in group if c not in hidden), key=lambda c: _cost(c, values))
                )
                changed = True
    return hidden


def _cost(cell: Cell, values: Mapping[Cell, int]) -> tuple[int, int, int, Cell]:
    """Prefer a unit's count above zero, the smallest; then a zero; a total last."""
    value = values[cell]
    return (cell[0] == TOTAL, value == 0, value, cell)

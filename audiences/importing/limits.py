"""What one contact file may hold: rows, columns, and characters in a cell.

The settings IMPORT_MAX_ROWS, IMPORT_MAX_COLUMNS and IMPORT_MAX_CELL_CHARS bound every
file type alike. A file over a limit is refused whole, at the first row that passes
it, with a message naming the limit and where it was passed.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from .sheet import UnreadableFile
from .values import is_blank


@dataclass(frozen=True)
class Limits:
    rows: int
    columns: int
    cell_chars: int

    @property
    def row_chars(self) -> int:
        """The most characters one row of a text file can take: every cell at its
        longest, quoted, each character a doubled quote, and its delimiter."""
        return self.columns * (2 * self.cell_chars + 3)

    def row_too_long(self, number: int) -> UnreadableFile:
        return UnreadableFile(
            f"Reading stopped at row {number}: it is longer than a row may be, "
            f"{self.columns:,} columns (IMPORT_MAX_COLUMNS) of {self.cell_chars:,} "
            'characters (IMPORT_MAX_CELL_CHARS). Is a quote (") left open?'
        )


def import_limits() -> Limits:
    return Limits(
        rows=settings.IMPORT_MAX_ROWS,
        columns=settings.IMPORT_MAX_COLUMNS,
        cell_chars=settings.IMPORT_MAX_CELL_CHARS,
    )


def _width(cells: list[Any]) -> int:
    """Columns up to the last filled one."""
    width = len(cells)
    while width and (cells[width - 1] is None or not str(cells[width - 1]).strip()):
        width -= 1
    return width


def header_check(header: list[str], limits: Limits | None = None) -> None:
    """Refuse a header of more columns than IMPORT_MAX_COLUMNS."""
    limits = limits or import_limits()
    if len(header) > limits.columns and (width := _width(header)) > limits.columns:
        raise UnreadableFile(
            f"The header has {width:,} columns; a file may have at most "
            f"{limits.columns:,} (IMPORT_MAX_COLUMNS)."
        )


def _column_name(header: list[str], index: int) -> str:
    name = header[index].strip() if index < len(header) else ""
    return name or f"{index + 1}"


def limited_rows(
    rows: Iterable[tuple[int, list[Any]]],
    header: list[str],
    *,
    rows_before: int = 0,
    limits: Limits | None = None,
) -> Iterator[tuple[int, list[Any]]]:
    """``rows`` as they come, refusing the file (UnreadableFile) at the first row
    past IMPORT_MAX_ROWS, wider than IMPORT_MAX_COLUMNS, or with a cell longer than
    IMPORT_MAX_CELL_CHARS. ``rows_before``: data rows before these (a part of a file).
    """
    limits = limits or import_limits()
    max_columns, max_chars = limits.columns, limits.cell_chars
    left = limits.rows - rows_before  # rows the file may still have
    # Every row of a file passes here: the common case costs a few steps in C.
    for item in rows:
        number, cells = item
        left -= 1
        if left < 0 and not is_blank(cells):
            raise UnreadableFile(
                f"The file holds more than {limits.rows:,} rows of contacts "
                f"(IMPORT_MAX_ROWS): row {number} is past the limit."
            )
        if len(cells) > max_columns and _width(cells) > max_columns:
            raise UnreadableFile(
                f"Reading stopped at row {number}: it has {_width(cells):,} columns; "
                f"a file may have at most {max_columns:,} (IMPORT_MAX_COLUMNS)."
            )
        try:
            longest = max(map(len, cells))
        except ValueError:  # no cells
            longest = 0
        except TypeError:  # a spreadsheet's numbers and dates beside its text
            longest = max((len(c) for c in cells if type(c) is str), default=0)
        if longest > max_chars:
            index = next(
                i for i, c in enumerate(cells) if type(c) is str and len(c) > max_chars
            )
            raise UnreadableFile(
                f"The cell in row {number}, column {_column_name(header, index)} "
                f"holds {len(cells[index]):,} characters; a cell may hold at most "
                f"{max_chars:,} (IMPORT_MAX_CELL_CHARS)."
            )
        yield item

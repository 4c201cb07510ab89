"""Spreadsheet contact files (XLS, XLSX, ODS), read with python-calamine."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .sheet import Sheet, UnreadableFile


def open_spreadsheet(path: Path) -> Sheet:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
    except (CalamineError, ValueError, OSError) as exc:
        raise UnreadableFile(f"The spreadsheet cannot be read: {exc}") from None
    start_row = (sheet.start or (0, 0))[0]
    cells = sheet.iter_rows()
    header = next(cells, None)
    if not header or not any(str(cell).strip() for cell in header):
        raise UnreadableFile(
            "The first sheet is empty: its first row must be the header."
        )
    read = [0]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for index, values in enumerate(cells, start=start_row + 2):
            read[0] += 1
            yield index, values

    return Sheet(
        header=[str(cell).strip() for cell in header],
        rows=rows(),
        size=max(sheet.height - 1, 0),
        _position=lambda: read[0],
        _close=book.close,
    )

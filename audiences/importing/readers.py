"""Read contact files row by row without loading them whole.

TSV and CSV stream through the csv module, each line decoded as UTF-8 or, failing
that, Windows-1252 (what Excel on Windows writes), a byte-order mark dropped. XLS and
XLSX are read with python-calamine, which gives real date cells as dates and number
cells as numbers. Row numbers are the ones a spreadsheet shows: the header is row 1.
"""

import codecs
import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

TEXT_SUFFIXES = {".tsv", ".tab", ".txt", ".csv"}
SHEET_SUFFIXES = {".xls", ".xlsx", ".xlsm", ".ods"}
SUPPORTED = ", ".join(sorted(TEXT_SUFFIXES | SHEET_SUFFIXES))


class UnreadableFile(Exception):
    """The file cannot be read as a contact list; the text says why."""


@dataclass
class Sheet:
    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    size: int
    # A text file's path, delimiter and where its data starts (after the header).
    text: tuple[Path, str, int] | None = None
    _position: Any = field(repr=False, default=None)
    _close: Any = field(repr=False, default=None)

    def progress(self) -> float:
        """How far reading has got, from 0 to 1."""
        done = self._position() if self._position else 0
        return min(done / self.size, 1.0) if self.size else 1.0

    def close(self) -> None:
        if self._close:
            self._close()


def open_sheet(path: Path, file_name: str) -> Sheet:
    """Open ``path`` (uploaded as ``file_name``) and read its header row."""
    suffix = Path(file_name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _open_text(path)
    if suffix in SHEET_SUFFIXES:
        return _open_spreadsheet(path)
    raise UnreadableFile(
        f"{file_name!r} is not a file type Flowcast reads; use one of: {SUPPORTED}."
    )


def decode_line(raw: bytes) -> str:
    """A line as UTF-8 or, failing that, Windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _decoded_lines(stream: BinaryIO) -> Iterator[str]:
    first = True
    for raw in stream:
        if first:
            raw = raw.removeprefix(codecs.BOM_UTF8)
            first = False
        yield decode_line(raw)


def _delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in ("\t", ",", ";")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else "\t"


def _open_text(path: Path) -> Sheet:
    stream = path.open("rb")
    lines = _decoded_lines(stream)
    first_line = next(lines, "")
    if not first_line.strip():
        stream.close()
        raise UnreadableFile("The file is empty: its first line must be the header.")

    def all_lines() -> Iterator[str]:
        yield first_line
        yield from lines

    delimiter = _delimiter(first_line)
    reader = csv.reader(all_lines(), delimiter=delimiter)
    header = next(reader)
    with path.open("rb") as probe:
        probe.readline()
        data_start = probe.tell()

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for cells in reader:
            yield reader.line_num, cells

    return Sheet(
        header=[cell.strip() for cell in header],
        rows=rows(),
        size=os.fstat(stream.fileno()).st_size,
        text=(path, delimiter, data_start),
        _position=stream.tell,
        _close=stream.close,
    )


def _open_spreadsheet(path: Path) -> Sheet:
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

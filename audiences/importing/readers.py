"""Read contact files row by row without loading them whole.

What a file is, is told from its first bytes, not its name: a zip archive (XLSX,
ODS) or an OLE compound file (XLS) is read as a spreadsheet with python-calamine,
which gives real date cells as dates and number cells as numbers; anything else as
text (text_files), which refuses bytes no text file holds. Row numbers are the ones a
spreadsheet shows: the header is row 1.
"""

import csv
from pathlib import Path

from python_calamine import CalamineError

from .sheet import SHEET_SUFFIXES, SUPPORTED, TEXT_SUFFIXES, Sheet, UnreadableFile
from .spreadsheets import open_spreadsheet, spreadsheet_kind
from .text_files import open_text

__all__ = [
    "READ_ERRORS",
    "SHEET_SUFFIXES",
    "SUPPORTED",
    "TEXT_SUFFIXES",
    "Sheet",
    "UnreadableFile",
    "reading_problem",
]

# What reading a file may raise about the file itself: a refusal, not a failure.
READ_ERRORS: tuple[type[Exception], ...] = (
    UnreadableFile,
    csv.Error,
    UnicodeError,
    CalamineError,
)


def open_sheet(path: Path, file_name: str) -> Sheet:
    """Open ``path`` (uploaded as ``file_name``) and read its header row."""
    if Path(file_name).suffix.lower() not in TEXT_SUFFIXES | SHEET_SUFFIXES:
        raise UnreadableFile(
            f"{file_name!r} is not a file type Flowcast reads; use one of: {SUPPORTED}."
        )
    kind = spreadsheet_kind(path)
    if kind is None:
        return open_text(path)
    if Path(file_name).suffix.lower() == ".xlsm" and kind == "XLSX":
        kind = "XLSM"
    return open_spreadsheet(path, kind)


def reading_problem(exc: Exception) -> str:
    """What an operator reads for an error raised while reading a file."""
    if isinstance(exc, UnreadableFile):
        return str(exc)
    return f"The file cannot be read: {exc}."

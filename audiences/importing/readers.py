"""Read contact files row by row without loading them whole.

TSV and CSV stream through the csv module, each line decoded as UTF-8 or, failing
that, Windows-1252 (what Excel on Windows writes), a byte-order mark dropped. XLS and
XLSX are read with python-calamine, which gives real date cells as dates and number
cells as numbers. Row numbers are the ones a spreadsheet shows: the header is row 1.
"""

from pathlib import Path

from .sheet import SHEET_SUFFIXES, SUPPORTED, TEXT_SUFFIXES, Sheet, UnreadableFile
from .spreadsheets import open_spreadsheet
from .text_files import open_text

__all__ = ["SHEET_SUFFIXES", "SUPPORTED", "TEXT_SUFFIXES", "Sheet", "UnreadableFile"]


def open_sheet(path: Path, file_name: str) -> Sheet:
    """Open ``path`` (uploaded as ``file_name``) and read its header row."""
    suffix = Path(file_name).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return open_text(path)
    if suffix in SHEET_SUFFIXES:
        return open_spreadsheet(path)
    raise UnreadableFile(
        f"{file_name!r} is not a file type Flowcast reads; use one of: {SUPPORTED}."
    )

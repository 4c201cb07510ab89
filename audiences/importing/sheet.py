"""An opened contact file: its header, its rows with the numbers a spreadsheet shows,
and how far reading has got."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

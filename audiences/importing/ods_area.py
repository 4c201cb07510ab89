"""How much of an ODS sheet a reader would hold, found before it is read.

An ODS file writes a run of equal cells once, with how many times it repeats
(number-columns-repeated, number-rows-repeated), and python-calamine spreads every
run of a cell with something in it into a dense grid. One cell with a space, repeated
200 columns by 100,000 rows, is a 1 KB file and a 2.5 GB grid. So the content is
scanned first for how far its cells reach once spread; the grid must stay within
what the file's own size could hold (used_area.SPARSE cells per 16 bytes of XML,
plus used_area.SLACK). Runs of empty cells (LibreOffice ends every sheet with a
million of them) hold nothing and cost nothing.
"""

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from .sheet import UnreadableFile
from .used_area import SLACK, SPARSE, column_letters

TOKEN = re.compile(
    rb"<table:table\s(?P<table>[^>]*)>"
    rb"|<table:table-row(?P<row>(?:\s[^>]*?)?)(?P<row_closed>/?)>"
    rb"|(?P<row_end></table:table-row>)"
    rb"|<table:(?:covered-)?table-cell(?P<cell>(?:\s[^>]*?)?)(?P<cell_closed>/?)>"
)
NAME = re.compile(rb'table:name\s*=\s*"([^"]*)"')
ROWS = re.compile(rb'number-rows-repeated\s*=\s*"([0-9]+)"')
COLUMNS = re.compile(rb'number-columns-repeated\s*=\s*"([0-9]+)"')
CELL_XML_BYTES = 16
LONGEST_TAG = 1 << 20


@dataclass
class Reach:
    name: str
    last_row: int = 0
    last_column: int = 0
    far: str = ""


@dataclass
class OdsScan:
    """Feed it content.xml; ``problems()`` then says which sheets cannot be read."""

    size: int = 0
    sheets: list[Reach] = field(default_factory=list)
    _row: int = 0
    _rows: int = 1
    _column: int = 0
    _rest: bytes = b""

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        data = self._rest + chunk
        end = 0
        for match in TOKEN.finditer(data):
            end = match.end()
            if match.group("table") is not None:
                name = NAME.search(match.group("table"))
                text = html.unescape(name.group(1).decode()) if name else ""
                self.sheets.append(Reach(text))
                self._row = 0
            elif match.group("row") is not None:
                self._rows = _repeat(ROWS, match.group("row"))
                self._column = 0
                if match.group("row_closed"):
                    self._row += self._rows
            elif match.group("row_end") is not None:
                self._row += self._rows
                self._rows = 1
            else:
                columns = _repeat(COLUMNS, match.group("cell"))
                attributes = match.group("cell")
                filled = not match.group("cell_closed") or b"value-type" in attributes
                if filled and self.sheets:
                    self._extend(self.sheets[-1], columns)
                self._column += columns
        tail = data[end:]
        cut = tail.rfind(b"<")
        # Only a tag cut in two waits for the next chunk.
        self._rest = tail[cut:] if cut >= 0 and tail.find(b">", cut) < 0 else b""
        if len(self._rest) > LONGEST_TAG:
            raise UnreadableFile("content.xml holds a tag longer than 1 MB.")

    def _extend(self, sheet: Reach, columns: int) -> None:
        last_row = self._row + self._rows
        last_column = self._column + columns
        if last_row > sheet.last_row or last_column > sheet.last_column:
            sheet.far = f"{column_letters(last_column)}{last_row}"
        sheet.last_row = max(sheet.last_row, last_row)
        sheet.last_column = max(sheet.last_column, last_column)

    def problems(self) -> dict[str, str]:
        """Sheet name → why it cannot be read, for the sheets that cannot."""
        allowed = SPARSE * (self.size // CELL_XML_BYTES) + SLACK
        found = {}
        for sheet in self.sheets:
            if sheet.last_row * sheet.last_column > allowed:
                found[sheet.name] = (
                    f"Sheet {sheet.name!r} reaches cell {sheet.far}: its repeated "
                    f"cells would spread to a grid of {sheet.last_row:,} rows by "
                    f"{sheet.last_column:,} columns, far more than the file holds. "
                    "Clear the cells beyond the contacts (or copy them to a new "
                    "sheet) and import again."
                )
            elif sheet.last_column > settings.IMPORT_MAX_COLUMNS:
                found[sheet.name] = (
                    f"Sheet {sheet.name!r} has {sheet.last_column:,} columns; "
                    f"Flowcast reads at most {settings.IMPORT_MAX_COLUMNS:,} "
                    "(IMPORT_MAX_COLUMNS)."
                )
        return found


def ods_scan(chunks: Iterable[bytes]) -> OdsScan:
    scan = OdsScan()
    for chunk in chunks:
        scan.feed(chunk)
    return scan


def _repeat(pattern: re.Pattern[bytes], attributes: bytes) -> int:
    found = pattern.search(attributes)
    return int(found.group(1)) if found else 1

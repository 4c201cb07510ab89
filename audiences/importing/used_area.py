"""How much of an XLSX sheet a reader would hold, found before it is read.

python-calamine holds a sheet as a dense grid from its first to its last cell with a
value: three contacts and one empty-string cell at AZ1048576 make a grid of 54
million cells (1.7 GB). So each worksheet's XML is scanned first, as it streams out
of the archive, for how many cells it has and how far they reach. When the reach is
far bigger than the cells (or wider than IMPORT_MAX_COLUMNS), the sheet is scanned
again cell by cell: cells that hold nothing a person would read (an empty or blank
string, no value) are dropped from a compact copy of the sheet, and what is left must
fit; a value far outside the rest is refused, naming its cell.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings

from .sheet import UnreadableFile

# A grid of this many cells costs python-calamine about 32 MB: allowed whatever the
# cells, as is a grid up to SPARSE times the number of cells.
SLACK = 1 << 20
SPARSE = 4

_NAME = rb"(?:[A-Za-z_][\w.-]*:)?"  # SpreadsheetML may carry a namespace prefix
ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
PLACED = re.compile(rb' r="([A-Z]{1,3})([0-9]{1,7})"')
TOKEN = re.compile(
    rb"<" + _NAME + rb"row(?=[\s/>])(?P<row>[^>]*)>"
    rb"|<"
    + _NAME
    + rb"c(?=[\s/>])(?P<cell>[^>]*?)(?:/>|>(?P<body>.*?)</"
    + _NAME
    + rb"c>)",
    re.DOTALL,
)
TOKEN_START = re.compile(rb"<" + _NAME + rb"(?:row|c)[\s/>]")
SHARED_STRING = re.compile(
    rb"<" + _NAME + rb"si\b[^>]*?(?:/>|>(.*?)</" + _NAME + rb"si>)", re.DOTALL
)
REF = re.compile(rb"\br\s*=\s*[\"']\$?([A-Z]{1,3})?\$?([0-9]{1,7})?[\"']")
TYPE = re.compile(rb"\bt\s*=\s*[\"'](\w+)[\"']")
VALUE = re.compile(
    rb"<" + _NAME + rb"v(?:\s[^>]*)?>(.*?)</" + _NAME + rb"v>", re.DOTALL
)
TEXT = re.compile(rb"<" + _NAME + rb"t(?:\s[^>]*)?>(.*?)</" + _NAME + rb"t>", re.DOTALL)
LONGEST_CELL = 1 << 24


def column_number(letters: bytes | str) -> int:
    """A column's number counted from 1: A is 1, Z 26, AA 27."""
    number = 0
    for letter in letters.upper() if isinstance(letters, str) else letters.decode():
        number = number * 26 + ord(letter) - 64
    return number


def column_letters(number: int) -> str:
    name = ""
    while number:
        number, rest = divmod(number - 1, 26)
        name = chr(65 + rest) + name
    return name


@dataclass
class Area:
    """The cells of a sheet and the grid they span (rows and columns from 1)."""

    cells: int = 0
    first_row: int = 0
    last_row: int = 0
    first_column: int = 0
    last_column: int = 0
    far: str = ""  # the cell that reaches furthest, for a refusal

    @property
    def grid(self) -> int:
        if not self.cells:
            return 0
        rows = self.last_row - self.first_row + 1
        return rows * (self.last_column - self.first_column + 1)

    @property
    def columns(self) -> int:
        return self.last_column - self.first_column + 1 if self.cells else 0

    def fits(self) -> bool:
        return (
            self.grid <= SPARSE * self.cells + SLACK
            and self.columns <= settings.IMPORT_MAX_COLUMNS
        )

    def problem(self, sheet: str) -> str:
        """Why the sheet cannot be read ("" when it can)."""
        if self.grid > SPARSE * self.cells + SLACK:
            rows = self.last_row - self.first_row + 1
            return (
                f"Sheet {sheet!r} has a value in cell {self.far}, far from the rest "
                f"of its {self.cells:,} cells: reading it would take a grid of "
                f"{rows:,} rows by {self.columns:,} columns. Clear that cell (or "
                "copy the contacts to a new sheet) and import again."
            )
        if self.columns > settings.IMPORT_MAX_COLUMNS:
            return (
                f"Sheet {sheet!r} has {self.columns:,} columns (from "
                f"{column_letters(self.first_column)} to "
                f"{column_letters(self.last_column)}); Flowcast reads at most "
                f"{settings.IMPORT_MAX_COLUMNS:,} (IMPORT_MAX_COLUMNS)."
            )
        return ""


@dataclass
class QuickScan:
    """An upper bound of a sheet's reach, cheap enough for every file.

    Cells are counted with bytes.count. The regular expression matches only cells
    not within the reach known so far (the chunk's last row, the widest column seen):
    beyond it, or without a reference as their first attribute; in a sheet written
    in order, next to none. Cells without a reference make the sheet
    scanned exactly instead.
    """

    cells: int = 0
    unplaced: int = 0
    last_row: int = 0
    last_column: int = 0
    prefix: bytes | None = None
    _rest: bytes = field(default=b"", repr=False)
    _beyond: dict[tuple[int, int], re.Pattern[bytes]] = field(
        default_factory=dict, repr=False
    )

    def feed(self, chunk: bytes) -> None:
        data = self._rest + chunk
        cut = data.rfind(b"<")
        if cut < 0 or data.find(b">", cut) >= 0:
            self._rest = b""  # no tag cut in two
        else:
            self._rest, data = data[cut:], data[:cut]
            if len(self._rest) > LONGEST_CELL:
                raise UnreadableFile(
                    f"A sheet holds a tag longer than {LONGEST_CELL >> 20} MB."
                )
        if self.prefix is None:
            root = ROOT.search(data)
            if root is None:
                return
            self.prefix = root.group(1) or b""
        tag = b"<" + self.prefix
        self.cells += data.count(tag + b'c r="')
        row = data.rfind(tag + b'row r="')
        if row >= 0:
            start = row + len(tag) + 7
            digits = data[start : data.find(b'"', start, start + 8)]
            if digits.isdigit():
                self.last_row = max(self.last_row, int(digits))
        pattern, position, found, again = self._pattern(), 0, 0, 1
        while match := pattern.search(data, position):
            position = match.end()
            ref = PLACED.match(data, position)
            if ref is None:
                self.unplaced += 1
            else:
                self.last_row = max(self.last_row, int(ref.group(2)))
                self.last_column = max(self.last_column, column_number(ref.group(1)))
            found += 1
            if found == again:  # the reach grew: look for what lies beyond it now
                pattern, again = self._pattern(), again * 2

    def _pattern(self) -> re.Pattern[bytes]:
        """Cells not within the last row and the last column seen: beyond them, or
        without a reference as their first attribute."""
        key = (self.last_row, self.last_column)
        if key not in self._beyond:
            rows = _at_most(str(self.last_row) if self.last_row else "", "0", "9")
            columns = _at_most(column_letters(self.last_column), "A", "Z")
            pattern = (
                re.escape(b"<" + (self.prefix or b""))
                + rb"c(?=[\s>/])(?! r=\"(?:"
                + columns.encode()
                + b")(?:"
                + rows.encode()
                + b')")'
            )
            self._beyond = {key: re.compile(pattern)}
        return self._beyond[key]

    def fits(self) -> bool:
        if self.unplaced:
            return False
        return (
            self.last_row * self.last_column <= SPARSE * self.cells + SLACK
            and self.last_column <= settings.IMPORT_MAX_COLUMNS
        )


def _at_most(bound: str, low: str, high: str) -> str:
    """A regular expression for the numerals (digits, or column letters) up to
    ``bound``: any shorter one, or one as long with a smaller symbol where the two
    first differ, or ``bound`` itself."""
    if not bound:
        return "(?!)"
    symbols = f"[{low}-{high}]"
    options = [bound]
    if len(bound) > 1:
        options.append(f"{symbols}{{1,{len(bound) - 1}}}")
    for k, symbol in enumerate(bound):
        if symbol != low:
            below = chr(ord(symbol) - 1)
            rest = len(bound) - k - 1
            options.append(f"{bound[:k]}[{low}-{below}]{symbols}{{{rest}}}")
    return "|".join(options)


def blank_shared_strings(chunks: Iterable[bytes]) -> set[int]:
    """The indexes of the shared strings that are empty or only spaces."""
    blank: set[int] = set()
    index = 0
    rest = b""
    for chunk in chunks:
        data = rest + chunk
        end = 0
        for match in SHARED_STRING.finditer(data):
            body = match.group(1) or b""
            if not b"".join(TEXT.findall(body)).strip():
                blank.add(index)
            index += 1
            end = match.end()
        rest = data[end:]
    return blank


def compact_sheet(
    name: str, chunks: Iterable[bytes], blank_strings: set[int], area: Area
) -> Iterator[bytes]:
    """The sheet's XML without the cells that hold nothing to read, filling ``area``
    with the cells kept. Cells without a reference are kept as they are (their place
    follows from the cells before them)."""
    row = col = 0
    rest = b""
    for chunk in chunks:
        data = rest + chunk
        out: list[bytes] = []
        end = 0
        for match in TOKEN.finditer(data):
            out.append(data[end : match.start()])
            end = match.end()
            attributes = match.group("row")
            if attributes is not None:
                ref = REF.search(attributes)
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                col = 0
                out.append(match.group(0))
                continue
            attributes = match.group("cell")
            ref = REF.search(attributes)
            placed = bool(ref and ref.group(1))
            if placed and ref:
                col = column_number(ref.group(1))
                if ref.group(2):
                    row = int(ref.group(2))
            else:
                col += 1
            if placed and _blank(attributes, match.group("body"), blank_strings):
                continue
            out.append(match.group(0))
            _extend(area, row, col)
        tail = data[end:]
        # What follows the last whole row or cell waits for the next chunk, from the
        # first row or cell left open (or a tag cut in two).
        start = TOKEN_START.search(tail)
        cut = start.start() if start else tail.rfind(b"<")
        if cut < 0:
            cut = len(tail)
        out.append(tail[:cut])
        rest = tail[cut:]
        if len(rest) > LONGEST_CELL:
            raise UnreadableFile(
                f"A cell of {name} holds more than {LONGEST_CELL >> 20} MB of XML."
            )
        yield b"".join(out)
    yield rest


def _blank(attributes: bytes, body: bytes | None, blank_strings: set[int]) -> bool:
    if not body:
        return True
    kind = TYPE.search(attributes)
    if kind and kind.group(1) == b"inlineStr":
        return not b"".join(TEXT.findall(body)).strip()
    value = VALUE.search(body)
    if value is None:
        return True
    text = value.group(1).strip()
    if kind and kind.group(1) == b"s":
        return text.isdigit() and int(text) in blank_strings
    return not text


def _extend(area: Area, row: int, col: int) -> None:
    if not area.cells:
        area.first_row = area.last_row = row
        area.first_column = area.last_column = col
    else:
        area.first_row = min(area.first_row, row)
        area.first_column = min(area.first_column, col)
    if row > area.last_row or col > area.last_column or not area.cells:
        area.last_row = max(area.last_row, row)
        area.last_column = max(area.last_column, col)
        area.far = f"{column_letters(col)}{row}"
    area.cells += 1

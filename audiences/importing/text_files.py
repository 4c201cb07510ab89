"""Text contact files (TSV, CSV): streamed through the csv module, a bounded line at
a time.

The encoding is told from the first bytes: a byte-order mark (UTF-8, or UTF-16 as
Excel's "Unicode text" writes it), UTF-16 without one, else UTF-8 line by line with
Windows-1252 (what Excel on Windows writes) for lines that are not UTF-8. Lines may end
in CRLF, LF or a lone CR (Excel's "CSV for Macintosh", whose accents are Mac Roman when
they are not UTF-8 or Windows-1252). No line, and no row, is ever
read past the longest a row may be (limits.Limits.row_chars), so a file without line
breaks, or with a quote left open, is refused after a few megabytes, not read whole.
Rows are numbered as a spreadsheet shows them: the header is row 1, and a row whose
quoted cell holds a line break is still one row.
"""

import codecs
import csv
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .limits import Limits, import_limits
from .sheet import Sheet, UnreadableFile

SAMPLE_BYTES = 64 << 10
NOT_TEXT = "is neither a text file nor a spreadsheet"
# Characters no text file holds, beyond the odd stray one.
CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r\f\v"} | {"\x7f"}

# csv's own bound on a field (131,072 characters by default) would stop a legal row
# with a message that names neither its column nor the setting; rows are bounded
# before csv sees them (Limits.row_chars), so its bound is raised past theirs.
_field_limit = csv.field_size_limit()


def decode_line(raw: bytes) -> str:
    """A line as UTF-8 or, failing that, Windows-1252."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _repair(line: str) -> str:
    """A line read as UTF-8 with undecodable bytes escaped, as Windows-1252 when it
    has such bytes."""
    if line.isascii():
        return line
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return line.encode("utf-8", "surrogateescape").decode("cp1252", "replace")
    return line


def sniff_encoding(sample: bytes) -> str:
    """The codec of a text file whose first bytes are ``sample``."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # UTF-16 without a mark: text in Latin letters has a zero in every other byte.
    pairs = len(sample) // 2
    if pairs >= 2:
        even, odd = sample[0 : 2 * pairs : 2], sample[1 : 2 * pairs : 2]
        if odd.count(0) > 0.4 * pairs and even.count(0) < 0.05 * pairs:
            return "utf-16-le"
        if even.count(0) > 0.4 * pairs and odd.count(0) < 0.05 * pairs:
            return "utf-16-be"
    if b"\r" in sample and b"\n" not in sample and _mac_roman(sample):
        return "mac_roman"
    return "utf-8"


def _mac_roman(sample: bytes) -> bool:
    """Whether a file with lone-CR line ends (Excel's "CSV for Macintosh") holds Mac
    Roman rather than UTF-8 or Windows-1252: its accented letters (é, ñ, á ...) are
    bytes 0x80-0x9F, where Windows-1252 has punctuation and has its own accented
    letters at 0xC0-0xFF."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        pass
    else:
        return False  # UTF-8 (or plain ASCII)
    low = sum(1 for byte in sample if 0x80 <= byte <= 0x9F)
    high = sum(1 for byte in sample if byte >= 0xC0)
    return low > high


def _not_text(sample: str) -> bool:
    if "\x00" in sample:
        return True
    controls = sum(1 for char in sample if char in CONTROL)
    return controls > max(len(sample) // 100, 2)


def _delimiter(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in ("\t", ",", ";")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else "\t"


class _Lines:
    """The lines of a text stream for csv, together at most the characters a row
    may take (Limits.row_chars) for one row; a NUL refuses the file. The reader of
    rows counts ``row`` and clears ``chars`` at each row's end."""

    def __init__(self, text: io.TextIOWrapper, limits: Limits, repair: bool) -> None:
        self.text, self.limits, self.repair = text, limits, repair
        self.row = 1  # the row being read
        self.chars = 0  # characters read of it so far

    def __iter__(self) -> Iterator[str]:
        readline, repair = self.text.readline, self.repair
        limit = self.limits.row_chars
        while line := readline(limit + 1):
            self.chars += len(line)
            if self.chars > limit:
                raise self.limits.row_too_long(self.row)
            if "\x00" in line:
                raise UnreadableFile(
                    f"Reading stopped at row {self.row}: it holds a NUL character, "
                    "which no text file holds. Save the file again from the "
                    "spreadsheet program."
                )
            yield line if not repair or line.isascii() else _repair(line)


def open_text(path: Path, limits: Limits | None = None) -> Sheet:
    limits = limits or import_limits()
    global _field_limit
    if _field_limit < limits.row_chars + 1:
        _field_limit = limits.row_chars + 1
        csv.field_size_limit(_field_limit)
    stream = path.open("rb")
    try:
        sample = stream.read(SAMPLE_BYTES)
        encoding = sniff_encoding(sample)
        stream.seek(0)
        text = io.TextIOWrapper(
            stream,
            encoding=encoding,
            errors="surrogateescape" if encoding.startswith("utf-8") else "replace",
            newline="",
        )
        if _not_text(sample.decode(encoding, errors="replace")):
            raise UnreadableFile(
                f"The file {NOT_TEXT}: it holds bytes no text file holds. Save the "
                "contacts as CSV or TSV text, or as an XLSX, XLS or ODS spreadsheet."
            )
        first_line = text.readline(limits.row_chars + 1)
        if not first_line.strip():
            raise UnreadableFile(
                "The file is empty: its first line must be the header."
            )
        delimiter = _delimiter(first_line)
        text.seek(0)
        lines = _Lines(text, limits, repair=encoding.startswith("utf-8"))
        reader = csv.reader(lines, delimiter=delimiter)
        header = _next_record(reader, lines)
        if header is None:
            raise UnreadableFile(
                "The file is empty: its first line must be the header."
            )
    except BaseException:
        stream.close()
        raise
    # Only UTF-8 with LF or CRLF line ends can be cut into byte ranges at b"\n".
    parallel = None
    if encoding in ("utf-8", "utf-8-sig") and b"\n" in sample:
        with path.open("rb") as probe:
            probe.readline(4 * limits.row_chars)
            parallel = (path, delimiter, probe.tell())

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for cells in reader:
                lines.row += 1
                lines.chars = 0
                yield lines.row - 1, cells
        except csv.Error as exc:
            raise UnreadableFile(
                f"Reading stopped at row {lines.row}: {exc}."
            ) from None

    return Sheet(
        header=[cell.strip() for cell in header],
        rows=rows(),
        size=os.fstat(stream.fileno()).st_size,
        text=parallel,
        _position=stream.tell,
        _close=text.close,
    )


def _next_record(reader: Any, lines: _Lines) -> list[str] | None:
    """The next row of ``reader``, or None at the end; each row is one row
    whatever the line breaks in its cells."""
    try:
        cells: list[str] = next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        raise UnreadableFile(f"Reading stopped at row {lines.row}: {exc}.") from None
    lines.row += 1
    lines.chars = 0
    return cells

"""Text contact files (TSV, CSV): streamed through the csv module, line by line."""

import codecs
import csv
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .sheet import Sheet, UnreadableFile


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


def open_text(path: Path) -> Sheet:
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

"""Reading a big tab-separated file on every core.

The file is cut into byte ranges that start at line boundaries; one process per range
parses, checks and stages its rows over its own database connection and writes its
own rejected rows. The parent shows their progress and passes on a cancel. Only for
TSV without quotes, in UTF-8 with LF or CRLF line ends: a quoted field may hold a
line break, and a cut there would split a row, so such files are read in order, as
are UTF-16 files and files whose lines end in a lone CR. Each process bounds its lines
and heeds the import limits (limits.py) as a file read in order does.
"""

import csv
import ctypes
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import billiard
from django.db import connection, connections

from .converting import converted_rows
from .countries import DefaultCountryNote
from .limits import Limits, import_limits, limited_rows
from .rejects import RejectsFile
from .sheet import Sheet, UnreadableFile
from .staging import Staged, stage_rows, staged
from .text_files import decode_line
from .values import Column, RowRejected

PARALLEL_MIN_BYTES = 8 << 20
BATCH = 5000


class ImportCancelled(Exception):
    """The operator cancelled the import while it was being read."""


@dataclass(frozen=True)
class Part:
    start: int
    end: int
    first_row: int


def text_parts(sheet: Sheet, workers: int) -> list[Part] | None:
    """Byte ranges for ``workers`` processes, or None when the file is read in order."""
    if workers < 2 or sheet.text is None or connection.in_atomic_block:
        # Inside a transaction the parts' own connections could not see the job.
        return None
    path, delimiter, data_start = sheet.text
    size = path.stat().st_size
    if delimiter != "\t" or size - data_start < PARALLEL_MIN_BYTES:
        return None
    with path.open("rb") as stream:
        if b'"' in stream.read(1 << 20):
            return None
        bounds = [data_start]
        longest = 4 * import_limits().row_chars + 1
        for k in range(1, workers):
            stream.seek(data_start + (size - data_start) * k // workers)
            line = stream.readline(longest)
            if len(line) == longest and not line.endswith(b"\n"):
                return None  # a line no row can be: read in order, and refused
            bounds.append(min(stream.tell(), size))
        bounds.append(size)
        firsts, position, lines = [], 0, 0
        stream.seek(0)
        for bound in bounds[:-1]:
            while position < bound:
                block = stream.read(min(1 << 20, bound - position))
                lines += block.count(b"\n")
                position += len(block)
            firsts.append(lines + 1)  # the header is row 1
    return [
        Part(start, end, first)
        for start, end, first in zip(bounds, bounds[1:], firsts, strict=False)
        if end > start
    ]


_shared: dict[str, Any] = {}


def _share(progress: Any, cancel: Any, counted: Any) -> None:
    _shared["progress"], _shared["cancel"] = progress, cancel
    _shared["counted"] = counted


# What a part shares as it goes; rows read are their sum, so the three shown
# always add up, whenever the parent looks.
SHARED = ("valid", "rejected")
COUNTS = ("read", *SHARED)


def _show_counts(slot: int, counts: dict[str, int]) -> None:
    """Put a part's counts where the parent reads them for the job's page."""
    counted = _shared["counted"]
    for index, key in enumerate(SHARED):
        counted[slot * len(SHARED) + index] = counts[key]


BLOCK = 256 << 10


def _texts(
    stream: Any, length: int, slot: int, first_row: int, limits: Limits
) -> Iterator[str]:
    """The part's whole lines, decoded, a block at a time (splitting lines in C,
    not one Python step per line). A line longer than a row may be is refused once
    four bytes (UTF-8's longest character) per allowed character are read of it."""
    most, progress = limits.row_chars, _shared["progress"]
    row, left, rest, done = first_row, length, b"", 0
    while left > 0 or rest:
        block = stream.read(min(BLOCK, left)) if left > 0 else b""
        if not block:
            left = 0
        left -= len(block)
        data = rest + block if rest else block
        cut = data.rfind(b"\n") + 1 if left > 0 else len(data)
        chunk, rest = data[:cut], data[cut:]
        if len(rest) > 4 * most:
            raise limits.row_too_long(row + chunk.count(b"\n"))
        if len(chunk) > most or b"\x00" in chunk:
            _check_lines(chunk, row, limits)
        row += chunk.count(b"\n")
        try:
            text = chunk.decode("utf-8")
        except UnicodeDecodeError:
            text = "".join(map(decode_line, chunk.splitlines(keepends=True)))
        done += len(chunk)
        progress[slot] = done
        yield text


def _check_lines(chunk: bytes, row: int, limits: Limits) -> None:
    """Refuse the first line of ``chunk`` (its first row is ``row``) that holds a
    NUL or is longer than a row may be."""
    for number, raw in enumerate(chunk.split(b"\n"), start=row):
        if b"\x00" in raw:
            raise UnreadableFile(
                f"Reading stopped at row {number}: it holds a NUL character, which "
                "no text file holds. Save the file again from the spreadsheet program."
            )
        if len(raw) > limits.row_chars and len(decode_line(raw)) > limits.row_chars:
            raise limits.row_too_long(number)


def _lines(
    stream: Any, length: int, slot: int, first_row: int, limits: Limits
) -> Iterator[str]:
    """The part's lines, each with its line break, for csv."""
    return chain.from_iterable(
        map(io.StringIO, _texts(stream, length, slot, first_row, limits))
    )


def _stage_part(
    job_id: int,
    columns: list[Column],
    path: Path,
    part: Part,
    slot: int,
    rejects_path: Path,
    header: list[str],
) -> dict[str, Any]:
    """One process's range: stage its valid rows, write its rejected ones."""
    try:
        rejects = RejectsFile(rejects_path, header, with_header=False)
        counts = {"read": 0, "valid": 0, "rejected": 0}
        note = DefaultCountryNote()
        batch: list[Staged] = []
        limits = import_limits()
        with path.open("rb") as stream:
            stream.seek(part.start)
            lines = _lines(stream, part.end - part.start, slot, part.first_row, limits)
            reader = csv.reader(lines, delimiter="\t")
            numbered = limited_rows(
                enumerate(reader, start=part.first_row),
                header,
                rows_before=part.first_row - 2,
                limits=limits,
            )
            for number, cells, row in converted_rows(numbered, columns, workers=1):
                counts["read"] += 1
                if isinstance(row, list):
                    counts["rejected"] += 1
                    rejects.add(number, cells or [], RowRejected(row))
                else:
                    counts["valid"] += 1
                    note.add(number, row)
                    batch.append(staged(job_id, number, row))
                # Every BATCH rows read, valid or not, the counts are shown and a
                # cancel is heeded.
                if counts["read"] % BATCH == 0:
                    stage_rows(batch)
                    _show_counts(slot, counts)
                    if _shared["cancel"].is_set():
                        raise ImportCancelled
        stage_rows(batch)
        _show_counts(slot, counts)
        rejects.close()
        return {**counts, "preview": rejects.preview, "countries": note.share()}
    finally:
        connections.close_all()


def stage_parts(
    *,
    job_id: int,
    columns: list[Column],
    sheet: Sheet,
    parts: list[Part],
    rejects: RejectsFile,
    report: Callable[[float, dict[str, int]], bool],
    note: DefaultCountryNote,
) -> dict[str, int]:
    """Stage the parts in parallel; ``report(progress, counts)`` is called with the
    share of the file read and the rows read, valid and rejected (staged ones, every
    BATCH rows of each part) as they go, and returns True to cancel.

    Returns the summed counts, and adds the parts' numbers read in the default
    country to ``note``; raises ImportCancelled when cancelled.
    """
    assert sheet.text is not None
    path = sheet.text[0]
    # Forked processes must not share this process's database connection.
    connections.close_all()
    context = billiard.get_context("fork")
    progress = context.Array(ctypes.c_longlong, len(parts), lock=False)
    cancel = context.Event()
    counted = context.Array(ctypes.c_longlong, len(SHARED) * len(parts), lock=False)
    total = sum(part.end - part.start for part in parts) or 1
    part_paths = [
        rejects.path.with_suffix(f".part{slot}") for slot in range(len(parts))
    ]
    with context.Pool(
        len(parts), initializer=_share, initargs=(progress, cancel, counted)
    ) as pool:
        results = [
            pool.apply_async(
                _stage_part,
                (job_id, columns, path, part, slot, part_paths[slot], sheet.header),
            )
            for slot, part in enumerate(parts)
        ]
        while not all(result.ready() for result in results):
            time.sleep(0.3)
            for result in results:
                if result.ready() and not result.successful():
                    result.get()  # a refusal or failure in one part ends them all
            if report(sum(progress[:]) / total, _summed(counted)):
                cancel.set()
        outcomes = [result.get() for result in results]
    counts = dict.fromkeys(COUNTS, 0)
    for slot, outcome in enumerate(outcomes):
        rejects.append(part_paths[slot], outcome.pop("preview"))
        note.merge(outcome.pop("countries"))
        for key in counts:
            counts[key] += outcome[key]
    return counts


def _summed(counted: Any) -> dict[str, int]:
    values = counted[:]
    width = len(SHARED)
    summed = {key: sum(values[index::width]) for index, key in enumerate(SHARED)}
    return {"read": sum(summed.values()), **summed}

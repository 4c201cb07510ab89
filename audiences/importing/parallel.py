"""Reading a big tab-separated file on every core.

The file is cut into byte ranges that start at line boundaries; one process per range
parses, checks and stages its rows over its own database connection and writes its
own rejected rows. The parent shows their progress and passes on a cancel. Only for
TSV without quotes: a quoted field may hold a line break, and a cut there would split
a row, so such files are read in order.
"""

import csv
import ctypes
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import billiard
from django.db import connection, connections

from .converting import converted_rows
from .rejects import RejectsFile
from .sheet import Sheet
from .staging import Staged, stage_rows
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
        for k in range(1, workers):
            stream.seek(data_start + (size - data_start) * k // workers)
            stream.readline()
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


def _share(progress: Any, cancel: Any) -> None:
    _shared["progress"], _shared["cancel"] = progress, cancel


def _lines(stream: Any, length: int, slot: int) -> Iterator[str]:
    consumed = 0
    for count, raw in enumerate(stream):
        consumed += len(raw)
        yield decode_line(raw)
        if count % 2000 == 0:
            _shared["progress"][slot] = consumed
        if consumed >= length:
            break
    _shared["progress"][slot] = consumed


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
        batch: list[Staged] = []
        with path.open("rb") as stream:
            stream.seek(part.start)
            reader = csv.reader(
                _lines(stream, part.end - part.start, slot), delimiter="\t"
            )
            numbered = (
                (part.first_row + reader.line_num - 1, cells) for cells in reader
            )
            for number, cells, row in converted_rows(numbered, columns, workers=1):
                counts["read"] += 1
                if isinstance(row, list):
                    counts["rejected"] += 1
                    rejects.add(number, cells or [], RowRejected(row))
                else:
                    counts["valid"] += 1
                    batch.append(
                        (job_id, number, row.phone, row.name, row.email, row.data)
                    )
                # Every BATCH rows read, valid or not, a cancel is heeded.
                if counts["read"] % BATCH == 0:
                    stage_rows(batch)
                    if _shared["cancel"].is_set():
                        raise ImportCancelled
        stage_rows(batch)
        rejects.close()
        return {**counts, "preview": rejects.preview}
    finally:
        connections.close_all()


def stage_parts(
    *,
    job_id: int,
    columns: list[Column],
    sheet: Sheet,
    parts: list[Part],
    rejects: RejectsFile,
    report: Callable[[float], bool],
) -> dict[str, int]:
    """Stage the parts in parallel; ``report(progress)`` returns True to cancel.

    Returns the summed counts; raises ImportCancelled when cancelled.
    """
    assert sheet.text is not None
    path = sheet.text[0]
    # Forked processes must not share this process's database connection.
    connections.close_all()
    context = billiard.get_context("fork")
    progress = context.Array(ctypes.c_longlong, len(parts), lock=False)
    cancel = context.Event()
    total = sum(part.end - part.start for part in parts) or 1
    part_paths = [
        rejects.path.with_suffix(f".part{slot}") for slot in range(len(parts))
    ]
    with context.Pool(
        len(parts), initializer=_share, initargs=(progress, cancel)
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
            if report(sum(progress[:]) / total):
                cancel.set()
        outcomes = [result.get() for result in results]
    counts = {"read": 0, "valid": 0, "rejected": 0}
    for slot, outcome in enumerate(outcomes):
        rejects.append(part_paths[slot], outcome.pop("preview"))
        for key in counts:
            counts[key] += outcome[key]
    return counts

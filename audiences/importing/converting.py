"""Turning rows into contact values on every core.

Checking phone numbers is most of an import's CPU time, so rows are converted in
worker processes, a chunk at a time, while this process reads the file and writes the
staging rows. Only a few chunks are in flight at once, so memory stays flat whatever
the file's size. The workers only compute; they never touch the database.
"""

from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import billiard

from .values import Column, ContactRow, RowRejected, convert_row, is_blank

CHUNK = 2000

# (row number, the row's cells when rejected, the contact values or the problems)
Converted = tuple[int, list[Any] | None, ContactRow | list[tuple[str, str]]]


def _convert_chunk(
    columns: list[Column], chunk: list[tuple[int, list[Any]]]
) -> list[Converted]:
    converted: list[Converted] = []
    for number, cells in chunk:
        if is_blank(cells):
            continue  # blank rows, often trailing in spreadsheets
        try:
            converted.append((number, None, convert_row(cells, columns)))
        except RowRejected as exc:
            converted.append((number, cells, exc.problems))
    return converted


def _chunks(
    rows: Iterable[tuple[int, list[Any]]],
) -> Iterator[list[tuple[int, list[Any]]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


def converted_rows(
    rows: Iterable[tuple[int, list[Any]]], columns: list[Column], workers: int
) -> Iterator[Converted]:
    """Convert ``rows`` in file order, skipping blank ones, with ``workers`` processes
    (in this process when fewer than two, or where fork is not available)."""
    if workers < 2 or "fork" not in billiard.get_all_start_methods():
        for chunk in _chunks(rows):
            yield from _convert_chunk(columns, chunk)
        return
    # billiard, Celery's own multiprocessing: a Celery prefork worker is a daemonic
    # process, and the standard library refuses to start children from one.
    with billiard.get_context("fork").Pool(workers) as pool:
        pending: deque[Any] = deque()
        for chunk in _chunks(rows):
            pending.append(pool.apply_async(_convert_chunk, (columns, chunk)))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().get()
        while pending:
            yield from pending.popleft().get()

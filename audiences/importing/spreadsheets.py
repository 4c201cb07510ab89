"""Spreadsheet contact files (XLS, XLSX, XLSM, ODS), read with python-calamine.

A file is checked for what it is before it is read: XLS is an OLE2 file, the others
are zip archives, whose sizes are checked before anything inflates them
(archives.py) and whose sheets must not reach far beyond their cells (used_area.py
for XLSX, ods_area.py for ODS).

The contacts are on the sheet whose header starts with CONTACT: visible worksheets
in the workbook's order, then hidden ones; chart sheets are passed over, and so are
sheets too far-reaching to read (refused only when no other sheet has the contacts).
The header is the sheet's first row with anything in it, and the table starts at its
first column with anything in it (the columns left of it are dropped). Row numbers
are the ones the spreadsheet shows.
"""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zipfile import BadZipFile, ZipFile

from .archives import archive_open, archive_verify
from .ods_area import OdsScan, ods_scan
from .sheet import Sheet, UnreadableFile
from .used_area import column_letters
from .values import cell_text
from .xlsx_workbook import Workbook, xlsx_check

KINDS = {".xls": "XLS", ".xlsx": "XLSX", ".xlsm": "XLSM", ".ods": "ODS"}
ZIP = b"PK\x03\x04"
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def spreadsheet_kind(path: Path) -> str | None:
    """What kind of workbook ``path`` holds, told from its bytes whatever its name:
    XLS (an OLE2 file), ODS or XLSX (zip archives, told apart by the ODS
    ``mimetype`` member); None for anything else."""
    with path.open("rb") as stream:
        head = stream.read(len(OLE2))
    if head == OLE2:
        return "XLS"
    if not head.startswith(ZIP):
        return None
    try:
        with ZipFile(path) as archive:
            info = archive.NameToInfo.get("mimetype")
            # Bounded: zipfile inflates no more than the size the member claims.
            if (
                info is not None
                and info.file_size < 100
                and archive.read(info).strip() == ODS_MIMETYPE
            ):
                return "ODS"
    except (BadZipFile, OSError, ValueError, RuntimeError):
        pass  # said when it is opened as the XLSX it claims to be
    return "XLSX"


def open_spreadsheet(path: Path, kind: str | None = None) -> Sheet:
    """Open the workbook at ``path`` at its contacts: a workbook of ``kind`` (XLS,
    XLSX, XLSM, ODS), by default the one its suffix says.

    Raises UnreadableFile, saying why, for a file that is not that kind of workbook,
    is damaged, would inflate too far, or has no sheet headed CONTACT.
    """
    from python_calamine import CalamineError, CalamineWorkbook

    suffix = path.suffix.lower()
    kind = kind or KINDS.get(suffix, suffix.lstrip(".").upper())
    # python-calamine picks its reader by the name: a workbook whose name says
    # otherwise (an XLSX uploaded as .csv or .xls) is read under a name that says it.
    alias: Path | None = None
    if KINDS.get(suffix) != kind and kind in KINDS.values():
        alias = path.with_name(f"{path.stem}-as.{kind.lower()}")
        alias.unlink(missing_ok=True)
        alias.symlink_to(path.resolve())
        path = alias
    try:
        workbook = _checked(path, kind)
    except BaseException:
        if alias:
            alias.unlink(missing_ok=True)
        raise
    try:
        book = CalamineWorkbook.from_path(str(workbook.path))
    except (CalamineError, ValueError, OSError) as exc:
        _remove(workbook, alias)
        raise UnreadableFile(
            f"This {kind} workbook cannot be read; it may be damaged ({exc})."
        ) from None

    closed: list[bool] = []

    def close() -> None:
        if not closed:  # python-calamine refuses to close a workbook twice
            closed.append(True)
            book.close()
            _remove(workbook, alias)

    try:
        return _contact_sheet(book, workbook.problems, close)
    except BaseException:
        close()
        raise


def _checked(path: Path, kind: str) -> Workbook:
    with path.open("rb") as stream:
        head = stream.read(8)
    if kind == "XLS":
        if head != OLE2:
            raise UnreadableFile(f"This file is not an XLS workbook: {_seems(head)}")
        return Workbook(path, {})
    if not head.startswith(ZIP):
        raise UnreadableFile(
            f"This file is not an {kind} workbook (those are zip archives): "
            f"{_seems(head)}"
        )
    with archive_open(path, kind) as archive:
        if kind == "ODS":
            return _ods_check(path, archive)
        return xlsx_check(path, archive)


def _ods_check(path: Path, archive: ZipFile) -> Workbook:
    scans: list[OdsScan] = []

    def scan(name: str, chunks: Iterator[bytes]) -> None:
        if name == "content.xml":
            scans.append(ods_scan(chunks))
        else:
            for _ in chunks:
                pass

    archive_verify(archive, scan)
    # python-calamine spreads every sheet of an ODS file as it opens it.
    for problem in scans[0].problems().values() if scans else ():
        raise UnreadableFile(problem)
    return Workbook(path, {})


def _seems(head: bytes) -> str:
    if not head:
        return "it is empty."
    if head.startswith(ZIP):
        return (
            "it is a zip archive, as XLSX, XLSM and ODS files are; save it again "
            "with the suffix of its kind."
        )
    if head == OLE2:
        return (
            "it is an older Excel file (XLS), or a workbook protected with a "
            "password; save it again as XLSX, without a password."
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "its content is not one Flowcast knows."
    return (
        "it holds text; a CSV or TSV file is read when its name ends in .csv or .tsv."
    )


def _remove(workbook: Workbook, alias: Path | None = None) -> None:
    if workbook.copy:
        workbook.copy.unlink(missing_ok=True)
    if alias:
        alias.unlink(missing_ok=True)


def _contact_sheet(
    book: Any, problems: dict[str, str], close: Callable[[], None]
) -> Sheet:
    from python_calamine import CalamineError, SheetTypeEnum, SheetVisibleEnum

    sheets = book.sheets_metadata
    visible = [s for s in sheets if s.visible == SheetVisibleEnum.Visible]
    order = visible + [s for s in sheets if s.visible != SheetVisibleEnum.Visible]
    looked: list[str] = []
    passed_over: list[str] = []
    for meta in order:
        if meta.typ != SheetTypeEnum.WorkSheet:
            looked.append(f"{meta.name!r} is not a worksheet")
            continue
        if meta.name in problems:
            # Not spread out to see its header: the contacts may be on another.
            passed_over.append(problems[meta.name])
            continue
        try:
            sheet = book.get_sheet_by_name(meta.name)
        except (CalamineError, ValueError) as exc:
            raise UnreadableFile(f"Sheet {meta.name!r} cannot be read: {exc}") from None
        rows = sheet.iter_rows()
        found = _header(meta.name, sheet, rows)
        if isinstance(found, str):
            looked.append(found)
            continue
        return _sheet(sheet, rows, found, close)
    if passed_over:  # no other sheet has the contacts: this one must
        raise UnreadableFile(passed_over[0])
    raise UnreadableFile(
        "No sheet of this workbook has a header row starting with CONTACT ("
        + "; ".join(looked or ["it has no sheets"])
        + "). The header is a sheet's first row with anything in it: CONTACT, then "
        "one column per variable."
    )


def _sheet(
    sheet: Any,
    rows: Iterator[list[Any]],
    found: tuple[int, int, list[str]],
    close: Callable[[], None],
) -> Sheet:
    header_row, first, header = found
    read = [0]
    return Sheet(
        header=header,
        rows=_rows(rows, header_row, first, read),
        size=max((sheet.end or (0, 0))[0] + 1 - header_row, 0),
        _position=lambda: read[0],
        _close=close,
    )


def _header(
    name: str, sheet: Any, rows: Iterator[list[Any]]
) -> tuple[int, int, list[str]] | str:
    """(the header's row number, its first column's index, its titles) when the
    sheet's first row with anything in it starts with CONTACT; otherwise a note on
    what the sheet holds."""
    for number, cells in enumerate(rows, start=1):
        first = next((k for k, cell in enumerate(cells) if cell_text(cell)), None)
        if first is None:
            continue
        title = cell_text(cells[first])
        if title.upper() == "CONTACT":
            return number, first, [cell_text(cell) for cell in cells[first:]]
        where = f"{column_letters((sheet.start or (0, 0))[1] + first + 1)}{number}"
        return f"{name!r} starts at {where} with {title[:40]!r}"
    return f"{name!r} is empty"


def _rows(
    rows: Iterator[list[Any]], header_row: int, first: int, read: list[int]
) -> Iterator[tuple[int, list[Any]]]:
    for number, cells in enumerate(rows, start=header_row + 1):
        read[0] += 1
        yield number, cells[first:] if first else cells

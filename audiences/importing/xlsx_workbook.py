"""An XLSX workbook checked before python-calamine opens it: inflated once
(archives), each worksheet scanned for how far its cells reach (used_area), and the
far-reaching ones compacted into a copy of the workbook that holds only their cells.
"""

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

from .archives import archive_verify, member_chunks
from .sheet import UnreadableFile
from .used_area import Area, QuickScan, blank_shared_strings, compact_sheet

PART_BYTES = 16 << 20  # a workbook's own index (workbook.xml, its relationships)


@dataclass
class Workbook:
    """What reading an XLSX needs to know before python-calamine opens it."""

    path: Path  # the file to read: the upload, or a compact copy of it
    problems: dict[str, str]  # sheet name → why it cannot be read
    copy: Path | None = None


def xlsx_check(path: Path, archive: zipfile.ZipFile) -> Workbook:
    """Inflate the workbook once (archives.archive_verify), scanning each worksheet;
    a sheet whose reach is far bigger than its cells is compacted into a copy."""
    sheets, shared = _workbook_parts(archive)
    quick: dict[str, QuickScan] = {}

    def scan(name: str, chunks: Iterator[bytes]) -> None:
        # Without the workbook's own list of sheets, every XML part is scanned.
        if name in sheets or name.startswith("xl/worksheets/") or not sheets:
            found = quick[name] = QuickScan()
            for chunk in chunks:
                found.feed(chunk)
        else:
            for _ in chunks:
                pass

    archive_verify(archive, scan)
    wide = {name for name, found in quick.items() if not found.fits()}
    if not wide:
        return Workbook(path, {})
    copy = path.with_name(f"{path.stem}-cells{path.suffix}")
    try:
        problems = _compact(archive, copy, wide, sheets, shared)
    except BaseException:
        copy.unlink(missing_ok=True)
        raise
    return Workbook(copy, problems, copy)


def _compact(
    archive: zipfile.ZipFile,
    copy: Path,
    wide: set[str],
    sheets: dict[str, str],
    shared: str | None,
) -> dict[str, str]:
    """Copy the workbook to ``copy``, its ``wide`` sheets without the cells that
    hold nothing; return why a sheet still cannot be read, by sheet name."""
    blank = blank_shared_strings(member_chunks(archive, shared)) if shared else set()
    problems: dict[str, str] = {}
    with zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for info in archive.infolist():
            if info.is_dir():
                continue
            chunks = member_chunks(archive, info.filename)
            with out.open(info.filename, "w", force_zip64=True) as member:
                if info.filename not in wide:
                    for chunk in chunks:
                        member.write(chunk)
                    continue
                area = Area()
                for chunk in compact_sheet(info.filename, chunks, blank, area):
                    member.write(chunk)
                if info.filename not in sheets and area.problem(info.filename):
                    # Not a sheet the workbook names: no reading could pass it by.
                    raise UnreadableFile(area.problem(info.filename))
                sheet = sheets.get(info.filename, info.filename)
                if problem := area.problem(sheet):
                    problems[sheet] = problem
    return problems


def _workbook_parts(archive: zipfile.ZipFile) -> tuple[dict[str, str], str | None]:
    """The workbook's worksheets (member → sheet name) and its shared strings'
    member, as its relationships name them; empty when they cannot be made out
    (python-calamine then says what is wrong)."""
    try:
        root = _xml(archive, "_rels/.rels")
        book = next(
            _target("", rel)
            for rel in root
            if rel.get("Type", "").endswith("/officeDocument")
        )
        folder = posixpath.dirname(book)
        rels = _xml(archive, f"{folder}/_rels/{posixpath.basename(book)}.rels")
        targets = {rel.get("Id"): _target(folder, rel) for rel in rels}
        shared = next(
            (
                _target(folder, rel)
                for rel in rels
                if rel.get("Type", "").endswith("/sharedStrings")
            ),
            None,
        )
        sheets = {}
        for element in _xml(archive, book).iter():
            if element.tag.rsplit("}", 1)[-1] != "sheet":
                continue
            rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), "")
            if rid in targets:
                sheets[targets[rid]] = element.get("name", "")
    except (KeyError, StopIteration, ElementTree.ParseError, UnreadableFile):
        return {}, None
    if shared not in archive.NameToInfo:
        shared = None
    return sheets, shared


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    if archive.getinfo(name).file_size > PART_BYTES:
        raise UnreadableFile(f"{name} is too large to be a workbook's index.")
    return ElementTree.fromstring(b"".join(member_chunks(archive, name)))


def _target(folder: str, rel: ElementTree.Element) -> str:
    target = rel.get("Target", "")
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(folder, target))

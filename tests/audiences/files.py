"""Real contact files, written the way spreadsheet programs write them."""

import datetime as dt
from pathlib import Path
from typing import Any

SEED = [
    ["CONTACT", "NOMBRE", "MONTO", "FECHA"],
    ["+525500998877", "Carlos", "1200", "2016-12-25"],
    ["+525511223344", "Ana", "1350", "2016-10-25"],
    ["+525533445566", "Alfredo", "1480", "2016-11-25"],
]
# SEED's contacts once imported: phone → custom data, typed.
SEED_DATA = {
    "+525500998877": {"NOMBRE": "Carlos", "MONTO": 1200, "FECHA": "2016-12-25"},
    "+525511223344": {"NOMBRE": "Ana", "MONTO": 1350, "FECHA": "2016-10-25"},
    "+525533445566": {"NOMBRE": "Alfredo", "MONTO": 1480, "FECHA": "2016-11-25"},
}


def write_text(
    path: Path,
    rows: list[list[Any]],
    *,
    delimiter: str = "\t",
    encoding: str = "utf-8",
    newline: str = "\n",
    bom: bool = False,
) -> Path:
    text = newline.join(delimiter.join(str(cell) for cell in row) for row in rows)
    data = (text + newline).encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xls(path: Path, rows: list[list[Any]]) -> Path:
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Contacts")
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if isinstance(cell, dt.date):
                sheet.write(r, c, cell, date_style)
            else:
                sheet.write(r, c, cell)
    book.save(str(path))
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Contacts")
    for row in rows:
        sheet.append(row)
    book.save(str(path))
    return path

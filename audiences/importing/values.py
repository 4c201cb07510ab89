"""What a contact file's header and cells must be, and what they become.

The header is CONTACT, then one column per custom-data variable (NAME, EMAIL and
TIMEZONE fill the contact's own fields, and NOMBRE, kept as custom data, fills the
name too when there is no NAME column; UNSUBSCRIBED = yes puts the row's phone and
email on the suppression list). A variable keeps its type: a new one takes the type its
first values show (mostly dates → date, mostly numbers → number, otherwise text); a
known one must fit the type it has. In a new variable's column, whatever its type, a
value written like a date that is no date (2016-02-30, 31/02/2016) rejects its row.
"""

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from audiences.addresses import email_key, phone_key
from audiences.dates import iso_date_problem
from audiences.formulas import unescape_formula
from audiences.models import Variable
from audiences.phones import phone_read
from base.zones import zone_normal

from .sheet import UnreadableFile

CONTACT_FIELDS = {
    "NAME": "name",
    "EMAIL": "email",
    "TIMEZONE": "timezone",
    "UNSUBSCRIBED": "suppress",
}
# Custom-data columns that also fill the contact's name when the file has no NAME
# column: the seed files' NOMBRE stays custom data ({{NOMBRE}} in templates) and is
# the name the contact list and search show.
NAME_VARIABLES = ("NOMBRE",)
# What UNSUBSCRIBED takes for "put this row's addresses on the suppression list";
# no, false, 0 or an empty cell leave them as they are.
YES = frozenset({"yes", "y", "true", "1", "si", "sí", "x"})
NO = frozenset({"no", "n", "false", "0"})
# Columns of Flowcast's own rejected-rows file, so a corrected copy imports as is.
REPORT_COLUMNS = ("REJECTED_ROW", "REJECTION_REASON")
VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Written as a date, real or not: year first (2016-02-30, 2016/2/30), or day and
# month first in either order (31/02/2016, 12-31-2016, 31/02/16).
ISO_SHAPE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
DATE_SHAPES = (
    (re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$"), (1, 3, 4)),
    (re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4})$"), (4, 3, 1)),
    (re.compile(r"^(\d{1,2})(/)(\d{1,2})/(\d{2})$"), (4, 3, 1)),
)


class RowRejected(Exception):
    """Every problem of one row, as (column, reason) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(
            "; ".join(f"{column}: {reason}" for column, reason in problems)
        )
        self.problems = problems


@dataclass
class Column:
    index: int
    name: str
    target: str  # "name", "email", "timezone", "suppress", "data" or "skip"
    kind: str | None = None  # a Variable.Kind, for "data" columns
    new_variable: bool = False  # a "data" column no variable is known for yet
    fills_name: bool = False  # a "data" column whose values are the name too


def read_header(header: list[str]) -> list[Column]:
    """Check the header row and return the columns after CONTACT.

    Raises UnreadableFile, refusing the whole file, when the first column is not
    CONTACT or a column name cannot be a variable.
    """
    first = header[0].strip() if header else ""
    if first.upper() != "CONTACT":
        found = f"headed {first!r}" if first else "without a header"
        raise UnreadableFile(
            f"The first column must be headed CONTACT; this file's first column is "
            f"{found}. The header row is CONTACT, then one column per variable."
        )
    titles = list(header[1:])
    while titles and not titles[-1].strip():
        titles.pop()  # spreadsheets often carry empty trailing header cells
    columns: list[Column] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(titles, start=1):
        title = raw.strip()
        number = index + 1
        if not title:
            raise UnreadableFile(f"Column {number} has no header.")
        key = title.upper()
        if key in seen:
            raise UnreadableFile(
                f"Columns {seen[key]} and {number} are both headed {title!r}."
            )
        seen[key] = number
        if key in REPORT_COLUMNS:
            columns.append(Column(index, key, "skip"))
        elif key in CONTACT_FIELDS:
            columns.append(Column(index, key, CONTACT_FIELDS[key]))
        elif VARIABLE_NAME.match(title):
            columns.append(Column(index, title, "data"))
        else:
            raise UnreadableFile(
                f"Column {number} is headed {title!r}, which cannot be a variable "
                "name: use letters, digits and _, starting with a letter."
            )
    if "NAME" not in seen:
        for column in columns:
            if column.target == "data" and column.name.upper() in NAME_VARIABLES:
                column.fills_name = True
                break
    return columns


def cell_text(value: Any) -> str:
    """A cell as the text a person would read in it."""
    if type(value) is str:  # nearly every cell of a text file: the fast path
        text = value.strip()
        # A formula made inert with a leading ' (exports, rejected rows, what
        # spreadsheets write for text typed that way) reads as written.
        return unescape_formula(text) if text[:1] == "'" else text
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def is_blank(cells: list[Any]) -> bool:
    """True for a row with nothing in it; the CONTACT cell decides most rows alone."""
    if cells and cell_text(cells[0]):
        return False
    return not any(cell_text(cell) for cell in cells)


def _is_number_cell(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def looks_like_number(value: Any) -> bool:
    if _is_number_cell(value):
        return True
    text = cell_text(value)
    # "0123" is a code (a zip, an id), not a number: keep its zero.
    return bool(NUMBER.match(text)) and not re.match(r"^-?0\d", text)


def looks_like_date(value: Any) -> bool:
    """A date cell, or text written YYYY-MM-DD, whether or not such a day exists:
    a column of such values is a date column, where the days that do not exist are
    rejected rows."""
    if isinstance(value, dt.date):
        return True
    return bool(ISO_SHAPE.match(cell_text(value)))


def _is_day(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def not_a_date(text: str) -> bool:
    """True for text written like a date that is no day of the calendar, read
    year first, or day and month first in either order."""
    if not text[:1].isdigit():
        return False
    for shape, (y, m, d) in DATE_SHAPES:
        if found := shape.match(text):
            year, month, day = (int(found.group(n)) for n in (y, m, d))
            if len(found.group(y)) == 2:
                year += 2000
            if y == 1:
                return not _is_day(year, month, day)
            return not (_is_day(year, month, day) or _is_day(year, day, month))
    return False


def date_problem(text: str) -> str:
    """Why ``text``, which is no date YYYY-MM-DD, is refused as one."""
    if ISO_SHAPE.match(text):
        return iso_date_problem(text) or f"{text!r} is not a date"
    if not_a_date(text):
        return f"{text!r} is not a date: there is no such day"
    return f"{text!r} is not a date written YYYY-MM-DD"


def _as_iso_date(text: str) -> str | None:
    if not ISO_DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


# A new column whose first values are mostly dates (or numbers) is one: its typos
# are then rejected rows, visible and fixable, rather than a text column that
# quietly stops comparing as numbers or dates. An operator who wants text anyway
# declares the variable first.
INFER_SHARE = 0.5


def infer_kind(values: Iterable[Any]) -> str:
    present = [value for value in values if cell_text(value)]
    if not present:
        return Variable.Kind.TEXT
    for kind, test in (
        (Variable.Kind.DATE, looks_like_date),
        (Variable.Kind.NUMBER, looks_like_number),
    ):
        if sum(1 for value in present if test(value)) > INFER_SHARE * len(present):
            return kind
    return Variable.Kind.TEXT


def typed_value(value: Any, kind: str) -> Any:
    """Convert a non-empty cell to ``kind``; raise ValueError with the reason."""
    cell_type = type(value)
    if kind == Variable.Kind.NUMBER:
        if cell_type is int:
            return value
        if cell_type is float:
            return int(value) if value.is_integer() else value
        if _is_number_cell(value):
            number = float(value)
            return int(number) if number.is_integer() else number
        text = cell_text(value)
        if not NUMBER.match(text):
            raise ValueError(
                f"{text!r} is not a number (this variable holds numbers; to keep text "
                "in it, declare it as text under Custom-data variables)"
            )
        return int(text) if "." not in text else float(text)
    if kind == Variable.Kind.DATE:
        if cell_type is dt.date:
            return value.isoformat()
        if isinstance(value, dt.date):
            return cell_text(value)[:10]
        text = cell_text(value)
        iso = _as_iso_date(text)
        if iso is None:
            raise ValueError(date_problem(text))
        return iso
    return cell_text(value)


@dataclass
class ContactRow:
    phone: str
    name: str
    email: str
    data: dict[str, Any]
    timezone: str = ""
    suppress: bool = False
    # Keyed hashes (audiences.addresses), computed here in the converting
    # processes rather than in the one that stages the rows.
    phone_key: str = ""
    email_key: str = ""
    # The CONTACT cell as written, for a number read in the default country for
    # want of a country code; empty for the others.
    phone_without_country: str = ""


@lru_cache(maxsize=1024)
def is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def convert_row(cells: list[Any], columns: list[Column]) -> ContactRow:
    """Turn one row's cells into contact values, or raise RowRejected with every
    problem the row has."""
    problems: list[tuple[str, str]] = []
    row = ContactRow(phone="", name="", email="", data={})
    try:
        row.phone, from_region = phone_read(cells[0] if cells else "")
        if from_region:
            row.phone_without_country = cell_text(cells[0])
    except ValidationError as exc:
        problems.append(("CONTACT", exc.messages[0]))
    width, count = len(columns) + 1, len(cells)
    if count > width:
        extra = [cell for cell in cells[width:] if cell_text(cell)]
        if extra:
            problems.append(
                (
                    "-",
                    f"the row has {width + len(extra)} filled cells but the header "
                    f"names {width} columns",
                )
            )
    for column in columns:
        if column.index >= count:
            continue
        value = cells[column.index]
        # This loop runs for every cell of a million-row file: blank cells are
        # skipped without building their text.
        if type(value) is str:
            value = value.strip()
            if not value:
                continue
        elif value is None or not cell_text(value):
            continue
        target = column.target
        if target == "data":
            if (
                column.new_variable
                and column.kind != Variable.Kind.DATE
                and type(value) is str
                and not_a_date(value)
            ):
                problems.append((column.name, date_problem(value)))
                continue
            try:
                row.data[column.name] = typed_value(value, column.kind or "text")
            except ValueError as exc:
                problems.append((column.name, str(exc)))
            if column.fills_name:
                row.name = cell_text(value)[:200]
        elif target == "name":
            row.name = cell_text(value)[:200]
        elif target == "email":
            row.email = cell_text(value)
            try:
                validate_email(row.email)
            except ValidationError:
                problems.append((column.name, f"{row.email!r} is not an email address"))
        elif target == "timezone":
            row.timezone = zone_normal(cell_text(value))  # GMT-5 is Etc/GMT+5
            if not is_time_zone(row.timezone):
                problems.append(
                    (
                        column.name,
                        f"{row.timezone!r} is not a time zone (an IANA name such as "
                        "America/Mexico_City or Europe/Madrid)",
                    )
                )
        elif target == "suppress":
            answer = cell_text(value).lower()
            if answer in YES:
                row.suppress = True
            elif answer not in NO:
                problems.append(
                    (column.name, f"{value!r} is neither yes (yes, sí, true, 1) nor no")
                )
    if problems:
        raise RowRejected(problems)
    row.phone_key = phone_key(row.phone)
    row.email_key = email_key(row.email) if row.email else ""
    return row

"""Cells a spreadsheet would run as formulas (CSV injection), made inert in every
file Flowcast writes and read back as written."""

import re
from typing import Any

# Spreadsheet programs run a cell starting with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def escape_formula(value: Any) -> Any:
    """Make a text cell inert in a spreadsheet by prefixing ' (OWASP's CSV-injection
    advice), leaving plain numbers alone: +525500998877 stays a phone number."""
    formula = isinstance(value, str) and value.startswith(FORMULA_START)
    if formula and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def unescape_formula(text: str) -> str:
    """The cell as written before escape_formula: a file Flowcast wrote (an export,
    the rejected rows) imports back unchanged."""
    if text[:1] == "'" and text[1:2] in FORMULA_START:
        return text[1:]
    return text

"""Message templates: {{VARIABLE}} placeholders filled from a contact's data."""

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audiences.models import Contact

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
BUILTINS = ("PHONE", "NAME", "EMAIL")


def placeholders(template: str) -> list[str]:
    """The variable names a template uses, each once, in order."""
    return list(dict.fromkeys(PLACEHOLDER.findall(template)))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _builtins(contact: "Contact") -> dict[str, str]:
    return {"PHONE": contact.phone, "NAME": contact.name, "EMAIL": contact.email}


def unfilled(template: str, contact: "Contact") -> list[str]:
    """The placeholders of ``template`` that ``render`` leaves empty for ``contact``:
    custom data it lacks, or a NAME or EMAIL it has none of."""
    builtins = _builtins(contact)
    return [
        name
        for name in placeholders(template)
        if name not in contact.data and not builtins.get(name.upper())
    ]


def render(
    template: str, contact: "Contact", extra: dict[str, Any] | None = None
) -> str:
    """Fill ``template`` for ``contact``.

    A placeholder names a custom-data variable (``{{NOMBRE}}``) or one of PHONE, NAME,
    EMAIL; custom data wins over those, and ``extra`` (an event's properties) wins
    over both. A variable the contact lacks becomes empty.
    """
    builtins = _builtins(contact)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if extra and name in extra:
            return _text(extra[name])
        if name in contact.data:
            return _text(contact.data[name])
        return _text(builtins.get(name.upper()))

    return PLACEHOLDER.sub(fill, template)

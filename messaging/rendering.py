"""Message templates: {{VARIABLE}} placeholders filled from a contact's data, with
an optional fallback for contacts who have none: {{NOMBRE|cliente}}."""

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audiences.models import Contact

    from .models import Message

PLACEHOLDER = re.compile(
    r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*([^{}|]*?)\s*)?\}\}"
)
BUILTINS = ("PHONE", "NAME", "EMAIL")


def placeholders(template: str, *, bare: bool = False) -> list[str]:
    """The variable names a template uses, each once, in order; with ``bare``, only
    those it uses at least once without a fallback (a contact without them gets an
    empty text there)."""
    return list(
        dict.fromkeys(
            match.group(1)
            for match in PLACEHOLDER.finditer(template)
            if not bare or match.group(2) is None
        )
    )


def fallbacks(template: str) -> dict[str, str]:
    """The variables ``template`` uses only with a fallback, each with its first
    fallback: a contact without the variable gets that text, never an empty one."""
    bare = set(placeholders(template, bare=True))
    found: dict[str, str] = {}
    for match in PLACEHOLDER.finditer(template):
        if match.group(1) not in bare:
            found.setdefault(match.group(1), match.group(2))
    return found


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
        for name in placeholders(template, bare=True)
        if not _text(contact.data.get(name)) and not builtins.get(name.upper())
    ]


def render(
    template: str, contact: "Contact", extra: dict[str, Any] | None = None
) -> str:
    """Fill ``template`` for ``contact``.

    A placeholder names a custom-data variable (``{{NOMBRE}}``) or one of PHONE, NAME,
    EMAIL; custom data wins over those, and ``extra`` (an event's properties) wins
    over both. A variable the contact lacks, or has empty, becomes the placeholder's
    fallback ({{NOMBRE|cliente}}), else empty.
    """
    builtins = _builtins(contact)

    def fill(match: re.Match[str]) -> str:
        name, fallback = match.group(1), match.group(2)
        if extra and name in extra:
            value = _text(extra[name])
        elif name in contact.data:
            value = _text(contact.data[name])
        else:
            value = _text(builtins.get(name.upper()))
        return value if value or fallback is None else fallback

    return PLACEHOLDER.sub(fill, template)


def message_text(message: "Message") -> str:
    """The text of ``message``: as sent, or, before it is sent, its batch's text
    filled for its contact as the send will fill it (read its batch and contact
    with it)."""
    if message.body:
        return message.body
    template = message.batch.template(message.step)
    if template is None:
        return ""
    return render(template.get("body") or "", message.contact, message.context)

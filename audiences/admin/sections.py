"""Sections of a contact's page that apps above audiences draw: they know what the
contact went through (its journeys, messages, replies) and register a section from
their AppConfig.ready()."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from audiences.models import Contact


@dataclass(frozen=True)
class ContactSection:
    """A read-only row at the foot of a saved contact's page."""

    name: str  # the row's label, and its CSS class (field-<name>)
    template: str
    context: Callable[[Contact], dict[str, Any]]  # what the template reads
    permission: str  # "app_label.codename"; a user without it is not shown the row


_sections: dict[str, ContactSection] = {}


def contact_section_register(section: ContactSection) -> None:
    """Show ``section`` on every saved contact's page, below those registered before
    it; registered again under the same name, it replaces the earlier one."""
    _sections[section.name] = section


def contact_sections() -> list[ContactSection]:
    return list(_sections.values())

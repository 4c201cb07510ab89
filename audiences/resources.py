"""Contact export: the same columns an import takes, so an export imports back."""

import re
from typing import Any

from import_export import fields, resources

from .models import Contact, Variable

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


class ContactResource(resources.ModelResource):
    CONTACT = fields.Field(attribute="phone", column_name="CONTACT")
    NAME = fields.Field(attribute="name", column_name="NAME")
    EMAIL = fields.Field(attribute="email", column_name="EMAIL")

    class Meta:
        model = Contact
        fields = ("CONTACT", "NAME", "EMAIL")
        export_order = ("CONTACT", "NAME", "EMAIL")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in Variable.objects.values_list("name", flat=True):
            self.fields[name] = fields.Field(
                column_name=name,
                dehydrate_method=lambda contact, name=name: contact.data.get(name, ""),
            )

    def export_field(
        self, field: fields.Field, instance: Contact, **kwargs: Any
    ) -> Any:
        return escape_formula(super().export_field(field, instance, **kwargs))

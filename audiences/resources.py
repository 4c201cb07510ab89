"""Contact export: the same columns an import takes, so an export imports back."""

from typing import Any

from import_export import fields, resources

from .formulas import escape_formula
from .models import Contact, Variable


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

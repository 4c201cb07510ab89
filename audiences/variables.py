"""Custom-data variables: the names and types shared by contacts' custom data, the
rules of dynamic groups and imports.

Kept apart from the other models because the rules read it and the groups' models
read the rules.
"""

from django.core.exceptions import ValidationError
from django.db import models

# Columns of custom data the contact list may show: each is read from the contacts'
# JSON data in the list's one query, and the list stays a page wide.
CONTACT_LIST_MOST = 3


class Variable(models.Model):
    """A custom-data variable and its type, so values keep their type (A2).

    Created by the first import that brings the column; later files must fit it.
    """

    class Kind(models.TextChoices):
        TEXT = "text", "Text"
        NUMBER = "number", "Number"
        DATE = "date", "Date (YYYY-MM-DD)"

    name = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=6, choices=Kind.choices, default=Kind.TEXT)
    in_contact_list = models.BooleanField(
        "show in the contact list",
        default=False,
        help_text=f"Show this variable as a column of the contact list (at most "
        f"{CONTACT_LIST_MOST} variables).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "custom-data variable"

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    def clean(self) -> None:
        if not self.in_contact_list:
            return
        shown = list(
            Variable.objects.filter(in_contact_list=True)
            .exclude(pk=self.pk)
            .values_list("name", flat=True)
        )
        if len(shown) >= CONTACT_LIST_MOST:
            raise ValidationError(
                {
                    "in_contact_list": f"The contact list shows at most "
                    f"{CONTACT_LIST_MOST} variables and already shows "
                    f"{', '.join(shown)}: untick one of them first."
                }
            )


def contacts_list_variables() -> list[str]:
    """The names of the variables the contact list shows as columns, by name."""
    return list(
        Variable.objects.filter(in_contact_list=True)
        .order_by("name")
        .values_list("name", flat=True)[:CONTACT_LIST_MOST]
    )

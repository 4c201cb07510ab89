"""Custom-data variables: the names and types shared by contacts' custom data, the
rules of dynamic groups and imports.

Kept apart from the other models because the rules read it and the groups' models
read the rules.
"""

from django.db import models


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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "custom-data variable"

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

"""A changelist filter for a foreign key with thousands of choices: a search box
(the admin's own autocomplete) instead of a list of every group or flow."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.forms import Media
from django.http import HttpRequest


class AutocompleteFilter(admin.RelatedFieldListFilter):
    template = "admin/autocomplete_filter.html"

    def field_choices(
        self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin
    ) -> Any:
        # Only the chosen value is loaded; the rest comes from the search.
        value = self.lookup_val[0] if self.lookup_val else None
        if not value:
            return []
        try:
            key = field.target_field.to_python(value)
        except (ValueError, ValidationError):
            return []
        chosen = field.remote_field.model._default_manager.filter(pk=key).first()
        return [(str(chosen.pk), str(chosen))] if chosen else []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: Any) -> Any:
        yield {
            "field": self.field_path,
            "app_label": self.field.model._meta.app_label,
            "model_name": self.field.model._meta.model_name,
            "lookup_kwarg": self.lookup_kwarg,
            "selected": self.lookup_choices[0] if self.lookup_choices else None,
            "clear_url": changelist.get_query_string(remove=[self.lookup_kwarg]),
        }


def autocomplete_media(model: type[Model], field: str, site: admin.AdminSite) -> Media:
    """The scripts and styles the filter's search box needs on the changelist."""
    return AutocompleteSelect(model._meta.get_field(field), site).media

"""The audit trail for plain edits made in the admin: a ModelAdmin mixin.

State changes (campaign statuses, publishing, imports, opt-outs) are recorded by the
business functions that make them; this records what forms save directly.
"""

from typing import Any

from django.db import models
from django.forms import BaseModelForm
from django.http import HttpRequest

from config.admin_actions import KnownActionsOnly

from .audit import audit_record, changes_between, plain, snapshot


class AuditedAdmin(KnownActionsOnly):
    """Records creations, changes (before → after, inlines and many-to-many
    included) and deletions made through this admin."""

    def save_model(
        self, request: HttpRequest, obj: Any, form: BaseModelForm, change: bool
    ) -> None:
        before: dict[str, Any] = {}
        if change and obj.pk is not None:
            old = type(obj)._base_manager.filter(pk=obj.pk).first()
            if old is not None:
                before = snapshot(old)
                before.update(_many_to_many(old, form))
        form._audit_before = before  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: BaseModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        obj = form.instance
        before = getattr(form, "_audit_before", {})
        after = snapshot(obj)
        after.update(_many_to_many(obj, form))
        changes = changes_between(before, after)
        notes = []
        for formset in formsets:
            kind = formset.model._meta.verbose_name
            notes += [f"added {kind} {item}" for item in formset.new_objects]
            notes += [
                f"changed {kind} {item} ({', '.join(fields)})"
                for item, fields in formset.changed_objects
            ]
            notes += [f"deleted {kind} {item}" for item in formset.deleted_objects]
        if change and not changes and not notes:
            return
        audit_record(
            action="change" if change else "create",
            target=obj,
            changes=changes,
            note="; ".join(notes),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            action="delete", target=obj, changes=changes_between(snapshot(obj), {})
        )
        super().delete_model(request, obj)

    def delete_queryset(
        self, request: HttpRequest, queryset: models.QuerySet[Any]
    ) -> None:
        for obj in queryset:
            audit_record(
                action="delete", target=obj, changes=changes_between(snapshot(obj), {})
            )
        super().delete_queryset(request, queryset)


def _many_to_many(obj: models.Model, form: BaseModelForm) -> dict[str, Any]:
    """Values of the many-to-many fields the form edits (groups, permissions ...)."""
    names = [
        field.name for field in obj._meta.many_to_many if field.name in form.fields
    ]
    return {name: sorted(plain(list(getattr(obj, name).all()))) for name in names}

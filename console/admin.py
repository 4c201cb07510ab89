from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .auditing import AuditedAdmin
from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit trail: read-only, filterable, newest first."""

    list_display = ["at", "actor_label", "action", "target_link", "summary"]
    list_filter = ["action", "target_type", "at"]
    search_fields = ["target_repr", "actor_label", "note"]
    date_hierarchy = "at"
    list_select_related = ["target_type"]
    show_full_result_count = False
    list_per_page = 100
    fields = readonly_fields = (
        "at",
        "actor_label",
        "action",
        "target_link",
        "note",
        "changes_table",
    )

    @admin.display(description="object")
    def target_link(self, entry: AuditEntry) -> str:
        if entry.target_type is None:
            return entry.target_repr or "—"
        try:
            url = reverse(
                f"admin:{entry.target_type.app_label}_{entry.target_type.model}_change",
                args=[entry.target_id],
            )
        except NoReverseMatch:
            return f"{entry.target_type.name}: {entry.target_repr}"
        return format_html(
            '{}: <a href="{}">{}</a>', entry.target_type.name, url, entry.target_repr
        )

    @admin.display(description="what changed")
    def summary(self, entry: AuditEntry) -> str:
        if entry.changes:
            names = ", ".join(sorted(entry.changes))
            text = f"{names}" + (f" — {entry.note}" if entry.note else "")
        else:
            text = entry.note
        return text if len(text) <= 90 else text[:89] + "…"

    @admin.display(description="before → after")
    def changes_table(self, entry: AuditEntry) -> SafeString | str:
        if not entry.changes:
            return "—"
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            (
                (name, _shown(values[0]), _shown(values[1]))
                for name, values in sorted(entry.changes.items())
            ),
        )
        return format_html(
            "<table><thead><tr><th>field</th><th>before</th><th>after</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_shown(item) for item in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {_shown(item)}" for key, item in value.items()) or "—"
    return str(value)


# Users, roles and permissions are settings too: their changes go to the trail.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(AuditedAdmin, UserAdmin):
    pass


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdmin, GroupAdmin):
    pass

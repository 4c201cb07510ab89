import datetime as dt
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from config.records_admin import RecordAdmin

from .accounts import RoleUserChangeForm, RoleUserCreationForm
from .auditing import AuditedAdmin
from .models import AuditEntry
from .roles import ROLES

USER_FIELDSETS: list[Any] = [
    (None, {"fields": ("username", "password")}),
    ("Personal info", {"fields": ("first_name", "last_name", "email")}),
    ("Access", {"fields": ("is_active", "role")}),
    ("Important dates", {"fields": ("last_login", "date_joined")}),
]
USER_ADVANCED_FIELDSET = (
    "Advanced: staff, superuser, groups and raw permissions",
    {
        "classes": ("collapse",),
        "description": "Superusers only. The Role above is all most people need.",
        "fields": ("is_staff", "is_superuser", "groups", "user_permissions"),
    },
)
USER_ADD_FIELDSETS: list[Any] = [
    (
        None,
        {
            "classes": ("wide",),
            "fields": ("username", "usable_password", "password1", "password2", "role"),
        },
    ),
]


@admin.register(AuditEntry)
class AuditEntryAdmin(RecordAdmin):
    """The audit trail: read-only, filterable, newest first."""

    list_display = ["when", "actor_label", "action", "target_link", "summary"]
    list_filter = [
        "action",
        ("target_type", admin.RelatedOnlyFieldListFilter),
        "at",
    ]
    search_fields = ["target_repr", "actor_label", "note"]
    date_hierarchy = "at"
    list_select_related = ["target_type"]
    show_full_result_count = False
    list_per_page = 100
    fields = readonly_fields = (
        "when",
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

    @admin.display(description="when", ordering="at")
    def when(self, entry: AuditEntry) -> str:
        return date_format(timezone.localtime(entry.at), "Y-m-d H:i:s T")

    @admin.display(description="what changed")
    def summary(self, entry: AuditEntry) -> str:
        model = entry.target_type.model_class() if entry.target_type else None
        parts = [
            f"{field}: {before} → {after}"
            for field, before, after in _visible_changes(model, entry.changes)
        ]
        if entry.note and entry.action != AuditEntry.Action.STATUS:
            parts.append(entry.note)
        text = "; ".join(parts)
        return text if len(text) <= 110 else text[:109] + "…"

    @admin.display(description="before → after")
    def changes_table(self, entry: AuditEntry) -> SafeString | str:
        if not entry.changes:
            return "—"
        model = entry.target_type.model_class() if entry.target_type else None
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            _visible_changes(model, entry.changes),
        )
        return format_html(
            "<table><thead><tr><th>field</th><th>before</th><th>after</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )


def _field(model: type[models.Model] | None, name: str) -> Any:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _field_name(model: type[models.Model] | None, name: str) -> str:
    field = _field(model, name)
    return str(getattr(field, "verbose_name", name) or name)


def _shown(model: type[models.Model] | None, name: str, value: Any) -> str:
    """A stored value as an operator reads it: choices by their label."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_shown(model, name, item) for item in value) or "—"
    if isinstance(value, dict):
        return (
            "; ".join(f"{key}: {_shown(None, '', item)}" for key, item in value.items())
            or "—"
        )
    field = _field(model, name)
    if isinstance(value, str) and isinstance(field, models.DateTimeField):
        # Stored as ISO text; shown as the console shows times elsewhere.
        try:
            moment = timezone.localtime(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
        shape = "%Y-%m-%d %H:%M:%S %Z" if moment.second else "%Y-%m-%d %H:%M %Z"
        return moment.strftime(shape)
    if isinstance(value, str) and isinstance(field, models.TimeField):
        return value[:5] if value.endswith(":00") else value
    choices = dict(getattr(field, "flatchoices", None) or ())
    return str(choices.get(value, value))


def _visible_changes(
    model: type[models.Model] | None, changes: dict[str, list[Any]]
) -> list[tuple[str, str, str]]:
    """(field, before, after) as shown, leaving out a change that shows nothing:
    a time saved again without its microseconds (a user's date joined)."""
    rows = []
    for name, values in sorted(changes.items()):
        before, after = _shown(model, name, values[0]), _shown(model, name, values[1])
        if before != after:
            rows.append((_field_name(model, name), before, after))
    return rows


# Users, roles and permissions are settings too: their changes go to the trail.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class AuditedUserAdmin(AuditedAdmin, UserAdmin):
    """Users with a Role to pick; groups and raw permissions only for superusers,
    folded away."""

    form = RoleUserChangeForm
    add_form = RoleUserCreationForm
    list_display = ("username", "email", "first_name", "last_name", "role", "is_active")
    list_filter = ("groups", "is_active", "is_superuser")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return USER_ADD_FIELDSETS
        if request.user.is_superuser:
            return [*USER_FIELDSETS, USER_ADVANCED_FIELDSET]
        return USER_FIELDSETS

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="role")
    def role(self, user: User) -> str:
        names = {group.name for group in user.groups.all()}
        return next((role for role in ROLES if role in names), "—")


@admin.register(Group)
class AuditedGroupAdmin(AuditedAdmin, GroupAdmin):
    pass


class PeriodicTaskInline(beat_admin.PeriodicTaskInline):
    """The tasks on a beat schedule's page, each read with its schedule: a row's
    title names it (PeriodicTask.__str__), one query a task otherwise."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[PeriodicTask]:
        return (
            super()
            .get_queryset(request)
            .select_related("interval", "crontab", "solar", "clocked")
        )


for _model, _schedule_admin in [
    (ClockedSchedule, beat_admin.ClockedScheduleAdmin),
    (CrontabSchedule, beat_admin.CrontabScheduleAdmin),
    (IntervalSchedule, beat_admin.IntervalScheduleAdmin),
    (SolarSchedule, beat_admin.SolarScheduleAdmin),
]:
    admin.site.unregister(_model)
    admin.site.register(
        _model,
        type(
            _schedule_admin.__name__,
            (_schedule_admin,),
            {"inlines": [PeriodicTaskInline]},
        ),
    )

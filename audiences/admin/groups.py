"""Audience groups: static ones listed, dynamic ones by their conditions."""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from audiences.models import AudienceGroup, GroupRule, Membership
from base.auditing import AuditedAdmin
from base.lazy import LAZY_MEDIA, LazyPartsMixin


class GroupRuleInline(admin.TabularInline):
    model = GroupRule
    extra = 1
    verbose_name = "condition"


@admin.register(AudienceGroup)
class AudienceGroupAdmin(LazyPartsMixin, AuditedAdmin):
    list_display = ["name", "kind", "member_count", "description", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "description"]
    readonly_fields = ["members_found", "preview"]
    fields = ["name", "description", "kind", "match", *readonly_fields]
    inlines = [GroupRuleInline]
    # On the add page a script shows Match and the conditions for a dynamic kind.
    change_form_template = "admin/audiences/audiencegroup/change_form.html"
    PREVIEW = 20

    def _is_static(self, group: AudienceGroup | None) -> bool:
        return group is not None and group.kind == AudienceGroup.Kind.STATIC

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_fields(request, obj))
        if self._is_static(obj):
            # The saved kind decides: a static group has neither match nor conditions.
            fields.remove("match")
        return fields

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return [] if self._is_static(obj) else super().get_inlines(request, obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AudienceGroup]:
        return super().get_queryset(request).order_by("name")

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        # Members counted for the page's groups only, in one query: annotated on
        # the queryset, every list, count and autocomplete counted all of them.
        changelist = super().get_changelist_instance(request)
        static = [g.pk for g in changelist.result_list if self._is_static(g)]
        counts = dict(
            Membership.objects.filter(group__in=static)
            .values_list("group")
            .annotate(n=Count("*"))
            .order_by()
        )
        for group in changelist.result_list:
            group.shown_members = counts.get(group.pk, 0)
        return changelist

    @admin.display(description="members")
    def member_count(self, group: AudienceGroup) -> str:
        if group.kind == AudienceGroup.Kind.DYNAMIC:
            return "counted on its page"
        return f"{getattr(group, 'shown_members', 0):,}"

    @staticmethod
    def _member_count(group: AudienceGroup) -> int:
        if group.kind == AudienceGroup.Kind.STATIC:
            # The memberships alone (an index-only count), not joined to contacts.
            return Membership.objects.filter(group=group).count()
        return group.members().count()

    @admin.display(description="members")
    def members_found(self, group: AudienceGroup) -> str:
        if group.pk is None:
            return "-"
        url = reverse("admin:audiences_contact_changelist")
        return format_html(
            '{} contacts — <a href="{}?group={}">see them all</a>',
            # Counted after the page is shown: a million members take a moment.
            self.lazy_slot(group, "members", "counting the"),
            url,
            group.pk,
        )

    lazy_parts = {
        "members": lambda admin, group: f"{admin._member_count(group):,}",
    }

    @property
    def media(self) -> forms.Media:
        return super().media + LAZY_MEDIA

    @admin.display(description="first members")
    def preview(self, group: AudienceGroup) -> str:
        if group.pk is None:
            return "Save the group to see who is in it."
        contacts = group.members().order_by("pk")[: self.PREVIEW]
        if not contacts:
            return "Nobody matches yet."
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (c.phone, c.name, ", ".join(f"{k}={v}" for k, v in c.data.items()))
                for c in contacts
            ),
        )
        return format_html(
            "<table><thead><tr><th>Phone</th><th>Name</th><th>Custom data</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            rows,
        )

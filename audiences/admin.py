from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from .models import AudienceGroup, Contact, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["group"]
    verbose_name = "group membership"


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["phone", "name", "email", "opted_out_at", "created_at"]
    list_filter = [("opted_out_at", admin.EmptyFieldListFilter), "memberships__group"]
    search_fields = ["=phone", "name", "email"]
    readonly_fields = ["opted_out_at", "opt_out_source", "created_at", "updated_at"]
    fields = ["phone", "name", "email", "data", *readonly_fields]
    inlines = [MembershipInline]
    show_full_result_count = False
    list_per_page = 50


@admin.register(AudienceGroup)
class AudienceGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "member_count", "description", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name", "description"]
    readonly_fields = ["member_count", "members_link"]
    fields = ["name", "description", "kind", "match", "rules", *readonly_fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AudienceGroup]:
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="members", ordering="_members")
    def member_count(self, group: AudienceGroup) -> int:
        return getattr(group, "_members", 0)

    @admin.display(description="contacts")
    def members_link(self, group: AudienceGroup) -> str:
        if group.pk is None:
            return "-"
        url = reverse("admin:audiences_contact_changelist")
        return format_html(
            '<a href="{}?memberships__group__id__exact={}">View the members</a>',
            url,
            group.pk,
        )

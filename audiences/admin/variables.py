"""Custom-data variables and their types."""

from django.contrib import admin

from audiences.models import Variable
from base.auditing import AuditedAdmin


@admin.register(Variable)
class VariableAdmin(AuditedAdmin):
    list_display = ["name", "kind", "in_contact_list", "created_at"]
    list_filter = ["kind", "in_contact_list"]
    search_fields = ["name"]

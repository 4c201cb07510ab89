"""The contact list's filters."""

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from audiences.models import AudienceGroup, Contact


class GroupFilter(admin.SimpleListFilter):
    """Contacts of a group, static or dynamic."""

    title = "group"
    parameter_name = "group"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            (str(pk), name)
            for pk, name in AudienceGroup.objects.values_list("pk", "name")
        ]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Contact]
    ) -> QuerySet[Contact]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        group = AudienceGroup.objects.filter(pk=int(value)).first()
        if group is None:
            return queryset.none()
        return queryset.filter(pk__in=group.members().values("pk"))


class CountryFilter(admin.SimpleListFilter):
    """By country calling code, read off the E.164 number (an indexed prefix match)."""

    title = "country"
    parameter_name = "country"
    CODES = {
        "52": "Mexico (+52)",
        "1": "USA / Canada (+1)",
        "57": "Colombia (+57)",
        "54": "Argentina (+54)",
        "55": "Brazil (+55)",
        "56": "Chile (+56)",
        "51": "Peru (+51)",
        "34": "Spain (+34)",
        "44": "United Kingdom (+44)",
        "49": "Germany (+49)",
        "33": "France (+33)",
        "86": "China (+86)",
        "91": "India (+91)",
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(self.CODES.items())

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[Contact]
    ) -> QuerySet[Contact]:
        if self.value() in self.CODES:
            return queryset.filter(phone__startswith=f"+{self.value()}")
        return queryset

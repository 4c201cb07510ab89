"""Campaign search: the same filters in the console's list and in the API."""

import django_filters

from .models import Campaign, CampaignStatus


class CampaignFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        lookup_expr="icontains", help_text="Part of the name."
    )
    flow = django_filters.NumberFilter(field_name="flow_id", help_text="A flow id.")
    flow_name = django_filters.CharFilter(
        field_name="flow__name",
        lookup_expr="icontains",
        help_text="Part of the flow's name.",
    )
    group = django_filters.NumberFilter(field_name="group_id", help_text="A group id.")
    group_name = django_filters.CharFilter(
        field_name="group__name",
        lookup_expr="icontains",
        help_text="Part of the group's name.",
    )
    status = django_filters.MultipleChoiceFilter(choices=CampaignStatus.choices)

    class Meta:
        model = Campaign
        fields = ["name", "flow", "flow_name", "group", "group_name", "status"]

"""The Flow page's conditions on the triggering event (flows.event_rules)."""

from django.contrib import admin

from .event_rules import FlowEventCondition


class FlowEventConditionInline(admin.TabularInline):
    """Behavioural-event flows: conditions on the event's properties, ALL of which
    must hold; only events meeting them count as occurrences."""

    model = FlowEventCondition
    extra = 0
    fields = ["property", "op", "value"]
    verbose_name = "condition on the event's properties"
    verbose_name_plural = (
        "Event conditions (behavioural-event flows: all must hold; only events "
        "meeting them count as occurrences)"
    )

"""The settings each trigger of a flow uses: a Manual flow is started by the campaigns
that choose it and keeps no event or audience settings; an event flow keeps only its
event's, an audience flow only its group's and schedule."""

from typing import TYPE_CHECKING, Any

from django import forms

from .models import Flow

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldOpts, _FieldsetSpec

TRIGGER_FIELDS: dict[str, tuple[str, ...]] = {
    Flow.Trigger.MANUAL: (),
    Flow.Trigger.EVENT: ("event_name", "event_occurrence", "event_within"),
    Flow.Trigger.AUDIENCE: ("audience_group", "audience_every"),
}
TRIGGER_SPECIFIC = [name for names in TRIGGER_FIELDS.values() for name in names]

# The Flow page's fieldsets of trigger settings, each classed for-<trigger>: its
# script (trigger_settings.js) shows only those of the trigger chosen.
TRIGGER_FIELDSETS: "list[tuple[str, _FieldOpts]]" = [
    (
        "Behavioural event",
        {
            # The occurrence and its days on one line.
            "fields": ["event_name", ("event_occurrence", "event_within")],
            "classes": ["trigger-settings", "for-event"],
            "description": "The event that puts a contact on this flow.",
        },
    ),
    (
        "Audience",
        {
            "fields": ["audience_group", "audience_every"],
            "classes": ["trigger-settings", "for-audience"],
            "description": "The group whose members enter this flow, and how often.",
        },
    ),
]


class FlowForm(forms.ModelForm):
    """A flow; the settings its trigger does not use are saved empty, whatever was
    typed in them before the trigger changed (the page hides them)."""

    class Meta:
        model = Flow
        fields = ["name", "description", "trigger", *TRIGGER_SPECIFIC]

    class Media:
        js = ["flows/trigger_settings.js"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        used = TRIGGER_FIELDS.get(data.get("trigger") or "")
        if used is None:
            return data
        for name in TRIGGER_SPECIFIC:
            if name in used or name not in self.fields:
                continue
            # Hidden on the page: an error in it could be neither seen nor fixed.
            self.errors.pop(name, None)
            data[name] = self.fields[name].to_python("")  # the field's empty value
        return data


def shown_fieldsets(fieldsets: "_FieldsetSpec", flow: Flow | None) -> "_FieldsetSpec":
    """``fieldsets`` without the trigger settings ``flow``'s trigger does not use:
    for a page that shows the flow read-only (no script switches them there)."""
    if flow is None:
        return fieldsets
    return [
        (name, options)
        for name, options in fieldsets
        if "trigger-settings" not in options.get("classes", ())
        or f"for-{flow.trigger}" in options.get("classes", ())
    ]

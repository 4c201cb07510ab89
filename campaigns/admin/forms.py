"""The forms of the campaign admin: a campaign, a bulk message, a resume time."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime, AutocompleteSelect
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import format_html

from audiences.models import AudienceGroup
from flows.models import Flow
from messaging.models import Channel
from messaging.outbound import http_url

from ..bulk import BulkMessage
from ..lifecycle import EDITABLE_FIELDS
from ..models import Campaign

SENDER = ("sender_name", "reply_to")
ACTIVE_HOURS = ("active_from", "active_until", "timezone")

# The campaign form's sections: the optional ones last, each saying what it is for.
CAMPAIGN_FIELDSETS: tuple[Any, ...] = (
    (
        None,
        {
            "fields": [
                f for f in EDITABLE_FIELDS if f not in SENDER and f not in ACTIVE_HOURS
            ]
        },
    ),
    (
        "Sender (optional)",
        {
            "fields": list(SENDER),
            "description": "How recipients see who wrote, on channels that show it.",
        },
    ),
    (
        "Active hours (optional)",
        {
            "fields": list(ACTIVE_HOURS),
            "description": "A daily window in which this campaign may send, "
            "in its time zone. Messages due outside it are deferred, not "
            "lost, and go out when it opens, at the channel's rate. A "
            "channel's own active hours apply too: a message goes out when "
            "both are open.",
        },
    ),
)


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = list(EDITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "flow" in self.fields:
            field = self.fields["flow"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = Flow.objects.filter(
                status=Flow.Status.PUBLISHED, trigger=Flow.Trigger.MANUAL
            )
            # After choosing the flow, the operator previews its chain, with the
            # group chosen (if one is) so the preview warns of its members' missing
            # values, as the saved campaign's Preview flow does.
            field.help_text = format_html(
                "Only published flows whose trigger type is Manual can be chosen. "
                '<a href="#" onclick="{}">Preview flow chain</a>',
                "var f=document.getElementById('id_flow'),"
                "g=document.getElementById('id_group');"
                "if(f&&f.value){window.open('/admin/flows/flow/'+f.value+"
                "'/preview/?version=published'+(g&&g.value?'&group='+g.value:''),"
                "'_blank');}"
                "else{alert('Choose a flow first.');}return false;",
            )
        if "schedule" in self.fields:
            self.fields["schedule"].help_text += (
                " A slot that comes while the previous run is still sending is "
                "skipped; saving warns when the group cannot be sent in one period "
                "at its channels' rates."
            )
        # The date pickers say nothing of the zone they are read in.
        for name in ("start_at", "end_at"):
            if name in self.fields:
                self.fields[
                    name
                ].help_text += f" Read in {timezone.get_current_timezone_name()}."

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.instance.pk is not None:
            current = Campaign.objects.get(pk=self.instance.pk)
            if not current.is_editable:
                raise ValidationError(
                    f"This campaign is {current.get_status_display()}; only pending or "
                    "suspended campaigns can be modified."
                )
        return cleaned


class BulkMessageForm(forms.Form):
    name = forms.CharField(max_length=60, help_text="At most 60 characters.")
    group = forms.ModelChoiceField(
        queryset=AudienceGroup.objects.all(),
        widget=AutocompleteSelect(Campaign._meta.get_field("group"), admin.site),
        help_text="Every contact of the group gets the message (opted-out ones are "
        "skipped).",
    )
    channel = forms.ModelChoiceField(queryset=Channel.objects.filter(enabled=True))
    body = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text="Emoji welcome. {{NOMBRE}} is the contact's custom data NOMBRE; "
        "{{NOMBRE|cliente}} says cliente to contacts without one.",
    )
    media_url = forms.URLField(
        label="Image URL", required=False, assume_scheme="https", validators=[http_url]
    )
    sender_name = forms.CharField(label="Sender name", max_length=60, required=False)
    reply_to = forms.EmailField(label="Reply-to", required=False)
    send_at = forms.SplitDateTimeField(
        label="Send at",
        required=False,
        widget=AdminSplitDateTime,
        help_text="Empty: as soon as possible (within a minute).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "send_at"
        ].help_text += f" Read in {timezone.get_current_timezone_name()}."

    def clean_send_at(self) -> Any:
        value = self.cleaned_data.get("send_at")
        if value is not None:
            value = value.replace(second=0, microsecond=0)  # schedules fire on minutes
        if value is not None and value <= timezone.now():
            raise ValidationError("The send time must be later than now.")
        return value

    def bulk_message(self) -> BulkMessage:
        data = self.cleaned_data
        return BulkMessage(
            name=data["name"],
            group=data["group"],
            channel=data["channel"],
            body=data["body"],
            media_url=data["media_url"],
            sender_name=data["sender_name"],
            reply_to=data["reply_to"],
            send_at=data["send_at"],
        )


class ResumeForm(forms.Form):
    start_at = forms.SplitDateTimeField(
        label="New start",
        widget=AdminSplitDateTime,
        help_text="Later than now and earlier than the campaign's end; the campaign "
        "is pending until then.",
    )

"""The forms of the campaign admin: a campaign, a bulk message, a resume time."""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import (
    AutocompleteSelect,
    AutocompleteSelectMultiple,
)
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.html import format_html

from audiences.models import AudienceGroup, GroupRule
from audiences.rules import RuleError, rule_condition
from audiences.targeting import Condition
from base import dates
from base.outbound import http_url
from base.zones import ZoneField, zone_with_offset
from flows.models import Flow
from messaging.models import Channel, Team
from messaging.unsubscribing import LANGUAGE_DEFAULT, LANGUAGES

from ..bulk import BulkMessage
from ..lifecycle import EDITABLE_FIELDS
from ..models import Campaign, Schedule
from ..refusals import campaign_modify_refusal
from ..targeting import targeting_errors

SENDER = ("sender_name", "reply_to", "language")
REPLIES = ("reply_team", "reply_user")
ACTIVE_HOURS = ("active_from", "active_until", "timezone", "hours_in_contact_zone")
AUDIENCE = ("group", "also_groups", "excluded_groups", "match")

# The campaign form's sections: the optional ones last, each saying what it is for.
CAMPAIGN_FIELDSETS: tuple[Any, ...] = (
    (
        None,
        {
            "fields": [
                f
                for f in EDITABLE_FIELDS
                if f not in (*SENDER, *REPLIES, *ACTIVE_HOURS, *AUDIENCE)
            ]
        },
    ),
    (
        "Audience",
        {
            "fields": list(AUDIENCE),
            "description": "Whom the campaign goes to: the contacts of its groups, "
            "minus those of the excluded groups, meeting the conditions listed "
            "at the foot of the form (if any). Count recipients shows how many "
            "before you save.",
        },
    ),
    (
        "Sender (optional)",
        {
            "fields": list(SENDER),
            "description": "How recipients see who wrote, on channels that show it, "
            "and the language their emails' unsubscribe line and page speak.",
        },
    ),
    (
        "Reply message sent to (optional)",
        {
            "fields": list(REPLIES),
            "description": "A reply that no flow step waits for opens a conversation "
            "in the Inbox, for this team and assigned to this operator; without "
            "them it is open to every operator.",
        },
    ),
    (
        "Active hours (optional)",
        {
            "fields": list(ACTIVE_HOURS),
            "description": "A daily window in which this campaign may send, "
            "in its time zone or in each contact's own. Messages due outside "
            "it are deferred, not lost, and go out when it opens, at the "
            "channel's rate. A channel's own active hours apply too: a message "
            "goes out when both are open.",
        },
    ),
)


def _groups_field(name: str) -> forms.ModelMultipleChoiceField:
    """A campaign's extra or excluded groups, chosen by typing their names."""
    field = Campaign._meta.get_field(name)
    assert isinstance(field, models.ManyToManyField)
    return forms.ModelMultipleChoiceField(
        queryset=AudienceGroup.objects.all(),
        required=False,
        label=str(field.verbose_name).capitalize(),
        help_text=field.help_text,
        widget=AutocompleteSelectMultiple(field, admin.site),
    )


class CampaignForm(forms.ModelForm):
    # Declared: the admin offers no field for a many-to-many with its own table.
    also_groups = _groups_field("also_groups")
    excluded_groups = _groups_field("excluded_groups")

    class Meta:
        model = Campaign
        fields = [*EDITABLE_FIELDS, "also_groups", "excluded_groups"]
        field_classes = {"timezone": ZoneField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "flow" in self.fields:
            field = self.fields["flow"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = Flow.objects.filter(
                status=Flow.Status.PUBLISHED,
                trigger=Flow.Trigger.MANUAL,
                for_bulk=False,  # a bulk message's own flow
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
        for name in ("match", "language"):
            if name in self.fields:
                self.fields[name].required = False
        if "schedule" in self.fields:
            # A message sent once is a bulk message, composed on its own page.
            plans = self.fields["schedule"]
            assert isinstance(plans, forms.TypedChoiceField)
            plans.choices = [
                (value, label)
                for value, label in Schedule.choices
                if value != Schedule.ONCE
            ]
            plans.help_text += (
                " A slot that comes while the previous run is still sending is "
                "skipped; saving warns when the group cannot be sent in one period "
                "at its channels' rates."
            )
        # The date pickers say nothing of the zone they are read in.
        zone = zone_with_offset(timezone.get_current_timezone_name())
        for name in ("start_at", "end_at"):
            if name in self.fields:
                self.fields[name].help_text += f" Read in {zone}."

    def clean_match(self) -> str:
        # Left out of a post (a script, a form from before targeting): all.
        return self.cleaned_data.get("match") or AudienceGroup.Match.ALL

    def clean_language(self) -> str:
        # Left out of a post (a script, the API): English.
        return self.cleaned_data.get("language") or LANGUAGE_DEFAULT

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        if self.instance.pk is not None:
            current = Campaign.objects.get(pk=self.instance.pk)
            refusal = campaign_modify_refusal(campaign=current)
            if refusal:
                raise ValidationError(refusal)
        for name, error in targeting_errors(
            group=cleaned.get("group"),
            also_groups=cleaned.get("also_groups") or (),
            excluded_groups=cleaned.get("excluded_groups") or (),
        ).items():
            self.add_error(name, error)
        return cleaned

    def is_valid(self) -> bool:
        # Count recipients: checked as for saving, then shown again, not saved.
        return super().is_valid() and "_count" not in self.data


class BulkMessageForm(forms.Form):
    name = forms.CharField(max_length=60, help_text="At most 60 characters.")
    group = forms.ModelChoiceField(
        queryset=AudienceGroup.objects.all(),
        widget=AutocompleteSelect(Campaign._meta.get_field("group"), admin.site),
        help_text="Every contact of the group gets the message, with those of the "
        "groups below (opted-out ones are skipped, each contact gets it once).",
    )
    also_groups = _groups_field("also_groups")
    excluded_groups = _groups_field("excluded_groups")
    match = forms.ChoiceField(
        label="Contacts must meet",
        choices=AudienceGroup.Match.choices,
        initial=AudienceGroup.Match.ALL,
        widget=forms.RadioSelect,
        help_text="With conditions (below): all of them, or any one.",
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
    language = forms.ChoiceField(
        choices=LANGUAGES,
        initial=LANGUAGE_DEFAULT,
        required=False,
        help_text=Campaign._meta.get_field("language").help_text,
    )
    reply_team = forms.ModelChoiceField(
        label="Reply message sent to team",
        queryset=Team.objects.order_by("name"),
        required=False,
        help_text="A contact's reply opens a conversation in this team's inbox.",
    )
    reply_user = forms.ModelChoiceField(
        label="Reply message sent to employee",
        queryset=User.objects.filter(is_active=True, is_staff=True).order_by(
            "username"
        ),
        required=False,
        help_text="The conversation is assigned to this operator.",
    )
    send_at = dates.SplitDateTimeField(
        label="Send at",
        required=False,
        widget=dates.SplitDateTimeInput,
        help_text="Empty: as soon as possible (within a minute).",
    )
    in_contact_zone = forms.BooleanField(
        label="At this time in each contact's own zone",
        required=False,
        help_text="Each contact gets it at the send time's time of day in their own "
        "time zone (their TIME ZONE, else their phone number's: +52 55 is Mexico "
        "City); contacts without one get it at the send time above. Sending starts "
        "up to 14 hours earlier, for the earliest zones.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "send_at"
        ].help_text += (
            f" Read in {zone_with_offset(timezone.get_current_timezone_name())}."
        )

    def clean_send_at(self) -> Any:
        value = self.cleaned_data.get("send_at")
        if value is not None:
            value = value.replace(second=0, microsecond=0)  # schedules fire on minutes
        if value is not None and value <= timezone.now():
            raise ValidationError("The send time must be later than now.")
        return value

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        for name, error in targeting_errors(
            group=cleaned.get("group"),
            also_groups=cleaned.get("also_groups") or (),
            excluded_groups=cleaned.get("excluded_groups") or (),
        ).items():
            self.add_error(name, error)
        if (
            cleaned.get("in_contact_zone")
            and not cleaned.get("send_at")
            and "send_at" not in self.errors
        ):
            self.add_error(
                "in_contact_zone",
                "Give a send time to send it at that time in each contact's zone.",
            )
        return cleaned

    def bulk_message(self, conditions: list[Condition]) -> BulkMessage:
        data = self.cleaned_data
        send_at = data["send_at"]
        if data["in_contact_zone"] and send_at is not None:
            # A time of day for every contact, typed on the operator's clock: bulk
            # sends read such a time on the installation's (campaigns.bulk).
            send_at = timezone.make_aware(
                timezone.localtime(send_at).replace(tzinfo=None),
                timezone.get_default_timezone(),
            )
        return BulkMessage(
            also_groups=list(data["also_groups"]),
            excluded_groups=list(data["excluded_groups"]),
            match=data["match"],
            rules=conditions,
            name=data["name"],
            group=data["group"],
            channel=data["channel"],
            body=data["body"],
            media_url=data["media_url"],
            sender_name=data["sender_name"],
            reply_to=data["reply_to"],
            language=data["language"] or LANGUAGE_DEFAULT,
            reply_team=data["reply_team"],
            reply_user=data["reply_user"],
            send_at=send_at,
            in_contact_zone=data["in_contact_zone"],
        )


class ConditionForm(forms.Form):
    """One condition of a bulk message's targeting, checked as a dynamic group's."""

    field = forms.CharField(
        max_length=64,
        required=False,
        help_text=GroupRule._meta.get_field("field").help_text,
    )
    op = forms.ChoiceField(
        label="condition",
        choices=[("", "---------"), *GroupRule.Op.choices],
        required=False,
        help_text="How the field is compared; each kind of field allows its own.",
    )
    value = forms.CharField(
        max_length=200,
        required=False,
        help_text=GroupRule._meta.get_field("value").help_text,
    )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        condition = self.condition()
        if condition is not None:
            try:
                rule_condition(condition)
            except RuleError as exc:
                self.add_error(exc.field, exc.message)
        return cleaned

    def condition(self) -> Condition | None:
        """The condition given, or None for a row left empty."""
        data = getattr(self, "cleaned_data", {})
        if not (data.get("field") or data.get("op") or data.get("value")):
            return None
        return Condition(
            data.get("field", ""), data.get("op", ""), data.get("value", "")
        )


ConditionFormSet = forms.formset_factory(
    ConditionForm, extra=3, max_num=20, validate_max=True
)


def conditions_of(formset: Any) -> list[Condition]:
    """The conditions of a valid ConditionFormSet, its empty rows left out."""
    found = (form.condition() for form in formset.forms)
    return [condition for condition in found if condition is not None]


class ResumeForm(forms.Form):
    start_at = dates.SplitDateTimeField(
        label="New start",
        widget=dates.SplitDateTimeInput,
        help_text="Later than now and earlier than the campaign's end; the campaign "
        "is pending until then.",
    )

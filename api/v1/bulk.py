"""/api/v1/bulk-messages: one message to an audience, sent once, now or at a set
time (campaigns.bulk: a one-step flow, published, run by a campaign of schedule
"once"). Checked as the console's bulk message form checks it."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from audiences.rules import RuleError
from audiences.targeting import audience_count
from campaigns.admin.forms import BulkMessageForm
from campaigns.bulk import bulk_message_create
from campaigns.lifecycle import CampaignRefused
from campaigns.models import Campaign

from .base import Audited, IdField, form_problems, refusal_problems
from .campaigns import (
    CampaignSerializer,
    conditions_checked,
    form_data,
    replies_fields,
    targeting_fields,
)

BulkWriteSerializer = type(
    "BulkMessageWrite",
    (serializers.Serializer,),
    {
        "name": serializers.CharField(help_text="At most 60 characters."),
        "description": serializers.CharField(
            required=False, allow_blank=True, max_length=90
        ),
        **targeting_fields(),
        "channel": IdField(help_text="The id of an enabled channel it goes out on."),
        "body": serializers.CharField(
            help_text="The text. {{NOMBRE}} is the contact's custom data NOMBRE; "
            "{{NOMBRE|cliente}} says cliente to contacts without one."
        ),
        "media_url": serializers.CharField(
            required=False, allow_blank=True, help_text="An image sent with it."
        ),
        **replies_fields(),
        "send_at": serializers.DateTimeField(
            required=False,
            allow_null=True,
            help_text="When it goes, later than now (to the minute); null or left "
            "out: as soon as possible (within a minute).",
        ),
    },
)
RecipientsSerializer = inline_serializer(
    "BulkRecipients",
    {
        "total": serializers.IntegerField(help_text="Contacts of its audience."),
        "opted_out": serializers.IntegerField(
            help_text="Of those, opted out: skipped."
        ),
        "reachable": serializers.IntegerField(help_text="Those it goes to."),
    },
)
BulkCreatedSerializer = inline_serializer(
    "BulkMessageCreated",
    {
        "campaign": CampaignSerializer(),
        "recipients": RecipientsSerializer,
    },
)


class ApiBulkMessageForm(BulkMessageForm):
    """The console's form, with the send time as one ISO 8601 value rather than
    the console's date and time boxes."""

    send_at = forms.DateTimeField(required=False)  # type: ignore[assignment]


@extend_schema(tags=["campaigns"])
class BulkMessageViewSet(Audited, viewsets.GenericViewSet[Campaign]):
    """Bulk messages: one text to an audience, sent once."""

    queryset = Campaign.objects.none()
    serializer_class = CampaignSerializer
    # A bulk message publishes a flow of its own: as in the console, it takes
    # those rights too.
    permission_codes = {
        "create": ("campaigns.add_campaign", "flows.add_flow", "flows.publish_flow"),
    }

    @extend_schema(
        summary="Send a bulk message",
        description="Composes and publishes its one-step flow and schedules its "
        "campaign (schedule once), which is answered with how many contacts it "
        "goes to now. Opted-out contacts are skipped; each contact gets it once.",
        request=BulkWriteSerializer,
        responses={201: BulkCreatedSerializer},
    )
    def create(self, request: Request) -> Response:
        given = BulkWriteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(given.validated_data)
        conditions = conditions_checked(values.pop("conditions", []))
        description = values.pop("description", "")
        form = ApiBulkMessageForm(data=form_data(values))
        if not form.is_valid():
            raise exceptions.ValidationError(form_problems(form))
        message = form.bulk_message(conditions)
        message.description = description
        try:
            counted = audience_count(message.audience())
        except RuleError as exc:  # a dynamic group's rule gone bad since it was saved
            raise exceptions.ValidationError(
                {"group": f"The groups cannot be read: {exc.message}"}
            ) from None
        try:
            campaign = bulk_message_create(message=message, actor=request.user)  # type: ignore[arg-type]
        except CampaignRefused as exc:
            raise exceptions.ValidationError(str(exc)) from None
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(refusal_problems(exc)) from None
        fresh = CampaignSerializer(
            Campaign.objects.select_related("flow", "group", "flow_version")
            .prefetch_related("also_groups", "excluded_groups", "rules")
            .get(pk=campaign.pk)
        )
        return Response(
            {
                "campaign": fresh.data,
                "recipients": {
                    "total": counted.total,
                    "opted_out": counted.opted_out,
                    "reachable": counted.reachable,
                },
            },
            status=status.HTTP_201_CREATED,
        )

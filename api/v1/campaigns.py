"""/api/v1/campaigns: list and search (the console's filters), get, create (checked
by the console's campaign form), suspend, resume and finish (campaigns.lifecycle,
refused with the console's words), and a campaign's runs."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from audiences.models import AudienceGroup, GroupRule
from audiences.targeting import Condition
from campaigns.admin.forms import CampaignForm, ConditionForm, ConditionFormSet
from campaigns.filters import CampaignFilter
from campaigns.lifecycle import (
    EDITABLE_FIELDS,
    CampaignRefused,
    campaign_create,
    campaign_end,
    campaign_resume,
    campaign_suspend,
)
from campaigns.models import Campaign, CampaignRule, CampaignRun, Schedule
from messaging.unsubscribing import LANGUAGES

from ..errors import Conflict
from .base import Audited, IdField, form_problems, found_by_id, refusal_problems
from .runs import RunSerializer, runs_answer


class RefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


ConditionSerializer = type(
    "Condition",
    (serializers.Serializer,),
    {
        "field": serializers.CharField(
            max_length=64,
            help_text=CampaignRule._meta.get_field("field").help_text,
        ),
        "op": serializers.ChoiceField(
            choices=GroupRule.Op.choices,
            help_text="How the field is compared; each kind of field allows its own.",
        ),
        "value": serializers.CharField(
            max_length=200,
            required=False,
            allow_blank=True,
            default="",
            help_text=CampaignRule._meta.get_field("value").help_text,
        ),
    },
)


class CampaignSerializer(serializers.ModelSerializer[Campaign]):
    status_label = serializers.CharField(source="get_status_display")
    flow = RefSerializer()
    flow_version = serializers.IntegerField(
        source="flow_version.number",
        help_text="The number of the flow's published version the campaign sends.",
    )
    group = RefSerializer()
    also_groups = RefSerializer(many=True)
    excluded_groups = RefSerializer(many=True)
    conditions = ConditionSerializer(source="rules", many=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "description",
            "status",
            "status_label",
            "flow",
            "flow_version",
            "group",
            "also_groups",
            "excluded_groups",
            "match",
            "conditions",
            "schedule",
            "start_at",
            "end_at",
            "sender_name",
            "reply_to",
            "reply_team",
            "reply_user",
            "active_from",
            "active_until",
            "timezone",
            "language",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


def _ids(help_text: str) -> serializers.ListField:
    return serializers.ListField(child=IdField(), required=False, help_text=help_text)


def replies_fields() -> dict[str, Any]:
    """Whom a campaign's and a bulk message's messages come from, and where replies
    go."""
    return {
        "sender_name": serializers.CharField(required=False, allow_blank=True),
        "reply_to": serializers.CharField(required=False, allow_blank=True),
        "reply_team": IdField(
            required=False,
            allow_null=True,
            help_text="The id of the team whose inbox replies go to.",
        ),
        "reply_user": IdField(
            required=False,
            allow_null=True,
            help_text="The id of the operator replies are assigned to.",
        ),
        "language": serializers.ChoiceField(
            choices=LANGUAGES,
            required=False,
            help_text="The language of the unsubscribe line of its emails and of "
            "the unsubscribe page; left out: en.",
        ),
    }


@contextmanager
def refused_as_conflict() -> Iterator[None]:
    """The lifecycle's refusals (campaigns.lifecycle.CampaignRefused) as a 409 in its
    words."""
    try:
        yield
    except CampaignRefused as exc:
        raise Conflict(str(exc)) from None


def targeting_fields() -> dict[str, Any]:
    """What a campaign and a bulk message both take to say whom they go to."""
    return {
        "group": IdField(help_text="The id of the group it goes to (its first group)."),
        "also_groups": _ids("Ids of more groups whose contacts get it too."),
        "excluded_groups": _ids("Ids of groups whose contacts get nothing."),
        "conditions": ConditionSerializer(
            many=True,
            required=False,
            help_text="Conditions on contact data the contacts must meet (at most "
            f"{ConditionFormSet.max_num}).",
        ),
        "match": serializers.ChoiceField(
            choices=AudienceGroup.Match.choices,
            default=AudienceGroup.Match.ALL,
            help_text="With conditions: all of them, or any one.",
        ),
    }


CampaignWriteSerializer = type(
    "CampaignWrite",
    (serializers.Serializer,),
    {
        "name": serializers.CharField(help_text="At most 60 characters."),
        "description": serializers.CharField(required=False, allow_blank=True),
        "flow": IdField(
            help_text="The id of a published flow whose trigger is manual."
        ),
        **targeting_fields(),
        "start_at": serializers.DateTimeField(
            help_text="Later than now; to the minute (seconds are dropped)."
        ),
        "end_at": serializers.DateTimeField(help_text="Later than the start."),
        "schedule": serializers.ChoiceField(
            choices=Schedule.choices,
            default=Schedule.DAILY,
            help_text="How often the flow runs for the whole audience.",
        ),
        **replies_fields(),
        "active_from": serializers.TimeField(
            required=False,
            allow_null=True,
            help_text="Start of the daily window it may send in (08:00).",
        ),
        "active_until": serializers.TimeField(
            required=False,
            allow_null=True,
            help_text="End of the daily window (21:00).",
        ),
        "timezone": serializers.CharField(
            required=False,
            allow_blank=True,
            help_text="The window's time zone; empty: the installation's.",
        ),
    },
)
ResumeSerializer = type(
    "CampaignResume",
    (serializers.Serializer,),
    {
        "start_at": serializers.DateTimeField(
            help_text="The new start: later than now and earlier than the end."
        )
    },
)


def conditions_checked(raw: list[dict[str, Any]]) -> list[Condition]:
    """The conditions given, each checked as the console's condition rows are
    (audiences.rules); a 400 naming each wrong one ("conditions.1.op")."""
    if len(raw) > ConditionFormSet.max_num:
        raise exceptions.ValidationError(
            {"conditions": f"At most {ConditionFormSet.max_num} conditions."}
        )
    problems: dict[str, str] = {}
    conditions = []
    for number, item in enumerate(raw):
        form = ConditionForm(data=item)
        if not form.is_valid():
            problems |= form_problems(form, prefix=f"conditions.{number}.")
            continue
        condition = form.condition()
        if condition is not None:
            conditions.append(condition)
    if problems:
        raise exceptions.ValidationError(problems)
    return conditions


def form_data(values: dict[str, Any]) -> dict[str, Any]:
    """A request's checked values as a console form's data (no value: left out)."""
    return {name: value for name, value in values.items() if value is not None}


@extend_schema(tags=["campaigns"])
class CampaignViewSet(
    Audited,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Campaign],
):
    """Campaigns: a published flow sent to an audience on a schedule."""

    queryset = Campaign.objects.select_related(
        "flow", "group", "flow_version"
    ).prefetch_related("also_groups", "excluded_groups", "rules")
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    permission_codes = {
        "suspend": "campaigns.suspend_campaign",
        "resume": "campaigns.resume_campaign",
        "finish": "campaigns.end_campaign",
        "runs": "campaigns.view_campaignrun",
    }

    def get_object(self) -> Campaign:
        campaign: Campaign = found_by_id(
            self.get_queryset(), self.kwargs.get("pk"), "campaign"
        )
        return campaign

    def _answer(self, campaign: Campaign, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=campaign.pk)
        return Response(CampaignSerializer(fresh).data, status=code)

    @extend_schema(summary="List and search campaigns")
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="Get a campaign")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Create a campaign",
        description="Checked as the console's campaign form checks it; it is "
        "pending until its start.",
        request=CampaignWriteSerializer,
        responses={201: CampaignSerializer},
    )
    def create(self, request: Request) -> Response:
        given = CampaignWriteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        values: dict[str, Any] = dict(given.validated_data)
        conditions = conditions_checked(values.pop("conditions", []))
        form = CampaignForm(data=form_data(values))
        if not form.is_valid():
            raise exceptions.ValidationError(form_problems(form))
        fields = {
            name: form.cleaned_data[name]
            for name in (*EDITABLE_FIELDS, "also_groups", "excluded_groups")
        }
        try:
            with refused_as_conflict():
                campaign = campaign_create(
                    actor=request.user,  # type: ignore[arg-type]
                    rules=conditions,
                    **fields,
                )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(refusal_problems(exc)) from None
        return self._answer(campaign, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Suspend a campaign in progress",
        description="No further run starts until it is resumed; journeys on the "
        "flow wait where they are. 409 with the reason when it is not in progress.",
        request=None,
        responses={200: CampaignSerializer},
    )
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str) -> Response:
        campaign = self.get_object()
        with refused_as_conflict():
            campaign_suspend(campaign=campaign, actor=request.user)  # type: ignore[arg-type]
        return self._answer(campaign)

    @extend_schema(
        summary="Resume a suspended campaign",
        description="It is pending until its new start. 409 with the reason when it "
        "is not suspended or the start is not later than now and before its end.",
        request=ResumeSerializer,
        responses={200: CampaignSerializer},
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        campaign = self.get_object()
        given = ResumeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with refused_as_conflict():
            campaign_resume(
                campaign=campaign,
                start_at=given.validated_data["start_at"],
                actor=request.user,  # type: ignore[arg-type]
            )
        return self._answer(campaign)

    @extend_schema(
        summary="Finish a campaign (cannot be undone)",
        description="Its open journeys end and its unsent messages are cancelled. "
        "409 with the reason when it has ended, or is a bulk message already sent.",
        request=None,
        responses={200: CampaignSerializer},
    )
    @action(detail=True, methods=["post"])
    def finish(self, request: Request, pk: str) -> Response:
        campaign = self.get_object()
        with refused_as_conflict():
            campaign_end(campaign=campaign, actor=request.user)  # type: ignore[arg-type]
        return self._answer(campaign)

    @extend_schema(
        summary="The campaign's runs, with their message counts",
        responses=RunSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"])
    def runs(self, request: Request, pk: str) -> Response:
        campaign = found_by_id(Campaign.objects.only("pk"), pk, "campaign")
        runs: QuerySet[CampaignRun] = CampaignRun.objects.filter(campaign=campaign)
        page = self.paginate_queryset(runs)  # type: ignore[arg-type]
        assert page is not None
        return self.get_paginated_response(runs_answer(list(page)))

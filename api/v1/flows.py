"""/api/v1/flows: the published flows, each with its published version and that
version's steps in brief. Flows are built and published in the console."""

from typing import Any

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, mixins, serializers, viewsets

from flows.models import Flow, FlowStep

from .base import id_given

StepSummarySerializer = type(
    "FlowStepSummary",
    (serializers.Serializer,),
    {
        "position": serializers.IntegerField(help_text="Steps run by position."),
        "kind": serializers.ChoiceField(choices=FlowStep.Kind.choices),
        "channel": serializers.IntegerField(
            allow_null=True,
            help_text="Send steps: the channel's id (wait-for-a-reply steps: the "
            "channel the reply comes on); else null.",
        ),
    },
)


class FlowSerializer(serializers.ModelSerializer[Flow]):
    version = serializers.SerializerMethodField(
        help_text="The number of the published version: what a new campaign or a "
        "start sends."
    )
    published_at = serializers.SerializerMethodField()
    steps = serializers.SerializerMethodField(
        help_text="The published version's steps, by position."
    )

    class Meta:
        model = Flow
        fields = [
            "id",
            "name",
            "description",
            "trigger",
            "event_name",
            "status",
            "version",
            "published_at",
            "has_draft_changes",
            "steps",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_version(self, flow: Flow) -> int | None:
        version = flow.current_version
        return version.number if version is not None else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_published_at(self, flow: Flow) -> Any:
        version = flow.current_version
        if version is None:
            return None
        return serializers.DateTimeField().to_representation(version.published_at)

    @extend_schema_field(StepSummarySerializer(many=True))
    def get_steps(self, flow: Flow) -> list[dict[str, Any]]:
        version = flow.current_version
        steps = version.steps if version is not None else []
        return [
            {
                "position": step["position"],
                "kind": step["kind"],
                "channel": step.get("channel_id"),
            }
            for step in sorted(steps, key=lambda step: step["position"])
        ]


class FlowFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(
        lookup_expr="icontains", help_text="Part of the name."
    )
    trigger = django_filters.ChoiceFilter(
        choices=Flow.Trigger.choices, help_text="How contacts enter the flow."
    )

    class Meta:
        model = Flow
        fields: list[str] = []


@extend_schema(tags=["flows"])
class FlowViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Flow]
):
    """Published flows (drafts and archived flows are the console's)."""

    queryset = Flow.objects.filter(
        status=Flow.Status.PUBLISHED, current_version__isnull=False
    ).select_related("current_version")
    serializer_class = FlowSerializer
    filterset_class = FlowFilter

    def get_object(self) -> Flow:
        key = str(self.kwargs.get("pk", ""))
        number = id_given(key)
        found = self.get_queryset().filter(pk=number).first() if number else None
        if found is None:
            raise exceptions.NotFound(f"No published flow has the id {key}.")
        return found

    @extend_schema(summary="List the published flows")
    def list(self, *args: Any, **kwargs: Any) -> Any:
        return super().list(*args, **kwargs)

    @extend_schema(summary="Get a published flow")
    def retrieve(self, *args: Any, **kwargs: Any) -> Any:
        return super().retrieve(*args, **kwargs)

"""/api/v1/runs/{id} (and a campaign's runs, /api/v1/campaigns/{id}/runs): one run
per schedule slot, with its messages counted by status as the console counts them
(campaigns.monitoring: live for small runs still sending, stored for big ones, plus
those pruned after the retention period)."""

from collections import Counter
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.models import CampaignRun
from campaigns.monitoring import COLUMNS, STATUSES, counts_by_run

from .base import found_by_id

# "To send", "Sent", ...: the console's run columns, as keys.
TOTALS = [(label.lower().replace(" ", "_"), statuses) for label, statuses in COLUMNS]

CountsSerializer = type(
    "RunCounts",
    (serializers.Serializer,),
    {
        status: serializers.IntegerField(help_text=label)
        for status, label, _ in STATUSES
    },
)
TotalsSerializer = type(
    "RunTotals",
    (serializers.Serializer,),
    {
        key: serializers.IntegerField(help_text=" + ".join(statuses))
        for key, statuses in TOTALS
    },
)


class RunSerializer(serializers.ModelSerializer[CampaignRun]):
    """Read with the counts of its page in the context (``counts``: by run id)."""

    status_label = serializers.CharField(source="get_status_display")
    skip_reason = serializers.CharField(
        help_text="Why a skipped run was skipped; empty for the others."
    )
    opted_out = serializers.IntegerField(
        source="skipped", help_text="Contacts left out because they opted out."
    )
    counts = serializers.SerializerMethodField(
        help_text="Its messages by status (sending: claimed by a worker)."
    )
    totals = serializers.SerializerMethodField(
        help_text="The counts as the console's run columns add them up."
    )

    class Meta:
        model = CampaignRun
        fields = [
            "id",
            "campaign",
            "scheduled_for",
            "status",
            "status_label",
            "skip_reason",
            "recipients",
            "messages_created",
            "opted_out",
            "started_at",
            "finished_at",
            "stalled_since",
            "counted_at",
            "counts",
            "totals",
        ]
        read_only_fields = fields

    def _counts(self, run: CampaignRun) -> Counter[str]:
        return Counter(self.context.get("counts", {}).get(run.pk, {}))

    @extend_schema_field(CountsSerializer)
    def get_counts(self, run: CampaignRun) -> dict[str, int]:
        counts = self._counts(run)
        return {status: counts[status] for status, _, _ in STATUSES}

    @extend_schema_field(TotalsSerializer)
    def get_totals(self, run: CampaignRun) -> dict[str, int]:
        counts = self._counts(run)
        return {
            key: sum(counts[status] for status in statuses) for key, statuses in TOTALS
        }


def runs_answer(runs: list[CampaignRun]) -> list[dict[str, Any]]:
    """The runs as the API shows them, counted together (two queries)."""
    counts = {row.run.pk: row.counts for row in counts_by_run(runs)}
    return list(RunSerializer(runs, many=True, context={"counts": counts}).data)


@extend_schema(tags=["campaigns"])
class RunViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet[CampaignRun]):
    """A campaign's runs: one per schedule slot."""

    queryset = CampaignRun.objects.all()
    serializer_class = RunSerializer

    @extend_schema(summary="Get a run with its message counts")
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        run = found_by_id(self.get_queryset(), self.kwargs.get("pk"), "run")
        return Response(runs_answer([run])[0])

"""Campaign runs hand their messages and journeys to a batch (messaging) and a cohort
(flows), so that neither table points up at the runs any more.

Each run that made journeys gets a batch and a cohort with its own id: the messages'
run_id and the journeys' run_id already hold the right value, and the next
migrations of messaging and flows only rename those columns, without rewriting
millions of rows. Journeys and messages of flows entered without a run (events,
audience schedules) get the entries cohort and batch of their flow version.
"""

from django.core.management.color import no_style
from django.db import migrations, models
from django.utils import timezone

UNSENT = ("queued", "deferred")
CHUNK = 1000


def _templates(version):
    label = f"{version.flow.name} v{version.number}"
    return {
        str(step["id"]): {
            "body": step.get("body") or "",
            "media_url": step.get("media_url") or "",
            "label": f"step {step['position']} of {label}",
        }
        for step in version.steps
        if step.get("kind") == "send"
    }


def _reset_sequences(schema_editor, *models_):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models_)):
            cursor.execute(sql)


def runs_to_cohorts(apps, schema_editor):
    CampaignRun = apps.get_model("campaigns", "CampaignRun")
    Batch = apps.get_model("messaging", "Batch")
    Cohort = apps.get_model("flows", "Cohort")
    FlowVersion = apps.get_model("flows", "FlowVersion")
    Journey = apps.get_model("flows", "Journey")
    Message = apps.get_model("messaging", "Message")
    now = timezone.now()
    versions = {}

    def version(pk):
        if pk not in versions:
            versions[pk] = FlowVersion.objects.select_related("flow").get(pk=pk)
        return versions[pk]

    runs = (
        CampaignRun.objects.exclude(status="skipped")
        .select_related("campaign")
        .order_by("pk")
    )
    batches, cohorts = [], []
    for run in runs.iterator(chunk_size=CHUNK):
        campaign = run.campaign
        over = run.status != "running"  # a run's messages went out only while running
        batches.append(
            Batch(
                id=run.pk,
                name=f"{campaign.name} @ {run.scheduled_for:%Y-%m-%d %H:%M}"[:200],
                templates=_templates(version(run.flow_version_id)),
                sender_name=campaign.sender_name,
                reply_to=campaign.reply_to,
                active_from=campaign.active_from,
                active_until=campaign.active_until,
                timezone=campaign.timezone,
                hours_of="the campaign's",
                tags={"run": run.pk},
                stopped_at=now if over else None,
                stop_reason=(
                    "campaign ended" if run.status == "cancelled" else "run over"
                )
                if over
                else "",
                pruned_counts=run.pruned_counts,
            )
        )
        cohorts.append(
            Cohort(
                id=run.pk,
                batch_id=run.pk,
                flow_version_id=run.flow_version_id,
                held=campaign.status != "in_progress",
            )
        )
        if len(batches) >= CHUNK:
            Batch.objects.bulk_create(batches)
            Cohort.objects.bulk_create(cohorts)
            batches, cohorts = [], []
    Batch.objects.bulk_create(batches)
    Cohort.objects.bulk_create(cohorts)
    runs.update(cohort_id=models.F("pk"))
    # Rows were written with chosen ids: the next new ones must come after them.
    _reset_sequences(schema_editor, Batch, Cohort)

    # Flows entered without a run: one entries cohort and batch per version.
    runless = Journey.objects.filter(run__isnull=True)
    for version_id in runless.values_list("flow_version_id", flat=True).distinct():
        found = version(version_id)
        archived = found.flow.status == "archived"
        batch = Batch.objects.create(
            name=f"{found.flow.name} v{found.number}: event and audience entries",
            templates=_templates(found),
            tags={"flow": found.flow_id},
            stopped_at=now if archived else None,
            stop_reason="flow archived" if archived else "",
        )
        cohort = Cohort.objects.create(
            batch=batch, flow_version_id=version_id, for_entries=True
        )
        journeys = runless.filter(flow_version_id=version_id)
        messages = Message.objects.filter(
            run__isnull=True, journey_id__in=journeys.values("pk")
        )
        # Only what is still to send reads its event's properties from now on.
        messages.filter(status__in=UNSENT).update(
            context=models.Subquery(
                Journey.objects.filter(pk=models.OuterRef("journey_id")).values(
                    "context"
                )[:1]
            )
        )
        messages.update(run_id=batch.pk)
        journeys.update(run_id=cohort.pk)

    # Messages of neither a run nor a journey (written before journeys existed, or
    # left by a journey deleted under them): kept, in a batch that sends nothing.
    orphans = Message.objects.filter(run__isnull=True)
    if orphans.exists():
        batch = Batch.objects.create(
            name="Messages written before batches",
            stopped_at=now,
            stop_reason="written before batches",
        )
        orphans.update(run_id=batch.pk)


def cohorts_to_runs(apps, schema_editor):
    CampaignRun = apps.get_model("campaigns", "CampaignRun")
    Batch = apps.get_model("messaging", "Batch")
    Cohort = apps.get_model("flows", "Cohort")
    Journey = apps.get_model("flows", "Journey")
    Message = apps.get_model("messaging", "Message")
    runs = CampaignRun.objects.values("pk")
    Message.objects.exclude(run_id__in=runs).update(run=None)
    Journey.objects.exclude(run_id__in=runs).update(run=None)
    for batch in Batch.objects.filter(pk__in=runs).exclude(pruned_counts={}):
        CampaignRun.objects.filter(pk=batch.pk).update(
            pruned_counts=batch.pruned_counts
        )
    CampaignRun.objects.update(cohort=None)
    Cohort.objects.all().delete()
    Batch.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ('campaigns', '0008_campaignrun_cohort'),
        ('flows', '0008_cohort'),
        ('messaging', '0008_batch'),
    ]

    operations = [
        migrations.RunPython(runs_to_cohorts, cohorts_to_runs),
    ]

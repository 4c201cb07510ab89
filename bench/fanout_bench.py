"""Fan-out and dispatch of one campaign run, on PostgreSQL.

Prints rows/s for the run's fan-out (journeys, then one INSERT ... SELECT per send step)
next to a
Django bulk_create of the same rows and a raw COPY into a bare table, then the dispatch
rate of the console channel in one process.

    python bench/fanout_bench.py [--contacts 200000] [--dispatch 50000]
"""

import argparse
import datetime as dt
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.services import peak_rss_mb, postgres_url, setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--dispatch", type=int, default=50_000)
    args = parser.parse_args()
    with postgres_url() as url:
        setup_django(url)
        run(args.contacts, args.dispatch)


def run(contacts: int, dispatch: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from audiences.models import AudienceGroup, Contact, Membership
    from campaigns.lifecycle import campaign_transition
    from campaigns.models import Campaign
    from campaigns.runs import campaign_tick
    from flows.models import Flow, FlowStep, Journey
    from flows.publishing import flow_publish
    from messaging.dispatch import id_ranges, messages_send_range
    from messaging.models import Channel, Message

    print(f"PostgreSQL fan-out of one run to {contacts:,} contacts")
    started = time.perf_counter()
    group = AudienceGroup.objects.create(name="Bench group")
    rows = io.StringIO()
    now = timezone.now().isoformat()
    for n in range(contacts):
        rows.write(
            f'+52155{n:08d}\tBench {n}\t\t{{"NOMBRE": "B{n}"}}\t{now}\t{now}\t\n'
        )
    with connection.cursor() as cursor:
        copy_sql = (
            f"COPY {Contact._meta.db_table} "
            "(phone, name, email, data, created_at, updated_at, opt_out_source) "
            "FROM STDIN"
        )
        with cursor.copy(copy_sql) as copy:
            copy.write(rows.getvalue())
        cursor.execute(
            f"INSERT INTO {Membership._meta.db_table} (group_id, contact_id, added_at) "
            f"SELECT %s, id, now() FROM {Contact._meta.db_table}",
            [group.pk],
        )
        cursor.execute("ANALYZE")
    print(
        f"  setup (COPY contacts + memberships): {time.perf_counter() - started:.1f} s"
    )

    channel = Channel.objects.create(name="Console", kind="console")
    flow = Flow.objects.create(name="Bench flow")
    FlowStep.objects.create(
        flow=flow, position=1, channel=channel, body="Hola {{NOMBRE}}"
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    flow_publish(flow=flow)
    start = timezone.now() + dt.timedelta(hours=1)
    campaign = Campaign(
        name="Bench",
        flow=flow,
        group=group,
        start_at=start,
        end_at=start + dt.timedelta(days=1),
        schedule="daily",
        flow_version=flow.current_version,
    )
    campaign.save()
    Campaign.objects.filter(pk=campaign.pk).update(
        start_at=timezone.now() - dt.timedelta(minutes=5)
    )
    campaign.refresh_from_db()
    campaign_transition(campaign=campaign, to="in_progress")

    t0 = time.perf_counter()
    run = campaign_tick(campaign_id=campaign.pk)
    fanout = time.perf_counter() - t0
    assert run is not None
    assert run.messages_created == contacts
    fanout_rate = contacts / fanout

    # Baseline 1: Django bulk_create of the same rows, batches of 5,000.
    contact_ids = list(Contact.objects.order_by("id").values_list("id", flat=True))
    Message.objects.filter(run=run).delete()
    t0 = time.perf_counter()
    Message.objects.bulk_create(
        (
            Message(run=run, contact_id=cid, step=1, channel=channel, status="queued")
            for cid in contact_ids
        ),
        batch_size=5000,
    )
    bulk = time.perf_counter() - t0
    Message.objects.filter(run=run).delete()

    # Baseline 2: raw COPY of the same columns into a bare table (no indexes).
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bare_message (run_id bigint, contact_id bigint, "
            "step int, channel_id bigint, status text, created_at timestamptz)"
        )
        data = "".join(
            f"{run.pk}\t{cid}\t1\t{channel.pk}\tqueued\t{now}\n" for cid in contact_ids
        )
        t0 = time.perf_counter()
        with cursor.copy("COPY bare_message FROM STDIN") as copy:
            copy.write(data)
        raw = time.perf_counter() - t0

    print(
        f"  run fan-out (INSERT ... SELECT): {fanout:6.2f} s  "
        f"{fanout_rate:>9,.0f} rows/s  (a journey and a message per contact)"
    )
    print(
        f"  Django bulk_create baseline:     {bulk:6.2f} s  "
        f"{contacts / bulk:>9,.0f} rows/s"
        f"  (fan-out is {bulk / fanout:.1f}x faster)"
    )
    print(
        f"  raw COPY into a bare table:      {raw:6.2f} s  "
        f"{contacts / raw:>9,.0f} rows/s"
        f"  (fan-out reaches {raw / fanout:.0%} of it)"
    )

    # Dispatch: a fresh run of `dispatch` messages, sent in-process in 500-id ranges.
    Message.objects.all().delete()
    Journey.objects.all().delete()
    Membership.objects.filter(contact_id__gt=contact_ids[dispatch - 1]).delete()
    later = timezone.now() + dt.timedelta(days=1)
    Campaign.objects.filter(pk=campaign.pk).update(end_at=later + dt.timedelta(days=1))
    run = campaign_tick(campaign_id=campaign.pk, now=later)
    assert run is not None
    ids = list(
        Message.objects.filter(run=run).order_by("id").values_list("id", flat=True)
    )
    t0 = time.perf_counter()
    sent = 0
    for first, last in id_ranges(ids, 500):
        sent += messages_send_range(run_id=run.pk, first_id=first, last_id=last).sent
    elapsed = time.perf_counter() - t0
    assert sent == len(ids) == Message.objects.filter(status="sent").count()
    print(
        f"  dispatch, console channel, 1 process: {sent:,} messages in {elapsed:.1f} s"
        f"  = {sent / elapsed:,.0f} messages/s"
    )
    print(f"  peak RSS of this process: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()

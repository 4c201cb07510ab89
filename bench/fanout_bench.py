"""One campaign run on PostgreSQL and Redis: creating its messages, and sending them.

Builds a group of --contacts contacts (1,000,000 by default), then prints
  - the time to create the run's messages (the run's journeys first, then one
    INSERT … SELECT per send step) next to a raw INSERT … SELECT of the same rows into
    a bare table, and Django's bulk_create of a slice for scale;
  - the end-to-end send rate through a no-op backend with --workers Celery worker
    processes on Redis, and each worker's memory over the run.
The last line holds the two ratios. PostgreSQL and Redis come from DATABASE_URL /
CELERY_BROKER_URL, or are throwaway servers started here.

    python bench/fanout_bench.py [--contacts 1000000] [--workers 2]
"""

import argparse
import datetime as dt
import io
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.services import ROOT, postgres_url, redis_url, setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    for name, kind, text in (
        ("--suppressed", int, "put this many numbers on the suppression list"),
        ("--capped", int, "turn on a frequency cap of 3 messages per 7 days, and give "
         "this many contacts 3 messages sent in the last days (theirs is held)"),
        ("--cap", bool, "turn on the cap with nobody at it (what checking it costs, "
         "on a messages table as empty as without it)"),
    ):  # fmt: skip
        if kind is bool:
            parser.add_argument(name, action="store_true", help=text)
        else:
            parser.add_argument(name, type=int, default=0, help=text)
    args = parser.parse_args()
    if args.cap and not args.capped:
        args.capped = -1  # the cap, no history
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    with postgres_url() as db, redis_url() as broker:
        setup_django(db, broker)
        run(args.contacts, args.workers, db, broker, args.suppressed, args.capped)


def build_group(contacts: int, suppressed: int = 0) -> tuple[int, float]:
    from django.db import connection
    from django.utils import timezone

    from audiences.addresses import phone_key
    from audiences.models import AudienceGroup, Contact, Membership, Suppression

    started = time.perf_counter()
    group = AudienceGroup.objects.create(name="Bench group")
    rows = io.StringIO()
    now = timezone.now().isoformat()
    keys = io.StringIO()
    for n in range(contacts):
        phone = f"+52155{n:08d}"
        key = phone_key(phone)
        rows.write(
            f'{phone}\tBench {n}\t\t{{"NOMBRE": "B{n}"}}\t{now}\t{now}\t\t{key}\n'
        )
        # Every tenth contact, up to ``suppressed`` of them.
        if n % 10 == 0 and n // 10 < suppressed:
            keys.write(f"phone\t{key}\t{phone[-4:]}\tbench\tstop\t{now}\n")
    with connection.cursor() as cursor:
        with cursor.copy(
            f"COPY {Contact._meta.db_table} "
            "(phone, name, email, data, created_at, updated_at, opt_out_source, "
            "phone_key) FROM STDIN"
        ) as copy:
            copy.write(rows.getvalue())
        with cursor.copy(
            f"COPY {Suppression._meta.db_table} "
            "(address_kind, key, hint, source, reason, created_at) FROM STDIN"
        ) as copy:
            copy.write(keys.getvalue())
        cursor.execute(
            f"INSERT INTO {Membership._meta.db_table} (group_id, contact_id, added_at) "
            f"SELECT %s, id, now() FROM {Contact._meta.db_table} ORDER BY id",
            [group.pk],
        )
        cursor.execute("VACUUM ANALYZE")
    return group.pk, time.perf_counter() - started


def cap_with_history(capped: int, channel_id: int) -> None:
    """Turn on a cap of 3 messages per 7 days, and give ``capped`` contacts (every
    tenth, from the second: none of them suppressed) 3 marketing messages sent in
    the last days, in a batch of their own."""
    from django.db import connection

    from audiences.models import Contact
    from messaging.caps import FrequencyCap
    from messaging.models import Batch, Message

    FrequencyCap.objects.create(messages=3, days=7)
    if not capped:
        return
    earlier = Batch.objects.create(name="Earlier campaign", templates={})
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Message._meta.db_table}
                (batch_id, contact_id, step, channel_id, status, attempts, body,
                 created_at, sent_at, error, provider_id, reported_status)
            SELECT %s, c.id, n, %s, 'sent', 1, 'earlier', now() - interval '2 days',
                   now() - make_interval(days => n), '', '', ''
            FROM (SELECT id FROM {Contact._meta.db_table} WHERE id %% 10 = 2
                  ORDER BY id LIMIT %s) c
            CROSS JOIN generate_series(1, 3) n
            """,
            [earlier.pk, channel_id, capped],
        )
        cursor.execute("VACUUM ANALYZE")


def raw_insert_select(group_id: int, channel_id: int, *, indexed: bool) -> float:
    """The same rows, INSERT … SELECT straight from the group: into a copy of the
    messages table with its indexes and fill factor (``indexed``), or into a bare
    table."""
    from django.db import connection

    from audiences.models import Contact, Membership
    from messaging.models import Message

    shape = "INCLUDING ALL" if indexed else "INCLUDING DEFAULTS INCLUDING IDENTITY"
    table = Message._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE raw_message (LIKE {table} {shape})")
        if indexed:  # the same shape: LIKE does not copy the fill factor
            cursor.execute(
                "SELECT coalesce(reloptions, '{}') FROM pg_class WHERE relname = %s",
                [table],
            )
            for option in cursor.fetchone()[0]:
                cursor.execute(f"ALTER TABLE raw_message SET ({option})")
        started = time.perf_counter()
        cursor.execute(
            f"""
            INSERT INTO raw_message
                (batch_id, journey_id, contact_id, step, channel_id, status,
                 attempts, body, error, provider_id, created_at, reported_status)
            SELECT 1, c.id, c.id, 1, %s,
                   CASE WHEN c.opted_out_at IS NULL THEN 'queued' ELSE 'skipped' END,
                   0, '', '', '', now(), ''
            FROM {Membership._meta.db_table} m
            JOIN {Contact._meta.db_table} c ON c.id = m.contact_id
            WHERE m.group_id = %s ORDER BY c.id
            """,
            [channel_id, group_id],
        )
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE raw_message")
    return elapsed


def start_workers(count: int, db: str, broker: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": db,
        "CELERY_BROKER_URL": broker,
        "LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--concurrency={count}",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=0.5)
        if replies:
            return worker
    worker.kill()
    raise SystemExit("the Celery workers did not start")


def cpu_snapshot(worker_pid: int, postmaster_pid: int) -> dict[str, float]:
    """CPU seconds used so far: by the machine (busy time of all cores), by the
    Celery worker and its pool, and by PostgreSQL's live processes."""
    import psutil  # type: ignore[import-untyped]

    def used(pid: int) -> float:
        try:
            parent = psutil.Process(pid)
            total = 0.0
            for process in [parent, *parent.children(recursive=True)]:
                times = process.cpu_times()
                total += times.user + times.system
            return total
        except psutil.NoSuchProcess:
            return 0.0

    machine = psutil.cpu_times()
    busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
    return {
        "machine": busy,
        "workers": used(worker_pid),
        "postgres": used(postmaster_pid),
    }


def run(
    contacts: int, workers: int, db: str, broker: str, suppressed: int, capped: int
) -> None:
    import psutil
    from django.db import connection
    from django.utils import timezone

    from campaigns.lifecycle import campaign_transition
    from campaigns.models import Campaign
    from campaigns.runs import campaign_tick
    from flows import engine
    from flows.models import Flow, FlowStep
    from flows.publishing import flow_publish
    from messaging import queueing
    from messaging.models import Channel, Message

    print(f"One campaign run to {contacts:,} contacts (PostgreSQL + Redis)")
    group_id, setup = build_group(contacts, suppressed)
    print(f"  setup (COPY contacts + memberships): {setup:.1f} s")
    if suppressed:
        print(f"  {suppressed:,} numbers on the suppression list (every tenth contact)")
    channel = Channel.objects.create(name="No-op", kind="console")
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
        group_id=group_id,
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
    if capped:
        cap_with_history(max(capped, 0), channel.pk)
        print(
            f"  frequency cap 3 per 7 days; {max(capped, 0):,} contacts (every "
            "tenth, from the second) had 3 messages in the last days: theirs is held"
        )

    bare = raw_insert_select(group_id, channel.pk, indexed=False)
    raw = raw_insert_select(group_id, channel.pk, indexed=True)
    # Time the messages' INSERT … SELECT inside the run, and keep its dispatch for
    # later, when the workers are up.
    insert_time = [0.0]
    real_insert = engine.messages_write

    def timed_insert(**kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return real_insert(**kwargs)
        finally:
            insert_time[0] += time.perf_counter() - t0

    engine.messages_write = timed_insert
    engine.send_range_on_commit = lambda **_: None
    t0 = time.perf_counter()
    run = campaign_tick(campaign_id=campaign.pk)
    tick = time.perf_counter() - t0
    assert run is not None
    assert run.cohort is not None
    assert run.messages_created == contacts
    skipped = Message.objects.filter(status="skipped").count()
    if suppressed:
        print(f"  skipped as suppressed: {skipped:,}")
    batch_id = run.cohort.batch_id
    messages = insert_time[0]
    for label, seconds, unit in (
        ("raw INSERT … SELECT, bare table", bare, "rows"),
        ("raw INSERT … SELECT, messages' indexes", raw, "rows"),
        ("the run's messages (INSERT … SELECT)", messages, "rows"),
        ("the whole run (journeys + messages)", tick, "contacts"),
    ):
        print(f"  {label:<40} {seconds:6.2f} s {contacts / seconds:>10,.0f} {unit}/s")

    worker = start_workers(workers, db, broker)
    try:
        children = psutil.Process(worker.pid).children()
        rss: dict[int, list[float]] = {c.pid: [] for c in children}
        bounds = Message.objects.filter(batch_id=batch_id).values_list("pk", flat=True)
        low, high = bounds.order_by("pk").first(), bounds.order_by("-pk").first()
        assert low is not None
        assert high is not None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            postmaster = psutil.Process(cursor.fetchone()[0]).parent()
        cpu_before = cpu_snapshot(worker.pid, postmaster.pid)
        t0 = time.perf_counter()
        tasks = queueing.send_range(batch_id=batch_id, low=low, high=high)
        # Held by the cap, a message waits for days: the run is over when none
        # is left that is due now (asked as two cheap EXISTS: one on the queued
        # rows, one on the deferred ones due soon, by their pending index).
        queued = Message.objects.filter(batch_id=batch_id, status="queued")
        due_soon = Message.objects.filter(
            batch_id=batch_id,
            status="deferred",
            not_before__lte=timezone.now() + dt.timedelta(minutes=30),
        )
        sampled = 0.0
        # Watch for the last unsent message five times a second with an EXISTS (the
        # first live entry of the run's status index): counting what is left would
        # read up to a million rows a second and take a core's share from the workers.
        watching = 0.0  # seconds spent asking
        while time.perf_counter() - t0 < 900:
            asked = time.perf_counter()
            left = queued.exists() or due_soon.exists()
            watching += time.perf_counter() - asked
            if not left:
                break
            time.sleep(0.2)
            if time.perf_counter() - sampled >= 1:
                sampled = time.perf_counter()
                for child in children:
                    rss[child.pid].append(child.memory_info().rss / 2**20)
        elapsed = time.perf_counter() - t0
        cpu_after = cpu_snapshot(worker.pid, postmaster.pid)
        sent = Message.objects.filter(batch_id=batch_id, status="sent").count()
        held = Message.objects.filter(batch_id=batch_id, status="deferred").count()
        skipped = Message.objects.filter(batch_id=batch_id, status="skipped").count()
    finally:
        worker.terminate()
        worker.wait(30)
    rate = sent / elapsed
    print(
        f"  sending, no-op backend, {workers} workers: {sent:,} messages "
        f"({tasks:,} tasks) in {elapsed:.1f} s = {rate:,.0f} messages/s"
        f" (watching for the end took {watching / elapsed:.1%} of that time); "
        f"{held:,} held by the cap, {skipped:,} skipped (suppressed); all handled "
        f"at {(sent + held + skipped) / elapsed:,.0f} messages/s"
    )
    cores = os.cpu_count() or 1
    used = {key: cpu_after[key] - cpu_before[key] for key in cpu_after}
    others = used["machine"] - used["workers"] - used["postgres"]
    micro = 1e6 / max(sent, 1)
    print(
        f"    CPU while sending: {used['machine'] / elapsed / cores:.0%} of {cores} "
        f"cores busy; per message: workers {used['workers'] * micro:.0f} µs, "
        f"PostgreSQL {used['postgres'] * micro:.0f} µs (its processes alive at the "
        f"end), everything else {others * micro:.0f} µs"
    )
    for pid, samples in rss.items():
        if samples:
            print(
                f"    worker {pid}: RSS {samples[0]:.0f} MB at the start, "
                f"{max(samples):.0f} MB at most, {samples[-1]:.0f} MB at the end"
            )
    print(
        f"Ratios: creating messages runs at {raw / messages:.0%} of a raw INSERT … "
        f"SELECT into the same indexes ({bare / messages:.0%} of one into a bare "
        f"table; target ≥ 50%); sending at {rate / 20000:.0%} of 20,000 messages/s "
        "with 2 workers (target ≥ 100%)."
    )


if __name__ == "__main__":
    main()

"""The admin console on big tables: server time and query count of every page.

Builds a realistic installation set-wise in PostgreSQL (--contacts contacts, 1,000,000
by default, and about --messages messages, 5,000,000, over a few hundred campaign runs
with their journeys; groups big and tiny, flows, campaigns in every status, replies,
imports, API tokens), signs in a superuser and requests, for every model registered in
the admin: the changelist, a search (by phone where the admin searches phones), each
filter choice, a date drill-down, the column sorts of the big tables, page 2, the add
page, the change and history pages of a big and of a small object, the delete page of
the small one, the GET pages of the admin's own URLs and object actions, and the
autocomplete searches; plus the index and each app's page.

Each page is requested once to warm up, once to count its queries, then --repeat times
to time it (in-process, so server time without the network; twice when it is slow).
Prints, per page, the median time, the queries and the HTTP status, with flags: over
300 ms, not 200, a changelist whose query count changes with the rows it shows (1 row
per page, a full page, page 2), a change page whose query count differs between a big
and a small object, and a search whose plan scans a big table. The last line sums it
up. PostgreSQL comes from DATABASE_URL or is a throwaway server started here.

    python bench/admin_bench.py [--contacts 1000000] [--messages 5000000] [--repeat 5]
        [--skip-build] [--explain] [--only TEXT]
"""

import argparse
import datetime as dt
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.services import postgres_url, setup_django  # noqa: E402

BUDGET_MS = 300.0
BIG_TABLE = 100_000  # rows: a table this big gets its column sorts timed
SLOW_FIRST_S = 3.0  # a page slower than this on its first request is timed twice
SMALL_GROUPS = 10
TINY_GROUPS = 3000
SMALL_CAMPAIGNS = 40
PENDING_CAMPAIGNS = 8
SMALL_RUNS = 250
FIRST_NAMES = [
    "María", "José", "Juan", "Guadalupe", "Luis", "Ana", "Carlos", "Rosa",
    "Miguel", "Laura", "Jorge", "Carmen", "Pedro", "Sofía", "Diego", "Lucía",
]  # fmt: skip
LAST_NAMES = [
    "García", "Hernández", "López", "Martínez", "González", "Pérez", "Rodríguez",
    "Sánchez", "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes",
    "Jiménez", "Torres",
]  # fmt: skip
ERRORS = [
    "21610: Attempt to send to unsubscribed recipient",
    "30003: Unreachable destination handset",
    "30005: Unknown destination handset",
    "provider timeout after 10 s (will not retry)",
]
# Message status by a per-row hash in 0..999: (upper bound, status), per kind of run.
STATUS_MIX = {
    "done": [(650, "delivered"), (930, "sent"), (1000, "failed")],
    "running": [
        (400, "delivered"),
        (600, "sent"),
        (640, "failed"),
        (720, "deferred"),
        (1000, "queued"),
    ],
    "cancelled": [
        (500, "delivered"),
        (700, "sent"),
        (740, "failed"),
        (1000, "cancelled"),
    ],
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--skip-build",
        action="store_true",
        help="use the data an earlier run left in $DATABASE_URL",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print EXPLAIN (ANALYZE, BUFFERS) of the slowest queries of slow pages",
    )
    parser.add_argument("--only", default="", help="only pages whose name has TEXT")
    args = parser.parse_args()
    # The test client's host; production settings otherwise (DEBUG off).
    os.environ["ALLOWED_HOSTS"] = "testserver"
    with (
        postgres_url() as db,
        tempfile.TemporaryDirectory(prefix="flowcast-static-") as static,
    ):
        os.environ["STATIC_ROOT"] = static
        setup_django(db)
        from django.core.management import call_command

        # The manifest the production static storage reads, as on a release.
        call_command("collectstatic", interactive=False, verbosity=0)
        if not args.skip_build:
            build(Sizes(args.contacts, args.messages))
        settle()
        run_pages(args)


def settle() -> None:
    """Store what beat's system tasks would have stored on a live installation: the
    message counts of big runs (campaigns.counting), which the console reads."""
    try:
        from campaigns.counting import runs_recount
    except ImportError:
        return
    started = time.perf_counter()
    counted = runs_recount(limit=1_000_000)
    print(
        f"Stored the counts of {counted} runs (campaigns.counting.runs_recount): "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )


# --- The data ---------------------------------------------------------------------


@dataclass
class Sizes:
    contacts: int
    messages: int

    @property
    def big_runs(self) -> int:
        """Runs to the whole base: about four fifths of the messages."""
        return max(1, self.messages * 4 // 5 // self.contacts)

    @property
    def small_size(self) -> int:
        """Members of a small group: the rest of the messages over the small runs."""
        rest = self.messages - self.big_runs * self.contacts
        return max(1, min(self.contacts // SMALL_GROUPS, rest // SMALL_RUNS))


def sql(statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def table(model: Any) -> str:
    return str(model._meta.db_table)


class Steps:
    """Prints how long each step of the build took."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()

    def done(self, what: str) -> None:
        now = time.perf_counter()
        print(f"  {what}: {now - self.last:.1f} s", flush=True)
        self.last = now

    def total(self) -> float:
        return time.perf_counter() - self.started


def build(sizes: Sizes) -> None:
    from audiences.models import Contact

    if Contact.objects.exists():
        raise SystemExit(
            "The database already has contacts: use --skip-build to reuse them, or "
            "an empty database."
        )
    print(
        f"Building {sizes.contacts:,} contacts and about "
        f"{sizes.big_runs * sizes.contacts + SMALL_RUNS * (sizes.small_size + 1):,} "
        f"messages ({sizes.big_runs} runs to everyone, {SMALL_RUNS} runs to groups of "
        f"{sizes.small_size:,})",
        flush=True,
    )
    steps = Steps()
    people = build_people()
    steps.done("users, channels, variables")
    build_contacts(sizes.contacts)
    steps.done(f"{sizes.contacts:,} contacts (INSERT … SELECT)")
    groups = build_groups(sizes)
    steps.done("groups and memberships")
    flows = build_flows(people["channels"], people["admin"])
    steps.done("flows, published through flow_publish")
    plans = build_campaigns(sizes, groups, flows)
    steps.done(
        f"{len(plans) + PENDING_CAMPAIGNS} campaigns (campaign_create, transitions)"
    )
    runs = build_runs(plans)
    journeys = messages = 0
    for number, run in enumerate(runs, 1):
        made = build_run_rows(run)
        journeys, messages = journeys + made[0], messages + made[1]
        if run.size > 100_000 or number == len(runs):
            steps.done(
                f"run {number}/{len(runs)} ({run.size:,} contacts); "
                f"{journeys:,} journeys and {messages:,} messages in all"
            )
    build_extras(people, groups, sizes.contacts)
    steps.done("replies, imports, API tokens")
    sql("VACUUM ANALYZE")
    steps.done("VACUUM ANALYZE")
    print(f"Build: {steps.total():.0f} s", flush=True)


def build_people() -> dict[str, Any]:
    from django.contrib.auth.models import Group, Permission, User

    from audiences.models import Variable
    from messaging.models import Channel

    admin = User.objects.create_superuser("admin", "admin@example.com", "bench-pass")
    operators = Group.objects.create(name="Operadores")
    operators.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["audiences", "campaigns", "flows"]
        )
    )
    Group.objects.create(name="Analistas")
    for name in ("operadora", "analista"):
        user = User.objects.create_user(name, f"{name}@example.com", "bench-pass")
        user.is_staff = True
        user.save()
        user.groups.add(operators)
    Variable.objects.bulk_create(
        [
            Variable(name="NOMBRE", kind=Variable.Kind.TEXT),
            Variable(name="MONTO", kind=Variable.Kind.NUMBER),
            Variable(name="FECHA", kind=Variable.Kind.DATE),
        ]
    )
    channels = {
        "sms": Channel.objects.create(
            name="SMS Twilio", kind="sms", settings={"from": "+15005550006"}
        ),
        "whatsapp": Channel.objects.create(
            name="WhatsApp negocio",
            kind="whatsapp",
            settings={"from": "+14155238886"},
            active_from=dt.time(8),
            active_until=dt.time(21),
            timezone="America/Mexico_City",
        ),
        "email": Channel.objects.create(name="Correo", kind="email"),
        "console": Channel.objects.create(name="Consola", kind="console"),
    }
    return {"admin": admin, "channels": channels}


def build_contacts(count: int) -> None:
    """Valid E.164 numbers as an import stores them (up to 7,999,999 contacts):
    mostly Mexican mobiles, some Colombian and US ones; a third with an email, one
    in fifty opted out, one in forty without MONTO."""
    from audiences.models import Contact

    sql(
        f"""
        INSERT INTO {table(Contact)}
            (phone, name, email, data, opted_out_at, opt_out_source, created_at,
             updated_at)
        SELECT
            CASE n %% 20
                WHEN 10 THEN '+57300' || lpad(n::text, 7, '0')
                WHEN 11 THEN '+1212' || (2000000 + n)::text
                ELSE '+5255' || lpad(n::text, 8, '0')
            END,
            CASE WHEN n %% 25 = 0 THEN '' ELSE first || ' ' || last END,
            CASE WHEN n %% 3 = 0 THEN 'cliente' || n || '@example.com' ELSE '' END,
            CASE WHEN n %% 40 = 0
                THEN jsonb_build_object('NOMBRE', first)
                ELSE jsonb_build_object(
                    'NOMBRE', first,
                    'MONTO', 100 + (n * 7919) %% 4901,
                    'FECHA',
                    to_char(date '2016-01-01' + (n %% 3000)::int, 'YYYY-MM-DD'))
            END,
            CASE WHEN n %% 50 = 7 THEN now() - n %% 300 * interval '1 day' END,
            CASE WHEN n %% 50 = 7 THEN 'reply STOP' ELSE '' END,
            now() - (%(count)s - n) * interval '1 second',
            now() - (%(count)s - n) * interval '1 second'
        FROM generate_series(1, %(count)s::bigint) n,
        LATERAL (SELECT (%(first)s::text[])[1 + n %% 16] AS first,
                        (%(last)s::text[])[1 + (n / 16) %% 17] AS last) names
        ORDER BY n
        """,
        {"count": count, "first": FIRST_NAMES, "last": LAST_NAMES},
    )


@dataclass
class Groups:
    everyone: Any
    small: list[Any]
    tiny: list[int]
    dynamic: Any
    first_contact: int


def build_groups(sizes: Sizes) -> Groups:
    """One group of everyone, small groups of consecutive contacts, thousands of tiny
    lists, a dynamic group; the first contact is in every small group and in forty
    lists."""
    from audiences.models import AudienceGroup, Contact, GroupRule, Membership

    low = Contact.objects.order_by("pk").values_list("pk", flat=True)[0]
    groups, members = table(AudienceGroup), table(Membership)
    everyone = AudienceGroup.objects.create(
        name="Todos los clientes", description="Cartera completa"
    )
    sql(
        f"INSERT INTO {members} (group_id, contact_id, added_at) "
        f"SELECT %s, id, now() FROM {table(Contact)} ORDER BY id",
        [everyone.pk],
    )
    small = []
    for index in range(SMALL_GROUPS):
        group = AudienceGroup.objects.create(
            name=f"Segmento {index + 1:02d}", description="Clientes por región"
        )
        small.append(group)
        sql(
            f"""
            INSERT INTO {members} (group_id, contact_id, added_at)
            SELECT %(group)s, %(low)s + (%(start)s + k) %% %(count)s, now()
            FROM generate_series(0, %(size)s - 1) k
            ON CONFLICT DO NOTHING
            """,
            {
                "group": group.pk,
                "low": low,
                "start": 1 + index * sizes.contacts // SMALL_GROUPS,
                "count": sizes.contacts,
                "size": sizes.small_size,
            },
        )
    tiny = [
        row[0]
        for row in sql(
            f"""
            INSERT INTO {groups} (name, description, kind, match, created_at)
            SELECT 'Lista ' || lpad(t::text, 4, '0'), 'Importada el ' ||
                   to_char(now() - t * interval '1 hour', 'YYYY-MM-DD'),
                   'static', 'all', now() - t * interval '1 hour'
            FROM generate_series(1, %s) t
            RETURNING id
            """,
            [TINY_GROUPS],
        )
    ]
    sql(
        f"""
        INSERT INTO {members} (group_id, contact_id, added_at)
        SELECT g, %(low)s + (g * 7919 + j * 104729) %% %(count)s, now()
        FROM unnest(%(tiny)s::bigint[]) g, generate_series(0, 4) j
        WHERE j < g %% 6
        ON CONFLICT DO NOTHING
        """,
        {"low": low, "count": sizes.contacts, "tiny": tiny},
    )
    sql(
        f"INSERT INTO {members} (group_id, contact_id, added_at) "
        "SELECT g, %s, now() FROM unnest(%s::bigint[]) g ON CONFLICT DO NOTHING",
        [low, [g.pk for g in small] + tiny[:40]],
    )
    dynamic = AudienceGroup.objects.create(
        name="Saldo alto (MONTO > 4000)", kind=AudienceGroup.Kind.DYNAMIC
    )
    GroupRule.objects.create(group=dynamic, field="MONTO", op="gt", value="4000")
    return Groups(everyone, small, tiny, dynamic, low)


def build_flows(channels: dict[str, Any], admin: Any) -> dict[str, Any]:
    """Flows built step by step and published with the real code."""
    from flows.models import Flow, FlowStep
    from flows.publishing import flow_archive, flow_publish

    def make(name: str, steps: list[dict[str, Any]], **fields: Any) -> Any:
        flow = Flow.objects.create(name=name, **fields)
        FlowStep.objects.bulk_create(
            FlowStep(flow=flow, position=n, **step) for n, step in enumerate(steps, 1)
        )
        return flow

    def send(channel: str, body: str) -> dict[str, Any]:
        return {"kind": "send", "channel": channels[channel], "body": body}

    end = {"kind": "end"}
    reminder = make(
        "Recordatorio de pago",
        [
            send("sms", "Hola {{NOMBRE}}, tu saldo de ${{MONTO}} vence pronto."),
            {"kind": "wait", "wait": dt.timedelta(days=1)},
            {
                "kind": "branch",
                "condition_field": "MONTO",
                "condition_op": "gt",
                "condition_value": "1000",
                "yes_step": 4,
                "no_step": 5,
            },
            send("whatsapp", "{{NOMBRE}}, paga ${{MONTO}} hoy y evita recargos."),
            end,
        ],
        description="Cobranza: SMS, un día después WhatsApp a saldos altos",
    )
    flow_publish(flow=reminder, actor=admin)
    FlowStep.objects.filter(flow=reminder, position=1).update(
        body="Hola {{NOMBRE}}, tu saldo de ${{MONTO}} vence el {{FECHA}}."
    )
    flow_publish(flow=reminder, actor=admin)
    notice = make("Aviso general", [send("sms", "Aviso: {{NOMBRE}}, ..."), end])
    flow_publish(flow=notice, actor=admin)
    welcome = make(
        "Bienvenida",
        [
            send("email", "Bienvenido {{NOMBRE}}"),
            {"kind": "wait", "wait": dt.timedelta(hours=1)},
            send("sms", "{{NOMBRE}}, ya puedes pagar en línea."),
            end,
        ],
    )
    flow_publish(flow=welcome, actor=admin)
    promos = [welcome, notice]
    for number in range(1, 16):
        promo = make(
            f"Promoción {number:02d}",
            [
                send(
                    "sms" if number % 3 else "whatsapp", f"Promo {number}: {{NOMBRE}}"
                ),
                end,
            ],
        )
        flow_publish(flow=promo, actor=admin)
        promos.append(promo)
    event = make(
        "Carrito abandonado",
        [send("email", "{{NOMBRE}}, olvidaste tu carrito"), end],
        trigger=Flow.Trigger.EVENT,
        event_name="cart_abandoned",
    )
    flow_publish(flow=event, actor=admin)
    make("Borrador de encuesta", [send("sms", "")])
    old = make("Campaña 2023", [send("sms", "Feliz 2023 {{NOMBRE}}"), end])
    flow_publish(flow=old, actor=admin)
    flow_archive(flow=old)
    for flow in [reminder, notice, *promos]:
        flow.refresh_from_db()
    return {"reminder": reminder, "notice": notice, "promos": promos}


@dataclass
class CampaignPlan:
    campaign: Any
    group: Any
    size: int
    period: dt.timedelta
    runs: list[str]  # the kind of each run, oldest first


def build_campaigns(
    sizes: Sizes, groups: Groups, flows: dict[str, Any]
) -> list[CampaignPlan]:
    """Campaigns created and moved through the lifecycle code, then dated back so
    their runs lie in the past."""
    from django.utils import timezone

    from campaigns.lifecycle import campaign_create, campaign_transition
    from campaigns.models import Campaign

    now = timezone.now().replace(second=0, microsecond=0)
    day, hour = dt.timedelta(days=1), dt.timedelta(hours=1)
    plans: list[CampaignPlan] = []

    def create(
        name: str, flow: Any, group: Any, schedule: str, moves: list[str]
    ) -> Any:
        campaign = campaign_create(
            name=name,
            description=f"{flow.name} a {group.name}"[:90],
            flow=flow,
            group=group,
            start_at=now + day,
            end_at=now + 60 * day,
            schedule=schedule,
            sender_name="",
            reply_to="",
        )
        for status in moves:
            campaign_transition(campaign=campaign, to=status, note="bench")
        return campaign

    def dated(campaign: Any, start: dt.datetime, end: dt.datetime) -> None:
        Campaign.objects.filter(pk=campaign.pk).update(start_at=start, end_at=end)
        campaign.refresh_from_db()

    everyone = sizes.contacts
    big_a = max(1, sizes.big_runs - (1 if sizes.big_runs >= 2 else 0))
    campaign = create(
        "Cobranza mensual — todos los clientes",
        flows["reminder"],
        groups.everyone,
        "daily",
        ["in_progress"],
    )
    dated(campaign, now - big_a * day + hour, now + 30 * day)
    plans.append(
        CampaignPlan(
            campaign,
            groups.everyone,
            everyone,
            day,
            ["done"] * (big_a - 1) + ["running"],
        )
    )
    if sizes.big_runs >= 2:
        campaign = create(
            "Aviso de privacidad (masivo)",
            flows["notice"],
            groups.everyone,
            "once",
            ["in_progress", "ended"],
        )
        dated(campaign, now - 10 * day, now - 9 * day)
        plans.append(CampaignPlan(campaign, groups.everyone, everyone, day, ["done"]))
    moves = [
        ["in_progress", "ended"],
        ["in_progress"],
        ["in_progress", "suspended"],
        ["ended"],
    ]
    for index in range(SMALL_CAMPAIGNS):
        group = groups.small[index % SMALL_GROUPS]
        flow = flows["promos"][index % len(flows["promos"])]
        schedule = "hourly" if index % 3 == 0 else "daily"
        period = hour if schedule == "hourly" else day
        count = SMALL_RUNS // SMALL_CAMPAIGNS + (
            1 if index < SMALL_RUNS % SMALL_CAMPAIGNS else 0
        )
        status = moves[index % len(moves)]
        campaign = create(
            f"{flow.name} · {group.name} · {index + 1:02d}",
            flow,
            group,
            schedule,
            status,
        )
        start = now - (count + index) * period - hour
        running = status[-1] == "in_progress"
        dated(campaign, start, now + 10 * day if running else start + count * period)
        kinds = ["done"] * count
        if running:
            kinds[-1] = "running"
        elif status[-1] == "ended" and index % 8 == 0:
            kinds[-1] = "cancelled"
        plans.append(CampaignPlan(campaign, group, sizes.small_size + 1, period, kinds))
    for index in range(PENDING_CAMPAIGNS):
        group_pk = groups.tiny[index * 7]
        from audiences.models import AudienceGroup

        create(
            f"Próxima campaña {index + 1}",
            flows["promos"][index],
            AudienceGroup.objects.get(pk=group_pk),
            ["daily", "hourly", "once", "minute"][index % 4],
            [],
        )
    return plans


@dataclass
class RunPlan:
    run: Any
    flow_id: int
    group_id: int
    kind: str
    size: int
    send_step: dict[str, Any]
    wait_position: int | None
    end_position: int


def build_runs(plans: list[CampaignPlan]) -> list[RunPlan]:
    from campaigns.models import CampaignRun
    from flows.cohorts import cohort_open

    runs: list[RunPlan] = []
    for plan in plans:
        campaign = plan.campaign
        steps = campaign.flow_version.steps
        send = next(step for step in steps if step["kind"] == "send")
        wait = next((s["position"] for s in steps if s["kind"] == "wait"), None)
        end = max(s["position"] for s in steps if s["kind"] == "end")
        made = CampaignRun.objects.bulk_create(
            CampaignRun(
                campaign=campaign,
                scheduled_for=campaign.start_at + number * plan.period,
                flow_version_id=campaign.flow_version_id,
                status=kind,
            )
            for number, kind in enumerate(plan.runs)
        )
        for run in made:
            if run.status != "skipped":
                run.cohort = cohort_open(
                    version=campaign.flow_version,
                    name=str(run),
                    sender_name=campaign.sender_name,
                    reply_to=campaign.reply_to,
                    window=campaign.window,
                    tags={"run": run.pk},
                )
        CampaignRun.objects.bulk_update(made, ["cohort"])
        runs.extend(
            RunPlan(
                run,
                campaign.flow_id,
                plan.group.pk,
                kind,
                plan.size,
                send,
                wait,
                end,
            )
            for run, kind in zip(made, plan.runs, strict=True)
        )
    return runs


def status_case(kind: str) -> str:
    """SQL: the status of a message from its hash ``h``; opted-out contacts skipped."""
    arms = " ".join(
        f"WHEN h < {bound} THEN '{status}'" for bound, status in STATUS_MIX[kind]
    )
    return f"CASE WHEN c.opted_out_at IS NOT NULL THEN 'skipped' {arms} END"


def build_run_rows(plan: RunPlan) -> tuple[int, int]:
    """A run's journeys (one per member of its group), then its messages (one per
    journey, for the flow's first send step), set-wise as the engine does."""
    from audiences.models import Contact, Membership
    from campaigns.models import CampaignRun
    from flows.models import Journey
    from messaging.models import Message

    run = plan.run
    at = run.scheduled_for
    # A running run's contacts wait on the flow's wait step; without one, they are
    # through the flow already and only their messages are still being sent.
    waiting = plan.kind == "running" and plan.wait_position is not None
    journey_status = {"done": "ended", "running": "ended", "cancelled": "cancelled"}
    reason = {
        "done": "reached the end",
        "running": "reached the end",
        "cancelled": "campaign ended",
    }
    journeys = sql(
        f"""
        WITH ins AS (
            INSERT INTO {table(Journey)}
                (flow_id, flow_version_id, cohort_id, contact_id, step, status, due_at,
                 hops, entry_key, context, entered_at, ended_at, end_reason)
            SELECT %(flow)s, %(version)s, %(cohort)s, m.contact_id, %(step)s,
                   %(status)s, %(due)s, 1, '', '{{}}', %(at)s, %(ended)s, %(reason)s
            FROM {table(Membership)} m
            WHERE m.group_id = %(group)s
            ORDER BY m.contact_id
            RETURNING 1
        )
        SELECT count(*) FROM ins
        """,
        {
            "flow": plan.flow_id,
            "version": run.flow_version_id,
            "cohort": run.cohort_id,
            "step": plan.wait_position if waiting else plan.end_position,
            "status": "active" if waiting else journey_status[plan.kind],
            "due": at + dt.timedelta(days=1) if waiting else None,
            "at": at,
            "ended": None if waiting else at + dt.timedelta(hours=1),
            "reason": "" if waiting else reason[plan.kind],
            "group": plan.group_id,
        },
    )[0][0]
    sent = "status IN ('sent', 'delivered')"
    messages, skipped = sql(
        f"""
        WITH ins AS (
            INSERT INTO {table(Message)}
                (batch_id, journey_id, contact_id, step, channel_id, status, attempts,
                 not_before, lease_until, claim_token, body, created_at, sent_at,
                 error, provider_id)
            SELECT %(batch)s, journey_id, contact_id, %(step)s, %(channel)s, status,
                CASE WHEN status = 'failed' THEN 3 WHEN {sent} THEN 1 ELSE 0 END,
                CASE WHEN status = 'deferred' THEN %(at)s + interval '1 day' END,
                CASE WHEN held THEN now() + interval '5 minutes' END,
                CASE WHEN held THEN md5(journey_id::text)::uuid END,
                CASE WHEN {sent} OR (status = 'failed' AND h %% 2 = 0)
                    THEN replace(replace(replace(%(body)s,
                        '{{{{NOMBRE}}}}', coalesce(data->>'NOMBRE', '')),
                        '{{{{MONTO}}}}', coalesce(data->>'MONTO', '')),
                        '{{{{FECHA}}}}', coalesce(data->>'FECHA', ''))
                    ELSE '' END,
                %(at)s,
                CASE WHEN {sent} OR status = 'failed'
                    THEN %(at)s + h * interval '3 seconds' END,
                CASE WHEN status = 'failed'
                    THEN (%(errors)s::text[])[1 + h %% 4] ELSE '' END,
                CASE WHEN {sent}
                    THEN 'SM' || md5(%(batch)s::text || '-' || contact_id::text)
                    ELSE '' END
            FROM (
                SELECT j.id AS journey_id, j.contact_id, c.data, x.h,
                       {status_case(plan.kind)} AS status,
                       %(running)s AND x.h >= 960 AS held
                FROM {table(Journey)} j
                JOIN {table(Contact)} c ON c.id = j.contact_id
                CROSS JOIN LATERAL (SELECT (j.id * 2654435761) %% 1000 AS h) x
                WHERE j.cohort_id = %(cohort)s
                ORDER BY j.id
            ) rows
            RETURNING status
        )
        SELECT count(*), count(*) FILTER (WHERE status = 'skipped') FROM ins
        """,
        {
            "step": plan.send_step["id"],
            "channel": plan.send_step["channel_id"],
            "body": plan.send_step["body"],
            "at": at,
            "errors": ERRORS,
            "running": plan.kind == "running",
            "cohort": run.cohort_id,
            "batch": run.cohort.batch_id,
        },
    )[0]
    CampaignRun.objects.filter(pk=run.pk).update(
        recipients=journeys, messages_created=messages, skipped=skipped
    )
    return journeys, messages


def build_extras(people: dict[str, Any], groups: Groups, contacts: int) -> None:
    """Replies (a STOP from each opted-out contact that wrote), finished imports and
    API tokens."""
    from django.utils import timezone

    from api.models import ApiToken
    from audiences.models import Contact, ImportJob
    from messaging.models import InboundMessage

    sms = people["channels"]["sms"]
    sql(
        f"""
        INSERT INTO {table(InboundMessage)}
            (channel_id, contact_id, sender, body, provider_id, opted_out, received_at)
        SELECT %(channel)s, id, phone,
               CASE WHEN opted_out_at IS NOT NULL THEN 'STOP'
                    WHEN id %% 2 = 0 THEN 'Gracias, ya pagué'
                    ELSE '¿Cuánto debo?' END,
               'MM' || md5(id::text), opted_out_at IS NOT NULL,
               coalesce(opted_out_at, now() - id %% 1000 * interval '1 hour')
        FROM {table(Contact)}
        WHERE (id - %(low)s) %% 97 = 3 OR opted_out_at IS NOT NULL AND id %% 7 = 0
              OR id = %(low)s
        ORDER BY id
        """,
        {"channel": sms.pk, "low": groups.first_contact},
    )
    now = timezone.now()
    statuses = ["done"] * 6 + ["refused", "failed", "cancelled", "ready"]
    ImportJob.objects.bulk_create(
        ImportJob(
            file_name=f"clientes-{number:03d}.tsv",
            file_path=f"/var/flowcast/imports/{number:03d}.tsv",
            file_size=2_000_000 + number,
            group_id=groups.small[number % SMALL_GROUPS].pk
            if number % 2
            else groups.tiny[number],
            status=statuses[number % len(statuses)],
            progress=1.0,
            rows_read=contacts // 40,
            rows_valid=contacts // 40 - number,
            rows_rejected=number,
            created=contacts // 80,
            updated=contacts // 80 - number,
            rejections=[{"row": 2, "column": "CONTACT", "reason": "not a mobile"}],
            created_by=people["admin"],
            finished_at=now - dt.timedelta(hours=number),
        )
        for number in range(40)
    )
    for name in ("tienda en línea", "CRM", "app móvil", "ETL nocturno", "pruebas"):
        token = ApiToken(name=name, user=people["admin"], revoked=name == "pruebas")
        token.issue_key()
        token.save()


# --- The pages --------------------------------------------------------------------


@dataclass
class Page:
    name: str
    url: str
    kind: str = "page"  # changelist, page2, search, change, custom ...
    model_admin: Any = None
    term: str = ""  # a search's term, to check the plans of its queries
    pair: str = ""  # the change pages of a big and a small object share this
    status: int = 0
    error: str = ""
    queries: list[dict[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times) * 1000 if self.times else 0.0


def run_pages(args: argparse.Namespace) -> None:
    from django.contrib.auth.models import User
    from django.test import Client

    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        raise SystemExit("No superuser: build the data first (without --skip-build).")
    describe_setup()
    started = time.perf_counter()
    reps = representatives()
    print(f"Representative objects chosen in {time.perf_counter() - started:.1f} s")
    pages = discover(admin, reps)
    if args.only:
        pages = [p for p in pages if args.only in p.name]
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    # Refusals (403, 405) are reported in the table, not as tracebacks; errors stay.
    logging.getLogger("django.request").setLevel(logging.ERROR)
    load = os.getloadavg()
    print(
        f"Requesting {len(pages)} pages, each once for its queries and "
        f"{args.repeat} times for its time (server time, in process)\n",
        flush=True,
    )
    print(f"{'median ms':>9} {'queries':>7} {'status':>6}  page")
    for page in pages:
        measure(client, page, args.repeat)
        print(
            f"{page.median_ms:9.1f} {len(page.queries):7d} {page.status:6d}",
            page.name,
            flush=True,
        )
    print(
        "Load average (1 min) before and after the requests: "
        f"{load[0]:.1f}, {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    check_rows(client, pages)
    check_pairs(pages)
    check_search_plans(pages)
    report(pages, args.explain)


def describe_setup() -> None:
    """What was measured: the code's commit and the server's settings that matter."""
    from bench.services import ROOT

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    changed = git("status", "--porcelain", "--untracked-files=no").splitlines()
    print(
        f"Code: commit {git('rev-parse', '--short', 'HEAD') or '?'}"
        + (f" with {len(changed)} files changed" if changed else "")
    )
    names = ["server_version", "shared_buffers", "work_mem", "jit", "random_page_cost"]
    settings = ", ".join(f"{name} {sql(f'SHOW {name}')[0][0]}" for name in names)
    print(f"PostgreSQL: {settings}")


def representatives() -> dict[Any, dict[str, Any]]:
    """Objects whose pages are requested, by model: "big" and "small" (their change
    pages should run the same queries), and others worth a look. For contacts, big is
    the one with the most messages; for groups, runs and campaigns, the biggest; else
    the first and the last."""
    from django.contrib import admin
    from django.db.models import Count, Sum

    from audiences.models import AudienceGroup, Contact, Membership
    from campaigns.models import Campaign, CampaignRun
    from flows.models import Flow, Journey
    from messaging.models import InboundMessage, Message

    reps: dict[Any, dict[str, Any]] = {}
    for model in admin.site._registry:
        manager = model._default_manager
        found = {
            "big": manager.order_by("pk").first(),
            "small": manager.order_by("-pk").first(),
        }
        reps[model] = {name: obj for name, obj in found.items() if obj is not None}

    def pick(model: Any, **objects: Any) -> None:
        if model in reps:
            reps[model].update((k, v) for k, v in objects.items() if v is not None)

    busiest = sql(
        f"SELECT contact_id FROM {table(Message)} GROUP BY contact_id "
        "ORDER BY count(*) DESC, contact_id LIMIT 1"
    )
    contact = Contact.objects.filter(pk=busiest[0][0]).first() if busiest else None
    pick(Contact, big=contact)
    biggest = (
        Membership.objects.values("group").annotate(n=Count("id")).order_by("-n")
    ).first()
    statics = AudienceGroup.objects.filter(kind=AudienceGroup.Kind.STATIC)
    pick(
        AudienceGroup,
        big=AudienceGroup.objects.get(pk=biggest["group"]) if biggest else None,
        small=statics.order_by("-pk").first(),
        dynamic=AudienceGroup.objects.filter(kind="dynamic").order_by("pk").first(),
    )
    big_run = CampaignRun.objects.order_by("-messages_created", "pk").first()
    if big_run is None:
        return reps
    pick(
        CampaignRun,
        big=big_run,
        small=CampaignRun.objects.order_by("messages_created", "pk").first(),
    )
    totals = (
        CampaignRun.objects.values("campaign")
        .annotate(n=Sum("messages_created"))
        .order_by("-n")
    )
    campaign = Campaign.objects.get(pk=totals[0]["campaign"])
    same = [
        row["campaign"]
        for row in totals.filter(campaign__status=campaign.status)
        if row["campaign"] != campaign.pk
    ]
    pick(
        Campaign,
        big=campaign,
        small=Campaign.objects.filter(pk__in=same[-1:]).first(),
        pending=Campaign.objects.filter(status="pending").order_by("pk").first(),
    )
    simplest = Flow.objects.annotate(n=Count("steps")).order_by("n", "-pk").first()
    pick(Flow, big=campaign.flow, small=simplest)
    if contact is not None:
        pick(
            Journey,
            big=Journey.objects.filter(cohort__run=big_run, contact=contact).first(),
        )
        pick(
            Message,
            big=Message.objects.filter(
                batch__cohort__run=big_run, contact=contact
            ).first(),
        )
        pick(InboundMessage, big=InboundMessage.objects.filter(contact=contact).first())
    return reps


def discover(admin_user: Any, reps: dict[Any, dict[str, Any]]) -> list[Page]:
    """Every page to request, found from the admin site's registry."""
    from django.contrib import admin
    from django.test import RequestFactory
    from django.urls import NoReverseMatch, reverse

    def request(path: str) -> Any:
        made = RequestFactory().get(path)
        made.user = admin_user
        return made

    pages = [Page("admin index", reverse("admin:index"))]
    for model, model_admin in admin.site._registry.items():
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        objects = reps.get(model, {})
        big, small = objects.get("big"), objects.get("small")
        base = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
        )
        req = request(base)
        changelist = model_admin.get_changelist_instance(req)
        pages.append(Page(f"{label}: changelist", base, "changelist", model_admin))
        if changelist.result_count > changelist.list_per_page:
            pages.append(Page(f"{label}: changelist page 2", f"{base}?p=2", "page2"))
        term = search_term(model_admin, req, big)
        if term:
            query = urlencode({"q": term})
            pages.append(
                Page(f"{label}: search {query}", f"{base}?{query}", "search", term=term)
            )
        for name, query in filter_queries(model_admin, req, changelist, big, reps):
            pages.append(Page(f"{label}: filter {name}", base + query, "filter"))
        if model_admin.date_hierarchy and big is not None:
            pages.append(date_page(label, base, model_admin.date_hierarchy, big))
        if changelist.result_count >= BIG_TABLE:
            pages.extend(sort_pages(label, base, changelist))
        if model_admin.has_add_permission(req):
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
            pages.append(Page(f"{label}: add", url, "add"))
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        for size, obj in objects.items():
            if size != "big" and big is not None and obj.pk == big.pk:
                continue
            url = reverse(f"{prefix}_change", args=[obj.pk])
            pair = label if size in ("big", "small") else ""
            pages.append(
                Page(f"{label}: change {size} #{obj.pk}", url, "change", pair=pair)
            )
        if big is not None:
            url = reverse(f"{prefix}_history", args=[big.pk])
            pages.append(Page(f"{label}: history big #{big.pk}", url, "history"))
        if small is not None and model_admin.has_delete_permission(req, small):
            url = reverse(f"{prefix}_delete", args=[small.pk])
            pages.append(Page(f"{label}: delete small #{small.pk}", url, "delete"))
        standard = {
            f"{prefix[6:]}_{suffix}"
            for suffix in ("changelist", "add", "change", "delete", "history")
        }
        for pattern in model_admin.get_urls():
            if not pattern.name or pattern.name in standard:
                continue
            keys = list(pattern.pattern.converters)
            pk = getattr(big, "pk", None)
            if keys and pk is None:
                continue
            try:
                url = reverse(f"admin:{pattern.name}", kwargs=dict.fromkeys(keys, pk))
            except NoReverseMatch:
                continue
            pages.append(Page(f"{label}: {pattern.name}", url, "custom"))
        if big is not None and hasattr(model_admin, "object_actions"):
            for action in model_admin.object_actions(req, big):
                if action.get("method") == "get":
                    pages.append(
                        Page(
                            f"{label}: action {action['label']} (big)",
                            action["url"],
                            "custom",
                        )
                    )
        pages.extend(autocomplete_pages(model, model_admin, req, changelist, reps))
    for app_label in sorted({m._meta.app_label for m in admin.site._registry}):
        url = reverse("admin:app_list", kwargs={"app_label": app_label})
        pages.append(Page(f"app index {app_label}", url))
    unique: dict[str, Page] = {}
    for page in pages:
        unique.setdefault(page.url, page)
    return list(unique.values())


def search_term(model_admin: Any, request: Any, obj: Any) -> str:
    """The value ``obj`` has in the admin's first search field (a phone, a name)."""
    from django.db.models import Model

    fields = model_admin.get_search_fields(request)
    if not fields or obj is None:
        return ""
    value = obj
    for part in fields[0].lstrip("=^@").split("__"):
        if not hasattr(value, part):
            break  # a lookup such as icontains
        value = getattr(value, part)
        if value is None:
            return ""
    return "" if isinstance(value, Model) else str(value)


def filter_queries(
    model_admin: Any, request: Any, changelist: Any, big: Any, reps: dict[Any, Any]
) -> list[tuple[str, str]]:
    """A query string for each choice of each filter; of a long list of choices, the
    first two, the last, and those naming a big object."""
    named = {str(obj) for objects in reps.values() for obj in objects.values()}
    out: list[tuple[str, str]] = []
    for spec in changelist.filter_specs:
        picked: list[tuple[str, str]] = []
        for choice in spec.choices(changelist):
            query = choice.get("query_string")
            if query is None:  # a search box (autocomplete filter): the big one's value
                field_name = getattr(spec, "field", None)
                value = getattr(big, field_name.attname, None) if field_name else None
                if value is not None:
                    picked.append((str(value), f"?{spec.lookup_kwarg}={value}"))
                continue
            if choice.get("selected") or query in ("", "?"):
                continue
            picked.append((str(choice.get("display")), query))
        if len(picked) > 15:
            picked = (
                picked[:2]
                + [choice for choice in picked[2:-1] if choice[0] in named]
                + picked[-1:]
            )
        out.extend((f"{spec.title}={display}", query) for display, query in picked)
    return out


def date_page(label: str, base: str, name: str, big: Any) -> Page:
    from django.utils import timezone

    when = getattr(big, name)
    if isinstance(when, dt.datetime):
        when = timezone.localtime(when)
    query = urlencode({f"{name}__year": when.year, f"{name}__month": when.month})
    return Page(f"{label}: dates {when:%Y-%m}", f"{base}?{query}", "filter")


def sort_pages(label: str, base: str, changelist: Any) -> list[Page]:
    from django.contrib.admin.templatetags.admin_list import result_headers

    return [
        Page(
            f"{label}: sort by {header['text']}",
            f"{base}{header['url_primary']}",
            "sort",
        )
        for header in result_headers(changelist)
        if header["sortable"]
    ]


def autocomplete_pages(
    model: Any, model_admin: Any, request: Any, changelist: Any, reps: dict[Any, Any]
) -> list[Page]:
    """The autocomplete searches of the admin's widgets and of its changelist's
    search-box filters, with the parameters their pages send, blank and typed."""
    from django.urls import reverse

    def widget(source: Any, name: str) -> tuple[dict[str, str], Any]:
        params = {
            "app_label": source._meta.app_label,
            "model_name": source._meta.model_name,
            "field_name": name,
        }
        return params, source._meta.get_field(name).remote_field.model

    searches = [widget(model, n) for n in model_admin.get_autocomplete_fields(request)]
    for inline in model_admin.inlines:
        searches += [widget(inline.model, n) for n in inline.autocomplete_fields]
    for spec in changelist.filter_specs:
        for choice in spec.choices(changelist):
            if "query_string" not in choice and "field" in choice:
                params = {
                    "list_filter": "1",
                    "app_label": choice["app_label"],
                    "model_name": choice["model_name"],
                    "field_name": choice["field"],
                }
                searches.append((params, spec.field.remote_field.model))
    pages = []
    for params, remote in searches:
        big = reps.get(remote, {}).get("big")
        for term in ("", str(big)[:4] if big is not None else ""):
            query = urlencode({**params, "term": term})
            name = (
                f"{params['app_label']}.{params['model_name']}.{params['field_name']}"
            )
            pages.append(
                Page(
                    f"{name}: autocomplete term={term!r}",
                    f"{reverse('admin:autocomplete')}?{query}",
                    "autocomplete",
                )
            )
    return pages


# --- Measuring --------------------------------------------------------------------


def get(client: Any, url: str) -> Any:
    response = client.get(url, secure=True)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    return response


def measure(client: Any, page: Page, repeat: int) -> None:
    """Once to warm up (templates, the content-type cache), once with the queries
    captured, then timed."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    started = time.perf_counter()
    response = get(client, page.url)
    first = time.perf_counter() - started
    page.status = response.status_code
    if response.exc_info:
        page.error = repr(response.exc_info[1])[:300]
    if page.status != 200:
        return
    with CaptureQueriesContext(connection) as captured:
        get(client, page.url)
    page.queries = list(captured.captured_queries)
    for _ in range(repeat if first < SLOW_FIRST_S else min(repeat, 2)):
        started = time.perf_counter()
        get(client, page.url)
        page.times.append(time.perf_counter() - started)


def shape(statement: str) -> str:
    """A query with its literals blanked, to count repeats of one query."""
    statement = re.sub(r"'(?:[^']|'')*'", "'…'", statement)
    statement = re.sub(r"\d+(?:\.\d+)?", "N", statement)
    return re.sub(r"\((?:'…'|N)(?:, (?:'…'|N))*\)", "(…)", statement)


def repeated(more: list[dict[str, str]], fewer: list[dict[str, str]]) -> list[str]:
    """Queries run more often in ``more`` than in ``fewer``, with the difference."""
    extra = Counter(shape(q["sql"]) for q in more)
    extra.subtract(Counter(shape(q["sql"]) for q in fewer))
    return [f"{n:+d} × {statement[:400]}" for statement, n in extra.items() if n]


def check_rows(client: Any, pages: list[Page]) -> None:
    """A changelist's query count must not grow with the rows it shows: compare a full
    page with one row per page and with page 2."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    second = {p.url: p for p in pages if p.kind == "page2"}
    for page in pages:
        if page.kind != "changelist" or page.status != 200:
            continue
        model_admin = page.model_admin
        per_page = model_admin.list_per_page
        model_admin.list_per_page = 1
        try:
            with CaptureQueriesContext(connection) as captured:
                get(client, page.url)
        finally:
            model_admin.list_per_page = per_page
        one_row = list(captured.captured_queries)
        counts = {f"{per_page} rows": len(page.queries), "1 row": len(one_row)}
        later = second.get(f"{page.url}?p=2")
        if later is not None and later.status == 200:
            counts["page 2"] = len(later.queries)
        if len(set(counts.values())) > 1:
            shown = ", ".join(f"{k}: {v}" for k, v in counts.items())
            page.flags.append(f"queries grow with rows ({shown})")
            page.notes.extend(repeated(page.queries, one_row))
        else:
            page.notes.append(f"same queries with 1 row per page and page 2 ({counts})")


def check_pairs(pages: list[Page]) -> None:
    """The change pages of a big and a small object of one model."""
    pairs: dict[str, list[Page]] = {}
    for page in pages:
        if page.pair and page.status == 200:
            pairs.setdefault(page.pair, []).append(page)
    for found in pairs.values():
        if len(found) == 2 and len(found[0].queries) != len(found[1].queries):
            big, small = found
            big.flags.append(
                f"queries differ by object (big: {len(big.queries)}, "
                f"small: {len(small.queries)})"
            )
            big.notes.extend(repeated(big.queries, small.queries))


def big_tables() -> set[str]:
    return {
        row[0]
        for row in sql(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND reltuples >= %s",
            [BIG_TABLE],
        )
    }


def plan_nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from plan_nodes(child)


def check_search_plans(pages: list[Page]) -> None:
    """A search on a big table must find its rows through an index."""
    big = big_tables()
    for page in pages:
        if page.kind != "search" or page.status != 200:
            continue
        scanned: set[str] = set()
        for query in page.queries:
            statement = query["sql"]
            if page.term not in statement or not statement.lstrip().startswith(
                "SELECT"
            ):
                continue
            found = sql(f"EXPLAIN (FORMAT JSON) {statement}")[0][0]
            plan = (json.loads(found) if isinstance(found, str) else found)[0]
            scanned |= {
                node["Relation Name"]
                for node in plan_nodes(plan["Plan"])
                if node["Node Type"] == "Seq Scan" and node.get("Relation Name") in big
            }
        if scanned:
            page.flags.append(f"search scans {', '.join(sorted(scanned))} (no index)")


# --- The report -------------------------------------------------------------------


def report(pages: list[Page], explain: bool) -> None:
    timed = [p for p in pages if p.status == 200]
    others = [p for p in pages if p.status != 200]
    for page in timed:
        if page.median_ms > BUDGET_MS:
            page.flags.insert(0, f"over {BUDGET_MS:.0f} ms")
    flagged = [p for p in timed if p.flags]
    print(f"\nAnswers other than 200 ({len(others)}):")
    for page in others:
        kind = "not a GET page" if page.kind == "custom" else "FLAG"
        print(f"  {page.status}  {page.name}  {page.url}  [{kind}] {page.error}")
    print(f"\nFlagged pages ({len(flagged)}):")
    for page in flagged:
        print(f"  {page.median_ms:9.1f} ms {len(page.queries):4d} q  {page.name}")
        print(f"      {page.url}")
        for flag in page.flags:
            print(f"      ! {flag}")
        for note in page.notes:
            print(f"      {note}")
        if explain and page.median_ms > BUDGET_MS:
            explain_slowest(page)
    slowest = max(timed, key=lambda p: p.median_ms, default=None)
    over = [p for p in timed if p.median_ms > BUDGET_MS]
    growing = [
        p
        for p in timed
        if any(f.startswith(("queries grow", "queries differ")) for f in p.flags)
    ]
    bad = [p for p in others if p.kind != "custom"]
    print(
        f"\nPages: {len(timed)}; slowest: "
        + (f"{slowest.median_ms:.0f} ms ({slowest.name})" if slowest else "-")
        + f"; over {BUDGET_MS:.0f} ms: {len(over)}; query counts constant: "
        + ("yes" if not growing else f"no ({len(growing)} pages)")
        + (f"; not 200: {len(bad)}" if bad else "")
    )


def explain_slowest(page: Page, count: int = 2) -> None:
    slow = sorted(page.queries, key=lambda q: float(q["time"]), reverse=True)[:count]
    for query in slow:
        statement = query["sql"]
        if float(query["time"]) < 0.02 or not statement.lstrip().startswith("SELECT"):
            continue
        print(f"      -- {float(query['time']) * 1000:.0f} ms: {statement}")
        for (line,) in sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}"):
            print(f"         {line}")


if __name__ == "__main__":
    main()

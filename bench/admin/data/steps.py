"""The whole build, part by part, with the time each part took."""

import time

from bench.admin.data.campaigns import build_campaigns
from bench.admin.data.contacts import build_contacts
from bench.admin.data.extras import build_extras
from bench.admin.data.flows import build_flows
from bench.admin.data.groups import build_groups
from bench.admin.data.messages import build_run_rows
from bench.admin.data.people import build_people
from bench.admin.data.runs import build_runs
from bench.admin.data.sizes import PENDING_CAMPAIGNS, SMALL_RUNS, Sizes
from bench.admin.db import sql


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

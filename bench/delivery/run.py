"""The delivery benchmark's runs: providers and workers started, one campaign run per
scenario sent end to end and measured."""

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat

from bench.fanout_bench import build_group
from bench.services import ROOT

# The bench Twilio's account (bench/delivery/provider.py takes any), entered on the
# channel as an operator would.
TWILIO_CREDENTIALS = {"account_sid": "ACbench", "auth_token": "bench-token"}


@dataclass
class Scenario:
    name: str
    kind: str  # the channel's kind: webhook, sms (Twilio) or email (SMTP)
    latency_ms: float
    max_in_flight: int | None = None
    twilio_limit: int | None = None
    target: int | None = None  # messages per second the issue asks for


@contextlib.contextmanager
def provider(
    latency_ms: float, twilio_limit: int | None, smtp_port: int | None = None
) -> Iterator[str]:
    """A provider process; yields its base URL."""
    import port_for

    port = port_for.select_random()
    command = [sys.executable, "-m", "bench.delivery.provider", str(port)]
    command.append(str(latency_ms))
    if twilio_limit:
        command += ["--twilio-limit", str(twilio_limit)]
    if smtp_port:
        command += ["--smtp-port", str(smtp_port)]
    process = subprocess.Popen(command, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                stats(url)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/stats", timeout=5) as answer:
        found: dict[str, int] = json.loads(answer.read())
    return found


def reset(url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{url}/reset", method="POST"))


def start_workers(count: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            f"--concurrency={count}", "--loglevel=WARNING",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    from config.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(timeout=0.5):
            return worker
    worker.kill()
    raise SystemExit("the Celery workers did not start")


def campaign_on(channel: Any, group_id: int, name: str) -> Any:
    from django.utils import timezone

    from campaigns.lifecycle import campaign_transition
    from campaigns.models import Campaign
    from flows.models import Flow, FlowStep
    from flows.publishing import flow_publish

    flow = Flow.objects.create(name=f"Delivery: {name}")
    FlowStep.objects.create(
        flow=flow, position=1, channel=channel, body="Hola {{NOMBRE}}"
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    version = flow_publish(flow=flow)
    start = timezone.now() + dt.timedelta(hours=1)
    campaign = Campaign.objects.create(
        name=name[:60],
        flow=flow,
        group_id=group_id,
        start_at=start,
        end_at=start + dt.timedelta(days=1),
        schedule="daily",
        flow_version=version,
    )
    Campaign.objects.filter(pk=campaign.pk).update(
        start_at=timezone.now() - dt.timedelta(minutes=5)
    )
    campaign.refresh_from_db()
    campaign_transition(campaign=campaign, to="in_progress")
    return campaign


def send_one_run(scenario: Scenario, url: str, group_id: int) -> dict[str, Any]:
    """One campaign run of the scenario, sent; its figures."""
    from django.db.models import Count

    from campaigns.runs import campaign_tick
    from messaging.credentials import channel_secret_ensure, credentials_sealed
    from messaging.models import Channel, Message
    from messaging.sweep import messages_sweep

    settings: dict[str, Any] = {
        "webhook": {"url": f"{url}/hook"},
        "sms": {"from": "+15005550006"},
        "email": {"from_email": "news@bench.example", "subject": "Hola"},
    }[scenario.kind]
    if scenario.max_in_flight:
        settings["max_in_flight"] = scenario.max_in_flight
    channel = Channel(name=scenario.name[:100], kind=scenario.kind, settings=settings)
    if scenario.kind == "sms":
        channel.credentials = credentials_sealed(channel, TWILIO_CREDENTIALS)
    channel.save()
    channel_secret_ensure(channel=channel)  # a webhook channel's signing secret
    campaign = campaign_on(channel, group_id, scenario.name)
    reset(url)
    run = campaign_tick(campaign_id=campaign.pk)
    assert run is not None
    assert run.cohort is not None
    started = time.perf_counter()
    unsent = Message.objects.filter(
        batch_id=run.cohort.batch_id, status__in=("queued", "deferred")
    )
    swept = started
    while unsent.exists() and time.perf_counter() - started < 1800:
        time.sleep(0.2)
        if time.perf_counter() - swept >= 30:  # what beat does every 30 s
            messages_sweep()
            swept = time.perf_counter()
    elapsed = time.perf_counter() - started
    outcome = dict(
        Message.objects.filter(batch_id=run.cohort.batch_id)
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {"elapsed": elapsed, "outcome": outcome, **stats(url)}


def _busy(times: Any) -> float:
    return float(sum(times) - times.idle - getattr(times, "iowait", 0))


def run(
    scenarios: list[Scenario], contacts: int, workers: int, db: str, broker: str
) -> None:
    import psutil  # type: ignore[import-untyped]

    print(f"Delivery of one campaign run to {contacts:,} contacts, {workers} workers")
    import port_for

    from audiences.models import Contact

    group_id, setup = build_group(contacts)
    Contact.objects.filter(email="").update(
        email=Concat(Value("c"), Cast("id", CharField()), Value("@bench.example"))
    )
    print(f"  setup: {setup:.1f} s")
    figures: dict[str, float] = {}
    smtp_port = port_for.select_random()
    with contextlib.ExitStack() as stack:
        urls = [
            stack.enter_context(
                provider(
                    s.latency_ms,
                    s.twilio_limit,
                    smtp_port if s.kind == "email" else None,
                )
            )
            for s in scenarios
        ]
        twilio = next(
            (u for s, u in zip(scenarios, urls, strict=True) if s.kind == "sms"), ""
        )
        env = {
            "DATABASE_URL": db,
            "CELERY_BROKER_URL": broker,
            "LOG_LEVEL": "WARNING",
            "TWILIO_API_BASE": twilio,
            # The peers listen on this machine (base.outbound).
            "MESSAGING_OUTBOUND_ALLOW": "127.0.0.1",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
        }
        worker = start_workers(workers, env)
        try:
            children = psutil.Process(worker.pid).children()
            for scenario, url in zip(scenarios, urls, strict=True):
                cpu = sum(sum(c.cpu_times()[:2]) for c in children)
                all_cpu = psutil.cpu_times()
                got = send_one_run(scenario, url, group_id)
                cpu = sum(sum(c.cpu_times()[:2]) for c in children) - cpu
                busy = _busy(psutil.cpu_times()) - _busy(all_cpu)
                sent = got["outcome"].get("sent", 0)
                rate = sent / got["elapsed"]
                figures[scenario.name] = rate
                rss = max(c.memory_info().rss for c in children) / 2**20
                target = f" (target ≥ {scenario.target:,})" if scenario.target else ""
                print(
                    f"  {scenario.name}: {sent:,} sent in {got['elapsed']:.1f} s = "
                    f"{rate:,.0f} messages/s{target}; outcome {got['outcome']}; "
                    f"provider: {got['requests']:,} requests, in flight at most "
                    f"{got['peak_in_flight']} (mean {got['mean_in_flight']}), "
                    f"keys seen twice {got['seen_twice']}, "
                    f"429s {got['refused_429']}, connections {got['connections']}; "
                    f"worker RSS at most {rss:.0f} MB; CPU a message: workers "
                    f"{cpu / max(sent, 1) * 1e6:,.0f} µs, the machine "
                    f"{busy / max(sent, 1) * 1e6:,.0f} µs "
                    f"({busy / got['elapsed'] / psutil.cpu_count():.0%} of its cores)"
                )
        finally:
            worker.terminate()
            worker.wait(30)
    slow = figures.get("webhook, provider answering after 100 ms")
    fast = figures.get("webhook, provider answering at once")
    if slow and fast:
        print(
            f"Ratios: with 100 ms of provider latency the webhook sends at "
            f"{slow / fast:.0%} of its rate against an instant provider "
            "(moonshot ≥ 80%)."
        )

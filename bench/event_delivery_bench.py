"""The event stream's delivery rate: N events (message.delivered, N/10 contacts with
ten events each, interleaved) emitted as workers emit them, then delivered through
the worker's own code (stream.delivery.endpoint_deliver, pass after pass, as the
delivery task runs it) to a local receiver, an aiohttp server in a process of its
own. The receiver checks every 50th post's signature with the standardwebhooks
library and every post's order within its contact.

Three receivers: answering at once, after 50 ms, and at once but refusing one post
in ten with a 503 (those come again after their back-off, 10 s and on, in order).
For each the bench prints events delivered per second (target: 1,000/s to the
first), the posts made, the signatures checked and any out of order.
PostgreSQL comes from DATABASE_URL, or is a throwaway server started here.

    python bench/event_delivery_bench.py [--events 20000]
"""

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.services import postgres_url, setup_django  # noqa: E402

SCENARIOS = [
    ("receiver answering at once", 0.0, 0.0),
    ("receiver answering after 50 ms", 0.05, 0.0),
    ("receiver refusing 10% with 503", 0.0, 0.1),
]


def serve(port: int, secret: str, latency: float, fail: float) -> None:
    """The receiver (run in its own process)."""
    import asyncio
    import random

    from aiohttp import web
    from standardwebhooks.webhooks import Webhook

    hook = Webhook(secret)
    stats: dict[str, Any] = {"posts": 0, "taken": 0, "verified": 0, "bad": 0}
    stats["out_of_order"] = 0
    last: dict[int, int] = {}

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        stats["posts"] += 1
        sampled = stats["posts"] % 50 == 1
        if latency:
            await asyncio.sleep(latency)
        if fail and random.random() < fail:
            return web.Response(status=503, text="busy")
        if sampled:
            try:
                hook.verify(body, dict(request.headers))
                stats["verified"] += 1
            except Exception:
                stats["bad"] += 1
        data = json.loads(body)["data"]
        contact, n = data["contact"]["id"], data["n"]
        if n <= last.get(contact, -1):
            stats["out_of_order"] += 1
        last[contact] = n
        stats["taken"] += 1
        return web.Response(text='{"ok":true}', content_type="application/json")

    async def report(_: web.Request) -> web.Response:
        return web.json_response(stats)

    app = web.Application()
    app.router.add_post("/events", receive)
    app.router.add_get("/stats", report)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--serve", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        port, secret, latency, fail = args.serve
        serve(int(port), secret, float(latency), float(fail))
        return
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    os.environ["MESSAGING_OUTBOUND_ALLOW"] = "127.0.0.1"
    with postgres_url() as db:
        setup_django(db)
        print(f"Event stream: {args.events:,} events to one endpoint (PostgreSQL)")
        rates = [
            run(name, latency, fail, args.events) for name, latency, fail in SCENARIOS
        ]
    print(
        f"Ratio: {rates[0]:,.0f} events/s to a receiver answering at once is "
        f"{rates[0] / 1000:.0%} of the target 1,000/s."
    )


def emit_events(count: int) -> float:
    from django.db import transaction

    from stream.emitting import NewEvent, emit_many

    contacts = max(count // 10, 1)
    started = time.perf_counter()
    for first in range(0, count, 500):  # as a worker records its sends: 500 a go
        with transaction.atomic():
            emit_many(
                events=(
                    NewEvent(
                        "message.delivered",
                        {
                            "n": n // contacts,
                            "message": n,
                            "status": "delivered",
                            "contact": {"id": n % contacts, "phone": f"+5255{n:08d}"},
                            "channel": {"id": 1, "name": "SMS", "kind": "sms"},
                        },
                        n % contacts,
                    )
                    for n in range(first, min(first + 500, count))
                )
            )
    return time.perf_counter() - started


def run(name: str, latency: float, fail: float, count: int) -> float:
    import port_for
    from django.db import connection

    from stream.delivery import endpoint_deliver
    from stream.models import Attempt, Delivery, Endpoint, Event
    from stream.secrets import endpoint_secret_ensure

    Event.objects.all().delete()
    Endpoint.objects.all().delete()
    port = port_for.select_random()
    endpoint = Endpoint.objects.create(
        url=f"http://127.0.0.1:{port}/events", event_types=["message.delivered"]
    )
    secret = endpoint_secret_ensure(endpoint=endpoint) or ""
    receiver = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--serve",
            str(port),
            secret,
            str(latency),
            str(fail),
        ]
    )
    try:
        stats_url = f"http://127.0.0.1:{port}/stats"
        for _ in range(100):
            try:
                urllib.request.urlopen(stats_url, timeout=1).read()
                break
            except OSError:
                time.sleep(0.1)
        emitting = emit_events(count)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        pending = Delivery.objects.filter(status="pending")
        started = time.perf_counter()
        first_pass = None
        in_first = 0
        while pending.exists() and time.perf_counter() - started < 600:
            endpoint_deliver(endpoint_id=endpoint.pk)
            if first_pass is None:
                first_pass = time.perf_counter() - started
                in_first = Delivery.objects.filter(status="delivered").count()
            if pending.exists():
                time.sleep(0.5)  # retries wait for their back-off
        elapsed = time.perf_counter() - started
        stats = json.loads(urllib.request.urlopen(stats_url, timeout=5).read())
    finally:
        receiver.terminate()
        receiver.wait(10)
    delivered = Delivery.objects.filter(status="delivered").count()
    rate = delivered / elapsed
    print(f"  {name}:")
    print(
        f"    emitting {count:,} events with their deliveries: {emitting:.2f} s "
        f"= {count / emitting:,.0f} events/s"
    )
    print(
        f"    delivered {delivered:,} in {elapsed:.1f} s = {rate:,.0f} events/s "
        f"({stats['posts']:,} posts, {Attempt.objects.count():,} attempts recorded)"
    )
    if in_first < delivered:
        print(
            f"    the first pass delivered {in_first:,} in {first_pass or 0:.1f} s "
            f"= {in_first / (first_pass or 1):,.0f} events/s; the rest waited for "
            "their retries (5 s and doubling), each contact's events in order"
        )
    print(
        f"    receiver: {stats['verified']} signatures verified with standardwebhooks, "
        f"{stats['bad']} bad; {stats['out_of_order']} posts out of order per contact"
    )
    return rate


if __name__ == "__main__":
    main()

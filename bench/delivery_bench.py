"""Delivery at provider speed: campaign runs sent through providers that answer like
real ones, by Celery worker processes on PostgreSQL and Redis.

Local peers only (bench/delivery/provider.py, one asyncio process each): a webhook
receiver answering after 100 ms, the same answering at once, and a server speaking
Twilio's Messages API answering after 100 ms and refusing calls past 100 in flight
(429, error 20429), as Twilio does, and an SMTP server (aiosmtpd) taking 20 ms over
every command. For each, one campaign run to --contacts contacts
is sent end to end and the bench prints messages per second, the most requests the
provider held at once, how many idempotency keys it saw twice, and the workers'
memory. The last lines hold the ratios. PostgreSQL and Redis come from DATABASE_URL /
CELERY_BROKER_URL, or are throwaway servers started here.

    python bench/delivery_bench.py [--contacts 20000] [--workers 2]
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.delivery.run import Scenario, run  # noqa: E402
from bench.services import postgres_url, redis_url, setup_django  # noqa: E402

SCENARIOS = [
    Scenario(
        "webhook, provider answering after 100 ms",
        "webhook",
        100,
        max_in_flight=400,
        target=1000,
    ),
    Scenario("webhook, provider answering at once", "webhook", 0, max_in_flight=400),
    Scenario(
        "Twilio-shaped, 100 ms, max_in_flight 100",
        "sms",
        100,
        max_in_flight=100,
        twilio_limit=100,
        target=900,
    ),
    Scenario(
        "SMTP, 20 ms a command, max_in_flight 40",
        "email",
        20,
        max_in_flight=40,
        target=300,
    ),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", default="", help="only scenarios whose name has TEXT")
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    with postgres_url() as db, redis_url() as broker:
        setup_django(db, broker)
        chosen = [s for s in SCENARIOS if args.only in s.name]
        run(chosen, args.contacts, args.workers, db, broker)


if __name__ == "__main__":
    main()

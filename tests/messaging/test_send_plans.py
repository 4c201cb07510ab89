"""Statements that run once per claimed chunk keep their cheap plans whatever
PostgreSQL's statistics say: the claim walks its id range, and the cap's count is
never compiled (JIT)."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from audiences.models import Contact
from messaging.capping import caps_hold
from messaging.claims import claim
from messaging.models import Batch, Channel, FrequencyCap, Message
from messaging.outbox import batch_open

pytestmark = pytest.mark.postgresql  # JIT


def _jit_available() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_jit_available()")
        (available,) = cursor.fetchone()
    return bool(available)


def _plans(wanted: str, plans: list[dict[str, Any]]) -> Callable[..., Any]:
    """An execute wrapper that keeps the plan PostgreSQL makes, just before it runs
    (with the settings in force then), of each statement that holds ``wanted``."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if wanted in sql and not sql.startswith("EXPLAIN"):
            cursor = context["cursor"]
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            (plan,) = cursor.fetchone()
            plans.append((json.loads(plan) if isinstance(plan, str) else plan)[0])
        return execute(sql, params, many, context)

    return wrapper


def _scans(node: dict[str, Any]) -> list[tuple[str, str]]:
    """(table, index or "") of every scan in a plan."""
    found = []
    if "Relation Name" in node:
        found.append((node["Relation Name"], node.get("Index Name", "")))
    for child in node.get("Plans", []):
        found += _scans(child)
    return found


@pytest.mark.django_db
def test_the_claim_walks_its_id_range_right_after_a_big_fan_out(
    make_channel: Any,
) -> None:
    channel: Channel = make_channel(name="SMS")
    contact = Contact.objects.create(phone="+525512340001", name="Ana")
    earlier = batch_open(name="earlier", templates={"1": {"body": "Hola"}})
    Message.objects.bulk_create(
        Message(batch=earlier, contact=contact, step=1, channel=channel, status="sent")
        for _ in range(3000)
    )
    with connection.cursor() as cursor:
        # The statistics of a table with no message waiting...
        cursor.execute("ANALYZE messaging_message")
    # ... and then a run's fan-out: thousands waiting, unknown to them.
    batch = batch_open(name="run", templates={"1": {"body": "Hola"}})
    made = Message.objects.bulk_create(
        Message(batch=batch, contact=contact, step=1, channel=channel)
        for _ in range(3000)
    )
    first, last = made[1000].pk, made[1999].pk
    plans: list[dict[str, Any]] = []
    with connection.execute_wrapper(_plans("WITH claimed", plans)):
        claimed = claim(batch, first, last, uuid.uuid4(), timezone.now())

    assert [m.pk for m in claimed] == list(range(first, last + 1))
    (plan,) = plans
    assert ("messaging_message", "messaging_message_pkey") in _scans(plan["Plan"])


@pytest.mark.django_db
def test_the_caps_count_is_never_compiled(make_channel: Any) -> None:
    if not _jit_available():
        pytest.skip("this PostgreSQL has no JIT")
    channel: Channel = make_channel(name="SMS")
    FrequencyCap.objects.create(messages=3, days=7)
    contacts = Contact.objects.bulk_create(
        Contact(phone=f"+5255123{n:05d}", name=f"C{n}") for n in range(50)
    )
    batch = batch_open(name="run", templates={"1": {"body": "Hola"}}, tags={"run": 1})
    token = uuid.uuid4()
    messages = Message.objects.bulk_create(
        Message(batch=batch, contact=c, step=1, channel=channel, claim_token=token)
        for c in contacts
    )
    with connection.cursor() as cursor:
        # Every plan is worth compiling now: without the cap's own setting, the
        # count would be compiled (the check below proves the wrapper sees it).
        cursor.execute("SET jit_above_cost = 0")
    plans: list[dict[str, Any]] = []
    with connection.execute_wrapper(_plans("CROSS JOIN LATERAL", plans)):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM messaging_message m "
                "CROSS JOIN LATERAL (SELECT 1) x"
            )
        kept, held = caps_hold(
            batch=Batch.objects.get(pk=batch.pk),
            messages=messages,
            token=token,
            now=timezone.now(),
        )

    assert (len(kept), held) == (50, 0)
    assert ["JIT" in plan for plan in plans] == [True, False]

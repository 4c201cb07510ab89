"""The cap's count runs once per claimed chunk: PostgreSQL must never compile it
(JIT), which cost 190 ms of every chunk's 5 ms query."""

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from audiences.models import Contact
from messaging.capping import caps_hold
from messaging.models import Batch, Channel, FrequencyCap, Message
from messaging.outbox import batch_open

pytestmark = pytest.mark.postgresql  # JIT


def _jit_available() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_jit_available()")
        (available,) = cursor.fetchone()
    return bool(available)


def _plans_compiled(statements: list[bool]) -> Callable[..., Any]:
    """An execute wrapper that asks PostgreSQL, just before each statement runs
    (with the settings in force then), whether its plan would be compiled."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("SELECT") and "LATERAL" in sql:
            cursor = context["cursor"]
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            (plan,) = cursor.fetchone()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            statements.append("JIT" in plan[0])
        return execute(sql, params, many, context)

    return wrapper


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
    compiled: list[bool] = []
    with connection.execute_wrapper(_plans_compiled(compiled)):
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
    assert compiled == [True, False]

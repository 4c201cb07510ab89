"""The smaller tables the console lists: replies, imports, API tokens."""

import datetime as dt
from typing import Any

from bench.admin.data.groups import Groups
from bench.admin.data.sizes import SMALL_GROUPS
from bench.admin.db import sql, table


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
            (channel_id, contact_id, sender, body, provider_id, opted_out, received_at,
             taken_by_flow, keyword)
        SELECT %(channel)s, id, phone,
               CASE WHEN opted_out_at IS NOT NULL THEN 'STOP'
                    WHEN id %% 2 = 0 THEN 'Gracias, ya pagué'
                    ELSE '¿Cuánto debo?' END,
               'MM' || md5(id::text), opted_out_at IS NOT NULL,
               coalesce(opted_out_at, now() - id %% 1000 * interval '1 hour'), false,
               CASE WHEN opted_out_at IS NOT NULL THEN 'STOP' ELSE '' END
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
            rows_valid=max(contacts // 40 - number, 0),
            rows_rejected=number,
            created=contacts // 80,
            updated=max(contacts // 80 - number, 0),
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

"""Audience groups and their memberships."""

from dataclasses import dataclass
from typing import Any

from bench.admin.data.sizes import SMALL_GROUPS, TINY_GROUPS, Sizes
from bench.admin.db import sql, table


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

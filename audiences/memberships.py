"""Static groups' members, changed set-wise by what runs above (a flow's group step).

Imports write memberships their own way (audiences.importing.applying); these two
take any query of contacts and change every member in one statement.
"""

import datetime as dt

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from .models import AudienceGroup, Contact, Membership


class NotStatic(ValueError):
    """Only a static group has members to add or remove."""


def _static(group_id: int) -> AudienceGroup:
    group = AudienceGroup.objects.get(pk=group_id)
    if group.kind != AudienceGroup.Kind.STATIC:
        raise NotStatic(
            f"group {group.name!r} is dynamic: its members are the contacts its rules "
            "match, so none can be added or removed"
        )
    return group


def memberships_add(
    *, group_id: int, contacts: QuerySet[Contact], now: dt.datetime | None = None
) -> int:
    """Add every contact of ``contacts`` to the static group (INSERT … SELECT); those
    already in it stay as they are. Return how many were added."""
    group = _static(group_id)
    contact_sql, params = contacts.order_by().values("id").query.sql_with_params()
    moment = connection.ops.adapt_datetimefield_value(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Membership._meta.db_table} (group_id, contact_id, added_at)
            SELECT %s, c.id, %s FROM ({contact_sql}) c
            WHERE TRUE
            ORDER BY c.id
            ON CONFLICT DO NOTHING
            """,
            [group.pk, moment, *params],
        )
        return max(cursor.rowcount, 0)


def memberships_remove(*, group_id: int, contacts: QuerySet[Contact]) -> int:
    """Take every contact of ``contacts`` out of the static group; return how many
    were in it."""
    group = _static(group_id)
    gone, _ = Membership.objects.filter(
        group=group, contact_id__in=contacts.order_by().values("id")
    ).delete()
    return gone

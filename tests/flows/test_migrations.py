"""Migrations of flows that touch the journeys table, millions of rows."""

import re
from io import StringIO

import pytest
from django.core.management import call_command


def sql_of(migration: str, *, backwards: bool = False) -> list[str]:
    out = StringIO()
    call_command(
        "sqlmigrate", "flows", migration, backwards=backwards, stdout=out, no_color=True
    )
    return [
        line
        for line in out.getvalue().splitlines()
        if line.strip() and not line.startswith("--")
    ]


@pytest.mark.postgresql  # CONCURRENTLY
@pytest.mark.django_db(transaction=True)  # sqlmigrate outside a transaction
@pytest.mark.parametrize("backwards", [False, True])
def test_the_journey_index_swap_never_blocks_the_journeys_table(
    backwards: bool,
) -> None:
    # A plain DROP INDEX holds the table against reads, and a plain CREATE INDEX
    # against writes, until the migration's transaction ends: on 5M journeys the
    # engine and every journeys page would wait for the index build.
    sql = sql_of("0006_journey_flow_status_newest", backwards=backwards)

    assert "BEGIN;" not in sql
    statements = [s for s in sql if re.match(r"(CREATE|DROP) INDEX", s)]
    assert statements
    assert all(" CONCURRENTLY " in s for s in statements), statements
    # The journeys keep an index for their flow all along: built, then dropped.
    kinds = [s.split()[0] for s in statements]
    assert kinds == sorted(kinds), statements


@pytest.mark.sqlite  # the plain operations
@pytest.mark.django_db(transaction=True)  # sqlmigrate outside a transaction
@pytest.mark.parametrize("backwards", [False, True])
def test_the_journey_index_swap_is_plain_index_statements_on_sqlite(
    backwards: bool,
) -> None:
    # SQLite, the embedded default, has no CONCURRENTLY: there the same operations
    # are plain index builds and drops, both ways.
    sql = sql_of("0006_journey_flow_status_newest", backwards=backwards)

    statements = [s for s in sql if re.match(r"(CREATE|DROP) INDEX", s)]
    assert statements
    assert not any("CONCURRENTLY" in s for s in statements), statements


@pytest.mark.postgresql  # CONCURRENTLY
@pytest.mark.django_db(transaction=True)  # sqlmigrate outside a transaction
def test_the_waiting_for_a_reply_index_never_blocks_the_journeys_table() -> None:
    sql = sql_of("0013_journey_waiting_reply_idx")

    assert "BEGIN;" not in sql
    statements = [s for s in sql if re.match(r"CREATE INDEX", s)]
    assert statements
    assert all(" CONCURRENTLY " in s for s in statements), statements

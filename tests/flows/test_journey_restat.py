"""A large run tells PostgreSQL's planner about the journeys it just wrote, before
its messages read them back, and never waits on another run for it."""

import time
from typing import Any

import psycopg
import pytest
from django.db import connection

from campaigns.runs import campaign_tick
from flows import journey_rows
from messaging.models import Message

pytestmark = pytest.mark.postgresql  # ANALYZE, lock timeouts


def _planner_knows(run: Any) -> bool:
    """Whether the planner's statistics (transactional: nobody else sees this
    test's journeys) know the run's cohort as the journeys' commonest."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text FROM pg_stats "
            "WHERE tablename = 'flows_journey' AND attname = 'cohort_id'"
        )
        row = cursor.fetchone()
    return row is not None and str(run.cohort_id) in row[0].strip("{}").split(",")


def _lock_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW lock_timeout")
        (value,) = cursor.fetchone()
    return str(value)


@pytest.mark.django_db
def test_a_large_run_refreshes_the_journeys_statistics_in_its_transaction(
    make_campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journey_rows, "RESTAT_FROM", 3)
    campaign = make_campaign(started=True)

    run = campaign_tick(campaign_id=campaign.pk)

    assert _planner_knows(run)
    assert Message.objects.count() == 3
    assert _lock_timeout() == "0"  # the run's own setting, as it was


@pytest.mark.django_db
def test_a_small_run_leaves_the_statistics_to_autovacuum(
    make_campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journey_rows, "RESTAT_FROM", 4)
    campaign = make_campaign(started=True)

    run = campaign_tick(campaign_id=campaign.pk)

    assert not _planner_knows(run)
    assert Message.objects.count() == 3


@pytest.mark.django_db
def test_a_run_whose_refresh_is_locked_out_goes_on_without_it(
    make_campaign: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journey_rows, "RESTAT_FROM", 3)
    campaign = make_campaign(started=True)
    db = connection.settings_dict
    other = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
    )
    try:
        # What another run's refresh holds until its transaction ends.
        other.execute("LOCK TABLE flows_journey IN SHARE UPDATE EXCLUSIVE MODE")
        started = time.monotonic()

        run = campaign_tick(campaign_id=campaign.pk)

        assert time.monotonic() - started < 5
    finally:
        other.rollback()
        other.close()
    assert not _planner_knows(run)
    assert Message.objects.count() == 3
    assert _lock_timeout() == "0"

"""Seed 003's example: a campaign started at 22:00 (GMT-5) on a channel that sends
08:00–21:00 holds its messages overnight and sends them from 08:00, released by the
sweeper, never before."""

import datetime as dt
from typing import Any

import pytest

from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from messaging.models import Message
from messaging.sending import messages_send_range
from messaging.sweep import messages_sweep
from tests.conftest import batch_of

NIGHT = dt.datetime(2026, 3, 2, 3, 0, tzinfo=dt.UTC)  # 22:00 at GMT-5
MORNING = dt.datetime(2026, 3, 2, 13, 0, tzinfo=dt.UTC)  # 08:00 at GMT-5


@pytest.mark.django_db
def test_a_campaign_started_at_22_sends_after_08(
    provider: Any,
    redis_client: Any,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
) -> None:
    channel = make_channel(
        active_from=dt.time(8), active_until=dt.time(21), timezone="Etc/GMT+5"
    )
    campaign = make_campaign(
        started=True,
        flow=make_flow(channel=channel),
        start_at=NIGHT,
        end_at=NIGHT + dt.timedelta(days=7),
    )

    run = campaign_tick(campaign_id=campaign.pk, now=NIGHT + dt.timedelta(seconds=1))
    assert run is not None
    ids = sorted(Message.objects.values_list("pk", flat=True))
    night = messages_send_range(
        batch_id=batch_of(run), first_id=ids[0], last_id=ids[-1], now=NIGHT
    )

    assert (night.sent, night.deferred) == (0, 3)
    assert set(Message.objects.values_list("status", "not_before")) == {
        ("deferred", MORNING)
    }
    # Through the night the sweeper finds nothing due: nothing is queued, nothing sent.
    redis_client.flushdb()
    for hour in range(1, 10):
        assert messages_sweep(now=NIGHT + dt.timedelta(hours=hour, minutes=59)) == 0
    assert redis_client.llen("celery") == 0
    # At 08:00 the sweeper queues them, and the worker sends them.
    assert messages_sweep(now=MORNING + dt.timedelta(seconds=1)) == 1
    assert redis_client.llen("celery") == 1
    morning = messages_send_range(
        batch_id=batch_of(run),
        first_id=ids[0],
        last_id=ids[-1],
        now=MORNING + dt.timedelta(seconds=2),
    )
    assert morning.sent == 3
    assert len(provider.sent) == 3
    assert set(Message.objects.values_list("status", flat=True)) == {"sent"}


def send_run_at(make_campaign: Any, flow: Any, now: dt.datetime, **window: Any) -> Any:
    campaign = make_campaign(
        started=True,
        flow=flow,
        start_at=NIGHT,
        end_at=NIGHT + dt.timedelta(days=7),
    )
    Campaign.objects.filter(pk=campaign.pk).update(**window)
    run = campaign_tick(campaign_id=campaign.pk, now=NIGHT + dt.timedelta(seconds=1))
    assert run is not None
    ids = sorted(Message.objects.values_list("pk", flat=True))
    return run, messages_send_range(
        batch_id=batch_of(run), first_id=ids[0], last_id=ids[-1], now=now
    )


@pytest.mark.django_db
def test_a_campaigns_own_active_hours_hold_its_messages_until_they_open(
    provider: Any, make_campaign: Any, make_flow: Any
) -> None:
    """The campaign has the window (08:00–21:00 at GMT-5), its channel none."""
    run, night = send_run_at(
        make_campaign,
        make_flow(),
        NIGHT,
        active_from=dt.time(8),
        active_until=dt.time(21),
        timezone="Etc/GMT+5",
    )

    assert (night.sent, night.deferred) == (0, 3)
    assert set(Message.objects.values_list("status", "not_before")) == {
        ("deferred", MORNING)
    }
    assert messages_sweep(now=MORNING - dt.timedelta(minutes=1)) == 0
    ids = sorted(Message.objects.values_list("pk", flat=True))
    morning = messages_send_range(
        batch_id=batch_of(run), first_id=ids[0], last_id=ids[-1], now=MORNING
    )
    assert morning.sent == 3
    assert provider.sent


@pytest.mark.django_db
def test_a_message_waits_for_both_its_channels_and_its_campaigns_hours(
    provider: Any, make_campaign: Any, make_flow: Any, make_channel: Any
) -> None:
    """Channel 08:00–21:00 at GMT-5 (13:00–02:00 UTC); campaign 15:00–18:00 UTC.
    At 08:00 at GMT-5 the channel is open, the campaign not until 15:00 UTC."""
    channel = make_channel(
        active_from=dt.time(8), active_until=dt.time(21), timezone="Etc/GMT+5"
    )
    _, report = send_run_at(
        make_campaign,
        make_flow(channel=channel),
        MORNING,
        active_from=dt.time(15),
        active_until=dt.time(18),
        timezone="UTC",
    )

    assert (report.sent, report.deferred) == (0, 3)
    expected = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
    assert set(Message.objects.values_list("status", "not_before")) == {
        ("deferred", expected)
    }
    assert provider.sent == []


@pytest.mark.django_db
def test_hours_that_never_meet_fail_the_messages_with_the_reason(
    provider: Any, make_campaign: Any, make_flow: Any, make_channel: Any
) -> None:
    """Refused when the campaign is saved; a channel's hours changed later can still
    make them miss each other: the messages fail, saying why, rather than wait for
    ever."""
    channel = make_channel(
        name="SMS", active_from=dt.time(8), active_until=dt.time(9), timezone="UTC"
    )
    _, report = send_run_at(
        make_campaign,
        make_flow(channel=channel),
        NIGHT,
        active_from=dt.time(10),
        active_until=dt.time(11),
        timezone="UTC",
    )

    assert (report.sent, report.failed, report.deferred) == (0, 3, 0)
    assert set(Message.objects.values_list("status", "error")) == {
        (
            "failed",
            "never sent: channel 'SMS''s active hours (08:00–09:00 UTC) and the "
            "campaign's active hours (10:00–11:00 UTC) are never open at the same "
            "time",
        )
    }
    assert provider.sent == []


@pytest.fixture
def slow_provider(provider: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Each send takes a minute, on the clock dispatch reads."""
    import time
    import types

    from messaging import sending

    spent = [0.0]
    clock = types.SimpleNamespace(
        monotonic=lambda: time.monotonic() + spent[0],
        time=time.time,
        sleep=time.sleep,
    )
    monkeypatch.setattr(sending, "time", clock)
    provider.on_send.append(lambda message: spent.__setitem__(0, spent[0] + 60))
    return provider


@pytest.mark.django_db
def test_a_window_closing_while_a_chunk_is_sent_defers_the_rest(
    slow_provider: Any, make_campaign: Any, make_flow: Any
) -> None:
    """08:00–21:00 at GMT-5 closes at 02:00 UTC: the chunk starts 30 s before."""
    closing = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)
    _, report = send_run_at(
        make_campaign,
        make_flow(),
        closing - dt.timedelta(seconds=30),
        active_from=dt.time(8),
        active_until=dt.time(21),
        timezone="Etc/GMT+5",
    )

    assert (report.sent, report.deferred) == (1, 2)
    assert len(slow_provider.sent) == 1
    assert set(
        Message.objects.filter(status="deferred").values_list("not_before", flat=True)
    ) == {dt.datetime(2026, 3, 3, 13, 0, tzinfo=dt.UTC)}


@pytest.mark.django_db
def test_a_chunk_inside_its_hours_reads_only_the_clock_for_each_message(
    provider: Any,
    make_campaign: Any,
    make_flow: Any,
    make_channel: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hours are checked for every message (they may close during a chunk):
    looking for their next opening each time, the windows built again, cost a
    tenth of what sending a message costs."""
    from messaging import windows

    searches: list[dt.datetime] = []
    search = windows.windows_open_at

    def counted(windows: Any, now: dt.datetime) -> Any:
        searches.append(now)
        return search(windows, now)

    monkeypatch.setattr(windows, "windows_open_at", counted)
    channel = make_channel(
        active_from=dt.time(8), active_until=dt.time(21), timezone="Etc/GMT+5"
    )
    _, report = send_run_at(
        make_campaign,
        make_flow(channel=channel),
        MORNING + dt.timedelta(hours=2),
        active_from=dt.time(8),
        active_until=dt.time(21),
        timezone="Etc/GMT+5",
    )

    assert report.sent == 3
    # At most the channel's, before the claim (none when its hours are open).
    assert len(searches) <= 1


@pytest.mark.django_db
def test_a_channels_new_hours_that_never_meet_a_campaigns_are_refused(
    make_campaign: Any, make_flow: Any, make_channel: Any
) -> None:
    from django.core.exceptions import ValidationError

    channel = make_channel(name="SMS")
    campaign = make_campaign(flow=make_flow(channel=channel))
    Campaign.objects.filter(pk=campaign.pk).update(
        active_from=dt.time(18), active_until=dt.time(21), timezone="UTC"
    )
    channel.active_from, channel.active_until = dt.time(8), dt.time(9)

    with pytest.raises(ValidationError) as refused:
        channel.full_clean()
    assert refused.value.message_dict["active_from"] == [
        "These active hours (08:00–09:00 UTC) and those of campaign 'Spring sale' "
        "(18:00–21:00 UTC), which sends on this channel, are never open at the same "
        "time: its messages could never go out. Change or end the campaign first."
    ]
    channel.active_until = dt.time(19)
    channel.full_clean()  # they meet from 18:00 to 19:00
    Campaign.objects.filter(pk=campaign.pk).update(status="ended")
    channel.active_until = dt.time(9)
    channel.full_clean()  # an ended campaign sends nothing more


@pytest.mark.django_db
def test_a_wait_after_a_held_message_counts_from_when_it_goes_out(
    make_campaign: Any, make_channel: Any
) -> None:
    """send, wait 1 minute, send: started at 22:00 outside the channel's hours, the
    first message waits for 08:00 and the second comes a minute after it, not with
    it in the same second."""
    from flows.engine import journeys_advance
    from flows.models import Flow, FlowStep, Journey
    from flows.publishing import flow_publish

    channel = make_channel(
        active_from=dt.time(8), active_until=dt.time(21), timezone="Etc/GMT+5"
    )
    flow = Flow.objects.create(name="Two steps")
    step = FlowStep.objects.create
    step(flow=flow, position=1, kind="send", channel=channel, body="Uno")
    step(flow=flow, position=2, kind="wait", wait=dt.timedelta(minutes=1))
    step(flow=flow, position=3, kind="send", channel=channel, body="Dos")
    step(flow=flow, position=4, kind="end")
    flow_publish(flow=flow)
    campaign = make_campaign(
        started=True, flow=flow, start_at=NIGHT, end_at=NIGHT + dt.timedelta(days=7)
    )

    assert campaign_tick(campaign_id=campaign.pk, now=NIGHT) is not None

    minute = dt.timedelta(minutes=1)
    assert set(Journey.objects.values_list("due_at", flat=True)) == {MORNING + minute}
    journeys_advance(now=NIGHT + 2 * minute)
    journeys_advance(now=MORNING + dt.timedelta(seconds=30))
    assert Message.objects.count() == 3  # only the first step's, held
    journeys_advance(now=MORNING + minute)
    assert Message.objects.count() == 6

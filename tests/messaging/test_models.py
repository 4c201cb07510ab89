import pytest
from django.core.exceptions import ValidationError

from messaging.models import Channel


@pytest.mark.django_db
def test_a_channel_kind_without_a_backend_is_refused() -> None:
    from django.test import override_settings

    channel = Channel(name="Twilio SMS", kind=Channel.Kind.SMS, settings={"from": "+1"})
    with (
        override_settings(MESSAGING_BACKENDS={"console": "x"}),
        pytest.raises(ValidationError) as info,
    ):
        channel.full_clean()
    assert "No delivery backend" in info.value.message_dict["kind"][0]


@pytest.mark.django_db
def test_a_window_needs_both_ends_and_a_known_time_zone() -> None:
    import datetime as dt

    channel = Channel(name="c", active_from=dt.time(8), timezone="Mars/Olympus")
    with pytest.raises(ValidationError) as info:
        channel.full_clean()
    assert set(info.value.message_dict) == {"active_until", "timezone"}

"""Time zones as operators write them (base.zones)."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from base.zones import ZoneField, ZoneInput, zone_label, zone_parse, zone_with_offset


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [
        ("GMT-5", "Etc/GMT+5", "GMT-5"),
        ("gmt+5", "Etc/GMT-5", "GMT+5"),
        ("UTC-05:00", "Etc/GMT+5", "GMT-5"),
        ("-05:00", "Etc/GMT+5", "GMT-5"),
        ("-0500", "Etc/GMT+5", "GMT-5"),
        ("GMT+14", "Etc/GMT-14", "GMT+14"),
        ("UTC", "UTC", "UTC"),
        ("+00:00", "UTC", "UTC"),
        ("america/bogota", "America/Bogota", "America/Bogota"),
        ("Etc/GMT+5", "Etc/GMT+5", "GMT-5"),
        ("UTC+05:30", "Asia/Kolkata", "Asia/Kolkata"),
        ("+5:45", "Asia/Kathmandu", "Asia/Kathmandu"),
    ],
)
def test_a_zone_is_stored_as_the_iana_zone_it_means_and_shown_as_written(
    typed: str, stored: str, shown: str
) -> None:
    assert zone_parse(typed) == stored
    assert zone_label(stored) == shown


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("nonsense", "choose a place from the list or type an offset"),
        ("GMT+15", "offsets run from GMT-12 to GMT+14"),
        ("UTC+05:75", "minutes run up to 59"),
        # Newfoundland's −03:30 moves in summer: no place keeps it all year.
        ("UTC-03:30", "America/St_Johns"),
    ],
)
def test_what_is_no_zone_is_refused_saying_why(typed: str, said: str) -> None:
    with pytest.raises(ValidationError) as refused:
        zone_parse(typed)

    assert said in refused.value.messages[0]


def test_a_place_is_named_with_its_offset_in_sentences() -> None:
    assert zone_with_offset("America/Bogota") == "America/Bogota (GMT-5)"
    assert zone_with_offset("Etc/GMT+5") == "GMT-5"


def test_the_zone_field_offers_the_places_and_shows_an_offset_as_typed() -> None:
    field = ZoneField(required=False)

    html = ZoneInput().render("timezone", "Etc/GMT+5", {"id": "id_timezone"})

    assert 'value="GMT-5"' in html
    assert 'list="id_timezone_zones"' in html
    assert '<option value="America/Bogota">' in html
    assert field.clean("GMT-5") == "Etc/GMT+5"
    assert field.clean("") == ""


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["admin:campaigns_campaign_add", "admin:messaging_channel_add"]
)
def test_the_admins_zone_fields_pick_from_the_list_of_zones(
    admin_client: Any, url: str
) -> None:
    from django.urls import reverse

    page = admin_client.get(reverse(url)).content.decode()

    assert 'list="id_timezone_zones"' in page
    assert '<option value="America/Bogota">' in page
    assert "GMT-5, UTC+05:30" in page


@pytest.mark.django_db
def test_every_zone_a_model_is_given_is_read_as_operators_write_it(
    make_channel: Any, make_campaign: Any
) -> None:
    from audiences.importing.values import convert_row, read_header
    from audiences.models import Contact

    contact = Contact(phone="+573001234567", timezone="GMT-5")
    contact.full_clean()
    channel = make_channel(active_from="08:00", active_until="21:00")
    channel.timezone = "GMT-5:00"  # seed 003: "8:00 a.m to 21:00 p.m (GMT-5:00)"
    channel.full_clean()
    campaign = make_campaign()
    campaign.timezone = "UTC-05:00"
    campaign.full_clean()
    row = convert_row(["+573001234567", "GMT-5"], read_header(["CONTACT", "TIMEZONE"]))

    assert contact.timezone == channel.timezone == campaign.timezone == "Etc/GMT+5"
    assert row.timezone == "Etc/GMT+5"

"""Date inputs say their format and refuse others naming it (base.dates)."""

from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.test import Client, RequestFactory
from django.urls import reverse

from campaigns.admin.forms import ResumeForm
from campaigns.models import Campaign

pytestmark = pytest.mark.django_db


def test_a_date_written_day_or_month_first_is_refused_naming_the_format() -> None:
    form = ResumeForm({"start_at_0": "05/12/2026", "start_at_1": "20:00"})

    assert not form.is_valid()
    assert form.errors["start_at"] == [
        "Enter the date as YYYY-MM-DD (e.g. 2026-12-31), year first."
    ]


def test_the_admins_date_fields_read_year_first_only(admin_user: Any) -> None:
    request = RequestFactory().get("/")
    request.user = admin_user
    form = admin.site._registry[Campaign].get_form(request)()
    field = form.fields["start_at"]

    with pytest.raises(ValidationError) as refused:
        field.clean(["05/12/2026", "20:00"])

    assert "YYYY-MM-DD" in refused.value.messages[0]
    assert field.clean(["2026-12-05", "20:00"]).day == 5


def test_the_campaign_form_says_the_format_of_its_dates(admin_client: Client) -> None:
    page = admin_client.get(reverse("admin:campaigns_campaign_add")).content.decode()

    assert 'name="start_at_0"' in page
    assert page.count('placeholder="YYYY-MM-DD"') >= 2
    assert page.count('placeholder="HH:MM"') >= 2

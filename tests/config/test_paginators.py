"""Lists of millions of rows count at most CAP of them."""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from config import paginators


@pytest.mark.django_db
def test_a_big_list_says_more_than_the_cap_instead_of_counting_all(
    admin_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audiences.models import Contact

    Contact.objects.bulk_create(
        Contact(phone=f"+5255000000{n:02d}", name=f"C{n}") for n in range(12)
    )
    monkeypatch.setattr(paginators, "CAP", 10)
    url = reverse("admin:audiences_contact_changelist")

    with CaptureQueriesContext(connection) as captured:
        page = admin_client.get(url).content.decode()

    assert "more than 10 contacts" in page
    counts = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert counts
    assert all("LIMIT 11" in sql for sql in counts if "audiences_contact" in sql)


@pytest.mark.django_db
def test_a_small_list_shows_its_count(admin_client: Client, make_group: Any) -> None:
    make_group(["+525500998877", "+525511223344"])

    page = admin_client.get(reverse("admin:audiences_contact_changelist")).content
    assert b"2 contacts" in page


@pytest.mark.django_db
def test_the_count_is_not_sorted(admin_client: Client) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    url = reverse("admin:messaging_message_changelist") + "?status__exact=queued"
    with CaptureQueriesContext(connection) as captured:
        assert admin_client.get(url).status_code == 200

    [count] = [q["sql"] for q in captured if "COUNT(" in q["sql"].upper()]
    assert "LIMIT" in count
    assert "ORDER BY" not in count  # any 10,001 rows, found by any index

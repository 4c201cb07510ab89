from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audiences.models import AudienceGroup, Contact, GroupRule, Variable
from tests.lazy_parts import page_with_parts

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> None:
    for name, kind in (("NOMBRE", "text"), ("MONTO", "number"), ("FECHA", "date")):
        Variable.objects.create(name=name, kind=kind)
    Contact.objects.create(
        phone="+525500998877",
        name="Carlos",
        email="carlos@example.com",
        data={"NOMBRE": "Carlos", "MONTO": 1200, "FECHA": "2016-12-25"},
    )
    Contact.objects.create(
        phone="+525511223344",
        name="Ana",
        data={"NOMBRE": "Ana", "MONTO": 1350, "FECHA": "2016-10-25"},
    )
    Contact.objects.create(
        phone="+14155550123",
        opted_out_at=timezone.now(),
        data={"NOMBRE": "", "MONTO": 900},
    )


def members(*rules: tuple[str, str, str], match: str = "all") -> set[str]:
    group = AudienceGroup.objects.create(
        name=f"g{AudienceGroup.objects.count()}", kind="dynamic", match=match
    )
    for field, op, value in rules:
        rule = GroupRule(group=group, field=field, op=op, value=value)
        rule.full_clean()
        rule.save()
    return set(group.members().values_list("phone", flat=True))


CARLOS, ANA, US = "+525500998877", "+525511223344", "+14155550123"


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (("NOMBRE", "equals", "Ana"), {ANA}),
        (("NOMBRE", "differs", "Ana"), {CARLOS, US}),
        (("NOMBRE", "contains", "arl"), {CARLOS}),
        (("NOMBRE", "is_set", ""), {CARLOS, ANA}),
        (("NOMBRE", "is_empty", ""), {US}),
        (("MONTO", "gt", "1000"), {CARLOS, ANA}),
        (("MONTO", "lt", "1300"), {CARLOS, US}),
        (("MONTO", "equals", "1200"), {CARLOS}),
        (("FECHA", "before", "2016-12-01"), {ANA}),
        (("FECHA", "after", "2016-12-01"), {CARLOS}),
        (("FECHA", "is_empty", ""), {US}),
        (("PHONE", "contains", "+52"), {CARLOS, ANA}),
        (("EMAIL", "is_set", ""), {CARLOS}),
        (("OPTED_OUT", "is_set", ""), {US}),
        (("OPTED_OUT", "is_empty", ""), {CARLOS, ANA}),
    ],
)
def test_each_condition_selects_in_sql(
    rule: tuple[str, str, str], expected: set[str]
) -> None:
    assert members(rule) == expected


@pytest.mark.usefixtures("people")
def test_all_needs_every_condition_and_any_needs_one() -> None:
    rules = [("MONTO", "gt", "1000"), ("NOMBRE", "equals", "Ana")]
    assert members(*rules, match="all") == {ANA}
    assert members(*rules, match="any") == {CARLOS, ANA}


@pytest.mark.usefixtures("people")
def test_a_dynamic_group_without_conditions_has_no_members() -> None:
    assert members() == set()


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(
    ("field", "op", "value", "where", "message"),
    [
        ("MONTO", "gt", "lots", "value", "MONTO holds numbers; 'lots' is not one."),
        ("FECHA", "before", "25/12/2016", "value", "is not a date written YYYY-MM-DD"),
        (
            "FECHA",
            "before",
            "2019-13-45",
            "value",
            "FECHA holds dates; '2019-13-45' is not a real date: there is no month 13.",
        ),
        ("MONTO", "contains", "1", "op", "MONTO holds number values"),
        ("NOMBRE", "gt", "A", "op", "NOMBRE holds text values"),
        ("CITY", "equals", "x", "field", "'CITY' is neither PHONE, NAME"),
        ("NOMBRE", "equals", "", "value", "Give the value to compare with."),
    ],
)
def test_a_wrong_condition_is_refused_with_a_reason(
    field: str, op: str, value: str, where: str, message: str
) -> None:
    group = AudienceGroup.objects.create(name="g", kind="dynamic")
    with pytest.raises(ValidationError) as info:
        GroupRule(group=group, field=field, op=op, value=value).full_clean()
    assert message in info.value.message_dict[where][0]


@pytest.mark.usefixtures("people")
def test_a_campaign_on_a_dynamic_group_messages_its_current_members(
    make_campaign: Any,
) -> None:
    from campaigns.runs import campaign_tick
    from messaging.models import Message

    group = AudienceGroup.objects.create(name="Big spenders", kind="dynamic")
    GroupRule.objects.create(group=group, field="MONTO", op="gt", value="1000")
    campaign = make_campaign(started=True, group=group)

    run = campaign_tick(campaign_id=campaign.pk)

    assert run is not None
    assert set(Message.objects.values_list("contact__phone", flat=True)) == {
        CARLOS,
        ANA,
    }
    assert run.recipients == 2


@pytest.mark.usefixtures("people")
def test_the_group_page_counts_and_previews_its_members(admin_client: Any) -> None:
    group = AudienceGroup.objects.create(name="Big spenders", kind="dynamic")
    GroupRule.objects.create(group=group, field="MONTO", op="gt", value="1000")

    page = page_with_parts(
        admin_client, f"/admin/audiences/audiencegroup/{group.pk}/change/"
    )

    assert "2 contacts" in page
    assert CARLOS in page
    assert ANA in page
    assert US not in page
    listed = admin_client.get("/admin/audiences/contact/", {"group": group.pk})
    assert {c.phone for c in listed.context["cl"].result_list} == {CARLOS, ANA}


@pytest.mark.usefixtures("people")
def test_contacts_are_searched_by_custom_value_and_filtered_by_country(
    admin_client: Any,
) -> None:
    def found(**query: str) -> set[str]:
        response = admin_client.get("/admin/audiences/contact/", query)
        return {c.phone for c in response.context["cl"].result_list}

    assert found(q="Carlos") == {CARLOS}
    assert found(q="1350") == {ANA}
    assert found(country="1") == {US}
    assert found(country="52") == {CARLOS, ANA}

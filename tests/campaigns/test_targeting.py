"""Targeting (seed 004): a campaign or bulk message goes to several groups, minus
excluded groups, meeting conditions ALL/ANY; counted before it is saved."""

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db.models import Count, ProtectedError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audiences.models import AudienceGroup, Contact, GroupRule, Membership, Variable
from audiences.targeting import AudienceCount, Condition, audience_select
from base.models import AuditEntry
from campaigns.lifecycle import CampaignRefused, campaign_transition, campaign_update
from campaigns.models import Campaign
from campaigns.runs import campaign_tick
from campaigns.targeting import campaign_audience, campaign_audience_count
from messaging.models import Message
from tests.campaigns.test_admin import form_data
from tests.campaigns.test_bulk import form as bulk_form
from tests.lazy_parts import page_with_parts

# Who is who: in the static group, the dynamic one (CIUDAD is CDMX), the excluded
# dynamic one (NIVEL is bloqueado); MONTO over 1000 or VIP in the name (ANY).
PEOPLE = {
    "rich": ("+525500000001", "Rosa", {"MONTO": 1500}),  # static; no NIVEL
    "vip": ("+525500000002", "Ana VIP", {"MONTO": 500}),  # static
    "both": ("+525500000003", "Beto", {"MONTO": 2000, "CIUDAD": "CDMX"}),
    "gone": ("+525500000004", "Gil", {"MONTO": 3000}),  # static, opted out
    "poor": ("+525500000005", "Pia", {"MONTO": 100, "CIUDAD": "CDMX"}),
    "blocked": (
        "+525500000006",
        "Blas VIP",
        {"MONTO": 9000, "CIUDAD": "CDMX", "NIVEL": "bloqueado"},
    ),
    "no_amount": ("+525500000007", "VIP Luis", {"CIUDAD": "CDMX"}),
    "outside": ("+525500000008", "Otto VIP", {"MONTO": 5000}),  # in no group
}
EXPECTED = {"rich", "vip", "both", "no_amount"}  # and "gone", skipped


def phones(*keys: str) -> set[str]:
    return {PEOPLE[key][0] for key in keys}


@pytest.fixture
def audience(db: None) -> dict[str, Any]:
    for name, kind in (("MONTO", "number"), ("CIUDAD", "text"), ("NIVEL", "text")):
        Variable.objects.create(name=name, kind=kind)
    contacts = {
        key: Contact.objects.create(phone=phone, name=name, data=data)
        for key, (phone, name, data) in PEOPLE.items()
    }
    Contact.objects.filter(pk=contacts["gone"].pk).update(opted_out_at=timezone.now())
    static = AudienceGroup.objects.create(name="Clientes 2024")
    for key in ("rich", "vip", "both", "gone"):
        Membership.objects.create(group=static, contact=contacts[key])
    dynamic = AudienceGroup.objects.create(name="CDMX", kind="dynamic")
    GroupRule.objects.create(group=dynamic, field="CIUDAD", op="equals", value="CDMX")
    blocked = AudienceGroup.objects.create(name="Bloqueados", kind="dynamic")
    GroupRule.objects.create(
        group=blocked, field="NIVEL", op="equals", value="bloqueado"
    )
    return {"static": static, "dynamic": dynamic, "blocked": blocked}


RULES = [Condition("MONTO", "gt", "1000"), Condition("NAME", "contains", "VIP")]


def targeted(audience: dict[str, Any]) -> dict[str, Any]:
    return {
        "group": audience["static"],
        "also_groups": [audience["dynamic"]],
        "excluded_groups": [audience["blocked"]],
        "rules": RULES,
        "match": "any",
    }


def test_the_selection_is_the_groups_minus_the_excluded_meeting_any_condition(
    audience: dict[str, Any],
) -> None:
    chosen = audience_select(
        groups=[audience["static"], audience["dynamic"]],
        excluded=[audience["blocked"]],
        rules=RULES,
        match="any",
    )

    assert set(chosen.values_list("phone", flat=True)) == phones(*EXPECTED, "gone")
    assert chosen.count() == len(EXPECTED) + 1  # each contact once


def test_all_conditions_and_no_conditions(audience: dict[str, Any]) -> None:
    groups = [audience["static"], audience["dynamic"]]
    every = audience_select(groups=groups, excluded=[audience["blocked"]])
    both = audience_select(groups=groups, rules=RULES, match="all")

    assert set(every.values_list("phone", flat=True)) == phones(
        "rich", "vip", "both", "gone", "poor", "no_amount"
    )
    assert set(both.values_list("phone", flat=True)) == phones("blocked")


def test_a_run_sends_once_to_each_targeted_contact_and_skips_the_opted_out(
    audience: dict[str, Any], make_campaign: Any
) -> None:
    campaign = make_campaign(started=True, **targeted(audience))

    run = campaign_tick(campaign_id=campaign.pk, now=timezone.now())

    assert run is not None
    messages = Message.objects.filter(batch__cohort__run=run)
    assert set(
        messages.filter(status="queued").values_list("contact__phone", flat=True)
    ) == phones(*EXPECTED)
    assert set(
        messages.filter(status="skipped").values_list("contact__phone", flat=True)
    ) == phones("gone")
    per_contact = messages.values("contact").annotate(n=Count("pk"))
    assert {row["n"] for row in per_contact} == {1}
    assert (run.recipients, run.skipped) == (len(EXPECTED) + 1, 1)


def test_the_count_says_how_many_go_and_how_many_opted_out_are_skipped(
    audience: dict[str, Any], make_campaign: Any
) -> None:
    campaign = make_campaign(**targeted(audience))

    counted = campaign_audience_count(campaign)

    assert counted == AudienceCount(total=5, opted_out=1)
    assert str(counted) == "Goes to 4 contacts; 1 opted out is skipped."
    assert str(AudienceCount(12_720, 312)) == (
        "Goes to 12,408 contacts; 312 opted out are skipped."
    )
    assert campaign_audience(campaign).count() == 5


def test_a_group_both_sent_to_and_excluded_is_refused(
    audience: dict[str, Any], make_campaign: Any
) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        make_campaign(group=audience["static"], excluded_groups=[audience["static"]])
    assert "Clientes 2024 cannot be both sent to and excluded" in str(refused.value)
    assert not Campaign.objects.exists()


def test_targeting_follows_the_lifecycle_and_is_audited(
    audience: dict[str, Any], make_campaign: Any
) -> None:
    campaign = make_campaign(group=audience["static"])

    campaign_update(campaign=campaign, **targeted(audience))

    assert list(campaign.also_groups.all()) == [audience["dynamic"]]
    assert [str(rule) for rule in campaign.rules.all()] == [
        "MONTO is greater than 1000",
        "NAME contains VIP",
    ]
    change = AuditEntry.objects.filter(action="change").latest("pk")
    assert change.changes["excluded_groups"] == [[], ["Bloqueados"]]
    campaign_transition(campaign=campaign, to="in_progress")
    with pytest.raises(CampaignRefused, match="Only a pending or suspended campaign"):
        campaign_update(campaign=campaign, excluded_groups=[])
    assert campaign.excluded_groups.count() == 1


def test_a_group_a_campaign_excludes_cannot_be_deleted(
    audience: dict[str, Any], make_campaign: Any
) -> None:
    make_campaign(**targeted(audience))

    with pytest.raises(ProtectedError):
        audience["blocked"].delete()


# --- The forms --------------------------------------------------------------------


def campaign_post(audience: dict[str, Any], make_flow: Any, **extra: Any) -> dict:
    start = timezone.localtime() + dt.timedelta(hours=2)
    data = form_data(
        {
            "name": "Buen Fin",
            "flow": make_flow().pk,
            "group": audience["static"].pk,
            "also_groups": [audience["dynamic"].pk],
            "excluded_groups": [audience["blocked"].pk],
            "match": "any",
            "start_at": start,
            "end_at": start + dt.timedelta(days=1),
        }
    )
    data.update({"rules-TOTAL_FORMS": 2})
    for index, rule in enumerate(RULES):
        data.update(
            {
                f"rules-{index}-field": rule.field,
                f"rules-{index}-op": rule.op,
                f"rules-{index}-value": rule.value,
            }
        )
    data.update(extra)
    return data


def test_the_campaign_form_counts_before_saving_then_saves_the_targeting(
    admin_client: Client, audience: dict[str, Any], make_flow: Any
) -> None:
    url = reverse("admin:campaigns_campaign_add")
    data = campaign_post(audience, make_flow)

    counted = admin_client.post(url, {**data, "_count": "1"})

    assert counted.status_code == 200
    page = counted.content.decode()
    assert "Goes to 4 contacts; 1 opted out is skipped." in page
    assert "Nothing is saved yet." in page
    assert not Campaign.objects.exists()

    saved = admin_client.post(url, data)

    assert saved.status_code == 302, saved.content.decode()[-3000:]
    campaign = Campaign.objects.get(name="Buen Fin")
    assert campaign.match == "any"
    assert list(campaign.also_groups.all()) == [audience["dynamic"]]
    assert list(campaign.excluded_groups.all()) == [audience["blocked"]]
    assert campaign.rules.count() == 2
    told = [str(m) for m in get_messages(saved.wsgi_request)]
    assert "Goes to 4 contacts; 1 opted out is skipped." in told
    audited = [entry.changes.get("rules") for entry in AuditEntry.objects.all()]
    assert [[], ["MONTO is greater than 1000", "NAME contains VIP"]] in audited
    change = admin_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    assert "Goes to 4 contacts; 1 opted out is skipped." in change
    listed = admin_client.get(
        reverse("admin:campaigns_campaign_changelist")
    ).content.decode()
    assert "+ CDMX − Bloqueados, any of 2 conditions" in listed

    # Modified: one condition deleted, the other changed; ALL instead of ANY.
    rules = list(campaign.rules.all())
    edit = campaign_post(audience, make_flow, match="all")
    edit["flow"] = campaign.flow_id
    edit.update({"rules-INITIAL_FORMS": 2, "rules-0-id": rules[0].pk})
    edit.update({"rules-1-id": rules[1].pk, "rules-1-DELETE": "on"})
    edit.update({"rules-0-value": "2500", "rules-0-op": "lt"})
    changed = admin_client.post(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk]), edit
    )
    assert changed.status_code == 302, changed.content.decode()[-3000:]
    campaign.refresh_from_db()
    assert campaign.match == "all"
    assert [str(rule) for rule in campaign.rules.all()] == ["MONTO is less than 2500"]
    # rich, vip, both and poor; gone has 3000, no_amount no MONTO at all.
    assert set(campaign_audience(campaign).values_list("phone", flat=True)) == phones(
        "rich", "vip", "both", "poor"
    )


@pytest.mark.parametrize(
    ("field", "op", "value", "says"),
    [
        ("SALDO", "gt", "10", "&#x27;SALDO&#x27; is neither PHONE, NAME, EMAIL"),
        ("MONTO", "gt", "mucho", "MONTO holds numbers; &#x27;mucho&#x27; is not one."),
        ("MONTO", "contains", "1", "MONTO holds number values; use one of"),
    ],
)
def test_a_wrong_condition_is_refused_naming_the_field(
    admin_client: Client,
    audience: dict[str, Any],
    make_flow: Any,
    field: str,
    op: str,
    value: str,
    says: str,
) -> None:
    data = campaign_post(
        audience,
        make_flow,
        **{"rules-1-field": field, "rules-1-op": op, "rules-1-value": value},
    )

    for press in ({}, {"_count": "1"}):
        response = admin_client.post(
            reverse("admin:campaigns_campaign_add"), {**data, **press}
        )
        assert response.status_code == 200
        page = response.content.decode()
        assert says in page
        assert "Goes to" not in page
    assert not Campaign.objects.exists()


def test_the_campaign_form_refuses_a_group_both_sent_to_and_excluded(
    admin_client: Client, audience: dict[str, Any], make_flow: Any
) -> None:
    data = campaign_post(audience, make_flow, excluded_groups=[audience["dynamic"].pk])

    response = admin_client.post(reverse("admin:campaigns_campaign_add"), data)

    assert response.status_code == 200
    assert "CDMX cannot be both sent to and excluded" in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_viewer_cannot_count_or_save_targeting(
    client: Client, audience: dict[str, Any], make_flow: Any, make_user: Any
) -> None:
    client.force_login(make_user("Viewer"))
    data = campaign_post(audience, make_flow)

    for press in ({"_count": "1"}, {}):
        response = client.post(reverse("admin:campaigns_campaign_add"), data | press)
        assert response.status_code == 403
    assert not Campaign.objects.exists()


def bulk_post(audience: dict[str, Any], channel: Any, **extra: Any) -> dict:
    data = bulk_form(audience["static"], channel)
    data.update(
        {
            "also_groups": [audience["dynamic"].pk],
            "excluded_groups": [audience["blocked"].pk],
            "match": "any",
            "conditions-TOTAL_FORMS": "3",
        }
    )
    for index, rule in enumerate(RULES):
        data.update(
            {
                f"conditions-{index}-field": rule.field,
                f"conditions-{index}-op": rule.op,
                f"conditions-{index}-value": rule.value,
            }
        )
    data.update(extra)
    return data


def test_the_bulk_message_previews_the_count_and_goes_to_the_targeted_set(
    admin_client: Client, audience: dict[str, Any], make_channel: Any
) -> None:
    url = reverse("admin:campaigns_bulk")
    data = bulk_post(audience, make_channel())

    preview = admin_client.post(url, {**data, "_preview": "1"}).content.decode()

    assert "Goes to 4 contacts; 1 opted out is skipped." in preview
    assert "To Clientes 2024 + CDMX − Bloqueados, any of 2 conditions." in preview
    assert not Campaign.objects.exists()

    sent = admin_client.post(url, {**data, "_send": "1"})

    assert sent.status_code == 302, sent.content.decode()[-3000:]
    campaign = Campaign.objects.get()
    assert campaign.match == "any"
    assert [str(rule) for rule in campaign.rules.all()] == [
        "MONTO is greater than 1000",
        "NAME contains VIP",
    ]
    run = campaign_tick(
        campaign_id=campaign.pk, now=campaign.start_at + dt.timedelta(seconds=1)
    )
    assert run is not None
    queued = Message.objects.filter(batch__cohort__run=run, status="queued")
    assert sorted(queued.values_list("contact__phone", flat=True)) == sorted(
        phones(*EXPECTED)
    )


def test_the_bulk_form_refuses_a_wrong_condition_naming_the_field(
    admin_client: Client, audience: dict[str, Any], make_channel: Any
) -> None:
    data = bulk_post(
        audience,
        make_channel(),
        **{"conditions-2-field": "SALDO", "conditions-2-op": "gt"},
    )

    for press in ("_preview", "_send"):
        page = admin_client.post(
            reverse("admin:campaigns_bulk"), {**data, press: "1"}
        ).content.decode()
        assert "&#x27;SALDO&#x27; is neither PHONE, NAME, EMAIL" in page
        assert "Goes to" not in page
    assert not Campaign.objects.exists()


def test_the_api_lists_the_extra_and_excluded_groups(
    admin_client: Client, audience: dict[str, Any], make_campaign: Any
) -> None:
    make_campaign(**targeted(audience))

    found = admin_client.get("/api/campaigns").json()["results"][0]

    assert found["group"]["name"] == "Clientes 2024"
    assert [g["name"] for g in found["also_groups"]] == ["CDMX"]
    assert [g["name"] for g in found["excluded_groups"]] == ["Bloqueados"]
    assert found["match"] == "any"
    assert found["conditions"][0] == {"field": "MONTO", "op": "gt", "value": "1000"}


def test_a_campaign_in_progress_shows_its_targeting_read_only(
    admin_client: Client, audience: dict[str, Any], make_campaign: Any
) -> None:
    campaign = make_campaign(started=True, **targeted(audience))
    campaign_tick(campaign_id=campaign.pk, now=timezone.now())

    page = page_with_parts(
        admin_client, reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    )

    assert 'name="_save"' not in page
    assert 'name="_count"' not in page
    assert "CDMX" in page
    assert "Bloqueados" in page
    assert "is greater than" in page  # its conditions, read-only rows
    assert "Goes to 4 contacts; 1 opted out is skipped." in page


@pytest.mark.django_db(transaction=True)
def test_existing_campaigns_keep_their_one_group_through_the_migration(
    make_campaign: Any,
) -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    campaign = make_campaign()
    members = set(campaign.group.members().values_list("pk", flat=True))
    graph = MigrationExecutor(connection).loader.graph
    (targeting,) = [
        key for key in graph.nodes if key[0] == "campaigns" and "targeting" in key[1]
    ]
    before = sorted(p for p in graph.node_map[targeting].parents if p[0] == "campaigns")
    try:
        MigrationExecutor(connection).migrate(before)
        MigrationExecutor(connection).migrate(graph.leaf_nodes())

        campaign = Campaign.objects.get(pk=campaign.pk)
        assert campaign.match == "all"
        assert not campaign.also_groups.exists()
        assert not campaign.rules.exists()
        assert set(campaign_audience(campaign).values_list("pk", flat=True)) == members
    finally:
        MigrationExecutor(connection).migrate(graph.leaf_nodes())


def test_the_delete_page_of_an_excluded_group_names_the_campaign_keeping_it(
    admin_client: Client, audience: dict[str, Any], make_campaign: Any
) -> None:
    make_campaign(name="Buen Fin", **targeted(audience))
    url = reverse("admin:audiences_audiencegroup_delete", args=[audience["blocked"].pk])

    page = admin_client.post(url, {"post": "yes"}).content.decode()

    assert "Campaign excluding the group: Buen Fin" in page
    assert AudienceGroup.objects.filter(pk=audience["blocked"].pk).exists()

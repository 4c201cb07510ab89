"""Building, publishing, previewing and archiving flows in the admin."""

import re
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from audiences.models import Contact, Variable
from flows.models import Flow, FlowStep
from flows.publishing import flow_note_edits

STEP_FIELDS = [
    "position",
    "kind",
    "channel",
    "body",
    "media_url",
    "wait",
    "next_step",
    "condition_field",
    "condition_op",
    "condition_value",
    "yes_step",
    "no_step",
]


def flow_form(name: str, steps: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": name,
        "description": "",
        "trigger": "manual",
        "event_name": "",
        "audience_group": "",
        "audience_every": "",
        "steps-TOTAL_FORMS": len(steps),
        "steps-INITIAL_FORMS": 0,
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
        "event_conditions-TOTAL_FORMS": 0,
        "event_conditions-INITIAL_FORMS": 0,
        **fields,
    }
    for index, step in enumerate(steps):
        for key in STEP_FIELDS:
            data[f"steps-{index}-{key}"] = step.get(key, "")
    return data


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def seed_flow_steps(channel_id: int) -> list[dict[str, Any]]:
    return [
        {
            "position": 1,
            "kind": "send",
            "channel": channel_id,
            "body": "Hola {{NOMBRE}} 🎉",
        },
        {"position": 2, "kind": "wait", "wait": "00:01:00"},
        {
            "position": 3,
            "kind": "branch",
            "condition_field": "MONTO",
            "condition_op": "gt",
            "condition_value": "1000",
            "yes_step": 4,
            "no_step": 5,
        },
        {
            "position": 4,
            "kind": "send",
            "channel": channel_id,
            "body": "VIP: {{MONTO}} puntos",
            "media_url": "https://example.com/vip.png",
            "next_step": 6,
        },
        {
            "position": 5,
            "kind": "send",
            "channel": channel_id,
            "body": "Ahorra {{CUPON}}",
        },
        {"position": 6, "kind": "end"},
    ]


@pytest.mark.django_db
def test_a_three_step_flow_is_built_published_and_previewed_in_the_admin(
    admin_client: Client, make_channel: Any
) -> None:
    Variable.objects.create(name="MONTO", kind="number")
    Variable.objects.create(name="NOMBRE", kind="text")
    Contact.objects.create(
        phone="+525500998877", name="Carlos", data={"NOMBRE": "Carlos", "MONTO": 1200}
    )
    channel = make_channel(name="SMS Mexico")
    response = admin_client.post(
        reverse("admin:flows_flow_add"),
        flow_form("Welcome", seed_flow_steps(channel.pk)),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    flow = Flow.objects.get(name="Welcome")
    assert flow.steps.count() == 6

    response = admin_client.post(reverse("admin:flows_publish", args=[flow.pk]))
    assert "Welcome published as version 1." in texts(response)
    flow.refresh_from_db()
    assert flow.status == "published"

    page = admin_client.get(
        reverse("admin:flows_preview", args=[flow.pk]),
        {"version": "1", "contact": "+525500998877"},
    ).content.decode()
    assert "<svg" in page
    assert "1 · Send on SMS Mexico" in page
    assert "2 · Wait 1 min" in page
    assert "MONTO is greater than 1000" in page
    assert ">yes</text>" in page
    assert ">no</text>" in page
    assert "Hola Carlos 🎉" in page
    assert "VIP: 1200 puntos" in page
    assert "https://example.com/vip.png" in page
    # CUPON: the contact lacks it, and no contact ever had it.
    assert "CUPON: this contact has no value" in page
    assert "CUPON: no contact has this variable" in page
    # Carlos's path: the branch answers yes, so step 5's message is for others.
    assert "Step 3: MONTO is greater than 1000? yes." in page
    assert page.count('class="off-path"') == 1


@pytest.mark.django_db
def test_the_preview_says_when_the_sample_contact_has_no_name_for_the_text(
    admin_client: Client, make_flow: Any, make_group: Any
) -> None:
    from audiences.models import AudienceGroup

    flow = make_flow(body="Hola {{NAME}}")
    make_group(["+525500998877", "+525511223344"], name="Seed")
    Contact.objects.filter(phone="+525511223344").update(name="")

    page = admin_client.get(
        reverse("admin:flows_preview", args=[flow.pk]),
        {"contact": "+525511223344"},
    ).content.decode()
    group_page = admin_client.get(
        reverse("admin:flows_preview", args=[flow.pk]),
        {"group": AudienceGroup.objects.get().pk},
    ).content.decode()

    assert re.search(r"Rendered for <a [^>]*>\+525511223344</a>", page)
    assert "NAME: this contact has no value (sent empty)" in page
    assert "all filled" not in page
    assert "NAME: some members of Seed have no value" in group_page


@pytest.mark.django_db
def test_an_unsound_graph_is_saved_as_a_draft_with_every_problem_named(
    admin_client: Client, make_channel: Any
) -> None:
    channel = make_channel()
    steps = [
        {"position": 1, "kind": "send", "channel": channel.pk, "body": "Hi"},
        {
            "position": 2,
            "kind": "branch",
            "condition_field": "NAME",
            "condition_op": "is_set",
            "yes_step": 1,
            "no_step": 3,
        },
        {"position": 3, "kind": "send", "channel": channel.pk, "body": "Bye"},
    ]
    response = admin_client.post(
        reverse("admin:flows_flow_add"), flow_form("Loopy", steps), follow=True
    )
    warning = next(t for t in texts(response) if t.startswith("Saved as a draft"))
    assert "Steps 1 → 2 → 1 form a loop without a Wait step" in warning
    assert "Step 3 leads nowhere" in warning
    flow = Flow.objects.get(name="Loopy")
    response = admin_client.post(reverse("admin:flows_publish", args=[flow.pk]))
    assert any("Loopy was not published" in t for t in texts(response))
    assert Flow.objects.get(pk=flow.pk).status == "draft"


@pytest.mark.django_db
def test_editing_after_publishing_shows_unpublished_changes(
    admin_client: Client, make_flow: Any
) -> None:
    flow = make_flow()
    send = FlowStep.objects.get(flow=flow, kind="send")
    end = FlowStep.objects.get(flow=flow, kind="end")
    data = flow_form(flow.name, [])
    data.update({"steps-TOTAL_FORMS": 2, "steps-INITIAL_FORMS": 2})
    for index, step in enumerate([send, end]):
        data[f"steps-{index}-id"] = step.pk
        data[f"steps-{index}-flow"] = flow.pk
        for key in STEP_FIELDS:
            value = getattr(step, key if key != "channel" else "channel_id")
            data[f"steps-{index}-{key}"] = "" if value is None else value
    data["steps-0-body"] = "A new text"
    response = admin_client.post(
        reverse("admin:flows_flow_change", args=[flow.pk]), data, follow=True
    )
    assert any("differ from the published version" in t for t in texts(response))
    flow.refresh_from_db()
    assert flow.has_draft_changes
    assert flow.current_version.steps[0]["body"] == "Hola {{NOMBRE}}"
    listing = admin_client.get(reverse("admin:flows_flow_changelist")).content.decode()
    assert "unpublished changes" in listing


@pytest.mark.django_db
def test_archiving_is_refused_while_a_campaign_uses_the_flow(
    admin_client: Client, make_campaign: Any
) -> None:
    campaign = make_campaign()
    response = admin_client.post(
        reverse("admin:flows_archive", args=[campaign.flow_id])
    )
    assert any("used by campaigns that have not ended" in t for t in texts(response))
    assert Flow.objects.get(pk=campaign.flow_id).status == "published"


@pytest.mark.django_db
def test_an_archived_flow_cannot_be_chosen_by_a_campaign(
    admin_client: Client, make_flow: Any, make_campaign: Any
) -> None:
    from django.core.exceptions import ValidationError

    flow = make_flow()
    response = admin_client.post(reverse("admin:flows_archive", args=[flow.pk]))
    assert any("is archived" in t for t in texts(response))
    with pytest.raises(ValidationError, match="published"):
        make_campaign(flow=Flow.objects.get(pk=flow.pk))


@pytest.mark.django_db
def test_a_user_without_the_publish_permission_cannot_publish(
    client: Client, make_flow: Any
) -> None:
    flow = make_flow(publish=False)
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_flow"))
    client.force_login(user)
    assert (
        client.post(reverse("admin:flows_publish", args=[flow.pk])).status_code == 403
    )
    assert Flow.objects.get(pk=flow.pk).status == "draft"
    Contact.objects.create(phone="+525500998877", data={"NOMBRE": "Secreto"})
    page = client.get(reverse("admin:flows_preview", args=[flow.pk]))
    assert page.status_code == 200
    # Without the right to view contacts, no contact's data is shown.
    assert "Secreto" not in page.content.decode()
    assert "Hola {{NOMBRE}}" in page.content.decode()


@pytest.mark.django_db
def test_the_campaign_page_links_to_the_preview_of_its_version(
    admin_client: Client, make_campaign: Any
) -> None:
    campaign = make_campaign()
    page = admin_client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()
    url = reverse("admin:flows_preview", args=[campaign.flow_id])
    assert f"{url}?version=1&amp;group={campaign.group_id}" in page


@pytest.mark.django_db
def test_a_campaign_form_previews_only_published_flows(
    admin_client: Client, make_flow: Any
) -> None:
    draft = make_flow(publish=False, name="Draft")
    published = make_flow(name="Live")
    url = reverse("admin:flows_preview", args=[draft.pk])
    refused = admin_client.get(url, {"version": "published"}, follow=True)
    assert any("only published flows can be previewed" in t for t in texts(refused))
    page = admin_client.get(
        reverse("admin:flows_preview", args=[published.pk]), {"version": "published"}
    ).content.decode()
    assert "Preview of Live (version 1, published)" in page
    form = admin_client.get(reverse("admin:campaigns_campaign_add")).content.decode()
    assert "Preview flow chain" in form


def publish_offered(client: Client, flow: Flow) -> bool:
    page = client.get(reverse("admin:flows_flow_change", args=[flow.pk]))
    return reverse("admin:flows_publish", args=[flow.pk]) in page.content.decode()


@pytest.mark.django_db
def test_publish_is_offered_only_for_drafts_and_unpublished_changes(
    admin_client: Client, make_flow: Any
) -> None:
    flow = make_flow(publish=False)
    assert publish_offered(admin_client, flow)

    admin_client.post(reverse("admin:flows_publish", args=[flow.pk]))
    assert not publish_offered(admin_client, flow)

    FlowStep.objects.filter(flow=flow, kind="send").update(body="A new text")
    flow.refresh_from_db()
    assert flow_note_edits(flow=flow)
    assert publish_offered(admin_client, flow)


@pytest.mark.django_db
def test_publishing_without_unpublished_changes_is_refused_with_a_message(
    admin_client: Client, make_flow: Any
) -> None:
    flow = make_flow(name="Welcome")

    response = admin_client.post(reverse("admin:flows_publish", args=[flow.pk]))

    assert texts(response) == [
        "Welcome was not published: Flow 'Welcome' has no unpublished changes; "
        "version 1 already has these steps."
    ]
    assert flow.versions.count() == 1


@pytest.mark.django_db
def test_the_preview_shows_the_published_version_until_the_steps_change(
    admin_client: Client, make_flow: Any
) -> None:
    flow = make_flow(name="Welcome")
    url = reverse("admin:flows_preview", args=[flow.pk])

    page = admin_client.get(url).content.decode()
    assert "Preview of Welcome (version 1, published)" in page
    assert "working copy" not in page
    assert "the steps have not changed since" in page

    FlowStep.objects.filter(flow=flow, kind="send").update(body="A new text")
    assert flow_note_edits(flow=flow)
    page = admin_client.get(url).content.decode()
    assert "Preview of Welcome (working copy)" in page
    assert 'they differ from <a href="?version=1">version 1</a>' in page
    assert "A new text" in page
    page = admin_client.get(url, {"version": "1"}).content.decode()
    assert "Preview of Welcome (version 1, published)" in page
    assert '<a href="?">see the working copy</a>' in page


def step_cell(page: str, index: int, field: str) -> str:
    """The classes of the group holding a step field, and of the row holding it."""
    row = re.search(
        rf'<tr class="([^"]*)"\s+id="steps-{index}"(.*?)</tr>', page, re.DOTALL
    )
    assert row, f"no row steps-{index}"
    groups = re.findall(
        r'<div class="step-group ([^"]*)">(.*?)</div>\s*(?=<div class="step-group|'
        r"</div></td>)",
        row.group(2),
        re.DOTALL,
    )
    return next(
        kinds for kinds, html in groups if f'name="steps-{index}-{field}"' in html
    )


@pytest.mark.django_db
def test_each_step_field_is_grouped_under_the_kinds_that_use_it(
    admin_client: Client, make_flow: Any
) -> None:
    flow = make_flow()
    page = admin_client.get(
        reverse("admin:flows_flow_change", args=[flow.pk])
    ).content.decode()

    assert "flows/steps.js" in page
    assert "flows/steps.css" in page
    assert step_cell(page, 0, "channel") == "for-send for-reply"
    assert step_cell(page, 0, "body") == "for-send"
    assert step_cell(page, 0, "wait") == "for-wait for-reply"
    assert step_cell(page, 0, "next_step") == "for-send for-wait for-group"
    assert step_cell(page, 0, "yes_step") == "for-branch for-reply"
    assert step_cell(page, 0, "reply_test") == "for-reply"
    assert step_cell(page, 0, "timeout_step") == "for-reply"
    assert step_cell(page, 0, "group") == "for-group"


@pytest.mark.django_db
def test_a_viewer_sees_only_the_fields_of_each_steps_kind(
    client: Client, make_flow: Any
) -> None:
    flow = make_flow(publish=False)
    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_flow", "view_flowstep"])
    )
    client.force_login(user)
    page = client.get(reverse("admin:flows_flow_change", args=[flow.pk]))
    html = page.content.decode()

    # Rows that cannot change are marked with their kind here, not by the script.
    assert re.search(r'id="steps-0"\s+data-kind="send"', html)
    assert re.search(r'id="steps-1"\s+data-kind="end"', html)


@pytest.mark.django_db
def test_the_fields_a_steps_kind_does_not_use_are_saved_empty(
    admin_client: Client, make_channel: Any
) -> None:
    channel = make_channel()
    steps = [
        {
            "position": 1,
            "kind": "wait",
            "wait": "00:01:00",
            # Typed while it was a send step, then hidden: not kept, not checked.
            "channel": channel.pk,
            "body": "Left over",
            "media_url": "not a url",
            "yes_step": 3,
        },
        {"position": 2, "kind": "send", "channel": channel.pk, "body": "Hi"},
        {"position": 3, "kind": "end", "body": "Bye", "next_step": 1},
    ]
    response = admin_client.post(
        reverse("admin:flows_flow_add"), flow_form("Tidy", steps)
    )
    assert response.status_code == 302, response.content.decode()[:3000]

    wait, send, end = FlowStep.objects.filter(flow__name="Tidy").order_by("position")
    assert (wait.channel, wait.body, wait.media_url, wait.yes_step) == (
        None,
        "",
        "",
        None,
    )
    assert wait.wait is not None
    assert (send.channel, send.body) == (channel, "Hi")
    assert (end.body, end.next_step) == ("", None)


@pytest.mark.postgresql  # PostgreSQL query plans
@pytest.mark.django_db
def test_a_flows_journeys_list_those_on_it_first_newest_first_in_its_index_order(
    admin_client: Client, make_flow: Any, make_group: Any
) -> None:
    from flows.cohorts import cohort_open
    from flows.models import Journey

    flow, other = make_flow(), make_flow()
    contacts = make_group(["+525500998877", "+525511223344"]).members().order_by("pk")
    made = [
        Journey.objects.create(
            flow=f,
            flow_version=f.current_version,
            cohort=cohort_open(version=f.current_version, name=status),
            contact=c,
            step=1,
            status=status,
        )
        for f, status in [(flow, "active"), (flow, "ended"), (other, "active")]
        for c in contacts
    ]
    url = reverse("admin:flows_journey_changelist") + f"?flow__id__exact={flow.pk}"

    listed = admin_client.get(url).context["cl"]

    assert [j.pk for j in listed.result_list] == [made[i].pk for i in (1, 0, 3, 2)]
    # Read in the order of an index, with or without a status: no sort of the
    # flow's journeys, which may be millions.
    for rows in (listed.queryset, listed.queryset.filter(status="ended")):
        assert_read_in_order(rows, "journey_flow_status_id_idx")


@pytest.mark.postgresql  # PostgreSQL query plans
@pytest.mark.django_db
@pytest.mark.parametrize("status", ["cancelled", "failed"])
def test_journeys_that_stopped_early_are_listed_from_their_own_index(
    admin_client: Client, status: str
) -> None:
    url = reverse("admin:flows_journey_changelist") + f"?status__exact={status}"

    listed = admin_client.get(url).context["cl"]

    assert_read_in_order(listed.queryset, "journey_stopped_idx")


def assert_read_in_order(rows: Any, index: str) -> None:
    """The first page of ``rows`` is read from ``index``, in its order (told to
    avoid sorting, PostgreSQL reads a table this small through any index)."""
    from django.db import connection, transaction

    sql, params = rows[:100].query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("seqscan", "sort", "incremental_sort"):
            cursor.execute(f"SET LOCAL enable_{setting} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.django_db
def test_a_flows_page_costs_the_same_queries_for_one_step_or_many_versions(
    admin_client: Client, make_flow: Any, make_channel: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from flows.publishing import flow_publish

    small = make_flow(publish=False)
    big = make_flow()
    channel = make_channel(name="Correo")
    FlowStep.objects.filter(flow=big, position=2).update(position=9)
    for position in range(2, 6):
        FlowStep.objects.create(
            flow=big, position=position, kind="send", channel=channel, body="Hola"
        )
    flow_publish(flow=big)

    def queries(flow: Flow) -> tuple[int, str]:
        url = reverse("admin:flows_flow_change", args=[flow.pk])
        with CaptureQueriesContext(connection) as captured:
            page = admin_client.get(url).content.decode()
        return len(captured), page

    queries(small)  # the first page of a session reads what later ones find cached
    count_small, _ = queries(small)
    count_big, page = queries(big)

    assert count_big == count_small
    selected = f'<option value="{channel.pk}" selected>Correo</option>'
    assert page.count(selected) == 4


@pytest.mark.django_db
def test_the_preview_looks_for_a_groups_missing_values_among_its_first_members(
    admin_client: Client,
    make_flow: Any,
    make_group: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from flows import preview

    Variable.objects.create(name="NOMBRE", kind="text")
    flow = make_flow(body="Hola {{NOMBRE}}")
    FlowStep.objects.filter(flow=flow, kind="end").update(position=3)
    FlowStep.objects.create(
        flow=flow,
        position=2,
        kind="send",
        channel=FlowStep.objects.get(flow=flow, position=1).channel,
        body="{{NOMBRE}}, {{NAME}}",
    )
    group = make_group(["+525500998877", "+525511223344", "+525533445566"])
    Contact.objects.filter(phone="+525533445566").update(data={})  # the last one
    url = reverse("admin:flows_preview", args=[flow.pk])
    monkeypatch.setattr(preview, "GROUP_SAMPLE", 2)

    with CaptureQueriesContext(connection) as captured:
        sampled = admin_client.get(url, {"group": group.pk}).content.decode()

    assert "NOMBRE: some members" not in sampled
    assert "looked for among its first 2 members" in sampled
    # Every variable of every step in one query, whatever the group's size.
    assert sum("NOMBRE" in q["sql"] for q in captured) == 1
    monkeypatch.setattr(preview, "GROUP_SAMPLE", 4)
    whole = admin_client.get(url, {"group": group.pk}).content.decode()
    assert whole.count(f"NOMBRE: some members of {group.name} have no value") == 2
    assert "looked for among" not in whole


@pytest.mark.django_db
def test_the_preview_does_not_warn_of_a_placeholder_with_a_fallback(
    admin_client: Client, make_flow: Any, make_group: Any
) -> None:
    from audiences.models import AudienceGroup

    flow = make_flow(body="Hola {{NAME|amigo}}")
    make_group(["+525500998877", "+525511223344"], name="Seed")
    Contact.objects.filter(phone="+525511223344").update(name="")

    page = admin_client.get(
        reverse("admin:flows_preview", args=[flow.pk]),
        {"contact": "+525511223344"},
    ).content.decode()
    group_page = admin_client.get(
        reverse("admin:flows_preview", args=[flow.pk]),
        {"group": AudienceGroup.objects.get().pk},
    ).content.decode()

    assert "Hola amigo" in page
    assert "all filled" in page
    assert "some members of Seed have no value" not in group_page

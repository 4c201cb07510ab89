"""Send steps that name a message template or a media-library image: publishing
pins them, and what a step or a published version sends cannot be deleted."""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import ProtectedError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audiences.models import AudienceGroup
from campaigns.runs import campaign_tick
from flows.forms import FlowStepForm
from flows.models import Flow, FlowStep
from flows.publishing import flow_problems, flow_publish, steps_differ_from_published
from messaging.media import media_asset_upload
from messaging.models import MediaAsset, Message, MessageTemplate
from messaging.templating import template_version_add
from tests.flows.test_engine import send_all
from tests.messaging.images import png
from tests.messaging.provider import RecordingBackend

pytestmark = pytest.mark.django_db


@pytest.fixture
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def provider(settings: Any) -> Iterator[type[RecordingBackend]]:
    """Console channels send through the recording provider."""
    settings.MESSAGING_BACKENDS = {
        "console": "tests.messaging.provider.RecordingBackend"
    }
    RecordingBackend.sent, RecordingBackend.failures = [], {}
    yield RecordingBackend
    RecordingBackend.on_send = []


def templated_flow(channel: Any, template: MessageTemplate, **step: Any) -> Flow:
    flow = Flow.objects.create(name=f"Flow with {template.name}")
    FlowStep.objects.create(
        flow=flow, position=1, kind="send", channel=channel, template=template, **step
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    return flow


def sent_bodies(phone: str) -> list[str]:
    return list(
        Message.objects.filter(contact__phone=phone, status="sent")
        .order_by("id")
        .values_list("body", flat=True)
    )


def test_a_published_version_keeps_sending_the_template_text_it_pinned(
    make_campaign: Any, make_channel: Any, seed_group: AudienceGroup
) -> None:
    template = MessageTemplate.objects.create(name="Welcome")
    first = template_version_add(template=template, body="Hola {{NOMBRE}}")
    assert first is not None
    flow = templated_flow(make_channel(), template)
    version = flow_publish(flow=flow)
    assert version.steps[0]["template_version_id"] == first.pk
    assert version.steps[0]["body"] == "Hola {{NOMBRE}}"
    campaign = make_campaign(started=True, flow=flow, group=seed_group)
    start = timezone.now()
    campaign_tick(campaign_id=campaign.pk, now=start)
    send_all(start)
    assert sent_bodies("+525500998877") == ["Hola Carlos"]

    # The template changes: the flow now has unpublished changes ...
    template_version_add(template=template, body="Buenas {{NOMBRE}}")
    flow.refresh_from_db()
    assert flow.has_draft_changes
    assert steps_differ_from_published(flow)
    # ... and the next run of the campaign still sends the text it was published with.
    tomorrow = start + dt.timedelta(days=1)
    assert campaign_tick(campaign_id=campaign.pk, now=tomorrow) is not None
    send_all(tomorrow)
    assert sent_bodies("+525500998877") == ["Hola Carlos", "Hola Carlos"]

    # Published again, the flow sends the new text.
    second = flow_publish(flow=flow)
    assert second.steps[0]["body"] == "Buenas {{NOMBRE}}"
    flow.refresh_from_db()
    assert not flow.has_draft_changes
    other = make_campaign(started=True, flow=flow, group=seed_group, name="Other")
    campaign_tick(campaign_id=other.pk, now=tomorrow)
    send_all(tomorrow)
    assert sent_bodies("+525500998877")[-1] == "Buenas Carlos"
    first.refresh_from_db()
    assert first.body == "Hola {{NOMBRE}}"


def test_steps_without_template_or_image_keep_their_snapshot_as_before(
    make_flow: Any,
) -> None:
    flow = make_flow()
    step = flow.current_version.steps[0]
    assert "template_version_id" not in step
    assert "media_id" not in step
    assert not steps_differ_from_published(flow)


def test_a_media_library_image_is_pinned_by_its_public_url(
    make_channel: Any, media_root: Path, settings: Any
) -> None:
    settings.FLOWCAST_PUBLIC_URL = "https://flowcast.example.com"
    asset = media_asset_upload(
        name="Banner", upload=SimpleUploadedFile("banner.png", png())
    )
    flow = Flow.objects.create(name="With image")
    FlowStep.objects.create(
        flow=flow,
        position=1,
        kind="send",
        channel=make_channel(kind="sms", name="SMS"),
        body="Mira",
        media=asset,
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")

    step = flow_publish(flow=flow).steps[0]

    assert step["media_id"] == asset.pk
    assert step["media_url"] == (
        f"https://flowcast.example.com/media/{asset.token}/banner.png"
    )
    # Without a public URL the provider could not fetch it.
    settings.FLOWCAST_PUBLIC_URL = ""
    assert any("FLOWCAST_PUBLIC_URL" in p for p in flow_problems(flow))


def test_text_and_template_together_and_url_and_image_together_are_refused(
    make_channel: Any, media_root: Path
) -> None:
    channel = make_channel()
    template = MessageTemplate.objects.create(name="Promo")
    template_version_add(template=template, body="Promo")
    asset = media_asset_upload(name="A", upload=SimpleUploadedFile("a.png", png()))
    flow = templated_flow(
        channel,
        template,
        body="Typed too",
        media=asset,
        media_url="https://example.com/a.png",
    )

    problems = " ".join(flow_problems(flow))

    assert "Step 1: give either the text or the template 'Promo', not both" in problems
    assert "Step 1: give either an image URL or an image of the media library" in (
        problems
    )
    form = FlowStepForm(
        data={
            "position": 1,
            "kind": "send",
            "channel": channel.pk,
            "template": template.pk,
            "body": "Typed too",
            "media": asset.pk,
            "media_url": "https://example.com/a.png",
        }
    )
    assert not form.is_valid()
    assert "not both" in form.errors["body"][0]
    assert "not both" in form.errors["media_url"][0]


def test_a_template_needs_a_text_and_the_kind_of_the_steps_channel(
    make_channel: Any,
) -> None:
    sms = make_channel(kind="sms", name="SMS")
    empty = MessageTemplate.objects.create(name="Empty")
    mail = MessageTemplate.objects.create(name="Mail", channel_kind="email")
    template_version_add(template=mail, body="Estimado {{NAME}}")

    assert "Step 1: template 'Empty' has no text yet." in flow_problems(
        templated_flow(sms, empty)
    )
    assert (
        "Step 1: template 'Mail' is not for channel 'SMS'; choose a template for it."
        in flow_problems(templated_flow(sms, mail))
    )


def test_a_template_a_step_or_a_published_version_sends_cannot_be_deleted(
    admin_client: Client, make_channel: Any
) -> None:
    template = MessageTemplate.objects.create(name="Welcome")
    template_version_add(template=template, body="Hola")
    flow = templated_flow(make_channel(), template)
    flow.name = "Cobranza"
    flow.save()
    url = reverse("admin:messaging_messagetemplate_delete", args=[template.pk])

    with pytest.raises(ProtectedError):
        template.delete()
    page = admin_client.get(url).content.decode()
    assert "Flow Cobranza, step 1 (working copy)" in page
    assert "Yes, I’m sure" not in page

    # Published, then the step types its own text: version 1 still sends it.
    flow_publish(flow=flow)
    FlowStep.objects.filter(flow=flow, position=1).update(template=None, body="Hi")
    page = admin_client.get(url).content.decode()
    assert "Flow Cobranza, published version 1" in page
    assert "step 1 (working copy)" not in page
    admin_client.post(url, {"post": "yes"})
    assert MessageTemplate.objects.filter(pk=template.pk).exists()

    unused = MessageTemplate.objects.create(name="Unused")
    template_version_add(template=unused, body="Nada")
    response = admin_client.post(
        reverse("admin:messaging_messagetemplate_delete", args=[unused.pk]),
        {"post": "yes"},
    )
    assert response.status_code == 302
    assert not MessageTemplate.objects.filter(pk=unused.pk).exists()


def test_an_image_a_step_or_a_template_sends_cannot_be_deleted(
    admin_client: Client, make_channel: Any, media_root: Path
) -> None:
    asset = media_asset_upload(name="Logo", upload=SimpleUploadedFile("l.png", png()))
    flow = Flow.objects.create(name="Logo flow")
    FlowStep.objects.create(
        flow=flow,
        position=1,
        kind="send",
        channel=make_channel(),
        body="Hi",
        media=asset,
    )
    template = MessageTemplate.objects.create(name="Promo")
    template_version_add(template=template, body="Promo", media=asset)
    url = reverse("admin:messaging_mediaasset_delete", args=[asset.pk])

    page = admin_client.get(url).content.decode()
    admin_client.post(url, {"post": "yes"})

    assert "Flow Logo flow, step 1 (working copy)" in page
    assert "Template Promo, version 1" in page
    assert MediaAsset.objects.filter(pk=asset.pk).exists()
    with pytest.raises(ProtectedError):
        asset.delete()


def test_an_image_only_a_published_version_still_sends_cannot_be_deleted(
    admin_client: Client, make_channel: Any, media_root: Path
) -> None:
    asset = media_asset_upload(name="Logo", upload=SimpleUploadedFile("l.png", png()))
    flow = Flow.objects.create(name="Logo flow")
    FlowStep.objects.create(
        flow=flow,
        position=1,
        kind="send",
        channel=make_channel(),
        body="Hi",
        media=asset,
    )
    FlowStep.objects.create(flow=flow, position=2, kind="end")
    flow_publish(flow=flow)
    FlowStep.objects.filter(flow=flow, position=1).update(media=None)
    url = reverse("admin:messaging_mediaasset_delete", args=[asset.pk])

    page = admin_client.get(url).content.decode()
    admin_client.post(url, {"post": "yes"})

    assert "Flow Logo flow, published version 1" in page
    assert "working copy" not in page
    assert MediaAsset.objects.filter(pk=asset.pk).exists()
    assert len([p for p in media_root.rglob("*") if p.is_file()]) == 1


def test_a_step_picks_a_template_in_the_flow_admin(
    admin_client: Client, make_channel: Any
) -> None:
    channel = make_channel(name="SMS Mexico")
    template = MessageTemplate.objects.create(name="Welcome")
    template_version_add(template=template, body="Hola {{NOMBRE}}")
    data: dict[str, Any] = {
        "name": "Picked",
        "description": "",
        "trigger": "manual",
        "steps-TOTAL_FORMS": 2,
        "steps-INITIAL_FORMS": 0,
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
        "event_conditions-TOTAL_FORMS": 0,
        "event_conditions-INITIAL_FORMS": 0,
        "steps-0-position": 1,
        "steps-0-kind": "send",
        "steps-0-channel": channel.pk,
        "steps-0-template": template.pk,
        "steps-1-position": 2,
        "steps-1-kind": "end",
    }

    response = admin_client.post(reverse("admin:flows_flow_add"), data)

    assert response.status_code == 302, response.content.decode()[:3000]
    flow = Flow.objects.get(name="Picked")
    assert flow.steps.get(position=1).template == template
    assert flow_problems(flow) == []
    assert flow_publish(flow=flow).steps[0]["body"] == "Hola {{NOMBRE}}"


def test_the_provider_is_handed_the_image_url_and_can_fetch_the_image_there(
    make_campaign: Any,
    make_channel: Any,
    seed_group: AudienceGroup,
    media_root: Path,
    settings: Any,
    client: Client,
    provider: type[RecordingBackend],
) -> None:
    settings.FLOWCAST_PUBLIC_URL = "https://flowcast.example.com"
    handed: list[str] = []
    provider.on_send = [lambda message: handed.append(message.media_url)]
    data = png(4, 4)
    asset = media_asset_upload(name="Promo", upload=SimpleUploadedFile("p.png", data))
    template = MessageTemplate.objects.create(name="Promo")
    template_version_add(template=template, body="Hola {{NOMBRE}}", media=asset)
    flow = templated_flow(make_channel(), template)
    flow_publish(flow=flow)
    campaign = make_campaign(started=True, flow=flow, group=seed_group)
    start = timezone.now()

    campaign_tick(campaign_id=campaign.pk, now=start)
    send_all(start)

    url = f"https://flowcast.example.com/media/{asset.token}/p.png"
    assert handed == [url] * 3  # the seed group's contacts
    response = client.get(url.removeprefix("https://flowcast.example.com"))
    assert b"".join(response.streaming_content) == data  # type: ignore[attr-defined]
    assert response["Content-Type"] == "image/png"

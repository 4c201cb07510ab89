"""Message templates: their text checked by the rendering rules, and each edit kept
as a new version, never changing an old one."""

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from audiences.models import Variable
from base.roles import OPERATOR, VIEWER
from messaging.models import MediaAsset, MessageTemplate, TemplateVersion
from messaging.templating import (
    TemplateRefused,
    template_current,
    template_version_add,
    text_check,
)

pytestmark = pytest.mark.django_db


def template_form(name: str, body: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "channel_kind": "",
        "channel": "",
        "description": "",
        "body": body,
        "media": "",
        "media_url": "",
        "versions-TOTAL_FORMS": 0,
        "versions-INITIAL_FORMS": 0,
        **fields,
    }


def texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_each_new_text_is_the_next_version_and_old_ones_stay_as_written() -> None:
    template = MessageTemplate.objects.create(name="Welcome")

    first = template_version_add(template=template, body="Hola {{NOMBRE}}")
    second = template_version_add(template=template, body="Buenas {{NOMBRE}}")
    same = template_version_add(template=template, body="Buenas {{NOMBRE}}")

    assert first is not None
    assert second is not None
    assert (first.number, second.number) == (1, 2)
    assert same is None  # nothing new: no copy
    assert template_current(template) == second
    first.refresh_from_db()
    assert first.body == "Hola {{NOMBRE}}"
    assert TemplateVersion.objects.filter(template=template).count() == 2


def test_braces_that_make_no_placeholder_are_refused() -> None:
    template = MessageTemplate.objects.create(name="Broken")

    with pytest.raises(TemplateRefused) as refused:
        template_version_add(template=template, body="Hola {{NOMBRE}, ¿qué tal?")

    assert "braces that make no placeholder near 'Hola {{NOMBRE}, ¿qué'" in str(
        refused.value
    )
    assert not template.versions.exists()
    assert "near '{{MONTO|0}} }}'" in text_check("{{MONTO|0}} }}").errors[0]
    assert text_check("{{A}} y {{B|b}}").errors == []
    assert text_check("").errors == ["The text is empty."]


def test_unknown_custom_data_is_named_in_a_warning_builtins_and_known_are_not() -> None:
    Variable.objects.create(name="NOMBRE", kind="text")

    check = text_check("Hola {{NOMBRE}} {{name}} {{PHONE}}, tu cupón {{CUPON}}")

    assert check.errors == []
    assert len(check.warnings) == 1
    assert "names CUPON, which no contact import has brought" in check.warnings[0]
    assert text_check("Hola {{NOMBRE}} ({{EMAIL}})").warnings == []


def test_an_unknown_variable_with_a_fallback_is_told_what_every_contact_gets() -> None:
    # Issue 19: {{CIUDAD|CDMX}} was flagged like a typo.
    Variable.objects.create(name="NOMBRE", kind="text")

    check = text_check("Hola {{NOMBRE|cliente}}, en {{CIUDAD|CDMX}} {{CUPON|}}")

    assert check.errors == []
    assert check.warnings == [
        "The text: CIUDAD is not a variable: every contact gets 'CDMX' (an event "
        "property CIUDAD fills it on event flows).",
        "The text: CUPON is not a variable: every contact gets an empty text (an "
        "event property CUPON fills it on event flows).",
    ]
    # Used once without the fallback: that use sends nothing to every contact.
    assert (
        "names CIUDAD, which no contact"
        in text_check("{{CIUDAD|CDMX}} {{CIUDAD}}").warnings[0]
    )


def test_an_image_of_the_library_and_a_url_together_are_refused() -> None:
    template = MessageTemplate.objects.create(name="Promo")
    asset = MediaAsset.objects.create(
        name="x", filename="x.png", content_type="image/png", size=1, sha256="0"
    )
    with pytest.raises(TemplateRefused, match="either an image of the library"):
        template_version_add(
            template=template,
            body="Hola",
            media=asset,
            media_url="https://example.com/a.png",
        )


def test_editing_a_template_in_the_admin_writes_a_new_version(
    client: Client, make_user: Any
) -> None:
    client.force_login(make_user(OPERATOR))
    Variable.objects.create(name="NOMBRE", kind="text")

    response = client.post(
        reverse("admin:messaging_messagetemplate_add"),
        template_form("Welcome", "Hola {{NOMBRE}}", channel_kind="sms"),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    template = MessageTemplate.objects.get(name="Welcome")
    assert template.channel_kind == "sms"
    url = reverse("admin:messaging_messagetemplate_change", args=[template.pk])
    page = client.get(url).content.decode()
    assert "Hola {{NOMBRE}}</textarea>" in page  # the current text, to edit

    response = client.post(
        url, template_form("Welcome", "Hola {{NOMBRE}}, {{CUPON}}", channel_kind="sms")
    )

    assert response.status_code == 302, response.content.decode()[:3000]
    said = texts(response)
    assert any("saved as version 2" in text for text in said)
    assert any("names CUPON" in text for text in said)
    assert list(
        template.versions.order_by("number").values_list("body", flat=True)
    ) == [
        "Hola {{NOMBRE}}",
        "Hola {{NOMBRE}}, {{CUPON}}",
    ]
    # Saving the same text again writes nothing.
    client.post(url, template_form("Welcome", "Hola {{NOMBRE}}, {{CUPON}}"))
    assert template.versions.count() == 2
    listing = client.get(reverse("admin:messaging_messagetemplate_changelist"))
    assert '<td class="field-current_version">v2</td>' in listing.content.decode()


def test_the_admin_refuses_malformed_braces_and_keeps_the_old_text(
    admin_client: Client,
) -> None:
    template = MessageTemplate.objects.create(name="Reminder")
    template_version_add(template=template, body="Paga {{MONTO}}")
    url = reverse("admin:messaging_messagetemplate_change", args=[template.pk])

    response = admin_client.post(url, template_form("Reminder", "Paga {{MONTO"))

    assert response.status_code == 200
    assert "braces that make no placeholder" in response.content.decode()
    assert list(template.versions.values_list("body", flat=True)) == ["Paga {{MONTO}}"]


def test_a_template_for_one_channel_must_be_of_that_channels_kind(
    admin_client: Client, make_channel: Any
) -> None:
    sms = make_channel(name="SMS", kind="sms")

    response = admin_client.post(
        reverse("admin:messaging_messagetemplate_add"),
        template_form("Mail", "Hola", channel_kind="email", channel=sms.pk),
    )

    assert response.status_code == 200
    assert "Channel SMS is a SMS channel, not of the kind chosen above." in (
        response.content.decode()
    )
    assert not MessageTemplate.objects.exists()


def test_a_viewer_reads_templates_but_cannot_change_them(
    client: Client, make_user: Any
) -> None:
    template = MessageTemplate.objects.create(name="Welcome")
    template_version_add(template=template, body="Hola")
    client.force_login(make_user(VIEWER))
    url = reverse("admin:messaging_messagetemplate_change", args=[template.pk])

    page = client.get(url)
    response = client.post(url, template_form("Welcome", "Changed"))

    assert page.status_code == 200
    assert "Hola" in page.content.decode()
    assert response.status_code == 403
    assert list(template.versions.values_list("body", flat=True)) == ["Hola"]


def test_a_channel_a_template_is_written_for_is_kept_and_the_page_says_which(
    admin_client: Client, make_channel: Any
) -> None:
    channel = make_channel(name="Promo SMS", kind="sms")
    MessageTemplate.objects.create(name="Promo", channel=channel)
    url = reverse("admin:messaging_channel_delete", args=[channel.pk])

    page = admin_client.get(url).content.decode()
    admin_client.post(url, {"post": "yes"})

    assert "Template Promo (for this channel only)" in page
    assert channel.__class__.objects.filter(pk=channel.pk).exists()

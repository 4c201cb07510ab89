"""A channel's secrets are its own, stored encrypted, shown once or masked, and
never read from an environment variable an operator names."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from pytest_httpserver import HTTPServer
from standardwebhooks import Webhook

from base.encryption import UnreadableSecret, seal, unseal
from base.models import AuditEntry
from messaging.credentials import (
    channel_credentials,
    channel_secret_rotate,
    channel_signing_secrets,
    channels_reseal,
)
from messaging.models import Channel

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def stored(channel: Channel) -> str:
    """Everything the channel's row holds, as text."""
    row = Channel.objects.filter(pk=channel.pk).values().get()
    return json.dumps(row, default=str)


def test_secrets_are_stored_encrypted(make_channel: Any) -> None:
    hook = make_channel(name="Hook", kind="webhook", settings={"url": "http://x"})
    sms = make_channel(
        name="SMS",
        kind="sms",
        settings={"from": "+15005550006"},
        credentials={"account_sid": "AC123", "auth_token": "tok-very-secret-42"},
    )
    [secret] = channel_signing_secrets(hook)

    assert secret.startswith("whsec_")
    assert secret not in stored(hook)
    assert secret.removeprefix("whsec_") not in stored(hook)
    assert "tok-very-secret-42" not in stored(sms)
    assert channel_credentials(Channel.objects.get(pk=sms.pk)) == {
        "account_sid": "AC123",
        "auth_token": "tok-very-secret-42",
    }
    # Two channels never share a secret.
    other = make_channel(name="Hook 2", kind="webhook", settings={"url": "http://y"})
    assert channel_signing_secrets(other) != [secret]


def test_keys_are_rotated_by_putting_a_new_one_first_and_resealing(
    make_channel: Any, settings: Any
) -> None:
    hook = make_channel(name="Hook", kind="webhook", settings={"url": "http://x"})
    [secret] = channel_signing_secrets(hook)
    old_keys = list(settings.FLOWCAST_SECRETS_KEYS)
    new_key = Fernet.generate_key().decode()

    settings.FLOWCAST_SECRETS_KEYS = [new_key, *old_keys]
    assert channel_signing_secrets(Channel.objects.get(pk=hook.pk)) == [secret]
    assert channels_reseal() == 1

    settings.FLOWCAST_SECRETS_KEYS = [new_key]
    assert channel_signing_secrets(Channel.objects.get(pk=hook.pk)) == [secret]
    settings.FLOWCAST_SECRETS_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(UnreadableSecret, match="FLOWCAST_SECRETS_KEY"):
        channel_signing_secrets(Channel.objects.get(pk=hook.pk))
    assert unseal(seal("x")) == "x"


def run_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FLOWCAST_SECRETS_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE")
    }
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={**clean, "SECRET_KEY": "k" * 50, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secrets_key() -> None:
    missing = run_settings(DEBUG="false")
    assert missing.returncode != 0
    assert "FLOWCAST_SECRETS_KEY must be set when DEBUG is off" in missing.stderr

    wrong = run_settings(DEBUG="false", FLOWCAST_SECRETS_KEY="not-a-key")
    assert wrong.returncode != 0
    assert "key 1 is not a Fernet key" in wrong.stderr

    key = Fernet.generate_key().decode()
    two = run_settings(DEBUG="false", FLOWCAST_SECRETS_KEY=f"{key}, {key}")
    assert two.returncode == 0, two.stderr
    assert run_settings(DEBUG="true").returncode == 0


def test_settings_may_not_name_environment_variables_or_hold_secrets() -> None:
    for key in ("secret_env", "token_env", "sid_env", "auth_token"):
        found = {"url": "http://x", key: "HOME"}
        channel = Channel(name="x", kind="webhook", settings=found)
        with pytest.raises(ValidationError, match=f"{key} cannot be set here"):
            channel.full_clean()


@pytest.mark.parametrize(
    "key", ["AUTH_TOKEN", "Password", "api_key", "smtp_password", "client_secret"]
)
def test_settings_that_look_like_secrets_are_refused_whatever_their_case(
    key: str,
) -> None:
    channel = Channel(name="x", kind="webhook", settings={"url": "http://x", key: "s"})
    with pytest.raises(ValidationError, match=f"{key} cannot be set here"):
        channel.full_clean()


def test_a_url_carrying_a_password_is_refused() -> None:
    found = {"url": "https://user:hunter2@crm.example.com/hook"}
    channel = Channel(name="x", kind="webhook", settings=found)
    with pytest.raises(ValidationError, match="password"):
        channel.full_clean()


def test_the_migration_drops_variable_names_and_gives_webhooks_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from importlib import import_module

    migration = import_module("messaging.migrations.0011_channel_secrets_from_settings")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "ACenv")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "env-token")
    hook = Channel.objects.create(
        name="Hook", kind="webhook", settings={"url": "http://x", "secret_env": "HOME"}
    )
    sms = Channel.objects.create(name="SMS", kind="sms", settings={"from": "+1"})
    named = Channel.objects.create(
        name="Named",
        kind="whatsapp",
        settings={"from": "+1", "token_env": "SECRET_KEY", "sid_env": "HOME"},
    )

    migration.forwards(apps, None)

    hook, sms, named = (Channel.objects.get(pk=c.pk) for c in (hook, sms, named))
    assert hook.settings == {"url": "http://x"}
    [secret] = channel_signing_secrets(hook)
    assert secret.startswith("whsec_")
    assert channel_credentials(sms) == {
        "account_sid": "ACenv",
        "auth_token": "env-token",
    }
    assert named.settings == {"from": "+1"}
    assert channel_credentials(named) == {}


# --- The console ---------------------------------------------------------------------


def channel_form(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "CRM",
        "kind": "webhook",
        "enabled": "on",
        "timezone": "UTC",
        "settings__name": ["url"],
        "settings__value": ["https://crm.example/in"],
        "account_sid": "",
        "auth_token": "",
    }
    data.update(fields)
    return data


def test_a_new_webhook_channels_secret_is_shown_once_then_only_masked(
    admin_client: Client,
) -> None:
    created = admin_client.post(reverse("admin:messaging_channel_add"), channel_form())

    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    channel = Channel.objects.get(name="CRM")
    [secret] = channel_signing_secrets(channel)
    assert secret in created.content.decode()
    assert "not shown again" in created.content.decode()
    page = admin_client.get(
        reverse("admin:messaging_channel_change", args=[channel.pk])
    ).content.decode()
    assert secret not in page
    assert secret.removeprefix("whsec_") not in page
    assert f"whsec_…{secret[-4:]}" in page
    assert "Rotate signing secret" in page
    # Nor does the audit trail hold it, in clear or sealed.
    trail = json.dumps(list(AuditEntry.objects.values("changes", "note")))
    assert secret not in trail
    assert Channel.objects.get(pk=channel.pk).signing_secret not in trail


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_a_day(
    admin_client: Client, make_channel: Any
) -> None:
    channel = make_channel(name="Hook", kind="webhook", settings={"url": "http://x"})
    [old] = channel_signing_secrets(channel)
    url = reverse("admin:messaging_channel_rotate_secret", args=[channel.pk])

    assert admin_client.get(url).status_code == 302  # only a POST rotates
    rotated = admin_client.post(url)

    [new, previous] = channel_signing_secrets(Channel.objects.get(pk=channel.pk))
    assert previous == old
    assert new in rotated.content.decode()
    assert old not in rotated.content.decode()
    assert "still accepted on the channel's hooks until" in rotated.content.decode()
    page = admin_client.get(
        reverse("admin:messaging_channel_change", args=[channel.pk])
    ).content.decode()
    assert new not in page
    assert old not in page
    assert f"whsec_…{old[-4:]}" in page  # the previous one, until …
    assert AuditEntry.objects.filter(note__startswith="signing secret rotated").exists()


def test_a_viewer_cannot_rotate(
    client: Client, make_user: Any, make_channel: Any
) -> None:
    channel = make_channel(name="Hook", kind="webhook", settings={"url": "http://x"})
    [secret] = channel_signing_secrets(channel)
    user = make_user("Viewer")
    client.force_login(user)

    answer = client.post(
        reverse("admin:messaging_channel_rotate_secret", args=[channel.pk])
    )

    assert answer.status_code == 403
    assert channel_signing_secrets(Channel.objects.get(pk=channel.pk)) == [secret]


def test_twilio_credentials_are_write_only(
    admin_client: Client, httpserver: HTTPServer, make_campaign: Any, make_flow: Any
) -> None:
    add = reverse("admin:messaging_channel_add")
    sms_form = channel_form(
        name="SMS",
        kind="sms",
        settings__value=["+15005550006"],
        account_sid="AC123",
        auth_token="tok-very-secret-42",
    )
    sms_form["settings__name"] = ["from"]
    assert admin_client.post(add, sms_form).status_code == 302
    channel = Channel.objects.get(name="SMS")
    change = reverse("admin:messaging_channel_change", args=[channel.pk])
    page = admin_client.get(change).content.decode()
    assert "tok-very-secret-42" not in page
    assert "auth token …t-42" in page

    # Blank keeps what is stored; a new token replaces it.
    kept = {**sms_form, "account_sid": "", "auth_token": ""}
    assert admin_client.post(change, kept).status_code == 302
    assert channel_credentials(Channel.objects.get(pk=channel.pk))["auth_token"] == (
        "tok-very-secret-42"
    )
    assert admin_client.post(change, {**kept, "auth_token": "tok"}).status_code == 302
    assert channel_credentials(Channel.objects.get(pk=channel.pk)) == {
        "account_sid": "AC123",
        "auth_token": "tok",
    }
    trail = json.dumps(list(AuditEntry.objects.values("changes", "note")))
    assert "tok-very-secret-42" not in trail

    # The channel sends with them (see test_channels.twilio_handler: AC123 / tok).
    from tests.messaging.test_channels import send_run, twilio_handler

    sent: list[dict[str, str]] = []
    httpserver.expect_request(
        "/2010-04-01/Accounts/AC123/Messages.json", method="POST"
    ).respond_with_handler(twilio_handler(sent))
    with override_settings(TWILIO_API_BASE=httpserver.url_for("/")):
        report = send_run(make_campaign(started=True, flow=make_flow(channel=channel)))
    assert (report.sent, report.failed) == (2, 1)

    forget = {**kept, "forget_credentials": "on"}
    assert admin_client.post(change, forget).status_code == 302
    assert channel_credentials(Channel.objects.get(pk=channel.pk)) == {}


def test_a_channel_made_a_webhook_later_gets_its_secret_then(
    admin_client: Client, make_channel: Any
) -> None:
    channel = make_channel(name="Spare")
    answer = admin_client.post(
        reverse("admin:messaging_channel_change", args=[channel.pk]),
        channel_form(name="Spare"),
    )
    [secret] = channel_signing_secrets(Channel.objects.get(pk=channel.pk))
    assert secret in answer.content.decode()
    assert Webhook(secret)  # a secret the library takes


def test_a_previous_secret_past_its_overlap_is_dropped(make_channel: Any) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from messaging.tasks import drop_expired_secrets

    ended = make_channel(name="Ended", kind="webhook", settings={"url": "http://x"})
    going = make_channel(name="Going", kind="webhook", settings={"url": "http://y"})
    for channel in (ended, going):
        channel_secret_rotate(channel=channel)
    Channel.objects.filter(pk=ended.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )

    assert drop_expired_secrets() == 1

    ended, going = (Channel.objects.get(pk=c.pk) for c in (ended, going))
    assert (ended.previous_signing_secret, ended.previous_secret_until) == ("", None)
    assert len(channel_signing_secrets(ended)) == 1
    assert len(channel_signing_secrets(going)) == 2


def test_twilio_credentials_are_refused_on_channels_that_do_not_use_them(
    admin_client: Client,
) -> None:
    answer = admin_client.post(
        reverse("admin:messaging_channel_add"),
        channel_form(auth_token="tok-very-secret-42"),
    )

    assert answer.status_code == 200
    assert "Only SMS and WhatsApp channels take Twilio credentials" in (
        answer.content.decode()
    )
    assert "tok-very-secret-42" not in answer.content.decode()
    assert not Channel.objects.exists()

"""A channel's secrets: the signing secret of a webhook channel, which Flowcast makes
and rotates, and the credentials of its provider, which operators enter.

Both are stored sealed (base.encryption), opened only to sign, check or send,
and shown to operators only masked; a new signing secret is handed back once, by the
function that made it.
"""

import json
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from base.audit import audit_record
from base.encryption import reseal, seal, unseal
from base.signing import masked, new_secret

from .models import Channel

# What each kind of channel takes, by key, as operators name it.
TWILIO_CREDENTIALS = {"account_sid": "account SID", "auth_token": "auth token"}
CREDENTIALS = {
    Channel.Kind.SMS: TWILIO_CREDENTIALS,
    Channel.Kind.WHATSAPP: TWILIO_CREDENTIALS,
}
# Shown in full: identifiers, not secrets.
NOT_SECRET = {"account_sid"}


def overlap() -> timedelta:
    return timedelta(hours=settings.MESSAGING_SECRET_OVERLAP_HOURS)


def channel_signing_secrets(
    channel: Channel, *, now: datetime | None = None
) -> list[str]:
    """The secrets in force: the current one, then the previous one while its
    overlap lasts."""
    now = now or timezone.now()
    secrets = [unseal(channel.signing_secret)]
    until = channel.previous_secret_until
    if channel.previous_signing_secret and until is not None and now < until:
        secrets.append(unseal(channel.previous_signing_secret))
    return [secret for secret in secrets if secret]


def channel_secret_rotate(*, channel: Channel, now: datetime | None = None) -> str:
    """Give the channel a new signing secret and return it (to be shown once). The
    one it replaces stays in force for MESSAGING_SECRET_OVERLAP_HOURS."""
    now = now or timezone.now()
    secret = new_secret()
    had = bool(channel.signing_secret)
    channel.previous_signing_secret = channel.signing_secret
    channel.previous_secret_until = now + overlap() if had else None
    channel.signing_secret = seal(secret)
    channel.save(
        update_fields=[
            "signing_secret",
            "previous_signing_secret",
            "previous_secret_until",
        ]
    )
    audit_record(
        action="change",
        target=channel,
        note=(
            f"signing secret rotated to {masked(secret)}; the previous one is in "
            f"force until {channel.previous_secret_until:%Y-%m-%d %H:%M %Z}"
            if had
            else f"signing secret made: {masked(secret)}"
        ),
    )
    return secret


def channel_secret_ensure(*, channel: Channel) -> str | None:
    """A webhook channel without a signing secret gets one: returned, to be shown
    once. None when it had one or needs none."""
    if channel.kind != Channel.Kind.WEBHOOK or channel.signing_secret:
        return None
    return channel_secret_rotate(channel=channel)


def channel_secret_shown(channel: Channel, *, now: datetime | None = None) -> str:
    """The signing secret as operators may see it after it was made: masked."""
    if not channel.signing_secret:
        return ""
    now = now or timezone.now()
    secrets = channel_signing_secrets(channel, now=now)
    shown = masked(secrets[0]) if secrets else ""
    until = channel.previous_secret_until
    if len(secrets) > 1 and until is not None:
        when = timezone.localtime(until).strftime("%Y-%m-%d %H:%M %Z")
        shown += f" (the previous one, {masked(secrets[1])}, until {when})"
    return shown


def channel_credentials(channel: Channel) -> dict[str, str]:
    """The provider credentials the channel holds, in the clear: to send or check
    with, never to show."""
    opened = unseal(channel.credentials)
    found = json.loads(opened) if opened else {}
    return {str(k): str(v) for k, v in found.items() if v} if found else {}


def credentials_sealed(
    channel: Channel, given: dict[str, str], *, clear: bool = False
) -> str:
    """The channel's credentials with ``given`` applied, sealed for storing: a blank
    value keeps what is stored; ``clear`` forgets all of them first."""
    current = {} if clear else channel_credentials(channel)
    current.update({key: value.strip() for key, value in given.items() if value})
    return seal(json.dumps(current, sort_keys=True)) if current else ""


def channel_credentials_shown(channel: Channel) -> str:
    """The credentials as operators may see them: names and masked values."""
    if not channel.credentials:
        return ""
    names = CREDENTIALS.get(Channel.Kind(channel.kind), {})
    shown = []
    for key, value in channel_credentials(channel).items():
        name = names.get(key, key.replace("_", " "))
        shown.append(f"{name} {value if key in NOT_SECRET else masked(value)}")
    return ", ".join(shown)


def channels_reseal() -> int:
    """Seal every channel's secrets again with the first key of
    FLOWCAST_SECRETS_KEY (after a new key was put first); how many channels had
    any."""
    fields = ["signing_secret", "previous_signing_secret", "credentials"]
    count = 0
    for channel in Channel.objects.all():
        if not any(getattr(channel, field) for field in fields):
            continue
        for field in fields:
            setattr(channel, field, reseal(getattr(channel, field)))
        channel.save(update_fields=fields)
        count += 1
    return count


def expired_secrets_drop(*, now: datetime | None = None) -> int:
    """Forget previous signing secrets whose overlap has ended (they neither sign
    nor are accepted any more); how many."""
    return Channel.objects.filter(
        previous_secret_until__lt=now or timezone.now()
    ).update(previous_signing_secret="", previous_secret_until=None)

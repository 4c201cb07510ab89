"""An endpoint's signing secret: made when the endpoint is created, rotated on
demand, stored sealed (base.encryption) and shown in full only in the answer to
the request that made it; masked everywhere else (whsec_…abcd).

After a rotation the previous secret goes on signing, beside the new one, for
STREAM_SECRET_OVERLAP_HOURS: a receiver checking either verifies the posts while it
changes over (Standard Webhooks carries one signature per secret).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from base.audit import audit_record
from base.encryption import reseal, seal, unseal
from base.signing import masked, new_secret

from .models import Endpoint


def endpoint_secrets(endpoint: Endpoint, *, now: datetime | None = None) -> list[str]:
    """The secrets in force, in the clear: the current one, then the previous one
    while its overlap lasts."""
    now = now or timezone.now()
    secrets = [unseal(endpoint.secret)]
    until = endpoint.previous_secret_until
    if endpoint.previous_secret and until is not None and now < until:
        secrets.append(unseal(endpoint.previous_secret))
    return [secret for secret in secrets if secret]


def endpoint_secret_rotate(*, endpoint: Endpoint, now: datetime | None = None) -> str:
    """Give the endpoint a new signing secret and return it (to be shown once); the
    one it replaces still signs for STREAM_SECRET_OVERLAP_HOURS."""
    now = now or timezone.now()
    secret = new_secret()
    had = bool(endpoint.secret)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = (
        now + timedelta(hours=settings.STREAM_SECRET_OVERLAP_HOURS) if had else None
    )
    endpoint.secret = seal(secret)
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    audit_record(
        action="change",
        target=endpoint,
        note=(
            f"signing secret rotated to {masked(secret)}; the previous one signs "
            f"too until {endpoint.previous_secret_until:%Y-%m-%d %H:%M %Z}"
            if had
            else f"signing secret made: {masked(secret)}"
        ),
    )
    return secret


def endpoint_secret_ensure(*, endpoint: Endpoint) -> str | None:
    """An endpoint without a signing secret gets one: returned, to be shown once.
    None when it had one."""
    if endpoint.secret:
        return None
    return endpoint_secret_rotate(endpoint=endpoint)


def endpoint_secret_shown(endpoint: Endpoint, *, now: datetime | None = None) -> str:
    """The signing secret as operators may see it after it was made: masked."""
    secrets = endpoint_secrets(endpoint, now=now)
    if not secrets:
        return ""
    shown = masked(secrets[0])
    until = endpoint.previous_secret_until
    if len(secrets) > 1 and until is not None:
        when = timezone.localtime(until).strftime("%Y-%m-%d %H:%M %Z")
        shown += f" (the previous one, {masked(secrets[1])}, also signs until {when})"
    return shown


def endpoints_reseal() -> int:
    """Seal every endpoint's secrets again with the first key of
    FLOWCAST_SECRETS_KEY; how many endpoints had any."""
    count = 0
    for endpoint in Endpoint.objects.exclude(secret=""):
        endpoint.secret = reseal(endpoint.secret)
        endpoint.previous_secret = reseal(endpoint.previous_secret)
        endpoint.save(update_fields=["secret", "previous_secret"])
        count += 1
    return count


def expired_secrets_drop(*, now: datetime | None = None) -> int:
    """Forget previous secrets whose overlap has ended; how many."""
    return Endpoint.objects.filter(
        previous_secret_until__lt=now or timezone.now()
    ).update(previous_secret="", previous_secret_until=None)

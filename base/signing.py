"""Standard Webhooks signatures (https://www.standardwebhooks.com/): what a webhook
channel's posts carry, and what its hooks must carry.

A secret is ``whsec_`` and the base64 of random bytes; a post carries
``webhook-id`` (the same on every retry of one message), ``webhook-timestamp`` (unix
seconds) and ``webhook-signature``: ``v1,`` and the base64 HMAC-SHA256 of
``{id}.{timestamp}.{body}`` keyed with the secret's bytes, one such signature per
secret in force, separated by spaces.
"""

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping, Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# A hook whose timestamp is further than this from now, either way, is refused.
TOLERANCE_SECONDS = 5 * 60
# Unix seconds as the spec writes them: ASCII digits, no more than a timestamp has.
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


class SignatureRefused(Exception):
    """The request's signature does not hold; the reason says what is wrong."""


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def masked(secret: str) -> str:
    """Enough of a secret to tell which one it is: its prefix and last 4 characters
    (whsec_…abcd); "set" for short ones."""
    if len(secret) < 16:
        return "set" if secret else ""
    prefix = SECRET_PREFIX if secret.startswith(SECRET_PREFIX) else ""
    return f"{prefix}…{secret[-4:]}"


def secret_key(secret: str) -> bytes:
    raw = secret.removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("A signing secret is whsec_ and base64.") from None
    if not key:
        raise ValueError("A signing secret may not be empty.")
    return key


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three headers of a post signed with each of ``secrets``."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret, msg_id, timestamp, body) for secret in secrets
        ),
    }


def verify(
    secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float
) -> str:
    """The request's ``webhook-id`` if one of its signatures was made with one of
    ``secrets`` within TOLERANCE_SECONDS of ``now``; else SignatureRefused. Whether
    the id was seen before is the caller's to check."""
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    given = headers.get("webhook-signature", "")
    if not (msg_id and stamp and given):
        raise SignatureRefused(
            "The webhook-id, webhook-timestamp and webhook-signature headers are "
            "required (Standard Webhooks)."
        )
    if not secrets:
        raise SignatureRefused("The channel has no signing secret yet.")
    if not UNIX_SECONDS.fullmatch(stamp):
        raise SignatureRefused("The webhook-timestamp must be unix seconds.")
    timestamp = int(stamp)
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureRefused(
            "The webhook-timestamp is more than 5 minutes from now: a hook must be "
            "sent when it is signed."
        )
    expected = [sign(secret, msg_id, timestamp, body) for secret in secrets]
    for candidate in given.split():
        if any(
            hmac.compare_digest(candidate.encode(), one.encode()) for one in expected
        ):
            return msg_id
    raise SignatureRefused(
        "The webhook-signature was not made with this channel's signing secret."
    )
